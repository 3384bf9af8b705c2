//! Waiting for one resource to become ready or gone: polls its driver with a growing interval,
//! reports long waits, and gives up at the kind's timeout with the last status it saw.

use std::time::{Duration, Instant};

use super::progress::Progress;
use crate::aws::retry::{with_backoff, Backoff};
use crate::aws::{driver, Attrs, AwsError, Cx, Goal, Progress as Step};
use crate::core::ResourceKind;

/// What the wait is part of, for the progress lines.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Creating,
    Updating,
    Deleting,
}

impl Verb {
    fn word(self) -> &'static str {
        match self {
            Verb::Creating => "creating",
            Verb::Updating => "updating",
            Verb::Deleting => "deleting",
        }
    }
}

/// Polls until `goal`; returns `have` refreshed with what the driver reported when ready.
pub async fn wait_for(
    cx: &Cx,
    name: &str,
    kind: ResourceKind,
    have: &Attrs,
    goal: Goal,
    verb: Verb,
    progress: &Progress,
) -> Result<Attrs, AwsError> {
    let timeout = driver(kind).timeout();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut interval = Duration::from_millis(250);
    loop {
        let step = with_backoff(
            Backoff::default(),
            || driver(kind).poll(cx, have, goal),
            |e, pause| progress.retry(name, e, pause),
        )
        .await?;
        match step {
            Step::Done(fresh) => {
                let mut out = have.clone();
                out.extend(fresh.unwrap_or_default());
                return Ok(out);
            }
            Step::Failed(reason) => return Err(AwsError::Failed(format!("{name}: {reason}"))),
            Step::Pending(status) => {
                if started.elapsed() >= timeout {
                    return Err(AwsError::Timeout {
                        seconds: timeout.as_secs(),
                        what: format!("{name} still `{status}` while {}", verb.word()),
                    });
                }
                if last_report.elapsed() >= progress.heartbeat {
                    progress.still(name, verb.word(), started, &status);
                    last_report = Instant::now();
                }
            }
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(10));
    }
}
