//! One-off ECS tasks on AWS: the gateway's migrations and its configuration sync run as tasks of
//! the new task definition revision, beside the service (same subnets and security group), and
//! are waited on until they stop; the exit code of the `gateway` container decides.

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{ContainerOverride, KeyValuePair, LaunchType, TaskOverride};

use super::DeployError;
use crate::aws::kinds::service_network;
use crate::aws::{api, Attrs, AttrsExt, Cx};
use crate::engine::Progress;

/// ECS's limit on a RunTask's overrides, in bytes of JSON.
const OVERRIDES_LIMIT: usize = 8192;
/// Longest a one-off task may take, image pull included.
const TASK_TIMEOUT: Duration = Duration::from_secs(15 * 60);

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
        return Err(DeployError::Other(format!(
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

/// Runs `one_off` with `task_definition` beside `service` (observed attributes), waits until it
/// stops and returns its exit code 0 as Ok; anything else is an error naming the log group.
pub async fn run(
    cx: &Cx,
    progress: &Progress,
    service: &Attrs,
    task_definition: &str,
    log_group: &str,
    one_off: &OneOff<'_>,
) -> Result<(), DeployError> {
    check_size(one_off)?;
    let cluster = service.str("cluster")?;
    let container = ContainerOverride::builder()
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
        .build();
    let started = cx
        .aws
        .ecs
        .run_task()
        .cluster(cluster)
        .task_definition(task_definition)
        .launch_type(LaunchType::Fargate)
        .count(1)
        .network_configuration(service_network(one_off.label, service)?)
        .overrides(
            TaskOverride::builder()
                .container_overrides(container)
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
    if let Some(failure) = started.failures().first() {
        return Err(DeployError::Other(format!(
            "{}: ecs:RunTask refused: {} {}",
            one_off.label,
            failure.reason().unwrap_or("?"),
            failure.detail().unwrap_or("")
        )));
    }
    let arn = started
        .tasks()
        .first()
        .and_then(|t| t.task_arn())
        .ok_or_else(|| {
            DeployError::Other(format!("{}: ecs:RunTask returned no task", one_off.label))
        })?
        .to_string();
    wait_stopped(cx, progress, cluster, &arn, log_group, one_off.label).await
}

async fn wait_stopped(
    cx: &Cx,
    progress: &Progress,
    cluster: &str,
    arn: &str,
    log_group: &str,
    label: &str,
) -> Result<(), DeployError> {
    let since = Instant::now();
    let mut pause = Duration::from_secs(2);
    loop {
        let found = cx
            .aws
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .tasks(arn)
            .send()
            .await
            .map_err(api("ecs:DescribeTasks"))?;
        let Some(task) = found.tasks().first() else {
            // Right after RunTask, DescribeTasks may not know the task yet (MISSING).
            if since.elapsed() < Duration::from_secs(60) {
                tokio::time::sleep(pause).await;
                continue;
            }
            return Err(DeployError::Other(format!(
                "{label}: ECS does not know task {arn} a minute after starting it"
            )));
        };
        let status = task.last_status().unwrap_or("?");
        if status == "STOPPED" {
            let container = task
                .containers()
                .iter()
                .find(|c| c.name() == Some("gateway"));
            let code = container.and_then(|c| c.exit_code());
            return match code {
                Some(0) => Ok(()),
                _ => Err(DeployError::Other(format!(
                    "{label} failed: exit code {}, {}{}; its output is in CloudWatch Logs group {log_group} (task {arn}). Nothing was rolled forward",
                    code.map_or("none".to_string(), |c| c.to_string()),
                    task.stopped_reason().unwrap_or("no reason given"),
                    container
                        .and_then(|c| c.reason())
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                ))),
            };
        }
        if since.elapsed() > TASK_TIMEOUT {
            // A run after this one must not find it still migrating or syncing.
            let stopped = cx
                .aws
                .ecs
                .stop_task()
                .cluster(cluster)
                .task(arn)
                .reason(format!(
                    "provision: {label} took over {} min",
                    TASK_TIMEOUT.as_secs() / 60
                ))
                .send()
                .await
                .map_err(api("ecs:StopTask"));
            let what = match stopped {
                Ok(_) => "stopped it".to_string(),
                Err(e) => format!("could not stop it ({e}): stop it in the console"),
            };
            return Err(DeployError::Other(format!(
                "{label}: task {arn} still {status} after {} min; {what}. Nothing was rolled forward",
                TASK_TIMEOUT.as_secs() / 60
            )));
        }
        progress.still(label, "running", since, status);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
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
