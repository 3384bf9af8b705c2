//! The deploy's steps inside `up` and `destroy`: the first half (migrations and configuration,
//! before the service rolls), the second (the data plane rolled, the deploy recorded) and the
//! teardown; each asks the [`DataPlane`](super::plane::DataPlane) for what depends on the runtime.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::local::LocalPlane;
use super::plane::{self, Revision, TaskEnv};
use super::record::{self, Deployed};
use super::revisions;
use super::{values, DeployContext, DeployError, DeployPlan};
use crate::aws::{Attrs, AttrsExt};
use crate::core::Observed;

/// What the migrations hand to the configuration sync and the finish.
#[derive(Debug)]
pub struct Prepared {
    task_def_arn: String,
    /// The new task definition and everything else as observed after the infrastructure phase.
    task_def: Attrs,
    observed: BTreeMap<String, Observed>,
    config: String,
    /// The gateway container's environment, secrets resolved (local runtime only).
    task_env: TaskEnv,
}

/// After everything but the service converged: the configuration is rendered (every value is
/// known now) and the migrations run to completion, before any task of the new revision starts.
pub async fn migrate(
    dc: &DeployContext<'_>,
    planned: &DeployPlan,
) -> Result<Prepared, DeployError> {
    let plane = plane::for_context(dc)?;
    let observed = dc.observe().await?;
    let rendered = values::render(dc, plane.as_ref(), &observed, &planned.template)?;
    if !rendered.complete {
        return Err(DeployError::KnownAfterApply);
    }
    let task_def = get(&observed, "task_def.gateway")?.clone();
    let task_def_arn = task_def.str("arn")?.to_string();
    println!("\nDeploying the gateway ({task_def_arn}):");
    let revision = Revision {
        dc,
        planned,
        observed: &observed,
        task_def: &task_def,
        config: &rendered.text,
    };
    let task_env = plane.migrate(&revision).await?;
    Ok(Prepared {
        task_def_arn,
        task_def,
        observed,
        config: rendered.text,
        task_env,
    })
}

/// After the migrations: the configuration is synced, still before the service rolls.
pub async fn configure(
    dc: &DeployContext<'_>,
    planned: &DeployPlan,
    prepared: &Prepared,
) -> Result<(), DeployError> {
    let revision = Revision {
        dc,
        planned,
        observed: &prepared.observed,
        task_def: &prepared.task_def,
        config: &prepared.config,
    };
    plane::for_context(dc)?
        .configure(&revision, &prepared.task_env)
        .await
}

/// The second half, once the service runs the new revision (ECS rolled it, its circuit breaker
/// watching): the local gateway processes are rolled, older task definition revisions are
/// deregistered, and the deploy is recorded.
pub async fn finish(dc: &DeployContext<'_>, prepared: Prepared) -> Result<(), DeployError> {
    plane::for_context(dc)?.roll(dc, &prepared.task_env).await?;
    let revision = prepared.task_def.opt_int("revision");
    let family = prepared.task_def.str("family")?;
    let retired = revisions::retire_older(dc.cx, family, revision).await?;
    if !retired.is_empty() {
        println!(
            "Deregistered task definition revisions no service runs: {}.",
            retired.join(", ")
        );
    }
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let deployed = Deployed {
        task_definition: prepared.task_def_arn,
        config: prepared.config,
        at,
    };
    record::write(dc.cx, &deployed)
        .await
        .map_err(|source| DeployError::Record { source })?;
    println!("Deploy complete.");
    Ok(())
}

/// `destroy`: the local data plane stops (its data kept unless `delete_data`), the older task
/// definition revisions and the deploy record go.
pub async fn teardown(dc: &DeployContext<'_>, delete_data: bool) -> Result<(), DeployError> {
    // The newest revision goes with the other resources; older active ones (left by a deploy
    // that failed or was killed before its roll) go here.
    if let Some(family) = revisions::family(dc) {
        revisions::retire_older(dc.cx, &family, None).await?;
    }
    if dc.stack.local.is_some() {
        let plane = LocalPlane::for_stack(dc.stack)?;
        let stopped = plane.stop_all(delete_data).await;
        if !stopped.is_empty() {
            println!("Stopped the local data plane: {}.", stopped.join(", "));
        }
    }
    record::delete(dc.cx).await?;
    Ok(())
}

/// `provision status`'s line about the local data plane, for stacks that have one.
pub async fn local_status(
    dc: &DeployContext<'_>,
    observed: &BTreeMap<String, Observed>,
) -> Option<String> {
    dc.stack.local.as_ref()?;
    let plane = LocalPlane::for_stack(dc.stack).ok()?;
    let parts: Vec<String> = plane
        .processes(desired_count(dc, observed))
        .await
        .into_iter()
        .map(|(name, running)| format!("{name} {}", if running { "running" } else { "STOPPED" }))
        .collect();
    Some(format!(
        "{} (proxy http://127.0.0.1:{}/, in {})",
        parts.join(", "),
        plane.ports.proxy_port,
        plane.dir.display()
    ))
}

/// `provision status`'s health check for a stack whose data plane runs here (LocalStack never
/// runs Route53's checkers): made here, its line printed; `None` for stacks on AWS.
pub async fn local_health_check(dc: &DeployContext<'_>) -> Option<bool> {
    let dns = dc.stack.dns.as_ref()?;
    dc.stack.local.as_ref()?;
    let plane = LocalPlane::for_stack(dc.stack).ok()?;
    let status = plane.health_check(&dns.health_check_path).await;
    let answer = status.map_or("no answer".to_string(), |s| s.to_string());
    println!(
        "check      GET http://127.0.0.1:{}{} -> {answer} (made here, as Route53's checkers would through the NLB)",
        plane.ports.proxy_port, dns.health_check_path
    );
    // Route53 counts 2xx and 3xx as healthy.
    Some(status.is_some_and(|s| (200..400).contains(&s)))
}

/// How many gateway tasks the service runs (what exists, else what the stack asks for).
pub fn desired_count(dc: &DeployContext<'_>, observed: &BTreeMap<String, Observed>) -> u32 {
    observed
        .get("service.gateway")
        .and_then(|o| o.attrs.opt_int("desired_count"))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(dc.stack.gateway.desired_count)
}

fn get<'a>(
    observed: &'a BTreeMap<String, Observed>,
    logical: &str,
) -> Result<&'a Attrs, DeployError> {
    observed
        .get(logical)
        .map(|o| &o.attrs)
        .ok_or_else(|| DeployError::Missing {
            logical: logical.to_string(),
        })
}

/// A step's output under its label: on the same line when it is one line.
pub fn print_indented(label: &str, output: &str) {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [] => println!("  {label}: done"),
        [one] => println!("  {label}: {one}"),
        many => {
            println!("  {label}:");
            for line in many {
                println!("    {line}");
            }
        }
    }
}
