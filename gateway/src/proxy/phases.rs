//! The phases of `Proxy::proxy`, one method each, in the order a request meets them. Each
//! returns `Err(Exit)` to end the request early: the caller then answers instead.

use super::request::upstream_headers;
use super::request::{captures_of, content_length, host_of, insert_ms, outgoing_length};
use super::session::{log_details_wanted, Session};
use super::{body, errors, forward, path, upgrade, upstream, Exit, Failure, Proxy};
use super::{ProxyBody, SERVER, VIA};
use crate::entities::{Route, Service};
use crate::plugins::{Chain, Phase, RequestCtx};
use crate::router::{upstream_path, RequestInfo};
use crate::snapshot::Snapshot;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use std::time::Instant;

/// The request target as the client sent it, kept apart from the headers (which the plugins
/// own and may change): cheap clones of shared buffers.
pub(super) struct Target {
    uri: http::Uri,
    host_header: Option<HeaderValue>,
}

impl Target {
    pub fn of(parts: &http::request::Parts, headers: &HeaderMap) -> Target {
        Target {
            uri: parts.uri.clone(),
            host_header: headers.get(http::header::HOST).cloned(),
        }
    }

    fn host(&self) -> &str {
        host_of(self.host_header.as_ref(), &self.uri)
    }
}

/// What routing decided: the route, its service (if it has one) and its plugin chain.
pub(super) struct Routed<'a> {
    route: &'a Route,
    pub service: Option<&'a Service>,
    pub chain: &'a Chain,
    /// Bytes of the normalised path the route's path matched.
    matched_path: Option<usize>,
    target: &'a Target,
}

/// The request as it goes upstream, and the client's side of a websocket handshake.
pub(super) struct UpstreamRequest<'a> {
    pub outgoing: upstream::Outgoing<'a>,
    pub body: ProxyBody,
    pub websocket: Option<OnUpgrade>,
}

impl Proxy {
    /// Phase 1, limits nginx applies before any phase: header block and declared body size.
    pub(super) fn check_limits(&self, s: &mut Session) -> Result<(), Exit> {
        if s.header_bytes > self.max_header {
            return Err(Failure::HeaderTooLarge.into());
        }
        // Kong counts the request line and headers plus the body; chunked bodies count as 0.
        let declared = content_length(&s.ctx.headers);
        s.timings.request_bytes = s.header_bytes as u64 + declared.unwrap_or(0);
        if self.max_body > 0 && declared.is_some_and(|n| n > self.max_body) {
            return Err(Failure::PayloadTooLarge.into());
        }
        Ok(())
    }

    /// Phase 2, route: on the normalised path (the query string stays as sent); a route that
    /// takes HTTPS only answers plain HTTP with its redirect. Fills the plugins' view of it.
    pub(super) fn route<'a>(
        &self,
        s: &mut Session,
        snapshot: &'a Snapshot,
        target: &'a Target,
    ) -> Result<Routed<'a>, Exit> {
        let host = target.host();
        let info = RequestInfo {
            method: s.ctx.method.as_str(),
            host,
            path: &s.ctx.path,
            scheme: self.scheme,
            sni: None,
            headers: &s.ctx.headers,
        };
        let found = snapshot.router.find(&info).ok_or(Failure::NoRoute)?;
        let route = found.route;
        let service = route.service.and_then(|r| snapshot.services.get(&r.id));
        if let Some(code) = found.https_required {
            let pq = target.uri.path_and_query().map_or("/", |p| p.as_str());
            return Err(Exit::Response(Box::new(errors::https_required(
                code, host, pq,
            ))));
        }
        s.route_index = Some(found.route_index);
        s.timings.scheme = self.scheme;
        s.timings.request_uri = Some(target.uri.clone());
        s.ctx.route_id = Some(route.id);
        s.ctx.service_id = service.map(|s| s.id);
        s.ctx.uri_captures = captures_of(&found.captures);
        Ok(Routed {
            route,
            service,
            chain: &snapshot.chains[found.route_index],
            matched_path: found.matched_path,
            target,
        })
    }

    /// Phase 3, access: the plugins in chain order; any of them may answer instead. A chain
    /// that reads the body (key_in_body, body transforms, aws-lambda) gets it whole first, and
    /// the stream is then spent (`None`).
    pub(super) async fn access(
        &self,
        s: &mut Session,
        chain: &Chain,
        body: Incoming,
    ) -> Result<Option<Incoming>, Exit> {
        let ctx = &mut s.ctx;
        let mut body = Some(body);
        if chain.needs_body {
            let incoming = body.take().ok_or(Failure::BadRequest)?;
            ctx.body = Some(body::read_whole(incoming, self.body_buffer_limit()).await?);
        }
        // The consumer is read per entry: an authentication plugin may just have set it.
        for entry in chain.phase(Phase::Access) {
            let Some(handler) = entry.handler_for(ctx.consumer_id()) else {
                continue;
            };
            if let Some(answer) = handler.access(ctx).await {
                return Err(Exit::Plugin(Box::new(answer)));
            }
        }
        Ok(body)
    }

    /// Phase 4, the upstream request: path joined with the service's (or a plugin's
    /// replacement), Kong's header edits, the balancer and its hash key, the body left.
    pub(super) fn upstream_request<'a>(
        &self,
        s: &mut Session,
        routed: &Routed<'a>,
        service: &Service,
        parts: &mut http::request::Parts,
        body: Option<Incoming>,
    ) -> UpstreamRequest<'a> {
        let ctx = &s.ctx;
        let target_path = target_path(ctx, routed, service);
        let downstream = self.downstream(s, routed);
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
        let hash_key = balancer
            .as_ref()
            .and_then(|b| b.hash_key(&hash_source(ctx, s.client.ip())));
        let mut outgoing = upstream::Outgoing {
            method: ctx.method.clone(),
            path_and_query: match &ctx.query {
                Some(q) => format!("{target_path}?{q}"),
                None => target_path.into_owned(),
            },
            headers,
            preserve_host: routed.route.preserve_host,
            original_host: routed.target.host(),
            balancer,
            hash_key,
        };
        if log_details_wanted(routed.chain, ctx) {
            s.timings.upstream_uri = Some(outgoing.path_and_query.clone());
        }
        let body = self.request_body(&mut s.ctx, &mut outgoing.headers, body);
        UpstreamRequest {
            outgoing,
            body,
            websocket,
        }
    }

    /// The client's side of the request, for Kong's `X-Forwarded-*` headers.
    fn downstream<'s>(&self, s: &'s Session, routed: &Routed<'s>) -> forward::Downstream<'s> {
        let stripped = routed
            .matched_path
            .filter(|_| routed.route.strip_path)
            .and_then(|n| s.ctx.path.get(..n));
        forward::Downstream {
            client_ip: s.client.ip(),
            scheme: self.scheme,
            host: routed.target.host(),
            port: s.local_port,
            path: routed.target.uri.path(),
            stripped_prefix: stripped,
        }
    }

    /// The body that goes upstream: what the plugins left of a buffered one (its length
    /// restated), or the client's stream, capped at `client_max_body_size`.
    fn request_body(
        &self,
        ctx: &mut RequestCtx,
        headers: &mut HeaderMap,
        body: Option<Incoming>,
    ) -> ProxyBody {
        match (ctx.body.take(), body) {
            (Some(bytes), _) => {
                outgoing_length(headers, bytes.len());
                body::full(bytes)
            }
            // No body (a GET): nothing to cap or stream.
            (None, Some(incoming)) if http_body::Body::is_end_stream(&incoming) => body::empty(),
            (None, Some(incoming)) => body::capped(incoming, self.max_body),
            (None, None) => body::empty(),
        }
    }

    /// Phase 5, send: through the balancer, with retries; Kong's latencies are taken here.
    pub(super) async fn send(
        &self,
        s: &mut Session,
        service: &Service,
        outgoing: upstream::Outgoing<'_>,
        body: ProxyBody,
    ) -> Result<Response<ProxyBody>, Exit> {
        let proxied_at = Instant::now();
        let response = self.upstreams.send(service, outgoing, body).await?;
        s.timings.upstream_ms = Some(proxied_at.elapsed().as_millis() as u64);
        s.timings.from_upstream = true;
        s.timings.kong_ms = (proxied_at - s.started).as_millis() as u64;
        Ok(response)
    }

    /// Phase 6, response headers: a websocket spliced through, hop-by-hop headers out, Kong's
    /// own in, then the plugins' edits.
    pub(super) fn response_headers(
        &self,
        s: &Session,
        chain: &Chain,
        mut response: Response<ProxyBody>,
        websocket: Option<OnUpgrade>,
    ) -> Result<Response<ProxyBody>, Exit> {
        let status = response.status();
        let switching = status == StatusCode::SWITCHING_PROTOCOLS;
        if switching {
            let upstream_side = response.extensions_mut().remove::<OnUpgrade>();
            let (Some(client_side), Some(upstream_side)) = (websocket, upstream_side) else {
                tracing::warn!("upstream switched protocols without a websocket handshake");
                return Err(Failure::BadGateway.into());
            };
            upgrade::splice(client_side, upstream_side);
        }
        let headers = response.headers_mut();
        forward::strip_hop_by_hop(headers);
        if switching {
            upgrade::restore(headers);
        }
        forward::append_via(headers, VIA);
        if !headers.contains_key(http::header::SERVER) {
            headers.insert(http::header::SERVER, HeaderValue::from_static(SERVER));
        }
        let upstream_ms = s.timings.upstream_ms.unwrap_or(0);
        insert_ms(headers, "x-kong-upstream-latency", u128::from(upstream_ms));
        insert_ms(
            headers,
            "x-kong-proxy-latency",
            u128::from(s.timings.kong_ms),
        );
        for handler in chain.handlers(Phase::ResponseHeaders, s.ctx.consumer_id()) {
            handler.response_headers(&s.ctx, status, headers);
        }
        Ok(response)
    }

    /// Phase 7, body edits (response-transformer's JSON): only when a plugin asks for this
    /// response is its body read whole.
    pub(super) async fn response_body(
        &self,
        s: &Session,
        chain: &Chain,
        response: Response<ProxyBody>,
    ) -> Result<Response<ProxyBody>, Exit> {
        let editors = || chain.handlers(Phase::ResponseBody, s.ctx.consumer_id());
        if !editors().any(|h| h.buffers_response(response.headers())) {
            return Ok(response);
        }
        let (mut parts, body) = response.into_parts();
        let mut bytes = match body::read_response(body, self.body_buffer_limit()).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the upstream body for body plugins");
                return Err(Failure::BadGateway.into());
            }
        };
        // The headers are those the editors were asked about: the same ones edit.
        for editor in editors().filter(|h| h.buffers_response(&parts.headers)) {
            editor.response_body(&s.ctx, &parts.headers, &mut bytes);
        }
        parts.headers.remove(http::header::TRANSFER_ENCODING);
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        Ok(Response::from_parts(parts, body::full(bytes)))
    }
}

/// The path sent upstream: a plugin's replacement (request-transformer's `replace.uri`) as is,
/// or the request's, stripped and joined with the service's path as the route says.
fn target_path(ctx: &RequestCtx, routed: &Routed<'_>, service: &Service) -> String {
    match ctx.upstream_path.clone() {
        Some(replaced) => replaced,
        None => upstream_path(
            service.path.as_deref(),
            &ctx.path,
            routed.matched_path,
            routed.route.strip_path,
            &routed.route.path_handling,
        ),
    }
}

/// What an upstream's `hash_on` may key on.
fn hash_source(ctx: &RequestCtx, client_ip: std::net::IpAddr) -> crate::balancer::HashSource<'_> {
    crate::balancer::HashSource {
        consumer: ctx.consumer_id(),
        client_ip,
        headers: &ctx.headers,
        path: &ctx.path,
        query: ctx.query.as_deref(),
        captures: &ctx.uri_captures,
    }
}
