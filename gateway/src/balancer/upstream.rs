//! One upstream's balancer: its targets, the algorithm that picks among the healthy ones, and the
//! passive health reports that come back from proxied requests.

use super::health::{State, TargetState, Thresholds};
use super::ring::{Continuum, Wheel};
use super::{Health, Outcome, Peer, TargetHealth};
use crate::entities::{Healthchecks, Target, Upstream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    RoundRobin,
    ConsistentHashing,
    LeastConnections,
}

/// A target with weight > 0 and its shared health.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) target_id: Uuid,
    /// Normalised `host:port`, the key health survives configuration changes by.
    pub(crate) address: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) weight: u16,
    pub(crate) state: Arc<TargetState>,
}

/// Balances one upstream. Built once per configuration of the upstream; cheap to share.
#[derive(Debug)]
pub struct Balancer {
    pub(crate) name: String,
    pub(crate) upstream_id: Uuid,
    algorithm: Algorithm,
    pub(crate) slots: Vec<Slot>,
    wheel: Wheel,
    continuum: Continuum,
    /// Whether any active or passive check is configured; without one every target is healthy
    /// and the Admin API reports `HEALTHCHECKS_OFF`.
    checks_on: bool,
    pub(crate) checks: Healthchecks,
    passive: Thresholds,
    host_header: Option<String>,
    hash: super::hash::HashSpec,
    next: AtomicU64,
}

impl Balancer {
    /// Builds the balancer of `upstream` from its targets, taking each target's health from
    /// `state_of(address)` so that it outlives this balancer.
    pub(crate) fn new(
        upstream: &Upstream,
        targets: &[&Target],
        mut state_of: impl FnMut(&str) -> Arc<TargetState>,
    ) -> Balancer {
        let slots: Vec<Slot> = targets
            .iter()
            .filter(|t| t.weight > 0)
            .filter_map(|t| {
                let (host, port) = t.host_port()?;
                Some(Slot {
                    target_id: t.id,
                    address: t.target.clone(),
                    host,
                    port,
                    weight: t.weight,
                    state: state_of(&t.target),
                })
            })
            .collect();
        let weights: Vec<u32> = slots.iter().map(|s| u32::from(s.weight)).collect();
        let algorithm = match upstream.algorithm.as_str() {
            "consistent-hashing" => Algorithm::ConsistentHashing,
            "least-connections" => Algorithm::LeastConnections,
            // "latency" needs response times we are not told; round-robin is its closest cousin.
            _ => Algorithm::RoundRobin,
        };
        let continuum = if algorithm == Algorithm::ConsistentHashing {
            let points: Vec<(&str, u32)> = slots
                .iter()
                .map(|s| (s.address.as_str(), u32::from(s.weight)))
                .collect();
            Continuum::new(&points)
        } else {
            Continuum::default()
        };
        Balancer {
            name: upstream.name.clone(),
            upstream_id: upstream.id,
            algorithm,
            wheel: Wheel::new(&weights),
            continuum,
            slots,
            checks_on: uses_healthchecks(&upstream.healthchecks),
            passive: Thresholds::passive(&upstream.healthchecks),
            checks: upstream.healthchecks.clone(),
            host_header: upstream.host_header.clone(),
            hash: super::hash::HashSpec::of(upstream),
            next: AtomicU64::new(0),
        }
    }

    /// The consistent-hashing key of a request (None for other algorithms: nothing to compute).
    pub fn hash_key(&self, src: &super::HashSource<'_>) -> Option<String> {
        if self.algorithm != Algorithm::ConsistentHashing {
            return None;
        }
        self.hash.key(src)
    }

    /// Next healthy peer, or `None` when no target is healthy or the healthy weight is under the
    /// upstream's threshold (the proxy answers 503 "failure to get a peer from the
    /// ring-balancer"). `hash_key` is used by consistent-hashing only; without one every request
    /// hashes the empty string, as in Kong.
    pub fn pick(&self, hash_key: Option<&str>) -> Option<Peer> {
        self.pick_excluding(hash_key, &[])
    }

    /// As [`Balancer::pick`], preferring targets not in `tried` (for retries). When every healthy
    /// target was tried already it picks among them again, as Kong's retries do.
    pub fn pick_excluding(&self, hash_key: Option<&str>, tried: &[Peer]) -> Option<Peer> {
        // Without a threshold "unhealthy" means "no healthy target", which the pick finds anyway;
        // skip the O(targets) weight sum then.
        if self.checks.threshold > 0.0 && !self.is_healthy() {
            return None;
        }
        let untried = |i: usize| {
            self.available(i) && !tried.iter().any(|p| p.target_id == self.slots[i].target_id)
        };
        let index = match self.choose(hash_key, &untried) {
            Some(index) => index,
            None if !tried.is_empty() => self.choose(hash_key, &|i| self.available(i))?,
            None => return None,
        };
        Some(self.peer(index))
    }

    /// Passive health: the outcome of a proxied request to `peer`.
    pub fn report(&self, peer: &Peer, outcome: Outcome) {
        if !self.checks_on {
            return;
        }
        if let Some((counter, limit)) = self.passive.classify(outcome) {
            if let Some(state) = peer.state.record(counter, limit) {
                log_transition(&self.name, &peer.host, peer.port, state, "passive");
            }
        }
    }

    /// The upstream's `host_header`, which overrides the target host in the upstream request.
    pub fn host_header(&self) -> Option<&str> {
        self.host_header.as_deref()
    }

    /// Whether the upstream as a whole takes traffic: some weight is healthy and the healthy
    /// share is at least `healthchecks.threshold` percent.
    pub fn is_healthy(&self) -> bool {
        let total: u64 = self.slots.iter().map(|s| u64::from(s.weight)).sum();
        if !self.checks_on {
            return total > 0;
        }
        let healthy: u64 = self
            .slots
            .iter()
            .filter(|s| s.state.is_routable())
            .map(|s| u64::from(s.weight))
            .sum();
        healthy > 0 && healthy as f64 * 100.0 >= self.checks.threshold * total as f64
    }

    /// The upstream's health for the Admin API (`?balancer_health=1`).
    pub fn health(&self) -> Health {
        match (self.checks_on, self.is_healthy()) {
            (false, _) => Health::HealthchecksOff,
            (true, true) => Health::Healthy,
            (true, false) => Health::Unhealthy,
        }
    }

    /// Health of every target with weight > 0 (Kong leaves weight-0 targets out).
    pub fn targets_health(&self) -> Vec<TargetHealth> {
        self.slots
            .iter()
            .map(|s| TargetHealth {
                target_id: s.target_id,
                target: s.address.clone(),
                weight: s.weight,
                health: match (self.checks_on, s.state.is_routable()) {
                    (false, _) => Health::HealthchecksOff,
                    (true, true) => Health::Healthy,
                    (true, false) => Health::Unhealthy,
                },
            })
            .collect()
    }

    pub(crate) fn checks_on(&self) -> bool {
        self.checks_on
    }

    fn available(&self, index: usize) -> bool {
        !self.checks_on || self.slots[index].state.is_routable()
    }

    fn choose(&self, hash_key: Option<&str>, usable: &dyn Fn(usize) -> bool) -> Option<usize> {
        match self.algorithm {
            Algorithm::RoundRobin => self.round_robin(usable),
            Algorithm::ConsistentHashing => self
                .continuum
                .walk(hash_key.unwrap_or(""))
                .find(|i| usable(*i)),
            Algorithm::LeastConnections => self.least_connections(usable),
        }
    }

    fn round_robin(&self, usable: &dyn Fn(usize) -> bool) -> Option<usize> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let position = self.wheel.position(n);
        let owner = self.wheel.owner(position);
        if owner < self.slots.len() && usable(owner) {
            return Some(owner);
        }
        // The owner is out: spread this pick over the usable targets by weight instead, so that
        // the remaining ones share its traffic in proportion.
        let usable_weight: u64 = (0..self.slots.len())
            .filter(|i| usable(*i))
            .map(|i| u64::from(self.slots[i].weight))
            .sum();
        if usable_weight == 0 {
            return None;
        }
        let mut rest = position % usable_weight;
        (0..self.slots.len()).filter(|i| usable(*i)).find(|i| {
            let weight = u64::from(self.slots[*i].weight);
            if rest < weight {
                return true;
            }
            rest -= weight;
            false
        })
    }

    /// The usable target with the fewest requests in flight per unit of weight; ties go round
    /// the targets so that idle ones share the load.
    fn least_connections(&self, usable: &dyn Fn(usize) -> bool) -> Option<usize> {
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let start = (self.next.fetch_add(1, Ordering::Relaxed) % len as u64) as usize;
        let load = |i: usize| {
            let slot = &self.slots[i];
            let in_flight = u64::from(slot.state.in_flight.load(Ordering::Relaxed));
            (in_flight + 1, u64::from(slot.weight))
        };
        (0..len)
            .map(|k| (start + k) % len)
            .filter(|i| usable(*i))
            .min_by(|a, b| {
                let ((la, wa), (lb, wb)) = (load(*a), load(*b));
                (la * wb).cmp(&(lb * wa))
            })
    }

    fn peer(&self, index: usize) -> Peer {
        let slot = &self.slots[index];
        let lease = (self.algorithm == Algorithm::LeastConnections)
            .then(|| Arc::new(super::Lease::new(slot.state.clone())));
        Peer {
            target_id: slot.target_id,
            host: slot.host.clone(),
            port: slot.port,
            state: slot.state.clone(),
            _lease: lease,
        }
    }
}

/// Kong runs a health checker only when an active interval or a passive failure threshold is set.
fn uses_healthchecks(checks: &Healthchecks) -> bool {
    let (active, passive) = (&checks.active, &checks.passive.unhealthy);
    active.healthy.interval > 0.0
        || active.unhealthy.interval > 0.0
        || passive.tcp_failures > 0
        || passive.timeouts > 0
        || passive.http_failures > 0
}

pub(crate) fn log_transition(upstream: &str, host: &str, port: u16, state: State, check: &str) {
    if state.is_routable() {
        tracing::info!(upstream, host, port, ?state, check, "target health changed");
    } else {
        tracing::warn!(upstream, host, port, ?state, check, "target health changed");
    }
}
