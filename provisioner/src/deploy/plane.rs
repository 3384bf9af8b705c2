//! Where the gateway runs, behind one trait: ECS ([`super::ecs`]), on AWS and on any endpoint that
//! runs ECS tasks (LocalStack Pro, or LocalStack with a task runner); this machine
//! ([`super::local`]) for a stack with a `[local]` section. Every step of the deploy
//! that depends on the runtime asks the plane instead of matching on it.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::local::LocalPlane;
use super::template::Value;
use super::{DeployContext, DeployError, DeployPlan, EcsPlane};
use crate::aws::Attrs;
use crate::core::Observed;

/// What the second half of a deploy needs from the first (the plane's own handoff).
pub type TaskEnv = BTreeMap<String, String>;

/// The revision a deploy brings in: what was planned, what exists after the infrastructure
/// phase, the new task definition's attributes and the configuration rendered for it.
pub struct Revision<'a> {
    pub dc: &'a DeployContext<'a>,
    pub planned: &'a DeployPlan,
    pub observed: &'a BTreeMap<String, Observed>,
    pub task_def: &'a Attrs,
    pub config: &'a str,
}

/// The runtime the gateway's tasks run on.
#[async_trait]
pub trait DataPlane: Send + Sync {
    /// The built-in template values that depend on where the gateway runs (`redis_host`,
    /// `redis_port`, `admin_port`).
    fn endpoint_values(&self, observed: &BTreeMap<String, Observed>) -> Vec<(&'static str, Value)>;

    /// For `plan`: the processes that are not running, and the running instances whose
    /// environment or binary changed (both empty where the runtime keeps them itself).
    async fn drift(
        &self,
        dc: &DeployContext<'_>,
        observed: &BTreeMap<String, Observed>,
    ) -> (Vec<String>, Vec<String>);

    /// Runs the migrations with the new revision, before any task of it serves; returns the
    /// gateway container's environment when the plane needs it later (local processes).
    async fn migrate(&self, rev: &Revision<'_>) -> Result<TaskEnv, DeployError>;

    /// Makes the gateway's database hold the revision's configuration (a `gateway config sync`
    /// with it), after the migrations and before the roll.
    async fn configure(&self, rev: &Revision<'_>, env: &TaskEnv) -> Result<(), DeployError>;

    /// Once the service runs the new revision: brings the gateway processes to it (ECS rolled
    /// them already).
    async fn roll(&self, dc: &DeployContext<'_>, task_env: &TaskEnv) -> Result<(), DeployError>;
}

/// The data plane of the context's stack: local for a stack with `[local]`, else ECS (also
/// behind `[endpoints]`: the endpoint then runs the one-off tasks itself).
pub fn for_context(dc: &DeployContext<'_>) -> Result<Box<dyn DataPlane>, DeployError> {
    Ok(match dc.stack.local {
        Some(_) => Box::new(LocalPlane::for_stack(dc.stack)?),
        None => Box::new(EcsPlane),
    })
}
