//! http-log: send each request's log object to an HTTP collector (Kong 3.x), through a
//! bounded queue and a background sender: batches of up to `queue.max_batch_size` entries (a
//! JSON array when that is above 1), retried with exponential backoff for up to
//! `queue.max_retry_time` seconds. A request never waits for the collector: when the queue is
//! full the entry is dropped and counted.
//!
//! Kong 2.x's `queue_size` and `flush_timeout` still work (as `queue.max_batch_size` and
//! `queue.max_coalescing_delay`); `retry_count`, ignored by Kong 3.x, caps the retries here.
//! Only `http://` endpoints for now: there is no TLS client in this build. One sender per
//! queue (`queue.concurrency_limit` -1 is accepted and treated as 1).

mod config;
mod sender;

use super::log_serializer::{serialize, Dropped, LogSinks, Redaction};
use super::{Handler, LogRecord, RequestCtx};
use crate::entities::FieldErrors;
use config::Settings;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::mpsc;

#[derive(Debug)]
pub struct HttpLog {
    queue: Arc<Queue>,
    redaction: Arc<Redaction>,
}

impl HttpLog {
    pub fn from_config(
        config: &Value,
        sinks: &LogSinks,
        queues: &Queues,
    ) -> Result<HttpLog, FieldErrors> {
        let settings = Settings::parse(config)?;
        // Kong shares a queue between instances whose whole configuration is the same.
        let key = config.to_string();
        Ok(HttpLog {
            queue: queues.queue(key, settings, sinks),
            redaction: sinks.redaction.clone(),
        })
    }
}

impl Handler for HttpLog {
    fn log(&self, ctx: &RequestCtx, record: &LogRecord<'_>) {
        let entry = serialize(ctx, record, &self.redaction).to_string();
        self.queue.push(entry);
    }

    fn wants_log_details(&self) -> bool {
        true
    }
}

// === impl Queues ===

/// The node's http-log queues by configuration; a queue lives while some handler holds it
/// (so it outlives the snapshot rebuilds that keep its configuration), and its sender ends
/// once the queue is gone and drained.
#[derive(Debug, Default)]
pub struct Queues {
    by_config: Mutex<HashMap<String, Weak<Queue>>>,
}

impl Queues {
    fn queue(&self, key: String, settings: Settings, sinks: &LogSinks) -> Arc<Queue> {
        let mut by_config = self.by_config.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = by_config.get(&key).and_then(Weak::upgrade) {
            return queue;
        }
        by_config.retain(|_, q| q.strong_count() > 0);
        let queue = Arc::new(Queue {
            dropped: Arc::new(sinks.dropped(format!("http-log {}", settings.endpoint))),
            settings: Arc::new(settings),
            sender: OnceLock::new(),
            queued_bytes: Arc::new(AtomicUsize::new(0)),
        });
        by_config.insert(key, Arc::downgrade(&queue));
        queue
    }
}

// === impl Queue ===

#[derive(Debug)]
pub struct Queue {
    settings: Arc<Settings>,
    /// Started with the first entry, so that building a handler (also done to validate a
    /// configuration) spawns nothing. None: there was no runtime to run it on.
    sender: OnceLock<Option<mpsc::Sender<String>>>,
    /// Bytes waiting, for `queue.max_bytes`.
    queued_bytes: Arc<AtomicUsize>,
    dropped: Arc<Dropped>,
}

impl Queue {
    /// Queue an entry; never blocks.
    fn push(&self, entry: String) {
        let Some(sender) = self.sender.get_or_init(|| self.start()) else {
            self.dropped.add(1, "no runtime for the sender");
            return;
        };
        let len = entry.len();
        if let Some(max) = self.settings.max_bytes {
            if self.queued_bytes.load(Ordering::Relaxed) + len > max {
                self.dropped.add(1, "queue.max_bytes reached");
                return;
            }
        }
        self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        if let Err(e) = sender.try_send(entry) {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "queue.max_entries reached",
                mpsc::error::TrySendError::Closed(_) => "sender stopped",
            };
            self.dropped.add(1, why);
        }
    }

    fn start(&self) -> Option<mpsc::Sender<String>> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(endpoint = %self.settings.endpoint, "http-log: no async runtime to send from");
            return None;
        };
        let (tx, rx) = mpsc::channel(self.settings.max_entries);
        runtime.spawn(sender::run(
            rx,
            self.settings.clone(),
            self.queued_bytes.clone(),
            self.dropped.clone(),
        ));
        Some(tx)
    }
}

#[cfg(test)]
mod tests;
