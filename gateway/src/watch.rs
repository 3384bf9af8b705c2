//! Keeping a node's snapshot in step with PostgreSQL: LISTEN on the change channel for the
//! fast path, and poll the version as the fallback when notifications are lost (a dropped
//! connection, a proxy in between). Bursts of notifications (a `config sync`, a portal creating
//! keys in a loop) are coalesced into one reload.

use crate::node::Node;
use crate::store::PgStore;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// At least this long between the end of one reload and the start of the next that a
/// notification causes: a lone change is applied at once, a burst of changes (a `config sync`,
/// a portal creating keys in a loop) costs one reload per gap instead of one per write.
const MIN_GAP: Duration = Duration::from_millis(250);
/// First wait before connecting the listener again; doubles up to the poll interval.
const RETRY_MIN: Duration = Duration::from_millis(250);

/// What woke the watcher up.
enum Wake {
    Notified,
    Lost,
    Poll,
    Retry,
}

/// Watch for changes for as long as the process runs (the task ends when aborted).
pub fn spawn(node: Arc<Node>, store: PgStore, poll: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(watch(node, store, poll))
}

async fn watch(node: Arc<Node>, store: PgStore, poll: Duration) {
    let mut tick = tokio::time::interval_at(Instant::now() + poll, poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listener: Option<PgListener> = None;
    let mut retry = RETRY_MIN;
    let mut reloaded: Option<Instant> = None;
    loop {
        if listener.is_none() {
            match store.listen().await {
                Ok(l) => {
                    listener = Some(l);
                    retry = RETRY_MIN;
                    // Whatever changed while nobody listened was not announced: catch up now.
                    reload(&node).await;
                }
                Err(e) => tracing::debug!(error = %e, "cannot LISTEN for changes; polling"),
            }
        }
        let wake = match listener.as_mut() {
            Some(l) => tokio::select! {
                received = l.try_recv() => match received {
                    Ok(Some(_)) => Wake::Notified,
                    _ => Wake::Lost,
                },
                _ = tick.tick() => Wake::Poll,
            },
            None => tokio::select! {
                _ = sleep(retry) => Wake::Retry,
                _ = tick.tick() => Wake::Poll,
            },
        };
        match wake {
            Wake::Notified => {
                if let Some(l) = listener.as_mut() {
                    let until = reloaded.map_or_else(Instant::now, |r| r + MIN_GAP);
                    if !drain_until(l, until).await {
                        listener = None;
                    }
                }
            }
            // Reconnecting catches up, so there is nothing to reload yet; the pause keeps a
            // connection that fails at once from turning this into a busy loop.
            Wake::Lost => {
                tracing::info!("lost the LISTEN connection; reconnecting");
                listener = None;
                sleep(RETRY_MIN).await;
                continue;
            }
            Wake::Retry => {
                retry = (retry * 2).min(poll.max(RETRY_MIN));
                continue;
            }
            Wake::Poll => {}
        }
        reload(&node).await;
        reloaded = Some(Instant::now());
    }
}

/// Swallow the notifications that arrive until `until`, and those already waiting: the reload
/// that follows covers them all. False when the connection was lost meanwhile.
async fn drain_until(listener: &mut PgListener, until: Instant) -> bool {
    loop {
        // A deadline already past still takes what is buffered: the receive is polled first.
        match tokio::time::timeout_at(until, listener.try_recv()).await {
            Err(_) => return true,
            Ok(Ok(Some(_))) => {}
            Ok(_) => return false,
        }
    }
}

async fn reload(node: &Node) {
    if let Err(e) = node.refresh().await {
        tracing::debug!(error = %e, "configuration refresh failed; serving the last snapshot");
    }
}
