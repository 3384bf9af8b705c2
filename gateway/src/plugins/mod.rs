//! The plugin pipeline: each plugin instance runs in phases (rewrite, access, response headers,
//! response body, log) in priority order; an instance's `ordering` may move it before or after
//! named plugins in the access phase. Chains are resolved once per snapshot, never per request.
//!
//! A plugin is a [`Handler`] built from its entity's `config` by [`registry`]. Every phase has a
//! no-op default, so a plugin implements only the phases it needs.

pub mod chain;
pub mod consumers;
mod key_auth;
pub mod rate_limiting;
pub mod registry;
mod request_termination;

pub use chain::{Chain, ChainEntry};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, Response, StatusCode};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;
use uuid::Uuid;

/// Kong's phases, in the order a request meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Rewrite,
    Access,
    ResponseHeaders,
    ResponseBody,
    Log,
}

/// What a request carries through the phases: plugins read and change it.
#[derive(Debug)]
pub struct RequestCtx {
    pub method: Method,
    /// The path as the client sent it, without the query string.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub client_ip: IpAddr,
    pub route_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    /// Regex route captures: `uri_captures` in Kong's templates.
    pub uri_captures: BTreeMap<String, String>,
    /// Set by an authentication plugin.
    pub consumer: Option<std::sync::Arc<consumers::ConsumerInfo>>,
    pub credential_id: Option<Uuid>,
    /// The whole request body, read before the access phase when a plugin of the chain needs it
    /// ([`Handler::needs_body`]); what is here when the access phase ends is sent upstream.
    pub body: Option<Bytes>,
    pub started: Instant,
    /// What a plugin keeps between its phases for this request (typed, one value per type),
    /// e.g. the rate-limiting headers computed in `access` and set in `response_headers`.
    pub extensions: http::Extensions,
}

impl RequestCtx {
    /// A context for a request that has not been routed yet.
    pub fn new(
        method: Method,
        path: &str,
        query: Option<&str>,
        headers: HeaderMap,
        client_ip: IpAddr,
    ) -> RequestCtx {
        RequestCtx {
            method,
            path: path.to_string(),
            query: query.map(str::to_string),
            headers,
            client_ip,
            route_id: None,
            service_id: None,
            uri_captures: BTreeMap::new(),
            consumer: None,
            credential_id: None,
            body: None,
            started: Instant::now(),
            extensions: http::Extensions::new(),
        }
    }
}

/// A response produced by the gateway itself (an auth failure, a termination, a 429).
pub type ShortCircuit = Response<Bytes>;

/// A JSON body the way Kong writes its own answers: `{"message": "..."}`.
pub fn kong_response(status: StatusCode, message: &str) -> ShortCircuit {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A plugin `config` that does not deserialize, as a field error.
pub(crate) fn config_error(e: serde_json::Error) -> crate::entities::FieldErrors {
    let mut errors = crate::entities::FieldErrors::default();
    let message = e.to_string();
    let message = message.split(" at line").next().unwrap_or(&message);
    match message.strip_prefix("unknown field `") {
        Some(rest) => errors.add(
            &format!("config.{}", rest.split('`').next().unwrap_or(rest)),
            "unknown field",
        ),
        None => errors.add("config", message),
    }
    errors
}

/// One configured plugin instance, ready to run.
pub trait Handler: Send + Sync + std::fmt::Debug {
    /// Before routing is final: only global instances run here.
    fn rewrite<'a>(&'a self, _ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async { None })
    }

    /// After routing, before the request goes upstream: authenticate, limit, transform.
    /// Returning a response ends the request there.
    fn access<'a>(&'a self, _ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async { None })
    }

    /// Change the response status line and headers before they go to the client.
    fn response_headers(&self, _ctx: &RequestCtx, _status: StatusCode, _headers: &mut HeaderMap) {}

    /// Once the response is complete.
    fn log(&self, _ctx: &RequestCtx, _status: StatusCode) {}

    /// Does the access phase need the request body (then the proxy reads it whole first)?
    fn needs_body(&self) -> bool {
        false
    }

    /// Which phases this handler does something in (so empty phases cost nothing).
    fn phases(&self) -> &'static [Phase];
}
