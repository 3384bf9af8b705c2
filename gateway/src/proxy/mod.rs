//! The proxy: every request reads top to bottom in [`Proxy::handle`] and `Proxy::proxy`, one
//! line per phase (limits, route, access, upstream request, send, response headers, response
//! body; the phases themselves live in `phases`). Whatever ends a request early (no route, a
//! plugin's own answer, an upstream failure) leaves through one door,
//! [`Proxy::answer_instead`], so gateway-made answers all look alike; the log phase runs for
//! every routed request however it ended (`session`).

pub mod body;
mod completion;
mod compression;
mod errors;
mod forward;
mod path;
mod phases;
mod request;
mod session;
mod tls;
mod upgrade;
mod upstream;

pub use body::ProxyBody;
pub use errors::Failure;
pub use upstream::REPLAY_LIMIT;

use crate::node::Node;
use crate::plugins::{Phase, ShortCircuit};
use crate::settings::Settings;
use body::full;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use request::insert_ms;
use session::Session;
use std::net::SocketAddr;
use std::sync::Arc;
use upstream::Upstreams;

/// What this gateway calls itself in `Server`.
pub const SERVER: &str = concat!("gateway/", env!("CARGO_PKG_VERSION"));
const X_KONG_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-kong-request-id");

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
    /// A plugin answered in the access phase (boxed, as the next one: the common exits stay
    /// small to pass back through every phase).
    Plugin(Box<ShortCircuit>),
    /// A ready-made answer (an https redirect).
    Response(Box<Response<ProxyBody>>),
}

impl From<Failure> for Exit {
    fn from(failure: Failure) -> Exit {
        Exit::Failure(failure)
    }
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
        let (mut parts, body) = req.into_parts();
        let mut session = Session::start(self.node.snapshot(), &mut parts, client, local_port);
        let mut response = match self.proxy(&mut session, parts, body).await {
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

    /// The request path, phase by phase (pingora's `process_request` in spirit). `Err` is
    /// anything that ends it early; the session keeps what the log phase needs either way.
    async fn proxy(
        &self,
        s: &mut Session,
        mut parts: http::request::Parts,
        body: Incoming,
    ) -> Result<Response<ProxyBody>, Exit> {
        self.check_limits(s)?;
        // The snapshot and the request target outlive the phases that borrow from them.
        let snapshot = s.snapshot.clone();
        let target = phases::Target::of(&parts, &s.ctx.headers);
        let routed = self.route(s, &snapshot, &target)?;
        let body = self.access(s, routed.chain, body).await?;
        let service = routed.service.ok_or(Failure::NoService)?;
        let upstream = self.upstream_request(s, &routed, service, &mut parts, body);
        let response = self
            .send(s, service, upstream.outgoing, upstream.body)
            .await?;
        let response = self.response_headers(s, routed.chain, response, upstream.websocket)?;
        self.response_body(s, routed.chain, response).await
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
            Exit::Plugin(answer) => (*answer).map(full),
            Exit::Response(response) => *response,
        };
        let status = response.status();
        let headers = response.headers_mut();
        insert_ms(
            headers,
            "x-kong-response-latency",
            s.started.elapsed().as_millis(),
        );
        headers.insert(http::header::SERVER, HeaderValue::from_static(SERVER));
        if let Some(chain) = s.chain() {
            for handler in chain.handlers(Phase::ResponseHeaders, s.ctx.consumer_id()) {
                handler.response_headers(&s.ctx, status, headers);
            }
        }
        response
    }
}
