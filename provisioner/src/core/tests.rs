//! Tests of the pure core: the prod stack's graph, plans against fake observations, rendering.

mod fixtures;
mod graph_tests;
mod owned_tests;
mod plan_tests;
mod prod_tests;
mod variant_tests;
