//! Keeping a node's snapshot in step with PostgreSQL: LISTEN on the change channel for the
//! fast path, and poll the version as the fallback when notifications are lost (a dropped
//! connection, a proxy in between).

use crate::node::Node;
use crate::store::{PgStore, CHANNEL};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;

/// Watch for changes for as long as the process runs.
pub fn spawn(node: Arc<Node>, store: PgStore, poll: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener: Option<PgListener> = None;
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if listener.is_none() {
                listener = connect(&store).await;
            }
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.try_recv().await.map(|n| n.is_some()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = notified => {
                    if !matches!(result, Ok(true)) {
                        // The connection dropped: poll until it is back.
                        listener = None;
                    }
                }
                _ = tick.tick() => {}
            }
            if let Err(e) = node.refresh().await {
                tracing::debug!(error = %e, "configuration refresh failed; serving the last snapshot");
            }
        }
    })
}

async fn connect(store: &PgStore) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(store.pool()).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}
