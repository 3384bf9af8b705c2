//! The proxy: every request reads top to bottom in [`Proxy::handle`]: route, plugins (access),
//! pick a peer, forward, answer. Every failure leaves through [`errors::respond`].

pub mod body;
mod errors;
mod forward;
mod upstream;

pub use body::ProxyBody;
pub use errors::Failure;

use crate::node::Node;
use crate::plugins::{RequestCtx, ShortCircuit};
use crate::router::{upstream_path, RequestInfo};
use crate::settings::Settings;
use body::full;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use upstream::Upstreams;

/// `Via` and `Server` values: what this gateway is.
pub const VIA: &str = concat!("1.1 gateway/", env!("CARGO_PKG_VERSION"));

pub struct Proxy {
    node: Arc<Node>,
    upstreams: Upstreams,
    max_body: u64,
    /// The scheme this listener serves (`http` until TLS listeners exist).
    scheme: &'static str,
}

impl Proxy {
    pub fn new(node: Arc<Node>, settings: &Settings) -> Arc<Proxy> {
        Arc::new(Proxy {
            node,
            upstreams: Upstreams::new(),
            max_body: settings.client_max_body_size,
            scheme: "http",
        })
    }

    /// Serve one request: the whole path through the gateway on one screen.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        local_port: u16,
    ) -> Response<ProxyBody> {
        let started = Instant::now();
        let request_id = request_id();
        let snapshot = self.node.snapshot();
        let (mut parts, body) = req.into_parts();
        let host = host_of(&parts).to_string();
        let path = parts.uri.path().to_string();

        // 1. Route.
        let info = RequestInfo {
            method: parts.method.as_str(),
            host: &host,
            path: &path,
            scheme: self.scheme,
            sni: None,
            headers: &parts.headers,
        };
        let Some(found) = snapshot.router.find(&info) else {
            return errors::respond(Failure::NoRoute, &request_id);
        };
        if let Some(code) = found.https_required {
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            return errors::https_required(code, &host, pq);
        }
        let route = found.route;
        let service = route.service.and_then(|s| snapshot.services.get(&s.id));
        let mut ctx = RequestCtx {
            method: parts.method.clone(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            headers: std::mem::take(&mut parts.headers),
            client_ip: client.ip(),
            route_id: Some(route.id),
            service_id: service.map(|s| s.id),
            uri_captures: found.captures.named.clone(),
            consumer: None,
            body: None,
            credential_id: None,
            started,
            extensions: http::Extensions::new(),
        };

        // 2. Plugins: access phase, in chain order; any of them may answer instead.
        let chain = &snapshot.chains[found.route_index];
        for entry in &chain.entries {
            if let Some(answer) = entry.handler.access(&mut ctx).await {
                return short_circuit(answer, started);
            }
        }
        let Some(service) = service else {
            return errors::respond(Failure::NoService, &request_id);
        };
        if self.max_body > 0 && content_length(&ctx.headers).is_some_and(|n| n > self.max_body) {
            return errors::respond(Failure::PayloadTooLarge, &request_id);
        }

        // 3. Forward to a peer of the service.
        let target_path = upstream_path(
            service.path.as_deref(),
            &ctx.path,
            found.matched_path,
            route.strip_path,
            &route.path_handling,
        );
        let stripped = found
            .matched_path
            .filter(|_| route.strip_path)
            .map(|n| &path[..n.min(path.len())]);
        let mut headers = std::mem::take(&mut ctx.headers);
        forward::strip_hop_by_hop(&mut headers);
        forward::add_forwarded(
            &mut headers,
            &forward::Downstream {
                client_ip: client.ip(),
                scheme: self.scheme,
                host: &host,
                port: local_port,
                path: &path,
                stripped_prefix: stripped,
            },
        );
        let outgoing = upstream::Outgoing {
            method: ctx.method.clone(),
            path_and_query: match &ctx.query {
                Some(q) => format!("{target_path}?{q}"),
                None => target_path,
            },
            headers,
            preserve_host: route.preserve_host,
            original_host: &host,
            body: body::capped(body, self.max_body),
        };
        let proxied_at = Instant::now();
        let result = self.upstreams.send(&self.node, service, outgoing).await;
        let upstream_ms = proxied_at.elapsed().as_millis();
        let mut response = match result {
            Ok(response) => response,
            Err(failure) => return errors::respond(failure, &request_id),
        };

        // 4. Answer: Kong's latency headers, then the plugins' response-header edits.
        let status = response.status();
        let headers = response.headers_mut();
        forward::strip_hop_by_hop(headers);
        headers.insert("via", HeaderValue::from_static(VIA));
        insert_number(headers, "x-kong-upstream-latency", upstream_ms);
        insert_number(
            headers,
            "x-kong-proxy-latency",
            proxied_at.duration_since(started).as_millis(),
        );
        for entry in &chain.entries {
            entry.handler.response_headers(&ctx, status, headers);
        }
        for entry in &chain.entries {
            entry.handler.log(&ctx, status);
        }
        response
    }
}

/// A plugin's own answer, with Kong's `X-Kong-Response-Latency`.
fn short_circuit(answer: ShortCircuit, started: Instant) -> Response<ProxyBody> {
    let (mut parts, bytes) = answer.into_parts();
    insert_number(
        &mut parts.headers,
        "x-kong-response-latency",
        started.elapsed().as_millis(),
    );
    Response::from_parts(parts, full(bytes))
}

fn insert_number(headers: &mut http::HeaderMap, name: &'static str, value: u128) {
    headers.insert(name, HeaderValue::from(value as u64));
}

fn host_of(parts: &http::request::Parts) -> &str {
    parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
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

/// A request id for error bodies and logs: 32 hex characters.
fn request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
