//! A running gateway node: its store, and the current configuration snapshot that every
//! request reads. Changes (Admin API writes, `POST /config`, notifications from other nodes)
//! all end in [`Node::refresh`] or [`Node::replace_config`], which compile a new snapshot and
//! swap it in atomically.

use crate::balancer::{Balancers, Health};
use crate::config::Config;
use crate::metrics::{NodeGauges, TargetState};
use crate::plugins::registry::Shared;
use crate::snapshot::Snapshot;
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;
use uuid::Uuid;

pub struct Node {
    pub id: Uuid,
    pub store: Store,
    /// Upstream balancers and their health state; they outlive snapshots.
    pub balancers: Arc<Balancers>,
    /// What plugins keep across snapshots (metrics, counters).
    pub shared: Shared,
    snapshot: ArcSwap<Snapshot>,
    /// Serialises rebuilds so that an older load never replaces a newer one.
    rebuild: Mutex<i64>,
    /// How many snapshots were compiled and installed (the cost that coalescing saves).
    reloads: AtomicU64,
    /// Where the last good configuration is kept, to serve it after a restart while the database
    /// is unreachable.
    cache_path: Option<PathBuf>,
    /// The version last written to the cache file.
    cache_written: Arc<std::sync::Mutex<i64>>,
}

impl Node {
    pub fn new(store: Store, cache_path: Option<PathBuf>) -> Arc<Node> {
        Arc::new(Node {
            id: Uuid::new_v4(),
            store,
            balancers: Balancers::new(),
            shared: Shared::default(),
            snapshot: ArcSwap::from_pointee(Snapshot::empty()),
            rebuild: Mutex::new(0),
            reloads: AtomicU64::new(0),
            cache_path,
            cache_written: Arc::default(),
        })
    }

    /// The snapshot to serve this request from.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Load the configuration from the store and swap in a new snapshot, unless the store's
    /// version is the one already served.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let mut current = self.rebuild.lock().await;
        let version = self.store.version().await?;
        if version == *current {
            return Ok(());
        }
        // The version read with the configuration, which may be newer than the one above.
        let (config, version) = self.store.load_versioned().await?;
        self.install(config, version);
        *current = version;
        Ok(())
    }

    /// Replace the whole configuration (DB-less `POST /config`).
    pub async fn replace_config(&self, config: Config) -> Result<(), StoreError> {
        let Store::Memory(memory) = &self.store else {
            return Err(StoreError::ReadOnly);
        };
        let mut current = self.rebuild.lock().await;
        memory.replace(config.clone());
        let version = memory.version();
        self.install(config, version);
        *current = version;
        Ok(())
    }

    /// The Prometheus exposition of this node's metrics (`/metrics`), its gauges read now.
    pub async fn metrics_text(&self) -> String {
        let metrics = &self.shared.metrics;
        let gauges = NodeGauges {
            node_id: self.id.to_string(),
            version: crate::KONG_VERSION,
            datastore_reachable: self.store.reachable().await,
            targets: if metrics.wants_upstream_health() {
                self.target_states()
            } else {
                Vec::new()
            },
            fault_tolerant_passes: self.shared.rate_limiting.fault_tolerant_passes(),
            log_entries_dropped: self.shared.logs.dropped_total(),
        };
        metrics.render(&gauges)
    }

    /// Every target of the current configuration's upstreams, with its health.
    fn target_states(&self) -> Vec<TargetState> {
        let mut states = Vec::new();
        for upstream in &self.snapshot().config.upstreams {
            for t in self.balancers.health(&upstream.name).unwrap_or_default() {
                let state = match t.health {
                    Health::Healthy => "healthy",
                    Health::Unhealthy => "unhealthy",
                    Health::HealthchecksOff => "healthchecks_off",
                };
                states.push(TargetState {
                    upstream: upstream.name.clone(),
                    target: t.target,
                    state,
                });
            }
        }
        states
    }

    /// How many configuration snapshots this node has compiled and installed so far.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    fn install(&self, config: Config, version: i64) {
        let started = std::time::Instant::now();
        self.reloads.fetch_add(1, Ordering::Relaxed);
        self.balancers.sync(&config.upstreams, &config.targets);
        let snapshot = Snapshot::compile(config, version, &self.shared);
        self.snapshot.store(Arc::new(snapshot));
        tracing::info!(
            version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "configuration snapshot installed"
        );
        self.save_cache();
    }

    /// Keep the last configuration on disk (written to a temporary file, then renamed).
    fn save_cache(&self) {
        let Some(path) = self.cache_path.clone() else {
            return;
        };
        let snapshot = self.snapshot();
        let written = self.cache_written.clone();
        // Megabytes of JSON for large configurations: off the request threads. The lock and
        // the version check keep an older snapshot from overwriting a newer one.
        tokio::task::spawn_blocking(move || {
            let mut last = written.lock().unwrap_or_else(|p| p.into_inner());
            if snapshot.version != 0 && snapshot.version <= *last {
                return;
            }
            let tmp = path.with_extension("tmp");
            let result = serde_json::to_vec(&*snapshot.config)
                .map_err(std::io::Error::other)
                .and_then(|bytes| write_private(&tmp, &bytes))
                .and_then(|()| std::fs::rename(&tmp, &path));
            match result {
                Ok(()) => *last = snapshot.version,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not save the configuration cache")
                }
            }
        });
    }

    /// Serve the cached configuration (used at start when the database cannot be reached).
    pub fn load_cache(&self) -> bool {
        let Some(path) = &self.cache_path else {
            return false;
        };
        let Ok(bytes) = std::fs::read(path) else {
            return false;
        };
        match serde_json::from_slice::<Config>(&bytes) {
            Ok(config) => {
                self.balancers.sync(&config.upstreams, &config.targets);
                self.snapshot
                    .store(Arc::new(Snapshot::compile(config, 0, &self.shared)));
                tracing::warn!(path = %path.display(), "serving the cached configuration: database unreachable");
                true
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable configuration cache");
                false
            }
        }
    }
}

/// Write a file only its owner can read: the cache holds API keys.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)
}
