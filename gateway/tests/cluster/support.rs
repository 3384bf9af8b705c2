//! Nodes sharing one database, the Admin API of one of them, and the database-side view of
//! the listeners, for the propagation tests.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gateway::node::Node;
use gateway::store::{migrations, PgStore, Store};
use gateway::watch;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{Connection, PgConnection, Row};
use stack_tests::scratch::ScratchDir;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// Long enough that a change seen within a second cannot have come from polling.
pub const LONG_POLL: Duration = Duration::from_secs(30);

/// A migrated database and a directory for the nodes' caches.
pub struct Cluster {
    pub url: String,
    pub dir: ScratchDir,
}

impl Cluster {
    pub async fn on(url: String) -> Cluster {
        migrations::up(&url).await.expect("migrations");
        let dir = ScratchDir::new("gateway-cluster").expect("a scratch dir");
        Cluster { url, dir }
    }

    pub async fn fresh() -> Cluster {
        Cluster::on(stack_tests::shared_postgres().fresh_database()).await
    }

    pub fn cache(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.json"))
    }

    /// A node as `gateway start` opens one, loaded, with its watcher running.
    pub async fn node(&self, name: &str, poll: Duration) -> (Arc<Node>, JoinHandle<()>) {
        let (node, store) = self.idle_node(&self.cache(name));
        node.refresh().await.expect("first load");
        let watcher = watch::spawn(node.clone(), store, poll);
        (node, watcher)
    }

    /// A node that has loaded nothing yet and has no watcher.
    pub fn idle_node(&self, cache: &Path) -> (Arc<Node>, PgStore) {
        let store = PgStore::connect_lazy(&self.url).expect("a lazy pool");
        let node = Node::new(Store::Postgres(store.clone()), Some(cache.to_path_buf()));
        (node, store)
    }

    /// How many sessions LISTEN on this database right now.
    pub async fn listeners(&self) -> i64 {
        let sql = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = current_database() AND query LIKE 'LISTEN%'";
        self.scalar(sql).await
    }

    /// Wait until `n` sessions listen (the watchers have connected).
    pub async fn wait_listeners(&self, n: i64, within: Duration) {
        let deadline = Instant::now() + within;
        while self.listeners().await != n {
            assert!(
                Instant::now() < deadline,
                "{n} listeners not there in {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Cut every listening session, as a failover or a connection reaper would.
    pub async fn terminate_listeners(&self) -> i64 {
        let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                   WHERE datname = current_database() AND query LIKE 'LISTEN%'";
        self.scalar(sql).await
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        let row = sqlx::query(sql).fetch_one(&mut conn).await.expect(sql);
        row.get(0)
    }
}

/// One Admin API call with a JSON body (or none).
pub async fn admin(
    app: &Router,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).expect("a request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// Create through the Admin API, asserting a 201.
pub async fn create(app: &Router, path: &str, body: Value) -> Value {
    let (status, value) = admin(app, Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {value}");
    value
}

/// Poll `seen` until it holds; how long that took, or None after `within`.
pub async fn wait_for(within: Duration, seen: impl Fn() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if seen() {
            return Some(started.elapsed());
        }
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Does this node serve a service of this name?
pub fn serves(node: &Node, service: &str) -> bool {
    node.snapshot()
        .config
        .services
        .iter()
        .any(|s| s.name.as_deref() == Some(service))
}
