//! The status listener (`KONG_STATUS_LISTEN`): liveness and readiness for load balancers and
//! container health checks, without exposing the Admin API.

use crate::node::Node;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn app(node: Arc<Node>) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/status/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(node)
}

async fn status(State(node): State<Arc<Node>>) -> Json<Value> {
    let snapshot = node.snapshot();
    Json(json!({
        "database": { "reachable": node.store.reachable().await },
        "configuration_version": snapshot.version,
        "server": { "node_id": node.id },
    }))
}

/// Ready once a configuration is being served (from the database, a file or the cache).
async fn ready(State(node): State<Arc<Node>>) -> (StatusCode, Json<Value>) {
    if node.snapshot().loaded {
        (StatusCode::OK, Json(json!({ "message": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "message": "no configuration loaded yet" })),
        )
    }
}

/// Prometheus exposition (Kong serves it on the status listener).
async fn metrics(State(node): State<Arc<Node>>) -> impl axum::response::IntoResponse {
    let body = node.metrics_text().await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
