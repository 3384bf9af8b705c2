//! The proxy: every request reads top to bottom in [`Proxy::handle`]: limits, route, plugins
//! (access), service, upstream request, send, response headers. Whatever ends a request early
//! (no route, a plugin's own answer, an upstream failure) leaves through one door,
//! [`Proxy::answer_instead`], so gateway-made answers all look alike.

pub mod body;
mod completion;
mod compression;
mod errors;
mod forward;
mod path;
mod tls;
mod upgrade;
mod upstream;

pub use body::ProxyBody;
pub use errors::Failure;
pub use upstream::REPLAY_LIMIT;

use crate::node::Node;
use crate::plugins::{LogRecord, RequestCtx, ShortCircuit};
use crate::router::{upstream_path, RequestInfo};
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use body::full;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use upstream::Upstreams;

/// What this gateway calls itself in `Server`.
pub const SERVER: &str = concat!("gateway/", env!("CARGO_PKG_VERSION"));
const X_KONG_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-kong-request-id");

/// A fresh request id: 128 random bits in hex, formatted without the `fmt` machinery.
fn new_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = rand::random::<u128>();
    let mut digits = [0u8; 32];
    for digit in digits.iter_mut().rev() {
        *digit = HEX[(bits & 0xf) as usize];
        bits >>= 4;
    }
    HeaderValue::from_bytes(&digits).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// This hop in `Via` (Kong 3.8+ writes `1.1 kong/<version>`).
pub const VIA: &str = concat!("1.1 gateway/", env!("CARGO_PKG_VERSION"));

pub struct Proxy {
    node: Arc<Node>,
    upstreams: Upstreams,
    max_body: u64,
    max_header: usize,
    gzip: crate::settings::Gzip,
    /// The scheme this listener serves (`http` until TLS listeners exist).
    scheme: &'static str,
}

/// Why a request ends without a proxied response.
enum Exit {
    Failure(Failure),
    /// A plugin answered in the access phase.
    Plugin(ShortCircuit),
    /// A ready-made answer (an https redirect).
    Response(Response<ProxyBody>),
}

impl From<Failure> for Exit {
    fn from(failure: Failure) -> Exit {
        Exit::Failure(failure)
    }
}

/// What one request carries from phase to phase, and to the log phase however it ended.
struct Session {
    snapshot: Arc<Snapshot>,
    started: Instant,
    /// 32 lower-case hex digits; a header value, as it goes both upstream and back.
    request_id: HeaderValue,
    client: SocketAddr,
    local_port: u16,
    /// Set once a route matched: its plugin chain and the plugins' view of the request.
    route_index: Option<usize>,
    ctx: Option<RequestCtx>,
    /// Filled as the request goes: for the log phase.
    timings: Timings,
    /// What the client accepts, for response compression.
    asked: compression::Asked,
}

/// What the log phase needs that only the request path learns.
#[derive(Debug, Default)]
struct Timings {
    from_upstream: bool,
    request_bytes: u64,
    kong_ms: u64,
    upstream_ms: Option<u64>,
    /// For access logs: the listener's scheme and the request target as sent (cheap: the URI
    /// shares the request's buffer)...
    scheme: &'static str,
    request_uri: Option<http::Uri>,
    /// ...and, only when a handler asks for them, what went upstream and the response headers.
    upstream_uri: Option<String>,
    response_headers: Option<http::HeaderMap>,
}

impl Proxy {
    pub fn new(node: Arc<Node>, settings: &Settings) -> Arc<Proxy> {
        Arc::new(Proxy {
            node,
            upstreams: Upstreams::new(),
            max_body: settings.client_max_body_size,
            max_header: settings.max_header_size,
            gzip: settings.gzip.clone(),
            scheme: "http",
        })
    }

    /// The node's metrics (connection counters are kept by the listener).
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.node.shared.metrics.clone()
    }

    /// The most a plugin-read body may hold: `client_max_body_size`, or 8 MiB without one.
    fn body_buffer_limit(&self) -> u64 {
        if self.max_body > 0 {
            self.max_body
        } else {
            8 * 1024 * 1024
        }
    }

    /// Serve one request: proxy it, or answer instead; then the log phase.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        local_port: u16,
    ) -> Response<ProxyBody> {
        let metrics = &self.node.shared.metrics;
        metrics
            .requests_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut session = Session {
            snapshot: self.node.snapshot(),
            started: Instant::now(),
            request_id: new_request_id(),
            client,
            local_port,
            route_index: None,
            ctx: None,
            timings: Timings::default(),
            asked: compression::Asked::default(),
        };
        let mut response = match self.proxy(&mut session, req).await {
            Ok(response) => response,
            Err(exit) => self.answer_instead(&session, exit),
        };
        response
            .headers_mut()
            .insert(X_KONG_REQUEST_ID, session.request_id.clone());
        let status = response.status();
        if compression::wanted(&self.gzip, session.asked, status, response.headers()) {
            let (mut parts, body) = response.into_parts();
            let body = compression::apply(&self.gzip, &mut parts.headers, body);
            response = Response::from_parts(parts, body);
        }
        if session.wants_log_details() {
            session.timings.response_headers = Some(response.headers().clone());
        }
        // The log phase runs once the body has gone out in full (or the client left).
        response.map(|body| completion::observe(body, move |sent| session.log(status, sent)))
    }

    /// The request path, phase by phase. `Err` is anything that ends it early.
    async fn proxy(
        &self,
        s: &mut Session,
        req: Request<Incoming>,
    ) -> Result<Response<ProxyBody>, Exit> {
        let (mut parts, body) = req.into_parts();
        s.asked = compression::Asked::of(&parts.method, &parts.headers);

        // 1. Limits nginx applies before any phase: header block and declared body size.
        let header_bytes = header_block_size(&parts);
        if header_bytes > self.max_header {
            return Err(Failure::HeaderTooLarge.into());
        }
        // Kong counts the request line and headers plus the body; chunked bodies count as 0.
        s.timings.request_bytes = header_bytes as u64 + content_length(&parts.headers).unwrap_or(0);
        if self.max_body > 0 && content_length(&parts.headers).is_some_and(|n| n > self.max_body) {
            return Err(Failure::PayloadTooLarge.into());
        }

        // 2. Route, on the normalised path (the query string stays as sent).
        // Borrowed from cheap clones (shared buffers), not copied: the headers move into the
        // plugins' context below.
        let snapshot = s.snapshot.clone();
        let uri = parts.uri.clone();
        let host_header = parts.headers.get(http::header::HOST).cloned();
        let host = host_of(host_header.as_ref(), &uri);
        let raw_path = uri.path();
        let path = path::normalize(raw_path);
        let info = RequestInfo {
            method: parts.method.as_str(),
            host,
            path: &path,
            scheme: self.scheme,
            sni: None,
            headers: &parts.headers,
        };
        let found = snapshot.router.find(&info).ok_or(Failure::NoRoute)?;
        let route = found.route;
        let service = route.service.and_then(|r| snapshot.services.get(&r.id));
        if let Some(code) = found.https_required {
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            return Err(Exit::Response(errors::https_required(code, host, pq)));
        }
        s.route_index = Some(found.route_index);
        s.timings.scheme = self.scheme;
        s.timings.request_uri = Some(uri.clone());
        let ctx = s.ctx.insert(RequestCtx {
            method: parts.method.clone(),
            path: path.into_owned(),
            query: uri.query().map(str::to_string),
            headers: std::mem::take(&mut parts.headers),
            client_ip: s.client.ip(),
            route_id: Some(route.id),
            service_id: service.map(|s| s.id),
            uri_captures: captures_of(&found.captures),
            consumer: None,
            body: None,
            upstream_path: None,
            credential_id: None,
            started: s.started,
            extensions: http::Extensions::new(),
        });

        // 3. Plugins, access phase, in chain order; any of them may answer instead. A chain
        // that reads the body (key_in_body, body transforms, aws-lambda) gets it whole first.
        let chain = &snapshot.chains[found.route_index];
        let mut body = Some(body);
        if chain.needs_body {
            let incoming = body.take().ok_or(Failure::BadRequest)?;
            ctx.body = Some(body::read_whole(incoming, self.body_buffer_limit()).await?);
        }
        for entry in &chain.entries {
            let Some(handler) = entry.handler_for(ctx.consumer_id()) else {
                continue;
            };
            if let Some(answer) = handler.access(ctx).await {
                return Err(Exit::Plugin(answer));
            }
        }
        let service = service.ok_or(Failure::NoService)?;

        // 4. The upstream request: path joined with the service's, Kong's header edits.
        // A plugin may have replaced the upstream URI outright (request-transformer's replace.uri).
        let target_path = match ctx.upstream_path.clone() {
            Some(replaced) => replaced,
            None => upstream_path(
                service.path.as_deref(),
                &ctx.path,
                found.matched_path,
                route.strip_path,
                &route.path_handling,
            ),
        };
        let stripped = found
            .matched_path
            .filter(|_| route.strip_path)
            .and_then(|n| ctx.path.get(..n));
        let downstream = forward::Downstream {
            client_ip: s.client.ip(),
            scheme: self.scheme,
            host,
            port: s.local_port,
            path: raw_path,
            stripped_prefix: stripped,
        };
        let websocket = upgrade::requested(&ctx.headers)
            .then(|| parts.extensions.remove::<OnUpgrade>())
            .flatten();
        let mut headers = upstream_headers(&ctx.headers, &downstream, parts.version, &s.request_id);
        if websocket.is_some() {
            upgrade::restore(&mut headers);
        }
        let target_path = path::escape(&target_path);
        // Looked up once: the hash key and every attempt's peer come from the same balancer.
        let balancer = self.node.balancers.get(&service.host);
        let hash_key = balancer.as_ref().and_then(|b| {
            b.hash_key(&crate::balancer::HashSource {
                consumer: ctx.consumer_id(),
                client_ip: s.client.ip(),
                headers: &ctx.headers,
                path: &ctx.path,
                query: ctx.query.as_deref(),
                captures: &ctx.uri_captures,
            })
        });
        let mut outgoing = upstream::Outgoing {
            method: ctx.method.clone(),
            path_and_query: match &ctx.query {
                Some(q) => format!("{target_path}?{q}"),
                None => target_path.into_owned(),
            },
            headers,
            preserve_host: route.preserve_host,
            original_host: host,
            balancer,
            hash_key,
        };
        if log_details_wanted(chain, ctx.consumer_id()) {
            s.timings.upstream_uri = Some(outgoing.path_and_query.clone());
        }
        let body = match (ctx.body.take(), body) {
            // What the plugins left of a buffered body, with its length restated.
            (Some(bytes), _) => {
                outgoing_length(&mut outgoing.headers, bytes.len());
                body::full(bytes)
            }
            // No body (a GET): nothing to cap or stream.
            (None, Some(incoming)) if http_body::Body::is_end_stream(&incoming) => body::empty(),
            (None, Some(incoming)) => body::capped(incoming, self.max_body),
            (None, None) => body::empty(),
        };

        // 5. Send, through the balancer, with retries.
        let proxied_at = Instant::now();
        let mut response = self.upstreams.send(service, outgoing, body).await?;
        let upstream_ms = proxied_at.elapsed().as_millis();
        s.timings.from_upstream = true;
        s.timings.kong_ms = (proxied_at - s.started).as_millis() as u64;
        s.timings.upstream_ms = Some(upstream_ms as u64);

        // 6. Response headers: hop-by-hop out, Kong's own in, then the plugins' edits.
        let status = response.status();
        if status == http::StatusCode::SWITCHING_PROTOCOLS {
            let upstream_side = response.extensions_mut().remove::<OnUpgrade>();
            let (Some(client_side), Some(upstream_side)) = (websocket, upstream_side) else {
                tracing::warn!("upstream switched protocols without a websocket handshake");
                return Err(Failure::BadGateway.into());
            };
            upgrade::splice(client_side, upstream_side);
        }
        let headers = response.headers_mut();
        forward::strip_hop_by_hop(headers);
        if status == http::StatusCode::SWITCHING_PROTOCOLS {
            upgrade::restore(headers);
        }
        forward::append_via(headers, VIA);
        if !headers.contains_key(http::header::SERVER) {
            headers.insert(http::header::SERVER, HeaderValue::from_static(SERVER));
        }
        insert_ms(headers, "x-kong-upstream-latency", upstream_ms);
        insert_ms(
            headers,
            "x-kong-proxy-latency",
            (proxied_at - s.started).as_millis(),
        );
        for entry in &chain.entries {
            if let Some(handler) = entry.handler_for(ctx.consumer_id()) {
                handler.response_headers(ctx, status, headers);
            }
        }
        // 7. Body edits (response-transformer's JSON): only then is the body read whole.
        let editors: Vec<Arc<dyn crate::plugins::Handler>> = chain
            .entries
            .iter()
            .filter_map(|e| e.handler_for(ctx.consumer_id()))
            .filter(|h| h.phases().contains(&crate::plugins::Phase::ResponseBody))
            .filter(|h| h.buffers_response(response.headers()))
            .cloned()
            .collect();
        if !editors.is_empty() {
            let (mut parts, body) = response.into_parts();
            let mut bytes = match body::read_response(body, self.body_buffer_limit()).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the upstream body for body plugins");
                    return Err(Failure::BadGateway.into());
                }
            };
            for editor in editors {
                editor.response_body(ctx, &parts.headers, &mut bytes);
            }
            parts.headers.remove(http::header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            response = Response::from_parts(parts, body::full(bytes));
        }
        Ok(response)
    }

    /// The one door for every request that does not end with an upstream's response: the
    /// gateway's own answer, with `X-Kong-Response-Latency` and the plugins' header edits.
    fn answer_instead(&self, s: &Session, exit: Exit) -> Response<ProxyBody> {
        let mut response = match exit {
            Exit::Failure(failure) => {
                tracing::debug!(
                    status = failure.status().as_u16(),
                    message = failure.message(),
                    "answering instead of proxying"
                );
                errors::respond(failure, s.request_id())
            }
            Exit::Plugin(answer) => answer.map(full),
            Exit::Response(response) => response,
        };
        let status = response.status();
        let headers = response.headers_mut();
        insert_ms(
            headers,
            "x-kong-response-latency",
            s.started.elapsed().as_millis(),
        );
        headers.insert(http::header::SERVER, HeaderValue::from_static(SERVER));
        if let (Some(index), Some(ctx)) = (s.route_index, &s.ctx) {
            for entry in &s.snapshot.chains[index].entries {
                if let Some(handler) = entry.handler_for(ctx.consumer_id()) {
                    handler.response_headers(ctx, status, headers);
                }
            }
        }
        response
    }
}

impl Session {
    fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or("")
    }

    /// Whether a log handler of this request's chain wants the whole picture (response headers,
    /// upstream URI): only then are they copied.
    fn wants_log_details(&self) -> bool {
        match (self.route_index, &self.ctx) {
            (Some(index), Some(ctx)) => {
                log_details_wanted(&self.snapshot.chains[index], ctx.consumer_id())
            }
            _ => false,
        }
    }

    /// The log phase, for every request that matched a route, however it ended.
    fn log(self, status: http::StatusCode, sent: u64) {
        let (Some(index), Some(ctx)) = (self.route_index, &self.ctx) else {
            return;
        };
        let snapshot = &self.snapshot;
        let route = snapshot.config.routes.get(index);
        let service = route
            .and_then(|r| r.service)
            .and_then(|r| snapshot.services.get(&r.id));
        let t = &self.timings;
        let elapsed = self.started.elapsed();
        let started_at_ms = std::time::SystemTime::now()
            .checked_sub(elapsed)
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        let record = LogRecord {
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
        };
        for entry in &snapshot.chains[index].entries {
            if let Some(handler) = entry.handler_for(ctx.consumer_id()) {
                handler.log(ctx, &record);
            }
        }
    }
}

/// Whether the instance of some plugin that applies to this consumer wants the log details.
fn log_details_wanted(chain: &crate::plugins::Chain, consumer: Option<uuid::Uuid>) -> bool {
    chain.entries.iter().any(|entry| {
        entry
            .handler_for(consumer)
            .is_some_and(|h| h.wants_log_details())
    })
}

/// Kong's `uri_captures`: named groups by name, and every group by its number ("0" the whole
/// match), so templates can say `uri_captures['apikey']` or `uri_captures[1]`.
fn captures_of(
    captures: &crate::router::UriCaptures,
) -> std::collections::BTreeMap<String, String> {
    let mut all = captures.named.clone();
    for (i, value) in captures.unnamed.iter().enumerate() {
        all.entry(i.to_string()).or_insert_with(|| value.clone());
    }
    all
}

/// A body the gateway read whole goes upstream with a Content-Length, never chunked.
fn outgoing_length(headers: &mut http::HeaderMap, len: usize) {
    headers.remove(http::header::TRANSFER_ENCODING);
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
}

/// The client's headers as the upstream gets them: hop-by-hop ones out; Kong's forwarded
/// headers, `Via` and the request id in.
fn upstream_headers(
    client: &http::HeaderMap,
    downstream: &forward::Downstream<'_>,
    version: http::Version,
    request_id: &HeaderValue,
) -> http::HeaderMap {
    let mut headers = client.clone();
    forward::strip_hop_by_hop(&mut headers);
    forward::add_forwarded(&mut headers, downstream);
    forward::append_via(&mut headers, via(version));
    headers.insert(X_KONG_REQUEST_ID, request_id.clone());
    headers
}

/// This hop in the request's `Via`, with the client's HTTP version as Kong writes it.
fn via(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_10 => concat!("1.0 gateway/", env!("CARGO_PKG_VERSION")),
        http::Version::HTTP_2 => concat!("2 gateway/", env!("CARGO_PKG_VERSION")),
        _ => VIA,
    }
}

fn insert_ms(headers: &mut http::HeaderMap, name: &'static str, value: u128) {
    headers.insert(
        name,
        HeaderValue::from(u64::try_from(value).unwrap_or(u64::MAX)),
    );
}

fn host_of<'a>(header: Option<&'a HeaderValue>, uri: &'a http::Uri) -> &'a str {
    header
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The request line and header block as they came on the wire (near enough: HTTP/2 has no
/// such block, and HPACK sizes differ).
fn header_block_size(parts: &http::request::Parts) -> usize {
    let line = parts.method.as_str().len() + uri_len(&parts.uri) + 12;
    let fields: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    line + fields
}

/// The length of the URI as `Display` writes it, without writing it.
fn uri_len(uri: &http::Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path().len()
        + uri.query().map_or(0, |q| q.len() + 1)
}
