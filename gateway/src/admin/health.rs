//! Upstream health through the Admin API: `GET /upstreams/{u}/health` (per target, or the
//! whole balancer with `?balancer_health=1`) and `PUT|POST .../targets/{t}/healthy|unhealthy`.

use super::crud::ok;
use super::error::ApiError;
use crate::balancer::HealthError;
use crate::node::Node;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub fn upstream(node: &Node, upstream: &str, query: &str) -> Result<Response, ApiError> {
    let balancer = node.balancers.find(upstream).ok_or(ApiError::NotFound)?;
    let whole = url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, v)| k == "balancer_health" && (v == "1" || v == "true"));
    let node_id = node.id.to_string();
    if whole {
        return Ok(ok(json!({
            "data": { "id": balancer.upstream_id, "health": balancer.health().as_str() },
            "node_id": node_id,
        })));
    }
    let data: Vec<Value> = balancer
        .targets_health()
        .into_iter()
        .map(|t| {
            json!({
                "id": t.target_id,
                "upstream": { "id": balancer.upstream_id },
                "target": t.target,
                "weight": t.weight,
                "health": t.health.as_str(),
            })
        })
        .collect();
    Ok(ok(
        json!({ "data": data, "next": null, "node_id": node_id }),
    ))
}

/// Set a target healthy or unhealthy by hand (only with health checks configured, as Kong).
pub fn set(node: &Node, upstream: &str, target: &str, healthy: bool) -> Result<Response, ApiError> {
    match node.balancers.set_health(upstream, target, healthy) {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(HealthError::UpstreamNotFound(_) | HealthError::TargetNotFound { .. }) => {
            Err(ApiError::NotFound)
        }
        Err(e @ HealthError::NoHealthchecker(_)) => Err(ApiError::BadRequestMessage(e.to_string())),
    }
}
