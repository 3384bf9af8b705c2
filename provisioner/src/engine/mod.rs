//! The engine behind `plan`, `up` and `destroy`: observe what the stack owns, apply a plan along
//! the graph, delete dependents first, and hold the stack's lock meanwhile.

pub mod apply;
pub mod delete;
pub mod lock;
pub mod observe;
pub mod progress;
pub mod schedule;
pub mod wait;

pub use apply::{apply, Options, Report};
pub use delete::delete_all;
pub use observe::{observe, observe_noted};
pub use progress::Progress;
