//! `provision`: infrastructure as code for the gateway stack on AWS, then its deploy.
//!
//! Every command reads top to bottom in `commands/` ([`commands::up`] is the longest: lock, plan,
//! ask, then its phases). The layers under it, pure ones first:
//!
//! 1. Stack files: [`source`] parses `stacks/NAME.toml` keeping spans, interpolates
//!    `${env:NAME}` ([`env`]), refuses inline secrets ([`secrets`]) and decodes the
//!    [`stack::Stack`] model, collecting every problem; [`rules`] checks it against AWS's
//!    documented limits (LocalStack accepts shapes AWS rejects); [`problem`] prints
//!    `file:line:column: path: message`.
//! 2. The plan core, [`core`] (no I/O, no SDK types): the desired graph of typed resources, each
//!    kind's facts in one `KindSpec` row, the diff against what was observed, the rendering;
//!    [`cost`] estimates the monthly bill.
//! 3. The AWS side, [`aws`]: SDK clients, error classification and retries, and one driver per
//!    resource kind (`aws/kinds/`, observe / create / update / delete / poll), built from shared
//!    parts (tagging, lifecycle tables, adopt-or-refuse).
//! 4. The [`engine`]: observe through the ownership tags, apply a plan along the graph in
//!    parallel with waiters and progress lines, delete dependents first, hold the stack's lock.
//! 5. The [`deploy`] layer: migrations, configuration sync and the service roll on a data plane
//!    (ECS one-off tasks on AWS, or local processes for a LocalStack stack), and the deploy
//!    record `plan` diffs against.
//!
//! Waits go through [`wait::until`] (async, each with its own timeout). Lower layers never import
//! higher ones: `core` and `rules` know nothing of `aws`, `engine`, `deploy` or `commands`, and
//! `deploy` knows nothing of `commands`.

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
