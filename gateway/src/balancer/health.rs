//! Per-target health as lua-resty-healthcheck keeps it: four counters and a four-state machine,
//! packed into one atomic word so the request path never takes a lock.

use super::Outcome;
use crate::entities::Healthchecks;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Kong's internal target states. The two "mostly" states remember that the opposite counter has
/// started moving; for routing they count as their base state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Healthy = 0,
    MostlyHealthy = 1,
    MostlyUnhealthy = 2,
    Unhealthy = 3,
}

impl State {
    fn from_bits(bits: u64) -> State {
        match bits {
            0 => State::Healthy,
            1 => State::MostlyHealthy,
            2 => State::MostlyUnhealthy,
            _ => State::Unhealthy,
        }
    }

    pub(crate) fn is_routable(self) -> bool {
        matches!(self, State::Healthy | State::MostlyHealthy)
    }
}

/// Which counter an observation moves. `Success` drives toward healthy, the others toward
/// unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    Success = 0,
    Http = 1,
    Tcp = 2,
    Timeout = 3,
}

const STATE_SHIFT: u32 = 32;

/// Health of one target address, shared by every balancer built for it so that configuration
/// swaps keep what was learnt.
#[derive(Debug, Default)]
pub(crate) struct TargetState {
    /// Bytes 0-3: success, http, tcp and timeout counters; byte 4: [`State`].
    word: AtomicU64,
    /// Requests currently proxied to this target (least-connections).
    pub(crate) in_flight: AtomicU32,
}

impl TargetState {
    pub(crate) fn state(&self) -> State {
        State::from_bits(self.word.load(Ordering::Acquire) >> STATE_SHIFT)
    }

    pub(crate) fn is_routable(&self) -> bool {
        self.state().is_routable()
    }

    /// Counts one observation; `limit` 0 disables the counter, as in Kong. Returns the new state
    /// when it changed.
    pub(crate) fn record(&self, counter: Counter, limit: u32) -> Option<State> {
        if limit == 0 {
            return None;
        }
        let mut old = self.word.load(Ordering::Acquire);
        loop {
            let new = step(old, counter, limit);
            if new == old {
                return None;
            }
            match self
                .word
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let (before, after) = (
                        State::from_bits(old >> STATE_SHIFT),
                        State::from_bits(new >> STATE_SHIFT),
                    );
                    return (before != after).then_some(after);
                }
                Err(current) => old = current,
            }
        }
    }

    /// Sets the state outright and clears the counters (the Admin API's `/healthy`, `/unhealthy`).
    pub(crate) fn force(&self, healthy: bool) {
        let state = if healthy {
            State::Healthy
        } else {
            State::Unhealthy
        };
        self.word
            .store((state as u64) << STATE_SHIFT, Ordering::Release);
    }
}

/// One observation applied to a packed word: the pure core of [`TargetState::record`].
fn step(word: u64, counter: Counter, limit: u32) -> u64 {
    let state = State::from_bits(word >> STATE_SHIFT);
    let towards_healthy = counter == Counter::Success;
    // Kong does not count successes of a fully healthy target, nor failures of a fully
    // unhealthy one.
    if (towards_healthy && state == State::Healthy)
        || (!towards_healthy && state == State::Unhealthy)
    {
        return word;
    }
    let mut counters = word.to_le_bytes();
    let index = counter as usize;
    counters[index] = counters[index].saturating_add(1);
    // A success clears every failure counter; any failure clears the success counter.
    if towards_healthy {
        counters[1..4].fill(0);
    } else {
        counters[0] = 0;
    }
    let failures = counters[1..4].iter().any(|c| *c > 0);
    // Counters are 8 bits wide (Kong's schema caps thresholds at 255).
    let new_state = if u32::from(counters[index]) >= limit.min(255) {
        if towards_healthy {
            State::Healthy
        } else {
            State::Unhealthy
        }
    } else if state == State::Healthy && failures {
        State::MostlyHealthy
    } else if state == State::Unhealthy && counters[0] > 0 {
        State::MostlyUnhealthy
    } else {
        state
    };
    let counters = u64::from_le_bytes([
        counters[0],
        counters[1],
        counters[2],
        counters[3],
        0,
        0,
        0,
        0,
    ]);
    counters | ((new_state as u64) << STATE_SHIFT)
}

/// The status lists and thresholds of one kind of check (active or passive).
#[derive(Debug, Clone, Default)]
pub(crate) struct Thresholds {
    healthy_statuses: Vec<u16>,
    successes: u32,
    unhealthy_statuses: Vec<u16>,
    http_failures: u32,
    tcp_failures: u32,
    timeouts: u32,
}

impl Thresholds {
    pub(crate) fn active(checks: &Healthchecks) -> Thresholds {
        let checks = &checks.active;
        Thresholds {
            healthy_statuses: checks.healthy.http_statuses.clone(),
            successes: checks.healthy.successes,
            unhealthy_statuses: checks.unhealthy.http_statuses.clone(),
            http_failures: checks.unhealthy.http_failures,
            tcp_failures: checks.unhealthy.tcp_failures,
            timeouts: checks.unhealthy.timeouts,
        }
    }

    pub(crate) fn passive(checks: &Healthchecks) -> Thresholds {
        let checks = &checks.passive;
        Thresholds {
            healthy_statuses: checks.healthy.http_statuses.clone(),
            successes: checks.healthy.successes,
            unhealthy_statuses: checks.unhealthy.http_statuses.clone(),
            http_failures: checks.unhealthy.http_failures,
            tcp_failures: checks.unhealthy.tcp_failures,
            timeouts: checks.unhealthy.timeouts,
        }
    }

    /// The counter an outcome moves and its limit; `None` for a status in neither list, which
    /// Kong ignores.
    pub(crate) fn classify(&self, outcome: Outcome) -> Option<(Counter, u32)> {
        match outcome {
            Outcome::Status(status) if self.healthy_statuses.contains(&status) => {
                Some((Counter::Success, self.successes))
            }
            // Status 0 stands for an unreadable response, a failure in Kong.
            Outcome::Status(status) if status == 0 || self.unhealthy_statuses.contains(&status) => {
                Some((Counter::Http, self.http_failures))
            }
            Outcome::Status(_) => None,
            Outcome::TcpFailure => Some((Counter::Tcp, self.tcp_failures)),
            Outcome::Timeout => Some((Counter::Timeout, self.timeouts)),
        }
    }

    /// The success limit, for checks (TCP probes) that succeed without a status.
    pub(crate) fn successes(&self) -> u32 {
        self.successes
    }
}
