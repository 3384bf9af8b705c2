//! Deleting what the stack owns: each resource after everything that may depend on it, retried
//! while its dependents let go, and waited on until it is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use super::apply::Options;
use super::schedule::{run_graph, Outcome};
use super::wait::{wait_for, Verb};
use crate::aws::retry::{with_backoff, Backoff};
use crate::aws::{driver, AwsError, Cx, Goal};
use crate::core::Observed;

/// Deletes `doomed` (observed resources), each after everything that may depend on it.
pub async fn delete_all(
    cx: &Cx,
    doomed: &[(String, Observed)],
    options: &Options,
) -> Outcome<AwsError> {
    let deps: BTreeMap<String, BTreeSet<String>> = doomed
        .iter()
        .map(|(name, seen)| {
            let after = doomed
                .iter()
                .filter(|(_, other)| other.kind != seen.kind && seen.kind.is_needed_by(other.kind))
                .map(|(other, _)| other.clone())
                .collect();
            (name.clone(), after)
        })
        .collect();
    let doomed: Arc<BTreeMap<String, Observed>> = Arc::new(doomed.iter().cloned().collect());
    let (cx, opts) = (cx.clone(), options.clone());
    run_graph(deps, options.parallelism, move |name| {
        let (doomed, cx, opts) = (Arc::clone(&doomed), cx.clone(), opts.clone());
        async move { delete_one(&cx, &name, &doomed[&name], &opts).await }
    })
    .await
}

pub(super) async fn delete_one(
    cx: &Cx,
    name: &str,
    seen: &Observed,
    options: &Options,
) -> Result<(), AwsError> {
    let progress = &options.progress;
    let since = Instant::now();
    progress.begin(name, "deleting");
    // Dependents that were just deleted may take a while to let go (DependencyViolation).
    let backoff = Backoff {
        budget: seen.kind.wait_timeout(),
        ..Backoff::default()
    };
    with_backoff(
        backoff,
        |e| cx.retryable(e),
        || driver(seen.kind).delete(cx, name, &seen.attrs),
        |e, pause| progress.retry(name, e, pause),
    )
    .await
    .inspect_err(|e| progress.fail(name, e))?;
    wait_for(
        cx,
        name,
        seen.kind,
        &seen.attrs,
        Goal::Gone,
        Verb::Deleting,
        progress,
    )
    .await
    .inspect_err(|e| progress.fail(name, e))?;
    progress.finish(name, "deleted", since, "");
    Ok(())
}
