//! `gateway`: a Kong-compatible API gateway.
//!
//! The flow, from configuration to a proxied request:
//!
//! - [`entities`]: Kong's entity model (services, routes, consumers, credentials, plugins,
//!   upstreams, targets) with defaults and validation.
//! - [`config`]: the whole configuration as data; loaded from a [`store`] (PostgreSQL) or a
//!   declarative file.
//! - a snapshot compiles a `Config` into a router and per-route plugin chains (one list per
//!   phase), swapped atomically when the configuration changes. Which plugins exist, their
//!   priorities, phases and builders: one table, `plugins::registry::PLUGINS`.
//! - the proxy matches each request against the snapshot, runs the plugin phases and forwards it
//!   to the balanced upstream target: `proxy::Proxy::handle` reads top to bottom, one line per
//!   phase, the phases themselves in `proxy/phases.rs`.
//! - the Admin API reads and writes entities the way Kong's does.

/// The Kong release whose Admin API and metrics this gateway answers as (decK reads it from
/// the Admin API's `GET /`).
pub const KONG_VERSION: &str = "3.9.0";

pub mod admin;
pub mod balancer;
pub mod config;
pub mod declarative;
pub mod entities;
pub mod health;
pub mod metrics;
pub mod node;
pub mod plugins;
pub mod proxy;
pub mod router;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod status;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod watch;
