//! PostgreSQL goes away and comes back: nodes keep serving their snapshot, a node started in
//! the meantime serves the on-disk cache, and everyone catches up afterwards.

use super::support::{admin, create, serves, wait_for, Cluster};
use axum::http::Method;
use gateway::admin::app;
use gateway::store::StoreError;
use gateway::watch;
use serde_json::{json, Value};
use stack_tests::TempPostgres;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

async fn reachable(api: &axum::Router) -> Value {
    admin(api, Method::GET, "/status", None).await.1["database"]["reachable"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_served_from_the_snapshot_then_the_cache() {
    let mut pg = block_in_place(TempPostgres::start).expect("a postgres of our own");
    let cluster = Cluster::on(pg.url()).await;
    let poll = Duration::from_secs(1);
    let (a, _wa) = cluster.node("a", poll).await;
    let api = app(a.clone());
    create(&api, "/services", json!({ "name": "before", "host": "h" })).await;
    create(&api, "/consumers", json!({ "username": "alice" })).await;
    create(
        &api,
        "/consumers/alice/key-auth",
        json!({ "key": "alice-key" }),
    )
    .await;
    assert_eq!(reachable(&api).await, json!(true));

    block_in_place(|| pg.stop());
    let started = Instant::now();
    let err = a.refresh().await.expect_err("no database to refresh from");
    println!(
        "refresh without a database failed in {:?}: {err}",
        started.elapsed()
    );
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(serves(&a, "before"), "the last snapshot is still served");
    assert_eq!(reachable(&api).await, json!(false));

    // A node started now (a replaced task on the same volume) serves what node a cached.
    let cache = cluster.cache("a");
    assert_cache_is_private(&cache);
    let (c, store_c) = cluster.idle_node(&cache);
    assert!(c.refresh().await.is_err());
    assert!(c.load_cache(), "the cache loads");
    let snapshot = c.snapshot();
    assert!(snapshot.loaded && serves(&c, "before"));
    assert_eq!(snapshot.config.keyauth_credentials[0].key, "alice-key");
    let _wc = watch::spawn(c.clone(), store_c, poll);

    block_in_place(|| pg.start_again()).expect("postgres is back");
    let back = Instant::now();
    create(&api, "/services", json!({ "name": "after", "host": "h" })).await;
    let seen = wait_for(Duration::from_secs(5), || serves(&c, "after")).await;
    println!(
        "node c caught up {seen:?} after the write, {:?} after the restart",
        back.elapsed()
    );
    assert!(
        seen.is_some(),
        "the watcher catches up once PostgreSQL is back"
    );
    assert_eq!(c.snapshot().version, a.snapshot().version);
    assert_eq!(reachable(&api).await, json!(true));
}

fn assert_cache_is_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .expect("a cache file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the cache holds API keys: mode {mode:o}");
}
