//! The `local` policy: counters in this process, in hash-sharded maps. One short lock per
//! request covers all of an identifier's windows, so the decision and the increments are one
//! step and concurrent requests admit exactly the limit. Expired entries are swept from a shard
//! at most once a minute, by whichever request touches it.

use super::{CounterKey, Hit};
use crate::plugins::rate_limiting::windows::Window;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

const SHARDS: usize = 64;
const SWEEP_EVERY_S: i64 = 60;

/// One identifier's counters: per window, the start of the window counted and its count.
#[derive(Debug, Default)]
struct Slot {
    windows: [(i64, u64); 6],
    /// When the longest configured window ends: the slot is garbage after that.
    expires_s: i64,
}

#[derive(Debug, Default)]
struct Shard {
    slots: HashMap<String, Slot>,
    next_sweep_s: i64,
}

/// Every local counter of the process.
#[derive(Debug)]
pub struct LocalCounters {
    shards: Vec<Mutex<Shard>>,
}

impl Default for LocalCounters {
    fn default() -> LocalCounters {
        LocalCounters {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl LocalCounters {
    /// Count one request: admitted (and counted in every window) only if no window is full.
    pub fn hit(&self, key: &CounterKey<'_>, limits: &[(Window, u64)], now_ms: i64) -> Hit {
        let name = format!("{}:{}:{}", key.route, key.service, key.identifier);
        let mut hasher = DefaultHasher::new();
        name.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let now_s = now_ms.div_euclid(1000);
        if now_s >= shard.next_sweep_s {
            shard.slots.retain(|_, slot| slot.expires_s > now_s);
            shard.next_sweep_s = now_s + SWEEP_EVERY_S;
        }
        let slot = shard.slots.entry(name).or_default();
        let mut admitted = true;
        for (window, limit) in limits {
            let (start, end) = window.bounds(now_s);
            let counter = &mut slot.windows[window.index()];
            if counter.0 != start {
                *counter = (start, 0);
            }
            admitted &= counter.1 < *limit;
            slot.expires_s = slot.expires_s.max(end);
        }
        let counts = limits
            .iter()
            .map(|(window, _)| {
                let counter = &mut slot.windows[window.index()];
                if admitted {
                    counter.1 += 1;
                }
                counter.1
            })
            .collect();
        Hit { counts, admitted }
    }

    /// How many identifiers have live counters (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).slots.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
