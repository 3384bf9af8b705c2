//! The provisioner's pure core: stack files in, a checked [`Stack`] or every problem out.
//!
//! The flow, top to bottom:
//! 1. [`source`] parses `stacks/NAME.toml` keeping spans, interpolates `${env:NAME}`, refuses inline
//!    secrets and decodes the [`stack::Stack`] model, collecting every problem instead of stopping
//!    at the first;
//! 2. [`rules`] checks the decoded stack against AWS's documented limits (Fargate sizes, Aurora
//!    capacity, name lengths, Route53 health checks, CIDRs), because LocalStack accepts shapes AWS
//!    rejects;
//! 3. [`problem`] turns byte spans into `file:line:column: path: message` lines, sorted by line.
//!
//! No I/O beyond reading the file, no AWS SDK types: the resource graph and plan build on this.

pub mod aws;
pub mod commands;
pub mod core;
pub mod cost;
pub mod deploy;
pub mod engine;
pub mod env;
pub mod names;
pub mod problem;
pub mod rules;
pub mod secrets;
pub mod source;
pub mod stack;
pub mod wait;

pub use problem::{LoadError, Problem, ValidationError};
pub use source::{load_file, load_stack, parse_stack};
pub use stack::Stack;

#[cfg(test)]
mod test_support;
