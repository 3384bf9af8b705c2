//! `up`'s engine: applies a plan along the graph, in parallel with a bound, resolving references
//! from what earlier steps produced, waiting on each resource until it is ready, retrying what
//! AWS says is worth retrying; then deletes what the stack no longer wants, dependents first.
//!
//! Nothing is recorded locally: every resource carries its ownership tags from the create call on,
//! so a run that dies at any point is simply run again and observes what exists.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::delete::{delete_all, delete_one};
use super::progress::Progress;
use super::schedule::{run_graph, Outcome};
use super::wait::{wait_for, Verb};
use crate::aws::attrs::handle;
use crate::aws::fresh::settle;
use crate::aws::retry::{with_backoff, Backoff};
use crate::aws::{driver, Attrs, AwsError, Cx, Goal};
use crate::core::{Action, Attr, Graph, Observed, Plan, PlannedAction, ResourceKind};

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Resources worked on at once.
    pub parallelism: usize,
    /// Simulated-latency mode: after each create, wait the kind's typical AWS creation time
    /// multiplied by this factor (benchmarks of the engine's parallelism against LocalStack).
    pub simulate: Option<f64>,
    pub progress: Progress,
    /// Keep the old halves of create-before-destroy replacements (a task definition's previous
    /// revision) in the report's `retired` instead of deleting them: the service may still run
    /// them until a later step rolls it.
    pub keep_retired: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: 10,
            simulate: None,
            progress: Progress::new(),
            keep_retired: false,
        }
    }
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Report {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub replaced: Vec<String>,
    pub deleted: Vec<String>,
    /// What failed and why, typed until `up` or `destroy` prints it.
    pub failed: Vec<(String, AwsError)>,
    pub skipped: Vec<String>,
    /// Old halves of replacements left in place (`Options::keep_retired`).
    pub retired: Vec<(String, Observed)>,
    /// Final attributes of every desired resource (for `output`).
    pub outputs: BTreeMap<String, Attrs>,
    pub elapsed: Duration,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }

    /// Adds what a later apply of the same run did.
    pub fn absorb(&mut self, later: Report) {
        self.created.extend(later.created);
        self.updated.extend(later.updated);
        self.replaced.extend(later.replaced);
        self.deleted.extend(later.deleted);
        self.failed.extend(later.failed);
        self.skipped.extend(later.skipped);
        self.retired.extend(later.retired);
        self.outputs.extend(later.outputs);
        self.elapsed += later.elapsed;
    }
}

/// Shared between the jobs of one apply.
struct Run {
    cx: Cx,
    options: Options,
    /// Latest attributes per logical name: observed ones first, replaced by what steps produce.
    known: Mutex<BTreeMap<String, Attrs>>,
    /// Old resources of create-before-destroy replacements, deleted after everything else.
    retired: Mutex<Vec<(String, Observed)>>,
    report: Mutex<Report>,
}

/// Applies `plan` (made from `graph` and `observed`).
pub async fn apply(
    cx: &Cx,
    graph: &Graph,
    plan: &Plan,
    observed: &BTreeMap<String, Observed>,
    options: Options,
) -> Report {
    let started = Instant::now();
    let known = observed
        .iter()
        .map(|(name, seen)| (name.clone(), seen.attrs.clone()))
        .collect();
    let run = Arc::new(Run {
        cx: cx.clone(),
        options,
        known: Mutex::new(known),
        retired: Mutex::new(Vec::new()),
        report: Mutex::new(Report::default()),
    });
    converge(&run, graph, plan).await;
    if run.report.lock().map(|r| r.ok()).unwrap_or(false) {
        // Only a fully converged graph may lose what it no longer needs.
        delete_leftovers(&run, plan, observed).await;
    }
    let mut report = std::mem::take(&mut *lock(&run.report));
    report.outputs = lock(&run.known)
        .iter()
        .filter(|(name, _)| graph.resources.contains_key(*name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    report.elapsed = started.elapsed();
    report
}

/// Creates, updates and replaces along the graph: each step once its dependencies are done.
async fn converge(run: &Arc<Run>, graph: &Graph, plan: &Plan) {
    let steps: BTreeMap<String, PlannedAction> = plan
        .actions
        .iter()
        .filter(|a| !matches!(a.action, Action::Delete))
        .map(|a| (a.logical.clone(), a.clone()))
        .collect();
    let deps = steps
        .keys()
        .map(|name| {
            let needs = graph
                .get(name)
                .map(|r| r.depends_on.iter().cloned().collect())
                .unwrap_or_default();
            (name.clone(), needs)
        })
        .collect();
    let steps = Arc::new(steps);
    let job_run = Arc::clone(run);
    let outcome = run_graph(deps, run.options.parallelism, move |name| {
        let run = Arc::clone(&job_run);
        let steps = Arc::clone(&steps);
        async move {
            let step = &steps[&name];
            step_one(&run, step).await
        }
    })
    .await;
    record(run, outcome);
}

/// Deletes what the plan drops and the old halves of replacements (unless kept for later).
async fn delete_leftovers(run: &Run, plan: &Plan, observed: &BTreeMap<String, Observed>) {
    let mut leftovers: Vec<(String, Observed)> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.action, Action::Delete))
        .filter_map(|a| {
            observed
                .get(&a.logical)
                .map(|o| (a.logical.clone(), o.clone()))
        })
        .collect();
    let retired = lock(&run.retired).clone();
    if run.options.keep_retired {
        lock(&run.report).retired = retired;
    } else {
        leftovers.extend(retired);
    }
    let outcome = delete_all(&run.cx, &leftovers, &run.options).await;
    let mut report = lock(&run.report);
    report.deleted.extend(outcome.done);
    report.failed.extend(outcome.failed);
    report.skipped.extend(outcome.skipped);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A job that panicked mid-update leaves data as consistent as before the panic.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn record(run: &Run, outcome: Outcome<AwsError>) {
    let mut report = lock(&run.report);
    report.failed.extend(outcome.failed);
    report.skipped.extend(outcome.skipped);
}

async fn step_one(run: &Run, step: &PlannedAction) -> Result<(), AwsError> {
    let name = step.logical.as_str();
    let kind = step.kind;
    match &step.action {
        Action::Delete => Ok(()),
        // It exists, but a run that died may have left it still coming up: one poll tells.
        Action::NoOp | Action::Noted { .. } => {
            let have = lock(&run.known).get(name).cloned().unwrap_or_default();
            let progress = &run.options.progress;
            let ready = wait_for(
                &run.cx,
                name,
                kind,
                &have,
                Goal::Ready,
                Verb::Creating,
                progress,
            )
            .await
            .inspect_err(|e| progress.fail(name, e))?;
            lock(&run.known).insert(name.to_string(), ready);
            Ok(())
        }
        Action::Create => {
            create(run, name, kind, &step.attrs).await?;
            lock(&run.report).created.push(name.to_string());
            Ok(())
        }
        Action::Update { changes, .. } => {
            let changed: Vec<String> = changes.iter().map(|c| c.attr.clone()).collect();
            update(run, name, kind, &step.attrs, &changed).await?;
            lock(&run.report).updated.push(name.to_string());
            Ok(())
        }
        Action::Replace { .. } => {
            let old = Observed {
                kind,
                attrs: lock(&run.known).get(name).cloned().unwrap_or_default(),
            };
            if kind.create_before_destroy() {
                create(run, name, kind, &step.attrs).await?;
                lock(&run.retired).push((format!("{name} (old)"), old));
            } else {
                delete_one(&run.cx, name, &old, &run.options).await?;
                create(run, name, kind, &step.attrs).await?;
            }
            lock(&run.report).replaced.push(name.to_string());
            Ok(())
        }
    }
}

async fn create(
    run: &Run,
    name: &str,
    kind: ResourceKind,
    attrs: &BTreeMap<String, Attr>,
) -> Result<(), AwsError> {
    let want = resolve_all(&lock(&run.known), name, attrs)?;
    let progress = &run.options.progress;
    let since = Instant::now();
    progress.begin(name, "creating");
    let made = create_once(run, name, kind, attrs, &want)
        .await
        .inspect_err(|e| progress.fail(name, e))?;
    let ready = wait_for(
        &run.cx,
        name,
        kind,
        &made,
        Goal::Ready,
        Verb::Creating,
        progress,
    )
    .await
    .inspect_err(|e| progress.fail(name, e))?;
    if let Some(scale) = run.options.simulate {
        tokio::time::sleep(Duration::from_secs_f64(
            kind.typical_create_seconds() * scale,
        ))
        .await;
    }
    let shown = handle(&ready).map(|(k, v)| format!("{k}={v}"));
    progress.finish(name, "created", since, &shown.unwrap_or_default());
    lock(&run.known).insert(name.to_string(), ready);
    Ok(())
}

async fn update(
    run: &Run,
    name: &str,
    kind: ResourceKind,
    attrs: &BTreeMap<String, Attr>,
    changed: &[String],
) -> Result<(), AwsError> {
    let (want, have) = {
        let known = lock(&run.known);
        (
            resolve_all(&known, name, attrs)?,
            known.get(name).cloned().unwrap_or_default(),
        )
    };
    let progress = &run.options.progress;
    let since = Instant::now();
    progress.begin(name, &format!("updating {}", changed.join(", ")));
    let updated = with_backoff(
        Backoff::default(),
        |e| run.cx.retryable(e),
        || driver(kind).update(&run.cx, name, &have, &want, changed),
        |e, pause| progress.retry(name, e, pause),
    )
    .await
    .inspect_err(|e| progress.fail(name, e))?;
    let mut merged = have.clone();
    merged.extend(updated);
    let ready = wait_for(
        &run.cx,
        name,
        kind,
        &merged,
        Goal::Ready,
        Verb::Updating,
        progress,
    )
    .await
    .inspect_err(|e| progress.fail(name, e))?;
    progress.finish(name, "updated", since, "");
    lock(&run.known).insert(name.to_string(), ready);
    Ok(())
}

/// Creates, retrying only while AWS provably made nothing: after a retryable error the kind is
/// observed again, and a resource already carrying this logical name (a driver's first call
/// succeeded, a later one failed) stops the retries, so nothing is ever made twice. The next run
/// finishes it through an update.
async fn create_once(
    run: &Run,
    name: &str,
    kind: ResourceKind,
    attrs: &BTreeMap<String, Attr>,
    want: &Attrs,
) -> Result<Attrs, AwsError> {
    let progress = &run.options.progress;
    let backoff = Backoff::default();
    let started = Instant::now();
    let desired = crate::core::Resource {
        kind,
        logical: name.to_string(),
        attrs: attrs.clone(),
        depends_on: Vec::new(),
    };
    let mut attempt = 0;
    loop {
        let error = match driver(kind).create(&run.cx, name, want).await {
            Ok(made) => return Ok(made),
            Err(error) => not_retried_after_send(error),
        };
        attempt += 1;
        let pause = backoff.delay(attempt);
        if !run.cx.retryable(&error) || started.elapsed() + pause > backoff.budget {
            return Err(error);
        }
        progress.retry(name, &error, pause);
        tokio::time::sleep(pause).await;
        // Observing names the ids `want` refers to, which may be as fresh as the error's.
        let wanted = [&desired];
        let seen = settle(&run.cx, || driver(kind).observe(&run.cx, &wanted)).await?;
        if seen.iter().any(|(logical, _)| logical == name) {
            return Err(AwsError::Failed(format!(
                "{name} was created, but a later step of its creation failed ({error}); \
                 run `provision up` again to finish it"
            )));
        }
    }
}

/// A create whose answer was lost may have happened: retrying could make a twin. The next run
/// finds it through its tags instead.
fn not_retried_after_send(error: AwsError) -> AwsError {
    match error {
        AwsError::Transport { operation, message } => AwsError::Failed(format!(
            "{operation}: {message} (not retried: AWS may have done it; run again to adopt it)"
        )),
        other => other,
    }
}

/// Desired attributes with every reference replaced by the value it points at.
pub fn resolve_all(
    known: &BTreeMap<String, Attrs>,
    name: &str,
    attrs: &BTreeMap<String, Attr>,
) -> Result<Attrs, AwsError> {
    attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), resolve(known, name, v)?)))
        .collect()
}

fn resolve(known: &BTreeMap<String, Attrs>, name: &str, value: &Attr) -> Result<Attr, AwsError> {
    Ok(match value {
        Attr::Ref(r) | Attr::Secret(Some(r)) => known
            .get(&r.logical)
            .and_then(|attrs| attrs.get(&r.attr))
            .cloned()
            .ok_or_else(|| {
                AwsError::Model(format!(
                    "{name}: `{}.{}` is not known (was {} created?)",
                    r.logical, r.attr, r.logical
                ))
            })?,
        Attr::List(items) => Attr::List(
            items
                .iter()
                .map(|i| resolve(known, name, i))
                .collect::<Result<_, _>>()?,
        ),
        Attr::Map(map) => Attr::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(known, name, v)?)))
                .collect::<Result<_, AwsError>>()?,
        ),
        other => other.clone(),
    })
}
