//! The Admin API against a real PostgreSQL database (and a DB-less memory store), called
//! through `tower::ServiceExt::oneshot` with the bodies curl sends.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gateway::admin::app;
use gateway::config::Config;
use gateway::entities::{parse, Service};
use gateway::node::Node;
use gateway::store::{migrations, MemoryStore, PgStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// A new, empty database on the test PostgreSQL server; returns its URL.
fn fresh_database() -> String {
    stack_tests::shared_postgres().fresh_database()
}

struct Api {
    app: Router,
    node: Arc<Node>,
}

impl Api {
    async fn postgres() -> Api {
        let url = fresh_database();
        migrations::up(&url).await.expect("migrations");
        let store = Store::Postgres(PgStore::connect_lazy(&url).expect("a pool"));
        Api::over(store)
    }

    fn over(store: Store) -> Api {
        let node = Node::new(store, None);
        Api {
            app: app(node.clone()),
            node,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: String,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let request = request.body(Body::from(body)).expect("a request");
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}"))
        };
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, String::new()).await
    }

    async fn json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(method, path, Some("application/json"), body.to_string())
            .await
    }

    async fn form(&self, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
        let ct = "application/x-www-form-urlencoded";
        self.send(method, path, Some(ct), body.to_string()).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None, String::new()).await
    }

    /// Create and return the entity, asserting a 201.
    async fn create(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.json(Method::POST, path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {value}");
        value
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

#[path = "admin_api/config.rs"]
mod config;
#[path = "admin_api/node.rs"]
mod node;
#[path = "admin_api/reads.rs"]
mod reads;
#[path = "admin_api/writes.rs"]
mod writes;
