//! One-off ECS tasks: the gateway's migrations or its configuration sync, run with the new task
//! definition revision beside the service and waited on until they stop; the exit code of the
//! `gateway` container decides, and a failure names the CloudWatch Logs group with its output.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{ContainerOverride, KeyValuePair, LaunchType, Task, TaskOverride};

use crate::aws::kinds::service_network;
use crate::aws::{api, Attrs, AttrsExt, Cx};
use crate::deploy::DeployError;
use crate::engine::Progress;
use crate::wait::{self, Pace, Waited};

/// ECS's limit on a RunTask's overrides, in bytes of JSON.
const OVERRIDES_LIMIT: usize = 8192;
/// Longest a one-off task may take, image pull included.
const TASK_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long DescribeTasks may not know a task it just started (eventual consistency).
const UNKNOWN_WITHIN: Duration = Duration::from_secs(60);
/// A one-off task runs for tens of seconds at least: asked about every 2 s, then up to 10 s.
const TASK_PACE: Pace = Pace {
    first: Duration::from_secs(2),
    max: Duration::from_secs(10),
};

/// Where a one-off task runs: beside the service, with the new revision, logging to its group.
pub struct Beside<'a> {
    pub service: &'a Attrs,
    pub task_definition: &'a str,
    pub log_group: &'a str,
}

/// What a one-off task runs: the container's command (after the image's `gateway` entry point)
/// and extra environment.
pub struct OneOff<'a> {
    pub label: &'a str,
    pub command: &'a [&'a str],
    pub environment: &'a [(&'a str, &'a str)],
}

/// Checks a one-off task's overrides against ECS's size limit before any call.
pub fn check_size(one_off: &OneOff) -> Result<(), DeployError> {
    let size: usize = one_off.command.iter().map(|c| c.len() + 3).sum::<usize>()
        + one_off
            .environment
            .iter()
            .map(|(k, v)| k.len() + json_len(v) + 24)
            .sum::<usize>()
        + 64;
    if size > OVERRIDES_LIMIT {
        return Err(DeployError::user(format!(
            "{}: the task overrides would be about {size} bytes, over ECS's {OVERRIDES_LIMIT}; \
             shorten the configuration template",
            one_off.label
        )));
    }
    Ok(())
}

fn json_len(text: &str) -> usize {
    serde_json::to_string(text)
        .map(|s| s.len())
        .unwrap_or(text.len())
}

/// Runs `one_off` at `place`, waits until it stops and returns its exit code 0 as Ok;
/// anything else is an error naming the log group.
pub async fn run(
    cx: &Cx,
    progress: &Progress,
    place: &Beside<'_>,
    one_off: &OneOff<'_>,
) -> Result<(), DeployError> {
    check_size(one_off)?;
    let cluster = place.service.str("cluster")?;
    let started = cx
        .aws
        .ecs
        .run_task()
        .cluster(cluster)
        .task_definition(place.task_definition)
        .launch_type(LaunchType::Fargate)
        .count(1)
        .network_configuration(service_network(one_off.label, place.service)?)
        .overrides(
            TaskOverride::builder()
                .container_overrides(container_override(one_off))
                .build(),
        )
        .started_by(
            format!("provision/{}", cx.stack)
                .chars()
                .take(36)
                .collect::<String>(),
        )
        .send()
        .await
        .map_err(api("ecs:RunTask"))?;
    let not_started = |message: String| DeployError::OneOffNotStarted {
        label: one_off.label.to_string(),
        message,
    };
    if let Some(failure) = started.failures().first() {
        return Err(not_started(format!(
            "ecs:RunTask refused: {} {}",
            failure.reason().unwrap_or("?"),
            failure.detail().unwrap_or("")
        )));
    }
    let arn = started
        .tasks()
        .first()
        .and_then(|t| t.task_arn())
        .ok_or_else(|| not_started("ecs:RunTask returned no task".into()))?
        .to_string();
    let task = TaskRef {
        cluster,
        arn: &arn,
        label: one_off.label,
    };
    wait_stopped(cx, progress, &task, place.log_group).await
}

/// The `gateway` container's command and extra environment for `one_off`.
fn container_override(one_off: &OneOff<'_>) -> ContainerOverride {
    ContainerOverride::builder()
        .name("gateway")
        .set_command(Some(
            one_off.command.iter().map(|c| c.to_string()).collect(),
        ))
        .set_environment(Some(
            one_off
                .environment
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(*k).value(*v).build())
                .collect(),
        ))
        .build()
}

/// A started one-off task.
struct TaskRef<'a> {
    cluster: &'a str,
    arn: &'a str,
    label: &'a str,
}

/// Waits until the task stops; its `gateway` container's exit code decides. A task still
/// running after [`TASK_TIMEOUT`] is stopped, so a later run does not find it still at work.
async fn wait_stopped(
    cx: &Cx,
    progress: &Progress,
    task: &TaskRef<'_>,
    log_group: &str,
) -> Result<(), DeployError> {
    let since = Instant::now();
    let last_status = &Mutex::new(String::from("?"));
    let waited = wait::until_paced(TASK_TIMEOUT, TASK_PACE, || async move {
        let found = cx
            .aws
            .ecs
            .describe_tasks()
            .cluster(task.cluster)
            .tasks(task.arn)
            .send()
            .await
            .map_err(api("ecs:DescribeTasks"))?;
        let Some(seen) = found.tasks().first() else {
            // Right after RunTask, DescribeTasks may not know the task yet (MISSING).
            if since.elapsed() < UNKNOWN_WITHIN {
                return Ok(None);
            }
            return Err(DeployError::Timeout {
                message: format!(
                    "{}: ECS does not know task {} a minute after starting it",
                    task.label, task.arn
                ),
            });
        };
        let status = seen.last_status().unwrap_or("?");
        if status == "STOPPED" {
            return Ok(Some(exit_outcome(seen, task, log_group)));
        }
        progress.still(task.label, "running", since, status);
        *lock(last_status) = status.to_string();
        Ok(None)
    })
    .await;
    match waited {
        Ok(outcome) => outcome,
        Err(Waited::Failed(error)) => Err(error),
        Err(Waited::TimedOut(_)) => {
            let status = lock(last_status).clone();
            Err(stop_overdue(cx, task, &status).await)
        }
    }
}

fn lock(status: &Mutex<String>) -> MutexGuard<'_, String> {
    // Only this wait writes it; a poisoned value is still the last status seen.
    status
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A stopped task's result: its `gateway` container exited 0, or the error naming the log group.
fn exit_outcome(seen: &Task, task: &TaskRef<'_>, log_group: &str) -> Result<(), DeployError> {
    let container = seen
        .containers()
        .iter()
        .find(|c| c.name() == Some("gateway"));
    let code = container.and_then(|c| c.exit_code());
    match code {
        Some(0) => Ok(()),
        _ => Err(DeployError::OneOffFailed {
            label: task.label.to_string(),
            exit_code: code.map_or("none".to_string(), |c| c.to_string()),
            reason: format!(
                "{}{}",
                seen.stopped_reason().unwrap_or("no reason given"),
                container
                    .and_then(|c| c.reason())
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            log_group: log_group.to_string(),
            task: task.arn.to_string(),
        }),
    }
}

/// Stops a task that ran past [`TASK_TIMEOUT`]; the error says whether that worked.
async fn stop_overdue(cx: &Cx, task: &TaskRef<'_>, status: &str) -> DeployError {
    let minutes = TASK_TIMEOUT.as_secs() / 60;
    let stopped = cx
        .aws
        .ecs
        .stop_task()
        .cluster(task.cluster)
        .task(task.arn)
        .reason(format!("provision: {} took over {minutes} min", task.label))
        .send()
        .await
        .map_err(api("ecs:StopTask"));
    let what = match stopped {
        Ok(_) => "stopped it".to_string(),
        Err(e) => format!("could not stop it ({e}): stop it in the console"),
    };
    DeployError::Timeout {
        message: format!(
            "{}: task {} still {status} after {minutes} min; {what}. Nothing was rolled forward",
            task.label, task.arn
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_over_ecs_limit_are_refused_before_any_call() {
        let small = "_format_version: \"3.0\"\n";
        let one_off = OneOff {
            label: "configuration sync",
            command: &["config", "sync"],
            environment: &[("KONG_DECLARATIVE_CONFIG_STRING", small)],
        };
        assert!(check_size(&one_off).is_ok());
        let big = "x: \"y\"\n".repeat(1200);
        let one_off = OneOff {
            environment: &[("KONG_DECLARATIVE_CONFIG_STRING", &big)],
            ..one_off
        };
        let error = check_size(&one_off).unwrap_err().to_string();
        assert!(
            error.starts_with("configuration sync: the task overrides"),
            "{error}"
        );
        assert!(error.contains("8192"), "{error}");
    }
}
