//! What one request carries from phase to phase, and the log phase that ends it however it
//! went (proxied, answered by a plugin, refused).

use super::compression;
use super::request::{header_block_size, new_request_id};
use crate::plugins::{Chain, LogRecord, Phase, RequestCtx};
use crate::snapshot::Snapshot;
use http::HeaderValue;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// One request's state: the snapshot it is served from and the plugins' view of it.
pub(super) struct Session {
    pub snapshot: Arc<Snapshot>,
    pub started: Instant,
    /// 32 lower-case hex digits; a header value, as it goes both upstream and back.
    pub request_id: HeaderValue,
    pub client: SocketAddr,
    pub local_port: u16,
    /// Set once a route matched: its plugin chain runs for this request (log phase included).
    pub route_index: Option<usize>,
    /// The plugins' view of the request; route fields are filled once a route matched.
    pub ctx: RequestCtx,
    /// The request line and header block's size, for `max_header_size` and the log.
    pub header_bytes: usize,
    /// Filled as the request goes: for the log phase.
    pub timings: Timings,
    /// What the client accepts, for response compression.
    pub asked: compression::Asked,
}

/// What the log phase needs that only the request path learns.
#[derive(Debug, Default)]
pub(super) struct Timings {
    pub from_upstream: bool,
    pub request_bytes: u64,
    pub kong_ms: u64,
    pub upstream_ms: Option<u64>,
    /// For access logs: the listener's scheme and the request target as sent (cheap: the URI
    /// shares the request's buffer)...
    pub scheme: &'static str,
    pub request_uri: Option<http::Uri>,
    /// ...and, only when a handler asks for them, what went upstream and the response headers.
    pub upstream_uri: Option<String>,
    pub response_headers: Option<http::HeaderMap>,
}

impl Session {
    /// A session for a request that has just arrived: its headers move into the plugins'
    /// context, its path is normalised as the router will match it.
    pub fn start(
        snapshot: Arc<Snapshot>,
        parts: &mut http::request::Parts,
        client: SocketAddr,
        local_port: u16,
    ) -> Session {
        let started = Instant::now();
        let header_bytes = header_block_size(parts);
        let path = super::path::normalize(parts.uri.path());
        let headers = std::mem::take(&mut parts.headers);
        let asked = compression::Asked::of(&parts.method, &headers);
        let method = parts.method.clone();
        let mut ctx = RequestCtx::new(method, &path, parts.uri.query(), headers, client.ip());
        ctx.started = started;
        Session {
            snapshot,
            started,
            request_id: new_request_id(),
            client,
            local_port,
            route_index: None,
            ctx,
            header_bytes,
            timings: Timings::default(),
            asked,
        }
    }

    pub fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or("")
    }

    /// The matched route's plugin chain, if a route matched.
    pub fn chain(&self) -> Option<&Chain> {
        self.route_index.map(|index| &self.snapshot.chains[index])
    }

    /// Whether a log handler of this request's chain wants the whole picture (response headers,
    /// upstream URI): only then are they copied.
    pub fn wants_log_details(&self) -> bool {
        self.chain()
            .is_some_and(|chain| log_details_wanted(chain, &self.ctx))
    }

    /// The log phase, for every request that matched a route, however it ended.
    pub fn log(self, status: http::StatusCode, sent: u64) {
        let Some(chain) = self.chain() else {
            return;
        };
        let mut handlers = chain
            .handlers(Phase::Log, self.ctx.consumer_id())
            .peekable();
        if handlers.peek().is_none() {
            return;
        }
        let record = self.record(status, sent);
        for handler in handlers {
            handler.log(&self.ctx, &record);
        }
    }

    /// What the log phase knows about the finished request.
    fn record(&self, status: http::StatusCode, sent: u64) -> LogRecord<'_> {
        let snapshot = &self.snapshot;
        let route = self.route_index.and_then(|i| snapshot.config.routes.get(i));
        let service = route
            .and_then(|r| r.service)
            .and_then(|r| snapshot.services.get(&r.id));
        let t = &self.timings;
        let elapsed = self.started.elapsed();
        let started_at_ms = std::time::SystemTime::now()
            .checked_sub(elapsed)
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        LogRecord {
            status,
            from_upstream: t.from_upstream,
            service,
            route,
            request_bytes: t.request_bytes,
            response_bytes: sent,
            latency_kong_ms: if t.from_upstream {
                t.kong_ms
            } else {
                elapsed.as_millis() as u64
            },
            latency_upstream_ms: t.upstream_ms,
            latency_total_ms: elapsed.as_millis() as u64,
            request_id: self.request_id(),
            scheme: t.scheme,
            port: self.local_port,
            request_uri: t.request_uri.as_ref(),
            upstream_uri: t.upstream_uri.as_deref(),
            response_headers: t.response_headers.as_ref(),
            started_at_ms,
        }
    }
}

/// Whether the log instance that applies to this request's consumer wants the log details.
pub(super) fn log_details_wanted(chain: &Chain, ctx: &RequestCtx) -> bool {
    chain
        .handlers(Phase::Log, ctx.consumer_id())
        .any(|h| h.wants_log_details())
}
