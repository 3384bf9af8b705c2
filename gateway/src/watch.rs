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

/// After a notification, wait this long for another before reloading: a burst of writes then
/// costs one reload, and a lone write only this much extra latency.
const QUIET: Duration = Duration::from_millis(20);
/// But never hold a reload back longer than this while writes keep coming.
const MAX_DELAY: Duration = Duration::from_millis(250);
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
                    if !settle(l).await {
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
    }
}

/// Swallow the rest of a burst of notifications: return once none came for [`QUIET`], or
/// [`MAX_DELAY`] after the first. False when the connection was lost meanwhile.
async fn settle(listener: &mut PgListener) -> bool {
    let deadline = Instant::now() + MAX_DELAY;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        let wait = QUIET.min(deadline - now);
        match tokio::time::timeout(wait, listener.try_recv()).await {
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
