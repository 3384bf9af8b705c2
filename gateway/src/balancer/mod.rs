//! Load balancing across upstream targets with Kong's active and passive health checks.
//!
//! [`Balancers`] holds one [`Balancer`] per upstream and is synced with every new configuration;
//! target health lives in shared per-address state ([`health`]), so it survives those syncs. The
//! proxy calls [`Balancer::pick`] (or [`Balancer::pick_excluding`] on retries) and reports each
//! attempt's [`Outcome`] back for passive checks; [`active`] runs the probes.

mod active;
mod hash;
mod health;
mod ring;
mod upstream;

pub use hash::HashSource;
pub use upstream::Balancer;

use crate::entities::{Target, Upstream};
use active::ActiveChecker;
use arc_swap::ArcSwap;
use health::TargetState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A target chosen for one request. Connect to `host:port` (resolving `host` when it is a name).
#[derive(Debug, Clone)]
pub struct Peer {
    pub target_id: Uuid,
    pub host: String,
    pub port: u16,
    state: Arc<TargetState>,
    /// Counts the request as in flight (least-connections) until the last clone is dropped.
    _lease: Option<Arc<Lease>>,
}

impl PartialEq for Peer {
    fn eq(&self, other: &Peer) -> bool {
        self.target_id == other.target_id && self.host == other.host && self.port == other.port
    }
}

/// What happened to a proxied request, for passive health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The target answered with this status.
    Status(u16),
    /// Connecting, sending or receiving failed.
    TcpFailure,
    /// The target did not answer in time.
    Timeout,
}

/// Health as the Admin API and prometheus show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
    /// No active or passive check is configured.
    HealthchecksOff,
}

impl Health {
    /// Kong's spelling: `HEALTHY`, `UNHEALTHY`, `HEALTHCHECKS_OFF`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "HEALTHY",
            Health::Unhealthy => "UNHEALTHY",
            Health::HealthchecksOff => "HEALTHCHECKS_OFF",
        }
    }
}

/// One target's health (`GET /upstreams/{u}/health`, `kong_upstream_target_health`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetHealth {
    pub target_id: Uuid,
    /// `host:port`
    pub target: String,
    pub weight: u16,
    pub health: Health,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HealthError {
    #[error("upstream {0} not found")]
    UpstreamNotFound(String),
    #[error("target {target} not found in upstream {upstream}")]
    TargetNotFound { upstream: String, target: String },
    /// Kong answers 400 with this message when the upstream has no health checks configured.
    #[error("no healthchecker found for {0}")]
    NoHealthchecker(String),
}

/// Decrements the target's in-flight count when the request is over.
#[derive(Debug)]
struct Lease {
    state: Arc<TargetState>,
}

impl Lease {
    fn new(state: Arc<TargetState>) -> Lease {
        state
            .in_flight
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Lease { state }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.state
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One upstream as last synced: what it was built from, and what runs for it.
struct Entry {
    upstream: Upstream,
    targets: Vec<Target>,
    balancer: Arc<Balancer>,
    _checker: Option<ActiveChecker>,
}

/// All balancers of the current configuration, keyed by upstream name.
pub struct Balancers {
    current: ArcSwap<HashMap<String, Arc<Balancer>>>,
    /// Only `sync` and the Admin API's health overrides take this; picks never do.
    entries: Mutex<HashMap<String, Entry>>,
}

impl Balancers {
    pub fn new() -> Arc<Balancers> {
        Arc::new(Balancers {
            current: ArcSwap::from_pointee(HashMap::new()),
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// Brings the balancers in line with a new configuration. Unchanged upstreams keep their
    /// balancer and checker; changed ones are rebuilt keeping the health of targets whose address
    /// stays; removed ones stop their active checks. Active checks need a tokio runtime.
    pub fn sync(self: &Arc<Self>, upstreams: &[Upstream], targets: &[Target]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::with_capacity(upstreams.len());
        for upstream in upstreams {
            let own = targets_of(upstream.id, targets);
            let previous = entries.remove(&upstream.name);
            let entry = match previous {
                Some(entry) if entry.upstream == *upstream && entry.targets == own => entry,
                previous => build(upstream, own, previous.as_ref()),
            };
            next.insert(upstream.name.clone(), entry);
        }
        // Whatever is left in `entries` is gone: dropping it stops its checker.
        *entries = next;
        let snapshot = entries
            .iter()
            .map(|(name, entry)| (name.clone(), entry.balancer.clone()))
            .collect();
        self.current.store(Arc::new(snapshot));
    }

    pub fn get(&self, upstream_name: &str) -> Option<Arc<Balancer>> {
        self.current.load().get(upstream_name).cloned()
    }

    /// Finds a balancer by upstream name or id (the Admin API takes either).
    pub fn find(&self, name_or_id: &str) -> Option<Arc<Balancer>> {
        let current = self.current.load();
        if let Some(balancer) = current.get(name_or_id) {
            return Some(balancer.clone());
        }
        let id = Uuid::parse_str(name_or_id).ok()?;
        current.values().find(|b| b.upstream_id == id).cloned()
    }

    /// Per-target health, for the Admin API's `GET /upstreams/{u}/health` and prometheus.
    pub fn health(&self, upstream_name: &str) -> Option<Vec<TargetHealth>> {
        self.find(upstream_name).map(|b| b.targets_health())
    }

    /// The Admin API's `POST /upstreams/{u}/targets/{t}/healthy|unhealthy`: sets a target's health
    /// outright, clearing its counters. `target` is its id or `host:port`.
    pub fn set_health(
        &self,
        upstream: &str,
        target: &str,
        healthy: bool,
    ) -> Result<(), HealthError> {
        let balancer = self
            .find(upstream)
            .ok_or_else(|| HealthError::UpstreamNotFound(upstream.to_string()))?;
        if !balancer.checks_on() {
            return Err(HealthError::NoHealthchecker(balancer.name.clone()));
        }
        let slot = balancer
            .slots
            .iter()
            .find(|s| s.address == target || s.target_id.to_string() == target)
            .ok_or_else(|| HealthError::TargetNotFound {
                upstream: balancer.name.clone(),
                target: target.to_string(),
            })?;
        slot.state.force(healthy);
        Ok(())
    }
}

/// The targets of one upstream, one per address (the newest wins), in address order.
fn targets_of(upstream_id: Uuid, targets: &[Target]) -> Vec<Target> {
    let mut by_address: HashMap<&str, &Target> = HashMap::new();
    for target in targets
        .iter()
        .filter(|t| t.upstream.as_ref().map(|r| r.id) == Some(upstream_id))
    {
        let newer = match by_address.get(target.target.as_str()) {
            Some(kept) => kept.created_at <= target.created_at,
            None => true,
        };
        if newer {
            by_address.insert(&target.target, target);
        }
    }
    let mut own: Vec<Target> = by_address.into_values().cloned().collect();
    own.sort_by(|a, b| a.target.cmp(&b.target));
    own
}

fn build(upstream: &Upstream, targets: Vec<Target>, previous: Option<&Entry>) -> Entry {
    let known = |address: &str| {
        previous?
            .balancer
            .slots
            .iter()
            .find(|s| s.address == address)
            .map(|s| s.state.clone())
    };
    let refs: Vec<&Target> = targets.iter().collect();
    let balancer = Arc::new(Balancer::new(upstream, &refs, |address| {
        known(address).unwrap_or_default()
    }));
    // Dropping the previous entry's checker (by the caller) stops it; this one takes over.
    Entry {
        upstream: upstream.clone(),
        targets,
        _checker: ActiveChecker::start(&balancer),
        balancer,
    }
}

#[cfg(test)]
mod tests;
