//! The per-stack lock, kept in AWS (an SSM parameter created only if absent), so two runs on one
//! stack from any two machines cannot interleave. The holder is named when a run is refused; a
//! lock whose holder was a process on this machine that no longer runs is broken with a notice;
//! any other stale lock is broken by hand with `provision unlock --stack NAME LOCK_ID`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::aws::{api, AwsError, Cx};

/// Who holds a lock, stored as the parameter's JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub id: String,
    pub operation: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds.
    pub since: u64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let age = now().saturating_sub(self.since);
        write!(
            f,
            "`{}` by {}@{} (pid {}), {} min {} s ago, lock id {}",
            self.operation,
            self.user,
            self.host,
            self.pid,
            age / 60,
            age % 60,
            self.id
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("stack `{stack}` is locked by {holder}; wait for it, or if that run is dead: provision unlock --stack {stack} {id}", id = holder.id)]
    Held { stack: String, holder: Holder },
    #[error("lock of stack `{stack}`: {source}")]
    Aws {
        stack: String,
        #[source]
        source: AwsError,
    },
    #[error("stack `{stack}` is locked by {holder}, not by lock id {asked}: nothing unlocked")]
    NotThatLock {
        stack: String,
        holder: Holder,
        asked: String,
    },
}

/// A held lock; release it with [`StackLock::release`] (a dropped lock stays held, on purpose: the
/// run may have died half way, and the next run must see that it did).
#[derive(Debug)]
pub struct StackLock {
    pub holder: Holder,
    name: String,
}

/// The parameter holding `stack`'s lock.
pub fn parameter_name(stack: &str) -> String {
    format!("/provision/{stack}/lock")
}

/// Takes the lock of `cx.stack` for `operation`, or says who has it.
pub async fn acquire(cx: &Cx, operation: &str) -> Result<StackLock, LockError> {
    let name = parameter_name(&cx.stack);
    let holder = Holder {
        id: uuid::Uuid::new_v4().to_string(),
        operation: operation.to_string(),
        user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        host: hostname(),
        pid: std::process::id(),
        since: now(),
    };
    let aws = |source| LockError::Aws {
        stack: cx.stack.clone(),
        source,
    };
    let value = serde_json::to_string(&holder).unwrap_or_default();
    for _ in 0..2 {
        let put = cx
            .aws
            .ssm
            .put_parameter()
            .name(&name)
            .value(&value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(false)
            .description("provision: who is changing this stack")
            .send()
            .await
            .map_err(api("ssm:PutParameter"));
        match put {
            Ok(_) => return Ok(StackLock { holder, name }),
            Err(e) if e.code() == Some("ParameterAlreadyExists") => {}
            Err(e) => return Err(aws(e)),
        }
        let current = current(cx).await.map_err(aws)?;
        match current {
            // Released between our two calls: try once more.
            None => continue,
            // Our own put went through but its answer was lost.
            Some(other) if other.id == holder.id => return Ok(StackLock { holder, name }),
            Some(other) if is_dead_local(&other) => {
                eprintln!(
                    "provision: breaking the stale lock of stack `{}`: {other} (that process no longer runs)",
                    cx.stack
                );
                delete(cx).await.map_err(aws)?;
            }
            Some(other) => {
                return Err(LockError::Held {
                    stack: cx.stack.clone(),
                    holder: other,
                })
            }
        }
    }
    match current(cx).await.map_err(aws)? {
        Some(other) => Err(LockError::Held {
            stack: cx.stack.clone(),
            holder: other,
        }),
        None => Err(aws(AwsError::Failed(
            "the lock changed hands twice while taking it".into(),
        ))),
    }
}

impl StackLock {
    /// Releases the lock, if it is still ours.
    pub async fn release(self, cx: &Cx) -> Result<(), LockError> {
        unlock(cx, &self.holder.id).await
    }

    pub fn parameter(&self) -> &str {
        &self.name
    }
}

/// Removes the lock when its id is `id` (the `unlock` command, and release).
pub async fn unlock(cx: &Cx, id: &str) -> Result<(), LockError> {
    let aws = |source| LockError::Aws {
        stack: cx.stack.clone(),
        source,
    };
    match current(cx).await.map_err(aws)? {
        None => Ok(()),
        Some(holder) if holder.id == id => delete(cx).await.map_err(aws),
        Some(holder) => Err(LockError::NotThatLock {
            stack: cx.stack.clone(),
            holder,
            asked: id.to_string(),
        }),
    }
}

/// The current holder, if the stack is locked.
pub async fn current(cx: &Cx) -> Result<Option<Holder>, AwsError> {
    let Some(value) = crate::aws::param::get(cx, &parameter_name(&cx.stack)).await? else {
        return Ok(None);
    };
    // A lock someone wrote by hand still locks; it is shown as it is.
    Ok(Some(serde_json::from_str(&value).unwrap_or_else(|_| {
        Holder {
            id: value.clone(),
            operation: "unknown".into(),
            user: "unknown".into(),
            host: "unknown".into(),
            pid: 0,
            since: 0,
        }
    })))
}

async fn delete(cx: &Cx) -> Result<(), AwsError> {
    crate::aws::param::delete(cx, &parameter_name(&cx.stack)).await
}

/// The holder ran on this machine and its process is gone: the lock can never be released.
/// Only where `/proc` shows processes and the host has a real name: elsewhere (macOS, a
/// container sharing its host name across pid namespaces) nothing can be concluded.
fn is_dead_local(holder: &Holder) -> bool {
    let host = hostname();
    std::path::Path::new("/proc/self").exists()
        && host != "unknown"
        && host != "localhost"
        && holder.host == host
        && holder.pid != 0
        && holder.pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{}", holder.pid)).exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
