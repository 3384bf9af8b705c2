//! Reads what the stack owns in AWS, every kind at once, into the planner's `Observed` map.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::Progress;
use crate::aws::attrs::handle;
use crate::aws::retry::{with_backoff, Backoff};
use crate::aws::{api_calls, driver, AwsError, Cx};
use crate::core::{Graph, Observed, Resource, ResourceKind};

/// Reading is cheap to retry, but an endpoint that does not answer should say so soon.
const OBSERVE_BACKOFF: Backoff = Backoff {
    first: std::time::Duration::from_millis(200),
    max: std::time::Duration::from_secs(5),
    budget: std::time::Duration::from_secs(20),
};

/// How many kinds are read at once (each kind makes one to a few list calls).
const PARALLEL_KINDS: usize = 8;

/// [`observe`], noting on stderr how long it took and how many requests it made.
pub async fn observe_noted(
    cx: &Cx,
    desired: &Graph,
    progress: &Progress,
) -> Result<BTreeMap<String, Observed>, AwsError> {
    let (started, calls) = (Instant::now(), api_calls());
    let observed = observe(cx, desired).await?;
    progress.note(&format!(
        "read {} resources of stack `{}` in {:.2}s ({} AWS requests)",
        observed.len(),
        cx.stack,
        started.elapsed().as_secs_f64(),
        api_calls() - calls
    ));
    Ok(observed)
}

/// Everything owned by the stack, keyed by logical name. Two resources claiming one logical name
/// (a create that AWS applied twice) is an error naming both, never a silent pick.
pub async fn observe(cx: &Cx, desired: &Graph) -> Result<BTreeMap<String, Observed>, AwsError> {
    // The first error ends the whole read (the other kinds' calls are dropped).
    let results: Vec<Vec<(String, Observed)>> = stream::iter(ResourceKind::ALL)
        .map(|kind| {
            let wanted: Vec<&Resource> = desired
                .resources
                .values()
                .filter(|r| r.kind == kind)
                .collect();
            async move {
                with_backoff(
                    OBSERVE_BACKOFF,
                    |e| cx.retryable(e),
                    || driver(kind).observe(cx, &wanted),
                    |_, _| {},
                )
                .await
            }
        })
        .buffer_unordered(PARALLEL_KINDS)
        .try_collect()
        .await?;
    let mut observed = BTreeMap::new();
    for found in results {
        for (logical, seen) in found {
            if let Some(first) = observed.insert(logical.clone(), seen) {
                return Err(AwsError::Failed(format!(
                    "two {:?} resources in AWS carry the logical name `{logical}` of stack `{}` \
                     (ids {} and {}): delete the extra one by hand, then run again",
                    first.kind,
                    cx.stack,
                    id_of(&first),
                    observed.get(&logical).map(id_of).unwrap_or_default(),
                )));
            }
        }
    }
    Ok(observed)
}

fn id_of(seen: &Observed) -> String {
    handle(&seen.attrs).map_or("?", |(_, v)| v).to_string()
}
