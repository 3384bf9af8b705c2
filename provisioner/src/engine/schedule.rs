//! Runs jobs along a dependency graph: each starts once its dependencies finished, at most `limit`
//! at a time; after the first failure nothing new starts, what runs is let finish.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What became of each job.
#[derive(Debug)]
pub struct Outcome<E> {
    pub done: Vec<String>,
    pub failed: Vec<(String, E)>,
    /// Never started: a dependency failed, or a failure elsewhere stopped the run.
    pub skipped: Vec<String>,
}

impl<E> Outcome<E> {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// Runs `run(name)` for every name in `deps` (name -> names it waits for; names outside the map
/// are treated as already done).
pub async fn run_graph<E, F, Fut>(
    deps: BTreeMap<String, BTreeSet<String>>,
    limit: usize,
    run: F,
) -> Outcome<E>
where
    E: Send + 'static,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut waiting: BTreeMap<String, BTreeSet<String>> = deps
        .iter()
        .map(|(name, needs)| {
            let needs = needs
                .iter()
                .filter(|n| deps.contains_key(*n) && *n != name)
                .cloned()
                .collect();
            (name.clone(), needs)
        })
        .collect();
    let mut outcome = Outcome {
        done: Vec::new(),
        failed: Vec::new(),
        skipped: Vec::new(),
    };
    let mut running = JoinSet::new();
    // Jobs queued for a permit when something fails must not start.
    let stop = Arc::new(AtomicBool::new(false));
    loop {
        if outcome.failed.is_empty() {
            let ready: Vec<String> = waiting
                .iter()
                .filter(|(_, needs)| needs.is_empty())
                .map(|(name, _)| name.clone())
                .collect();
            for name in ready {
                waiting.remove(&name);
                let job = run(name.clone());
                let (permits, stop) = (Arc::clone(&permits), Arc::clone(&stop));
                running.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    if stop.load(Ordering::SeqCst) {
                        return (name, None);
                    }
                    let result = job.await;
                    if result.is_err() {
                        // Before the permit goes: the job waiting for it must see the stop.
                        stop.store(true, Ordering::SeqCst);
                    }
                    (name, Some(result))
                });
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((name, None)) => outcome.skipped.push(name),
            Ok((name, Some(Ok(())))) => {
                for needs in waiting.values_mut() {
                    needs.remove(&name);
                }
                outcome.done.push(name);
            }
            Ok((name, Some(Err(error)))) => {
                stop.store(true, Ordering::SeqCst);
                outcome.failed.push((name, error));
            }
            // A panicking job is a bug; its name is lost with it, so stop starting others.
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
    outcome.skipped.extend(waiting.into_keys());
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[tokio::test]
    async fn runs_in_dependency_order_and_in_parallel() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let deps = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])]);
        let started = std::time::Instant::now();
        let l = Arc::clone(&log);
        let outcome = run_graph::<(), _, _>(deps, 4, move |name| {
            let log = Arc::clone(&l);
            async move {
                log.lock().unwrap().push(format!("start {name}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                log.lock().unwrap().push(format!("end {name}"));
                Ok(())
            }
        })
        .await;
        assert!(outcome.ok());
        let log = log.lock().unwrap().clone();
        let at = |what: &str| log.iter().position(|l| l == what).unwrap();
        assert!(at("end a") < at("start b") && at("end a") < at("start c"));
        assert!(at("end b") < at("start d") && at("end c") < at("start d"));
        // b and c overlap: three waves of 100 ms, not four.
        assert!(
            started.elapsed() < Duration::from_millis(380),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_failure_skips_dependents_and_starts_nothing_new() {
        let deps = graph(&[("a", &[]), ("b", &["a"]), ("x", &[]), ("y", &["x"])]);
        let outcome = run_graph(deps, 1, |name| async move {
            if name == "a" {
                Err(format!("{name} broke"))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(
            outcome.failed,
            vec![("a".to_string(), "a broke".to_string())]
        );
        assert!(outcome.skipped.contains(&"b".to_string()));
        assert!(!outcome.ok());
    }

    #[tokio::test]
    async fn jobs_queued_for_a_permit_do_not_start_after_a_failure() {
        let started = Arc::new(Mutex::new(Vec::new()));
        let deps = graph(&[("a", &[]), ("b", &[]), ("c", &[])]);
        let s = Arc::clone(&started);
        let outcome = run_graph(deps, 1, move |name| {
            let started = Arc::clone(&s);
            async move {
                started.lock().unwrap().push(name.clone());
                tokio::time::sleep(Duration::from_millis(10)).await;
                Err(format!("{name} broke"))
            }
        })
        .await;
        assert_eq!(
            started.lock().unwrap().len(),
            1,
            "{:?}",
            started.lock().unwrap()
        );
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.skipped.len(), 2);
    }

    #[tokio::test]
    async fn the_limit_bounds_concurrency() {
        let live = Arc::new(Mutex::new((0, 0)));
        let deps = graph(&[("a", &[]), ("b", &[]), ("c", &[]), ("d", &[]), ("e", &[])]);
        let l = Arc::clone(&live);
        run_graph::<(), _, _>(deps, 2, move |_| {
            let live = Arc::clone(&l);
            async move {
                {
                    let mut g = live.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                live.lock().unwrap().0 -= 1;
                Ok(())
            }
        })
        .await;
        assert_eq!(live.lock().unwrap().1, 2);
    }
}
