//! The deploy phase of `up`, after the infrastructure converged: the gateway's database
//! migrations run to completion, its declarative configuration (a template in `templates/`
//! filled with the stack's values) is synced, and the service runs the new task definition.
//!
//! The flow, top to bottom:
//! 1. [`plan()`] works out what the deploy will do ([`DeployPlan`], rendered after the
//!    infrastructure's plan), from the template ([`values`], [`template`]) and the last deploy's
//!    record in SSM ([`record`]), whose configuration it diffs ([`textdiff`]);
//! 2. [`migrate`] runs the migrations and [`configure`] syncs the configuration, both before the
//!    service rolls;
//! 3. [`finish`] rolls what the runtime does not roll itself and records the deploy;
//! 4. [`teardown`] stops the local data plane for `destroy`.
//!
//! Where it runs is a [`DataPlane`]: on AWS, migrations and sync are one-off ECS tasks of the
//! new task definition revision ([`ecs`]) and ECS rolls the service (also behind `[endpoints]`,
//! when the endpoint runs ECS tasks); for a stack with `[local]`, the data plane runs on this
//! machine ([`local`]). Commands lend the deploy a
//! [`DeployContext`]; deploy never reaches back into `commands`.

pub mod context;
pub mod ecs;
pub mod error;
pub mod local;
pub mod plan;
pub mod plane;
pub mod record;
pub mod revisions;
pub mod secrets;
pub mod steps;
pub mod template;
pub mod textdiff;
pub mod values;

pub use context::DeployContext;
pub use ecs::EcsPlane;
pub use error::DeployError;
pub use plan::{plan, DeployPlan};
pub use plane::DataPlane;
pub use steps::{configure, finish, local_health_check, local_status, migrate, teardown, Prepared};
