use super::health::{Counter, State, TargetState};
use super::*;
use crate::entities::parse;
use serde_json::{json, Value};
use std::collections::HashMap;

mod active;

// === helpers ===

fn upstream(name: &str, extra: Value) -> Upstream {
    let mut body = json!({ "name": name });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    parse(body).expect("valid upstream")
}

fn target(upstream: &Upstream, address: &str, weight: u16) -> Target {
    parse(json!({ "upstream": { "id": upstream.id }, "target": address, "weight": weight }))
        .expect("valid target")
}

/// Targets of `upstream` from `(address, weight)` pairs.
fn weighted(upstream: &Upstream, targets: &[(&str, u16)]) -> Vec<Target> {
    targets
        .iter()
        .map(|(address, weight)| target(upstream, address, *weight))
        .collect()
}

/// Passive checks on: `http_failures` failures of the passive unhealthy statuses mark a target down.
fn passive(http_failures: u32) -> Value {
    json!({ "healthchecks": { "passive": { "unhealthy": { "http_failures": http_failures } } } })
}

fn balancer_of(upstream: &Upstream, targets: &[Target]) -> (Arc<Balancers>, Arc<Balancer>) {
    let balancers = Balancers::new();
    balancers.sync(std::slice::from_ref(upstream), targets);
    let balancer = balancers.get(&upstream.name).expect("balancer synced");
    (balancers, balancer)
}

fn counts(balancer: &Balancer, picks: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..picks {
        let peer = balancer.pick(None).expect("a peer");
        *counts
            .entry(format!("{}:{}", peer.host, peer.port))
            .or_default() += 1;
    }
    counts
}

fn fail(balancer: &Balancer, address: &str, times: usize) {
    let peer = peer_at(balancer, address);
    for _ in 0..times {
        balancer.report(&peer, Outcome::Status(500));
    }
}

/// A peer for a given target, found by picking (round-robin visits every target).
fn peer_at(balancer: &Balancer, address: &str) -> Peer {
    (0..10_000)
        .filter_map(|_| balancer.pick(None))
        .find(|p| format!("{}:{}", p.host, p.port) == address)
        .expect("target is picked")
}

// === algorithms ===

#[test]
fn round_robin_follows_weights_exactly_per_cycle() {
    let u = upstream("rr", json!({}));
    let weights = [
        ("10.0.0.1:80", 100),
        ("10.0.0.2:80", 50),
        ("10.0.0.3:80", 50),
    ];
    let targets = weighted(&u, &weights);
    let (_keep, balancer) = balancer_of(&u, &targets);
    // 20 full cycles of the 200-position wheel.
    let counts = counts(&balancer, 4000);
    assert_eq!(counts["10.0.0.1:80"], 2000);
    assert_eq!(counts["10.0.0.2:80"], 1000);
    assert_eq!(counts["10.0.0.3:80"], 1000);
}

#[test]
fn round_robin_interleaves_instead_of_running_in_blocks() {
    let u = upstream("rr", json!({}));
    let targets = weighted(&u, &[("10.0.0.1:80", 100), ("10.0.0.2:80", 100)]);
    let (_keep, balancer) = balancer_of(&u, &targets);
    let hosts: Vec<String> = (0..20)
        .map(|_| balancer.pick(None).expect("peer").host)
        .collect();
    let longest_run = hosts
        .windows(2)
        .fold((1, 1), |(best, run), w| {
            let run = if w[0] == w[1] { run + 1 } else { 1 };
            (best.max(run), run)
        })
        .0;
    assert!(longest_run <= 3, "longest run {longest_run} in {hosts:?}");
}

#[test]
fn weight_zero_targets_are_never_picked_nor_listed() {
    let u = upstream("zero", json!({}));
    let targets = weighted(&u, &[("10.0.0.1:80", 100), ("10.0.0.2:80", 0)]);
    let (balancers, balancer) = balancer_of(&u, &targets);
    assert_eq!(counts(&balancer, 100).get("10.0.0.2:80"), None);
    let health = balancers.health("zero").expect("health");
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].target, "10.0.0.1:80");
    assert_eq!(health[0].health, Health::HealthchecksOff);

    let only_zero = [target(&u, "10.0.0.2:80", 0)];
    let (_keep, balancer) = balancer_of(&u, &only_zero);
    assert!(balancer.pick(None).is_none());
}

#[test]
fn consistent_hashing_is_stable_and_moves_few_keys() {
    let u = upstream(
        "ch",
        json!({ "algorithm": "consistent-hashing", "hash_on": "header",
        "hash_on_header": "x-user" }),
    );
    let three: Vec<Target> = (1..=3)
        .map(|i| target(&u, &format!("10.0.0.{i}:80"), 100))
        .collect();
    let (_a, first) = balancer_of(&u, &three);
    let (_b, again) = balancer_of(&u, &three);
    let keys: Vec<String> = (0..1000).map(|i| format!("user-{i}")).collect();
    let place = |b: &Balancer, k: &str| b.pick(Some(k)).expect("peer").host;
    for key in &keys {
        let host = place(&first, key);
        assert_eq!(place(&first, key), host, "same balancer, same key");
        assert_eq!(place(&again, key), host, "rebuilt balancer, same key");
    }
    let spread: std::collections::HashSet<String> = keys.iter().map(|k| place(&first, k)).collect();
    assert_eq!(spread.len(), 3, "keys spread over all targets");

    let mut four = three.clone();
    four.push(target(&u, "10.0.0.4:80", 100));
    let (_c, grown) = balancer_of(&u, &four);
    let moved: Vec<&String> = keys
        .iter()
        .filter(|k| place(&first, k) != place(&grown, k))
        .collect();
    assert!(moved.len() < 400, "{} of 1000 keys moved", moved.len());
    assert!(moved.iter().all(|k| place(&grown, k) == "10.0.0.4"));
}

#[test]
fn consistent_hashing_moves_only_keys_of_an_unhealthy_target() {
    let u = upstream(
        "ch",
        json!({ "algorithm": "consistent-hashing",
        "healthchecks": { "passive": { "unhealthy": { "http_failures": 1 } } } }),
    );
    let targets: Vec<Target> = (1..=3)
        .map(|i| target(&u, &format!("10.0.0.{i}:80"), 100))
        .collect();
    let (_keep, balancer) = balancer_of(&u, &targets);
    let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
    let before: Vec<Peer> = keys
        .iter()
        .map(|k| balancer.pick(Some(k)).expect("peer"))
        .collect();
    let victim = before[0].clone();
    balancer.report(&victim, Outcome::Status(500));
    for (key, old) in keys.iter().zip(&before) {
        let now = balancer.pick(Some(key)).expect("peer");
        if old.target_id == victim.target_id {
            assert_ne!(now.target_id, victim.target_id);
        } else {
            assert_eq!(now.target_id, old.target_id, "key {key} moved");
        }
    }
}

#[test]
fn least_connections_prefers_the_idlest_target() {
    let u = upstream("lc", json!({ "algorithm": "least-connections" }));
    let targets = weighted(&u, &[("10.0.0.1:80", 100), ("10.0.0.2:80", 100)]);
    let (_keep, balancer) = balancer_of(&u, &targets);
    let busy = balancer.pick(None).expect("peer");
    for _ in 0..10 {
        let next = balancer.pick(None).expect("peer");
        assert_ne!(next.target_id, busy.target_id, "busy target avoided");
    }
    let other = balancer.pick(None).expect("peer");
    drop(busy);
    // `other` is in flight now, so the first target is the idle one.
    let next = balancer.pick(None).expect("peer");
    assert_ne!(next.target_id, other.target_id);
}

#[test]
fn pick_excluding_skips_tried_targets_then_falls_back() {
    let u = upstream("retry", json!({}));
    let targets = weighted(&u, &[("10.0.0.1:80", 100), ("10.0.0.2:80", 100)]);
    let (_keep, balancer) = balancer_of(&u, &targets);
    let first = balancer.pick(None).expect("peer");
    for _ in 0..10 {
        let second = balancer
            .pick_excluding(None, std::slice::from_ref(&first))
            .expect("peer");
        assert_ne!(second, first);
    }
    let both = [
        peer_at(&balancer, "10.0.0.1:80"),
        peer_at(&balancer, "10.0.0.2:80"),
    ];
    assert!(
        balancer.pick_excluding(None, &both).is_some(),
        "retries reuse tried targets"
    );
}

// === passive health ===

#[test]
fn passive_failures_mark_unhealthy_then_no_peer() {
    let u = upstream("p", passive(3));
    let targets = [target(&u, "10.0.0.1:80", 100)];
    let (balancers, balancer) = balancer_of(&u, &targets);
    fail(&balancer, "10.0.0.1:80", 2);
    assert!(
        balancer.pick(None).is_some(),
        "two failures of three keep it up"
    );
    fail(&balancer, "10.0.0.1:80", 1);
    assert!(balancer.pick(None).is_none());
    assert_eq!(balancer.health(), Health::Unhealthy);
    let health = balancers.health("p").expect("health");
    assert_eq!(health[0].health, Health::Unhealthy);
}

#[test]
fn passive_counters_follow_kong() {
    use Outcome::{Status, TcpFailure, Timeout};
    // (config, outcomes, still routable)
    let cases: Vec<(Value, Vec<Outcome>, bool)> = vec![
        // A success between failures clears the failure count...
        (
            json!({ "healthchecks": { "passive": {
                "unhealthy": { "http_failures": 2 }, "healthy": { "successes": 5 } } } }),
            vec![Status(500), Status(200), Status(500)],
            true,
        ),
        // ...but not when successes are not counted (Kong's default `successes: 0`).
        (
            passive(2),
            vec![Status(500), Status(200), Status(500)],
            false,
        ),
        (passive(2), vec![Status(500), Status(503)], false),
        // Statuses in neither list are ignored; 404 is not a passive failure by default.
        (passive(1), vec![Status(404), Status(418)], true),
        // A zero threshold disables its counter.
        (passive(1), vec![TcpFailure, Timeout, TcpFailure], true),
        (
            json!({ "healthchecks": { "passive": { "unhealthy": { "tcp_failures": 2 } } } }),
            vec![TcpFailure, TcpFailure],
            false,
        ),
        (
            json!({ "healthchecks": { "passive": { "unhealthy": { "timeouts": 1 } } } }),
            vec![Timeout],
            false,
        ),
        // With no check configured reports change nothing.
        (json!({}), vec![Status(500); 10], true),
    ];
    for (i, (config, outcomes, routable)) in cases.into_iter().enumerate() {
        let u = upstream("p", config);
        let (_keep, balancer) = balancer_of(&u, &[target(&u, "10.0.0.1:80", 100)]);
        let peer = balancer.pick(None).expect("peer");
        for outcome in outcomes {
            balancer.report(&peer, outcome);
        }
        assert_eq!(balancer.pick(None).is_some(), routable, "case {i}");
    }
}

#[test]
fn passive_only_never_revives_but_the_admin_api_can() {
    let u = upstream(
        "p",
        json!({ "healthchecks": { "passive": {
        "unhealthy": { "http_failures": 1 }, "healthy": { "successes": 0 } } } }),
    );
    let (balancers, balancer) = balancer_of(&u, &[target(&u, "10.0.0.1:80", 100)]);
    let peer = balancer.pick(None).expect("peer");
    balancer.report(&peer, Outcome::Status(500));
    for _ in 0..5 {
        balancer.report(&peer, Outcome::Status(200));
    }
    assert!(
        balancer.pick(None).is_none(),
        "successes 0: never back on its own"
    );
    assert_eq!(balancers.set_health("p", "10.0.0.1:80", true), Ok(()));
    assert!(balancer.pick(None).is_some());
    let by_id = peer.target_id.to_string();
    assert_eq!(
        balancers.set_health(&u.id.to_string(), &by_id, false),
        Ok(())
    );
    assert!(balancer.pick(None).is_none());
}

#[test]
fn set_health_errors() {
    let off = upstream("off", json!({}));
    let on = upstream("on", passive(1));
    let targets = [
        target(&off, "10.0.0.1:80", 100),
        target(&on, "10.0.0.1:80", 100),
    ];
    let balancers = Balancers::new();
    balancers.sync(&[off, on], &targets);
    assert_eq!(
        balancers.set_health("off", "10.0.0.1:80", true),
        Err(HealthError::NoHealthchecker("off".into()))
    );
    assert!(matches!(
        balancers.set_health("on", "10.9.9.9:80", true),
        Err(HealthError::TargetNotFound { .. })
    ));
    assert!(matches!(
        balancers.set_health("nope", "10.0.0.1:80", true),
        Err(HealthError::UpstreamNotFound(_))
    ));
}

#[test]
fn threshold_takes_the_whole_upstream_down() {
    let u = upstream(
        "t",
        json!({ "healthchecks": { "threshold": 50,
        "passive": { "unhealthy": { "http_failures": 1 } } } }),
    );
    let targets: Vec<Target> = (1..=4)
        .map(|i| target(&u, &format!("10.0.0.{i}:80"), 100))
        .collect();
    let (_keep, balancer) = balancer_of(&u, &targets);
    fail(&balancer, "10.0.0.1:80", 1);
    fail(&balancer, "10.0.0.2:80", 1);
    assert!(
        balancer.pick(None).is_some(),
        "50% healthy meets a 50% threshold"
    );
    assert_eq!(balancer.health(), Health::Healthy);
    fail(&balancer, "10.0.0.3:80", 1);
    assert!(
        balancer.pick(None).is_none(),
        "25% healthy is under the threshold"
    );
    assert_eq!(balancer.health(), Health::Unhealthy);
}

#[test]
fn sync_keeps_health_of_unchanged_addresses() {
    let u = upstream("s", passive(1));
    let a = target(&u, "10.0.0.1:80", 100);
    let b = target(&u, "10.0.0.2:80", 100);
    let balancers = Balancers::new();
    balancers.sync(std::slice::from_ref(&u), &[a.clone(), b.clone()]);
    let balancer = balancers.get("s").expect("balancer");
    fail(&balancer, "10.0.0.1:80", 1);

    // Same upstream and targets: the very same balancer.
    balancers.sync(std::slice::from_ref(&u), &[a.clone(), b.clone()]);
    assert!(Arc::ptr_eq(
        &balancer,
        &balancers.get("s").expect("balancer")
    ));

    // A changed target list rebuilds the balancer, keeping 10.0.0.1's health.
    let c = target(&u, "10.0.0.3:80", 100);
    balancers.sync(std::slice::from_ref(&u), &[a.clone(), b.clone(), c]);
    let rebuilt = balancers.get("s").expect("balancer");
    assert!(!Arc::ptr_eq(&balancer, &rebuilt));
    let health: HashMap<String, Health> = balancers
        .health("s")
        .expect("health")
        .into_iter()
        .map(|h| (h.target, h.health))
        .collect();
    assert_eq!(health["10.0.0.1:80"], Health::Unhealthy);
    assert_eq!(health["10.0.0.2:80"], Health::Healthy);
    assert_eq!(health["10.0.0.3:80"], Health::Healthy);

    balancers.sync(&[], &[]);
    assert!(balancers.get("s").is_none());
}

#[test]
fn state_machine_passes_through_mostly_states() {
    let state = TargetState::default();
    assert_eq!(state.record(Counter::Http, 3), Some(State::MostlyHealthy));
    assert!(state.is_routable());
    assert_eq!(state.record(Counter::Tcp, 0), None, "disabled counter");
    assert_eq!(state.record(Counter::Timeout, 3), None);
    assert_eq!(state.record(Counter::Http, 3), None, "http at 2 of 3");
    assert_eq!(state.record(Counter::Http, 3), Some(State::Unhealthy));
    assert_eq!(
        state.record(Counter::Http, 3),
        None,
        "fully unhealthy ignores failures"
    );
    assert_eq!(
        state.record(Counter::Success, 2),
        Some(State::MostlyUnhealthy)
    );
    assert!(!state.is_routable());
    assert_eq!(state.record(Counter::Success, 2), Some(State::Healthy));
    assert_eq!(
        state.record(Counter::Success, 2),
        None,
        "fully healthy ignores successes"
    );
}
