//! file-log: append each request's log object to a file, one JSON line per request (Kong 3.x).
//! Writes happen on a background thread fed by a bounded queue, so a slow disk never holds a
//! request up: when the queue is full the line is dropped and counted. With `reopen` the file
//! is opened afresh for every write, so logrotate's rename-and-create takes effect at once.

use super::log_serializer::{refuse_lua, serialize, Dropped, LogSinks, Redaction};
use super::{typed_config, Handler, LogRecord, RequestCtx};
use crate::entities::FieldErrors;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Lines waiting for the disk, per file, before new ones are dropped.
const QUEUE_LINES: usize = 10_000;
/// The most bytes gathered into one write.
const BATCH_BYTES: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    reopen: bool,
    #[serde(default)]
    custom_fields_by_lua: Option<Value>,
}

#[derive(Debug)]
pub struct FileLog {
    writer: Arc<Writer>,
    redaction: Arc<Redaction>,
}

impl FileLog {
    pub fn from_config(
        config: &Value,
        sinks: &LogSinks,
        writers: &Writers,
    ) -> Result<FileLog, FieldErrors> {
        let config: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let path = config.path.unwrap_or_default();
        if path.is_empty() {
            errors.add("config.path", "required field missing");
        } else if path.chars().any(char::is_control) {
            errors.add("config.path", "not a valid filename");
        }
        refuse_lua(config.custom_fields_by_lua.as_ref(), &mut errors);
        errors.into_result()?;
        Ok(FileLog {
            writer: writers.writer(PathBuf::from(path), config.reopen, sinks),
            redaction: sinks.redaction.clone(),
        })
    }
}

impl Handler for FileLog {
    fn log(&self, ctx: &RequestCtx, record: &LogRecord<'_>) {
        let mut line = serialize(ctx, record, &self.redaction).to_string();
        line.push('\n');
        self.writer.send(line);
    }

    fn wants_log_details(&self) -> bool {
        true
    }
}

// === impl Writers ===

/// One writer per file (and `reopen`), shared by every instance and snapshot naming it; a
/// writer lives while some handler holds it, and its thread ends once it has drained.
#[derive(Debug, Default)]
pub struct Writers {
    by_file: Mutex<HashMap<(PathBuf, bool), Weak<Writer>>>,
}

impl Writers {
    fn writer(&self, path: PathBuf, reopen: bool, sinks: &LogSinks) -> Arc<Writer> {
        let mut by_file = self.by_file.lock().unwrap_or_else(|p| p.into_inner());
        let key = (path, reopen);
        if let Some(writer) = by_file.get(&key).and_then(Weak::upgrade) {
            return writer;
        }
        by_file.retain(|_, w| w.strong_count() > 0);
        let writer = Arc::new(Writer {
            dropped: Arc::new(sinks.dropped(format!("file-log {}", key.0.display()))),
            path: key.0.clone(),
            reopen,
            queue: OnceLock::new(),
        });
        by_file.insert(key, Arc::downgrade(&writer));
        writer
    }
}

// === impl Writer ===

#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    reopen: bool,
    /// Started on the first line, so that building a handler (also done to validate a
    /// configuration) never spawns a thread. None: the thread could not start.
    queue: OnceLock<Option<SyncSender<String>>>,
    dropped: Arc<Dropped>,
}

impl Writer {
    /// Queue a line; never blocks.
    fn send(&self, line: String) {
        let Some(queue) = self.queue.get_or_init(|| self.start()) else {
            self.dropped.add(1, "no writer thread");
            return;
        };
        match queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.dropped.add(1, "queue full"),
            Err(TrySendError::Disconnected(_)) => self.dropped.add(1, "writer stopped"),
        }
    }

    fn start(&self) -> Option<SyncSender<String>> {
        let (tx, rx) = sync_channel(QUEUE_LINES);
        let (path, reopen, dropped) = (self.path.clone(), self.reopen, self.dropped.clone());
        let spawned = std::thread::Builder::new()
            .name("file-log".into())
            .spawn(move || write_lines(&rx, &path, reopen, &dropped));
        match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "file-log: cannot start its writer thread");
                None
            }
        }
    }
}

/// The writer thread: take what is queued, write it in one go; until every sender is gone.
fn write_lines(rx: &Receiver<String>, path: &Path, reopen: bool, dropped: &Dropped) {
    let mut file: Option<File> = None;
    let mut failing = false;
    while let Ok(mut batch) = rx.recv() {
        while batch.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(more) => batch.push_str(&more),
                Err(_) => break,
            }
        }
        if reopen {
            file = None;
        }
        let result = match &mut file {
            Some(f) => f.write_all(batch.as_bytes()),
            None => open(path).and_then(|mut f| {
                let written = f.write_all(batch.as_bytes());
                file = Some(f);
                written
            }),
        };
        match result {
            Ok(()) => failing = false,
            Err(e) => {
                // Once per failure streak: the next success clears it.
                if !failing {
                    tracing::error!(path = %path.display(), error = %e, "file-log: cannot write");
                }
                failing = true;
                file = None;
                dropped.add(batch.matches('\n').count() as u64, "cannot write");
            }
        }
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    options.open(path)
}

#[cfg(test)]
mod tests;
