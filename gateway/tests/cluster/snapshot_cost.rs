//! What a large configuration costs to load: 10,000 consumers with a key each, imported in
//! one transaction. Timings are printed, not asserted.

use super::support::{Cluster, LONG_POLL};
use gateway::entities::{parse, Consumer, KeyAuthCredential, Kind};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use std::time::{Duration, Instant};
use uuid::Uuid;

const N: usize = 10_000;

/// Ids and canonical JSON of the rows of one table.
type Rows = (Vec<Uuid>, Vec<Value>);

/// Canonical rows for `N` consumers and their keys.
fn rows() -> (Rows, Rows) {
    let mut consumers = (Vec::with_capacity(N), Vec::with_capacity(N));
    let mut keys = (Vec::with_capacity(N), Vec::with_capacity(N));
    for i in 0..N {
        let consumer: Consumer = parse(json!({ "username": format!("user-{i}") })).expect("valid");
        let key: KeyAuthCredential =
            parse(json!({ "consumer": { "id": consumer.id }, "key": format!("key-{i}") }))
                .expect("valid");
        consumers.0.push(consumer.id);
        consumers
            .1
            .push(serde_json::to_value(&consumer).expect("json"));
        keys.0.push(key.id);
        keys.1.push(serde_json::to_value(&key).expect("json"));
    }
    (consumers, keys)
}

#[tokio::test]
async fn ten_thousand_consumers_with_keys_load_into_one_snapshot() {
    let cluster = Cluster::fresh().await;
    let (watching, _w) = cluster.node("watching", LONG_POLL).await;
    cluster.wait_listeners(1, Duration::from_secs(5)).await;
    let before = watching.reloads();

    let (consumers, keys) = rows();
    let started = Instant::now();
    let mut conn = PgConnection::connect(&cluster.url).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    for (table, (ids, data)) in [("consumers", consumers), ("keyauth_credentials", keys)] {
        let sql =
            format!("INSERT INTO {table} (id, data) SELECT * FROM UNNEST($1::uuid[], $2::jsonb[])");
        sqlx::query(&sql)
            .bind(ids)
            .bind(data)
            .execute(&mut *tx)
            .await
            .expect(table);
    }
    tx.commit().await.expect("commit");
    println!(
        "imported {N} consumers and {N} keys in {:?}",
        started.elapsed()
    );

    let (fresh, _) = cluster.idle_node(&cluster.cache("fresh"));
    let started = Instant::now();
    let (config, _) = fresh.store.load_versioned().await.expect("load");
    println!("reading them took {:?}", started.elapsed());
    let started = Instant::now();
    let snapshot = gateway::snapshot::Snapshot::compile(config, 0, &Default::default());
    println!("compiling them took {:?}", started.elapsed());
    drop(snapshot);
    let started = Instant::now();
    fresh.refresh().await.expect("refresh");
    println!("a node loaded and compiled them in {:?}", started.elapsed());
    let snapshot = fresh.snapshot();
    assert_eq!(snapshot.config.consumers.len(), N);
    assert_eq!(snapshot.config.keyauth_credentials.len(), N);
    let last = &snapshot.config.keyauth_credentials[N - 1];
    assert_eq!(
        (last.key.as_str(), last.consumer.map(|c| c.id)),
        ("key-9999", Some(snapshot.config.consumers[N - 1].id))
    );
    // The cache is written off the request threads, shortly after the refresh.
    let path = cluster.cache("fresh");
    let written = super::support::wait_for(Duration::from_secs(10), || path.exists()).await;
    assert!(written.is_some(), "the cache file appears");
    let cache = std::fs::metadata(&path).expect("a cache").len();
    println!("its cache file holds {} KiB", cache / 1024);

    // The watching node learns of the import with one reload, not one per row.
    let all = || watching.snapshot().config.keyauth_credentials.len() == N;
    let seen = super::support::wait_for(Duration::from_secs(10), all).await;
    println!("a watching node installed the import {seen:?} after the refresh above");
    assert!(seen.is_some());
    assert!(
        watching.reloads() - before <= 2,
        "{} reloads",
        watching.reloads() - before
    );

    let started = Instant::now();
    let found = fresh
        .store
        .get(Kind::Consumer, "user-9999")
        .await
        .expect("get");
    println!(
        "a consumer found by username among {N} in {:?}",
        started.elapsed()
    );
    assert_eq!(
        found.map(|v| v["id"].clone()),
        Some(json!(snapshot.config.consumers[N - 1].id))
    );
}
