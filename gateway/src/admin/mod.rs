//! Kong's Admin API: the same paths, bodies (JSON, urlencoded and multipart forms), pagination,
//! status codes and error bodies, over this node's [`Store`](crate::store::Store).
//!
//! One handler receives every request and routes it in [`route`]: first the node-level paths,
//! then the entity paths that [`routes::resolve`] derives from the `Kind` table, the way Kong
//! generates its endpoints from its schemas. Writes go to the store and then refresh the node,
//! so a change is live on this node before the answer leaves. In DB-less mode the store refuses
//! writes and the answer is Kong's 405.

mod body;
mod config;
mod crud;
mod error;
mod form;
mod health;
mod info;
mod lookup;
mod multipart;
mod openapi;
mod plugins;
mod routes;
mod schema;
mod write;

pub use error::ApiError;
pub use info::KONG_VERSION;

use crate::node::Node;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

struct Admin {
    node: Arc<Node>,
    /// Requests served, for `GET /status`.
    requests: AtomicU64,
}

/// The Admin API as a router; serve it on a listener, or call it with `oneshot` in tests.
pub fn app(node: Arc<Node>) -> Router {
    let admin = Arc::new(Admin {
        node,
        requests: AtomicU64::new(0),
    });
    Router::new().fallback(dispatch).with_state(admin)
}

async fn dispatch(
    State(admin): State<Arc<Admin>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let served = admin.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let segments = routes::segments(uri.path());
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let req = crud::Request {
        method: &method,
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    match route(&admin.node, &segments, req, served).await {
        Ok(response) => response,
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

fn get_only(method: &Method) -> Result<(), ApiError> {
    match *method {
        Method::GET => Ok(()),
        _ => Err(ApiError::MethodNotAllowed),
    }
}

async fn route(
    node: &Node,
    segments: &[&str],
    req: crud::Request<'_>,
    served: u64,
) -> Result<Response, ApiError> {
    let method = req.method;
    let ok = crud::ok;
    match *segments {
        [] => get_only(method).map(|()| ok(info::root(node))),
        ["status"] => {
            get_only(method)?;
            Ok(ok(info::status(node, served).await))
        }
        ["metrics"] => {
            get_only(method)?;
            let body = node.metrics_text().await;
            let content_type = "text/plain; version=0.0.4; charset=utf-8";
            Ok(axum::response::IntoResponse::into_response((
                [(axum::http::header::CONTENT_TYPE, content_type)],
                body,
            )))
        }
        ["openapi.json"] => get_only(method).map(|()| ok(openapi::document())),
        ["endpoints"] => get_only(method).map(|()| ok(json!({ "data": openapi::endpoints() }))),
        ["plugins", "enabled"] => get_only(method).map(|()| ok(info::enabled_plugins())),
        ["plugins", "schema", name] | ["schemas", "plugins", name] => {
            get_only(method)?;
            info::plugin_schema(name).map(ok)
        }
        ["schemas", name] => {
            get_only(method)?;
            info::entity_schema(name).map(ok)
        }
        ["schemas", name, "validate"] => match *method {
            Method::POST => info::validate(name, req.input()?).map(ok),
            _ => Err(ApiError::MethodNotAllowed),
        },
        ["config"] => match *method {
            Method::GET => config::get(node).await,
            Method::POST => config::post(node, req.input()?).await,
            _ => Err(ApiError::MethodNotAllowed),
        },
        ["upstreams", upstream, "health"] => {
            get_only(method)?;
            health::upstream(node, upstream, req.query)
        }
        ["upstreams", upstream, "targets", target, state @ ("healthy" | "unhealthy")] => {
            match *method {
                Method::PUT | Method::POST => {
                    health::set(node, upstream, target, state == "healthy")
                }
                _ => Err(ApiError::MethodNotAllowed),
            }
        }
        _ => match routes::resolve(segments) {
            Some(endpoint) => crud::handle(node, endpoint, req).await,
            None => Err(ApiError::NotFound),
        },
    }
}

#[cfg(test)]
mod tests;
