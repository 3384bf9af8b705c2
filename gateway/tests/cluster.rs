//! Configuration propagation between nodes sharing one PostgreSQL database: LISTEN/NOTIFY,
//! polling when notifications cannot arrive, recovery of the listener, coalesced bursts, and
//! the cost of a snapshot of 10,000 consumers.

#[path = "cluster/outage.rs"]
mod outage;
#[path = "cluster/snapshot_cost.rs"]
mod snapshot_cost;
#[path = "cluster/support.rs"]
mod support;

use axum::http::Method;
use gateway::admin::app;
use serde_json::json;
use std::time::{Duration, Instant};
use support::{admin, create, serves, wait_for, Cluster, LONG_POLL};

#[tokio::test]
async fn writes_reach_other_nodes_within_a_second_by_notification() {
    let cluster = Cluster::fresh().await;
    let (a, _wa) = cluster.node("a", LONG_POLL).await;
    let (b, _wb) = cluster.node("b", LONG_POLL).await;
    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    let api = app(a.clone());

    let mut latencies = Vec::new();
    for i in 0..5 {
        // Apart, so that each is a lone change rather than part of a throttled burst.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let name = format!("svc-{i}");
        create(
            &api,
            "/services",
            json!({ "name": name, "host": "backend" }),
        )
        .await;
        let written = Instant::now();
        assert!(
            serves(&a, &name),
            "the writing node serves its write at once"
        );
        let seen = wait_for(Duration::from_secs(1), || serves(&b, &name)).await;
        let Some(_) = seen else {
            panic!("node b did not see {name} within 1 s");
        };
        latencies.push(written.elapsed());
    }
    println!("propagation latency by NOTIFY (after the Admin API answered): {latencies:?}");

    // Deletes travel the same way.
    let (status, _) = admin(&api, Method::DELETE, "/services/svc-0", None).await;
    assert_eq!(status.as_u16(), 204);
    assert!(wait_for(Duration::from_secs(1), || !serves(&b, "svc-0"))
        .await
        .is_some());
    assert_eq!(b.snapshot().version, a.snapshot().version);
}

#[tokio::test]
async fn polling_covers_for_a_listener_that_cannot_reconnect() {
    let cluster = Cluster::fresh().await;
    let poll = Duration::from_secs(1);
    let (a, _wa) = cluster.node("a", LONG_POLL).await;
    let (b, _wb) = cluster.node("b", poll).await;
    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    let api = app(a.clone());
    // Warm both pools so that each keeps a session while new ones are refused.
    create(&api, "/services", json!({ "name": "warm", "host": "h" })).await;
    assert!(wait_for(Duration::from_secs(1), || serves(&b, "warm"))
        .await
        .is_some());

    let database = cluster
        .url
        .rsplit('/')
        .next()
        .expect("a database")
        .to_string();
    let pg = stack_tests::shared_postgres();
    let allow = |on: bool| {
        let sql = format!("ALTER DATABASE {database} ALLOW_CONNECTIONS {on}");
        pg.psql("postgres", &sql).expect("ALTER DATABASE");
    };
    allow(false);
    assert_eq!(cluster_terminate(pg, &database), 2);

    create(&api, "/services", json!({ "name": "polled", "host": "h" })).await;
    let seen = wait_for(poll * 3, || serves(&b, "polled")).await;
    println!("propagation latency by polling every {poll:?}: {seen:?}");
    assert!(seen.is_some(), "node b polls while it cannot LISTEN");

    allow(true);
    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    create(
        &api,
        "/services",
        json!({ "name": "notified", "host": "h" }),
    )
    .await;
    assert!(wait_for(Duration::from_secs(1), || serves(&b, "notified"))
        .await
        .is_some());
}

/// Terminate the listening sessions of `database` from another database (its own is closed).
fn cluster_terminate(pg: &stack_tests::TempPostgres, database: &str) -> i64 {
    let sql = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{database}' AND query LIKE 'LISTEN%'"
    );
    let out = pg.psql("postgres", &sql).expect("terminate");
    out.parse().expect("a count")
}

#[tokio::test]
async fn the_watcher_recovers_when_its_session_is_killed() {
    let cluster = Cluster::fresh().await;
    let (a, _wa) = cluster.node("a", LONG_POLL).await;
    let (b, _wb) = cluster.node("b", LONG_POLL).await;
    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    let api = app(a.clone());

    assert_eq!(cluster.terminate_listeners().await, 2);
    // Written while node b has no listener: it must catch up when it reconnects.
    create(&api, "/services", json!({ "name": "missed", "host": "h" })).await;
    let seen = wait_for(Duration::from_secs(3), || serves(&b, "missed")).await;
    println!("caught up after the LISTEN session was killed in {seen:?}");
    assert!(
        seen.is_some(),
        "a change made while deaf is caught up on reconnect"
    );

    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    create(&api, "/services", json!({ "name": "after", "host": "h" })).await;
    assert!(wait_for(Duration::from_secs(1), || serves(&b, "after"))
        .await
        .is_some());
}

#[tokio::test]
async fn bursts_of_writes_are_coalesced_into_few_reloads() {
    let cluster = Cluster::fresh().await;
    let (a, _wa) = cluster.node("a", LONG_POLL).await;
    let (b, _wb) = cluster.node("b", LONG_POLL).await;
    cluster.wait_listeners(2, Duration::from_secs(5)).await;
    let api = app(a.clone());
    let before = b.reloads();

    let writers = (0..4).map(|w| {
        let api = api.clone();
        async move {
            for i in 0..25 {
                let body = json!({ "username": format!("user-{w}-{i}") });
                create(&api, "/consumers", body).await;
            }
        }
    });
    let started = Instant::now();
    futures_util::future::join_all(writers).await;
    let wrote = started.elapsed();
    let all = || b.snapshot().config.consumers.len() == 100;
    assert!(wait_for(Duration::from_secs(2), all).await.is_some());
    let reloads = b.reloads() - before;
    println!(
        "100 Admin API writes in {wrote:?}: node a reloaded {}, node b {reloads} times",
        a.reloads()
    );
    // The watcher leaves at least 250 ms between reloads caused by notifications.
    let bound = 2 + wrote.as_millis() as u64 / 250;
    assert!(
        (1..=bound.min(50)).contains(&reloads),
        "{reloads} reloads for 100 writes in {wrote:?}: not coalesced"
    );
    assert_eq!(b.snapshot().version, a.snapshot().version);

    // Nothing changed: polling or a stray notification costs no reload.
    b.refresh().await.expect("refresh");
    assert_eq!(b.reloads() - before, reloads);
}
