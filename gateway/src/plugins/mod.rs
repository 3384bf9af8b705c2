//! The plugin pipeline: each plugin instance runs in phases (access, response headers,
//! response body, log) in priority order; an instance's `ordering` may move it before or after
//! named plugins in the access phase. Chains are resolved once per snapshot, never per request.
//!
//! A plugin is a [`Handler`] built from its entity's `config` by its row in
//! [`registry::PLUGINS`], which also names the phases it acts in. Every phase has a no-op
//! default, so a plugin implements only the phases it needs.

mod acl;
pub mod aws_lambda;
mod calendar;
pub mod chain;
pub mod consumers;
mod correlation_id;
mod cors;
mod file_log;
mod header_edit;
mod http_log;
mod ip_restriction;
mod key_auth;
pub mod log_serializer;
mod prometheus;
pub mod rate_limiting;
pub mod registry;
mod request_size_limiting;
mod request_termination;
mod request_transformer;
mod response_transformer;
mod syslog;
pub mod template;

pub use chain::{Chain, ChainEntry};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, Response, StatusCode};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;
use uuid::Uuid;

/// Kong's phases, in the order a request meets them. Kong's `rewrite` (global plugins, before
/// routing) is not here: no plugin of this build acts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Access,
    ResponseHeaders,
    ResponseBody,
    Log,
}

/// What a request carries through the phases: plugins read and change it.
#[derive(Debug)]
pub struct RequestCtx {
    pub method: Method,
    /// The request path, normalised as the router matched it (percent-decoded where safe, dot
    /// segments resolved), without the query string.
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
    /// Set by a plugin to send this path upstream as is, instead of the route's stripped and
    /// joined one (request-transformer's `replace.uri`).
    pub upstream_path: Option<String>,
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
            upstream_path: None,
            started: Instant::now(),
            extensions: http::Extensions::new(),
        }
    }
}

impl RequestCtx {
    /// The authenticated consumer's id, which selects consumer-scoped plugin instances.
    pub fn consumer_id(&self) -> Option<Uuid> {
        self.consumer.as_ref().map(|c| c.id)
    }
}

/// What the log phase knows about a finished request: Kong's serialized log, in part.
#[derive(Debug, Clone)]
pub struct LogRecord<'a> {
    pub status: StatusCode,
    /// The answer came from the upstream (Kong's `source = "service"`), not the gateway.
    pub from_upstream: bool,
    pub service: Option<&'a crate::entities::Service>,
    pub route: Option<&'a crate::entities::Route>,
    /// Bytes received from the client (header block and body) and sent back to it.
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// Kong's latencies: the gateway's own time before proxying, the upstream's, the whole.
    pub latency_kong_ms: u64,
    pub latency_upstream_ms: Option<u64>,
    pub latency_total_ms: u64,
    /// The details below serve the access-log plugins (file-log, http-log, syslog); the costly
    /// ones are only gathered when a handler asks ([`Handler::wants_log_details`]).
    pub request_id: &'a str,
    /// The listener's scheme and port, for `request.url`.
    pub scheme: &'a str,
    pub port: u16,
    /// The request target as the client sent it (path and query, not normalised).
    pub request_uri: Option<&'a http::Uri>,
    /// The path and query sent upstream, when the request was proxied.
    pub upstream_uri: Option<&'a str>,
    /// The response headers as they went to the client.
    pub response_headers: Option<&'a HeaderMap>,
    /// When the request came in, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
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

/// A plugin's `config` as its typed struct; one that does not deserialize is a field error
/// (at `config.<name>` for an unknown field).
pub(crate) fn typed_config<T: serde::de::DeserializeOwned>(
    config: &serde_json::Value,
) -> Result<T, crate::entities::FieldErrors> {
    serde_json::from_value(config.clone()).map_err(config_error)
}

fn config_error(e: serde_json::Error) -> crate::entities::FieldErrors {
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

/// A configured status code as Kong's `http_status` type takes it: a whole number from 100 to
/// 599. Anything else is an error at `field` (and None, so the rest of the config is still
/// checked before the errors are returned).
pub(crate) fn config_status(
    code: f64,
    field: &str,
    errors: &mut crate::entities::FieldErrors,
) -> Option<StatusCode> {
    let status = (code.fract() == 0.0 && (100.0..=599.0).contains(&code))
        .then(|| StatusCode::from_u16(code as u16).ok())
        .flatten();
    if status.is_none() {
        errors.add(field, "value should be between 100 and 599");
    }
    status
}

/// One configured plugin instance, ready to run.
pub trait Handler: Send + Sync + std::fmt::Debug {
    /// After routing, before the request goes upstream: authenticate, limit, transform.
    /// Returning a response ends the request there.
    fn access<'a>(&'a self, _ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async { None })
    }

    /// Change the response status line and headers before they go to the client.
    fn response_headers(&self, _ctx: &RequestCtx, _status: StatusCode, _headers: &mut HeaderMap) {}

    /// After `response_headers`: must the proxy buffer this response's whole body and call
    /// [`Handler::response_body`]? Only asked of plugins whose row lists `ResponseBody`.
    fn buffers_response(&self, _headers: &HeaderMap) -> bool {
        false
    }

    /// Rewrite a buffered response body (the proxy then sends it with its new length).
    fn response_body(&self, _ctx: &RequestCtx, _headers: &HeaderMap, _body: &mut Bytes) {}

    /// Once the response has gone out in full (or the client went away).
    fn log(&self, _ctx: &RequestCtx, _record: &LogRecord<'_>) {}

    /// Does the access phase need the request body (then the proxy reads it whole first)?
    fn needs_body(&self) -> bool {
        false
    }

    /// Does the log phase need the whole picture of the request (response headers, upstream
    /// URI)? Gathering it costs a copy of the response headers, so only access logs ask.
    fn wants_log_details(&self) -> bool {
        false
    }
}
