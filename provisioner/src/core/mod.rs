//! The pure core of `plan`: desired graph, observed state, diff and rendering (no I/O, no AWS types).
//!
//! [`desired::desired`] turns a stack into a [`graph::Graph`] of typed [`resource::Resource`]s;
//! [`diff::plan`] compares it with what the AWS layer observed (keyed by logical name, found
//! through the ownership tags) into a [`diff::Plan`]; [`render`] prints it the way Terraform
//! users read plans, or as JSON. What the core knows about each kind is one row of
//! [`kinds::SPECS`].

pub mod desired;
pub mod diff;
pub mod gateway_contract;
pub mod graph;
pub mod kinds;
pub mod render;
pub mod resource;

pub use desired::desired;
pub use diff::{plan, Action, Change, Note, Observed, Plan, PlannedAction};
pub use graph::{CriticalPath, Graph, GraphError};
pub use resource::{Attr, AttrRef, Resource, ResourceKind};

#[cfg(test)]
mod tests;
