//! The data plane on AWS: ECS runs the gateway. The migrations and the configuration sync run as
//! one-off tasks of the new task definition revision, beside the service (same subnets and
//! security group), and are waited on until they stop; the exit code of the `gateway` container
//! decides. ECS itself rolls the service afterwards.

pub mod one_off;

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::plane::{DataPlane, Revision, TaskEnv};
use super::template::Value;
use super::{DeployContext, DeployError};
use crate::aws::{Attrs, AttrsExt};
use crate::core::desired::{ADMIN_PORT, REDIS_PORT};
use crate::core::Observed;
use one_off::{run, Beside, OneOff};

/// ECS Fargate on AWS.
#[derive(Debug, Clone, Copy)]
pub struct EcsPlane;

#[async_trait]
impl DataPlane for EcsPlane {
    fn endpoint_values(&self, observed: &BTreeMap<String, Observed>) -> Vec<(&'static str, Value)> {
        let redis = observed
            .get("redis")
            .and_then(|o| o.attrs.opt_str("primary_endpoint"))
            .map_or(Value::AfterApply, |h| Value::Known(h.to_string()));
        vec![
            ("redis_host", redis),
            ("redis_port", Value::Known(REDIS_PORT.to_string())),
            ("admin_port", Value::Known(ADMIN_PORT.to_string())),
        ]
    }

    async fn drift(
        &self,
        _dc: &DeployContext<'_>,
        _observed: &BTreeMap<String, Observed>,
    ) -> (Vec<String>, Vec<String>) {
        // ECS keeps the service's tasks running and on their revision itself.
        (Vec::new(), Vec::new())
    }

    async fn migrate(&self, rev: &Revision<'_>) -> Result<TaskEnv, DeployError> {
        let planned = rev.planned;
        let task_def_arn = rev.task_def.str("arn")?;
        let due = planned.migrations.is_some()
            || planned
                .previous
                .as_ref()
                .is_none_or(|p| p.task_definition != task_def_arn);
        let one_off = OneOff {
            label: "migrations",
            command: &["migrations", "up"],
            environment: &[],
        };
        run_if_due(rev, due, &one_off).await?;
        Ok(TaskEnv::new())
    }

    async fn configure(&self, rev: &Revision<'_>, _env: &TaskEnv) -> Result<(), DeployError> {
        let (planned, config) = (rev.planned, rev.config);
        let synced = planned.previous.as_ref().map(|p| p.config.as_str());
        let due = synced != Some(config) || planned.database_new;
        let one_off = OneOff {
            label: "configuration sync",
            command: &["config", "sync"],
            environment: &[("KONG_DECLARATIVE_CONFIG_STRING", config)],
        };
        run_if_due(rev, due, &one_off).await
    }

    async fn roll(&self, _dc: &DeployContext<'_>, _task_env: &TaskEnv) -> Result<(), DeployError> {
        // The apply rolled the service already, its deployment circuit breaker watching.
        Ok(())
    }
}

/// Runs `one_off` beside the service with the new revision when `due`, and says what it did.
async fn run_if_due(
    rev: &Revision<'_>,
    due: bool,
    one_off: &OneOff<'_>,
) -> Result<(), DeployError> {
    let dc = rev.dc;
    // Resolved whether or not the step is due: a service that cannot be placed is reported
    // before anything runs.
    let service = service_attrs(dc, rev.observed)?;
    if !due {
        println!("  {}: nothing to do", one_off.label);
        return Ok(());
    }
    let task_def_arn = rev.task_def.str("arn")?;
    let log_group = rev
        .observed
        .get("logs.gateway")
        .and_then(|o| o.attrs.opt_str("name"))
        .unwrap_or("(the service's log group)");
    let place = Beside {
        service: &service,
        task_definition: task_def_arn,
        log_group,
    };
    run(dc.cx, dc.progress, &place, one_off).await?;
    println!("  {}: done (one-off task of {task_def_arn})", one_off.label);
    Ok(())
}

/// The service's attributes as they will be: it may not exist yet (it starts after the
/// migrations), so its network comes from the desired graph, resolved against what exists.
fn service_attrs(
    dc: &DeployContext<'_>,
    observed: &BTreeMap<String, Observed>,
) -> Result<Attrs, DeployError> {
    let known: BTreeMap<String, Attrs> = observed
        .iter()
        .map(|(k, o)| (k.clone(), o.attrs.clone()))
        .collect();
    let desired = dc
        .graph
        .get("service.gateway")
        .ok_or_else(|| DeployError::user("the stack has no service.gateway"))?;
    Ok(crate::engine::apply::resolve_all(
        &known,
        "service.gateway",
        &desired.attrs,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Attr, ResourceKind};

    #[test]
    fn redis_is_known_once_it_exists() {
        let values = |observed: &BTreeMap<String, Observed>| {
            EcsPlane
                .endpoint_values(observed)
                .into_iter()
                .collect::<BTreeMap<_, _>>()
        };
        let before = values(&BTreeMap::new());
        assert_eq!(before["redis_host"], Value::AfterApply);
        assert_eq!(before["redis_port"], Value::Known("6379".into()));
        assert_eq!(before["admin_port"], Value::Known("8001".into()));
        let redis = Observed {
            kind: ResourceKind::ReplicationGroup,
            attrs: BTreeMap::from([(
                "primary_endpoint".to_string(),
                Attr::Str("master.r.cache".into()),
            )]),
        };
        let after = values(&BTreeMap::from([("redis".to_string(), redis)]));
        assert_eq!(after["redis_host"], Value::Known("master.r.cache".into()));
    }
}
