//! What rate-limiting instances share and what outlives a configuration snapshot: the local
//! counters, one Redis client per server, the `cluster` policy's database, and the count of
//! requests let through because a counter store was unreachable.

use super::policies::cluster::ClusterCounters;
use super::policies::local::LocalCounters;
use super::policies::resp::{RedisClient, RedisTarget};
use super::policies::PolicyError;
use sqlx::postgres::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// At most one log line per this many seconds about an unreachable counter store.
const LOG_EVERY_S: i64 = 10;

/// Requests let through by `fault_tolerant`, in the whole process.
static FAULT_TOLERANT_PASSES: AtomicU64 = AtomicU64::new(0);

/// Requests the rate-limiting plugin let through, in this process, because Redis or PostgreSQL
/// could not count them (`fault_tolerant = true`); for the prometheus plugin.
pub fn fault_tolerant_passes() -> u64 {
    FAULT_TOLERANT_PASSES.load(Ordering::Relaxed)
}

/// Counters and connections of every rate-limiting instance built with it.
#[derive(Debug, Default)]
pub struct RateLimitState {
    pub(super) local: LocalCounters,
    redis: Mutex<HashMap<RedisTarget, Arc<RedisClient>>>,
    cluster: OnceLock<ClusterCounters>,
    fault_passes: AtomicU64,
    /// Failures since the last log line, and when that line was written.
    unlogged: AtomicU64,
    logged_at_s: AtomicI64,
}

impl RateLimitState {
    /// A state of its own (tests use one per simulated node).
    pub fn new() -> Arc<RateLimitState> {
        Arc::default()
    }

    /// The process-wide state every snapshot builds with by default.
    pub fn global() -> Arc<RateLimitState> {
        static GLOBAL: OnceLock<Arc<RateLimitState>> = OnceLock::new();
        GLOBAL.get_or_init(RateLimitState::new).clone()
    }

    /// Give the `cluster` policy its database (a node with a PostgreSQL store calls this once,
    /// inside the runtime: it also starts purging expired counters). False when already set.
    pub fn use_postgres(&self, pool: PgPool) -> bool {
        let mut fresh = false;
        let counters = self.cluster.get_or_init(|| {
            fresh = true;
            ClusterCounters::new(pool)
        });
        if fresh {
            counters.spawn_purger();
        }
        fresh
    }

    /// Delete the `cluster` policy's rows of ended windows now (also done every minute).
    pub async fn purge_expired_counters(&self, now_s: i64) -> Result<u64, PolicyError> {
        Ok(self.cluster()?.purge_expired(now_s).await?)
    }

    pub(super) fn cluster(&self) -> Result<&ClusterCounters, PolicyError> {
        self.cluster.get().ok_or(PolicyError::NoDatabase)
    }

    /// The client for a Redis server, created (unconnected) on first use and kept for as long
    /// as the state lives, so its connection survives configuration changes.
    pub(super) fn redis_client(&self, target: &RedisTarget) -> Arc<RedisClient> {
        let mut clients = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(target.clone())
            .or_insert_with(|| Arc::new(RedisClient::new(target.clone())))
            .clone()
    }

    /// Requests this state's instances let through because a store failed.
    pub fn fault_tolerant_passes(&self) -> u64 {
        self.fault_passes.load(Ordering::Relaxed)
    }

    /// A store failed for one request: count a pass when it goes through anyway, and log
    /// without flooding the log while the store stays down.
    pub(super) fn store_failed(&self, error: &PolicyError, passed: bool, now_s: i64) {
        if passed {
            self.fault_passes.fetch_add(1, Ordering::Relaxed);
            FAULT_TOLERANT_PASSES.fetch_add(1, Ordering::Relaxed);
        }
        let unlogged = self.unlogged.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.logged_at_s.load(Ordering::Relaxed);
        if now_s - last < LOG_EVERY_S
            || self
                .logged_at_s
                .compare_exchange(last, now_s, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.unlogged.fetch_sub(unlogged, Ordering::Relaxed);
        if passed {
            tracing::warn!(%error, failures = unlogged,
                "rate-limiting: counter store unavailable; letting requests through (fault_tolerant)");
        } else {
            tracing::error!(%error, failures = unlogged,
                "rate-limiting: counter store unavailable; answering 500 (fault_tolerant is off)");
        }
    }
}
