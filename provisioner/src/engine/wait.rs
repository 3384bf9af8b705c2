//! Waiting for one resource to become ready or gone: polls its driver through `wait::until_paced`
//! (a growing interval), reports long waits, and gives up at the kind's timeout with the last
//! status it saw.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::progress::Progress;
use crate::aws::retry::{with_backoff, Backoff};
use crate::aws::{driver, Attrs, AwsError, Cx, Goal, Progress as Step};
use crate::core::ResourceKind;
use crate::wait::{self, Pace, Waited};

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

/// A resource takes seconds to minutes: asked about after 250 ms, then up to every 10 s.
const PACE: Pace = Pace {
    first: Duration::from_millis(250),
    max: Duration::from_secs(10),
};

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
    let timeout = kind.wait_timeout();
    let started = Instant::now();
    // The last status seen (for the timeout's message) and when a long wait last said so.
    let seen = &Mutex::new((String::new(), Instant::now()));
    let waited = wait::until_paced(timeout, PACE, || async move {
        let step = with_backoff(
            Backoff::default(),
            |e| cx.retryable(e),
            || driver(kind).poll(cx, have, goal),
            |e, pause| progress.retry(name, e, pause),
        )
        .await?;
        match step {
            Step::Done(fresh) => {
                let mut out = have.clone();
                out.extend(fresh.unwrap_or_default());
                Ok(Some(out))
            }
            Step::Failed(reason) => Err(AwsError::Failed(format!("{name}: {reason}"))),
            Step::Pending(status) => {
                let mut seen = lock(seen);
                if seen.1.elapsed() >= progress.heartbeat {
                    progress.still(name, verb.word(), started, &status);
                    seen.1 = Instant::now();
                }
                seen.0 = status;
                Ok(None)
            }
        }
    })
    .await;
    waited.map_err(|why| match why {
        Waited::Failed(error) => error,
        Waited::TimedOut(_) => AwsError::Timeout {
            seconds: timeout.as_secs(),
            what: format!("{name} still `{}` while {}", lock(seen).0, verb.word()),
        },
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only this wait writes it; a poisoned value is still the last status seen.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
