//! Shared helpers for gateway integration tests over real sockets: an in-process gateway
//! proxy started from a declarative YAML ([`Gateway`]), echo upstreams ([`Upstream`]) and a
//! small HTTP client ([`send`], [`raw`]).

#![allow(dead_code, unused_imports)] // Each test binary uses its own subset.

pub mod client;
pub mod echo;
pub mod gateway;

pub use client::{raw, send};
pub use echo::Upstream;
pub use gateway::Gateway;
