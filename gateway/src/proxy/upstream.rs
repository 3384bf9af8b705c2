//! Sending a request to a service's upstream: pick a peer (through the upstream's balancer when
//! the service host names one), connect through a pooled keep-alive client, retry another peer
//! when that is safe, and report every outcome for passive health checks.
//!
//! Retries follow nginx's `proxy_next_upstream error timeout`, which Kong relies on: a failed
//! connection is retried for any method; an error or timeout after the request went out only
//! for idempotent methods. A body can only be sent twice if we still hold it, so bodies up to
//! [`REPLAY_LIMIT`] are read before the first attempt; larger or chunked ones stream through
//! once, unretried.

use super::body::{self, is_too_large, ProxyBody, Sent};
use super::errors::Failure;
use super::forward;
use crate::balancer::{Balancer, Outcome, Peer};
use crate::entities::Service;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, ProxyBody>;

/// Request bodies up to this size (with a `Content-Length`) are held so a retry can resend them.
pub const REPLAY_LIMIT: u64 = 64 * 1024;

/// The request head as it leaves for the upstream (headers already edited, except `Host`).
pub struct Outgoing<'a> {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub preserve_host: bool,
    pub original_host: &'a str,
    /// The balancer of the upstream the service's host names, if it names one.
    pub balancer: Option<std::sync::Arc<Balancer>>,
    /// The consistent-hashing key (the upstream's `hash_on`), when it balances that way.
    pub hash_key: Option<String>,
}

/// Where one attempt goes (borrowing the service's host when there is no balancer).
struct Destination<'a> {
    host: Cow<'a, str>,
    port: u16,
    /// The name the `Host` header carries (the upstream's `host_header`, else `host`).
    host_name: Cow<'a, str>,
    peer: Option<Peer>,
}

/// How one attempt failed, and whether another peer may be tried.
struct AttemptError {
    failure: Failure,
    outcome: Option<Outcome>,
    retry: bool,
    detail: String,
}

/// Pooled clients, one per distinct connect timeout (hyper sets it per connector) and
/// certificate policy.
pub struct Upstreams {
    clients: RwLock<HashMap<(u32, bool), Arc<HttpClient>>>,
}

impl Upstreams {
    pub fn new() -> Upstreams {
        Upstreams {
            clients: RwLock::new(HashMap::new()),
        }
    }

    /// Shared, not cloned: a `Client` clone copies several reference counts per request.
    fn client(&self, connect_timeout_ms: u32, verify: bool) -> Result<Arc<HttpClient>, Failure> {
        let key = (connect_timeout_ms, verify);
        let clients = self.clients.read().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        drop(clients);
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(Duration::from_millis(connect_timeout_ms.into())));
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = super::tls::connector(verify, http).map_err(|e| {
            tracing::error!(error = %e, "cannot set up TLS to upstreams");
            Failure::BadGateway
        })?;
        let client = Arc::new(
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(256)
                .build(connector),
        );
        let mut clients = self.clients.write().unwrap_or_else(|p| p.into_inner());
        Ok(clients.entry(key).or_insert(client).clone())
    }

    /// Forward `out` to the service: the upstream's response, or why there is none.
    pub async fn send(
        &self,
        service: &Service,
        out: Outgoing<'_>,
        body: ProxyBody,
    ) -> Result<Response<ProxyBody>, Failure> {
        if !matches!(service.protocol.as_str(), "http" | "https") {
            tracing::error!(
                service = %service.name.as_deref().unwrap_or(""), service_id = %service.id,
                protocol = %service.protocol,
                "cannot proxy: only http and https upstreams are supported yet; answering 502"
            );
            return Err(Failure::BadGateway);
        }
        let balancer = out.balancer.clone();
        let mut payload = Payload::read(body, &out.headers).await?;
        let attempts = 1 + if payload.replayable() {
            u32::from(service.retries)
        } else {
            0
        };
        let client = self.client(service.connect_timeout, service.tls_verify.unwrap_or(true))?;
        let read_timeout = Duration::from_millis(service.read_timeout.into());
        let idempotent = !matches!(out.method.as_str(), "POST" | "PATCH" | "LOCK");
        let mut tried: Vec<Peer> = Vec::new();
        let mut failure = Failure::BadGateway;
        for attempt in 0..attempts {
            let Some(to) = destination(
                service,
                balancer.as_deref(),
                out.hash_key.as_deref(),
                &tried,
            ) else {
                // Kong's answer when the balancer has nothing to offer on the first try.
                if attempt == 0 {
                    return Err(Failure::NoPeer);
                }
                break;
            };
            let request = build(&out, &to, &service.protocol, payload.next())?;
            let error = match attempt_once(&client, request, read_timeout, idempotent).await {
                Ok(response) => {
                    report(
                        balancer.as_deref(),
                        &to,
                        Outcome::Status(response.status().as_u16()),
                    );
                    return Ok(response.map(|b| body::idle_timeout(b, read_timeout)));
                }
                Err(error) => error,
            };
            if let Some(outcome) = error.outcome {
                report(balancer.as_deref(), &to, outcome);
            }
            tracing::warn!(
                service_id = %service.id, peer = %format_args!("{}:{}", to.host, to.port),
                attempt = attempt + 1, of = attempts, error = %error.detail, "upstream attempt failed"
            );
            failure = error.failure;
            if !error.retry {
                break;
            }
            tried.extend(to.peer);
        }
        Err(failure)
    }
}

/// The request body, held in memory when it is small enough to be sent again.
enum Payload {
    Replayable(Bytes),
    Once(Option<ProxyBody>),
}

impl Payload {
    async fn read(body: ProxyBody, headers: &HeaderMap) -> Result<Payload, Failure> {
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if body.is_end_stream() {
            // No body (a GET): nothing to read, and always replayable.
            return Ok(Payload::Replayable(Bytes::new()));
        }
        let small = declared.is_some_and(|n| n <= REPLAY_LIMIT);
        if !small {
            return Ok(Payload::Once(Some(body)));
        }
        match body.collect().await {
            Ok(collected) => Ok(Payload::Replayable(collected.to_bytes())),
            Err(e) if is_too_large(&*e) => Err(Failure::PayloadTooLarge),
            Err(e) => {
                tracing::debug!(error = %e, "client request body ended early");
                Err(Failure::BadRequest)
            }
        }
    }

    fn replayable(&self) -> bool {
        matches!(self, Payload::Replayable(_))
    }

    fn next(&mut self) -> ProxyBody {
        match self {
            Payload::Replayable(bytes) if bytes.is_empty() => body::empty(),
            Payload::Replayable(bytes) => body::full(bytes.clone()),
            Payload::Once(body) => body.take().unwrap_or_else(body::empty),
        }
    }
}

/// The next peer: from the balancer (avoiding those tried) or the service's own host.
fn destination<'a>(
    service: &'a Service,
    balancer: Option<&Balancer>,
    hash_key: Option<&str>,
    tried: &[Peer],
) -> Option<Destination<'a>> {
    let Some(balancer) = balancer else {
        return Some(Destination {
            host: Cow::Borrowed(&service.host),
            port: service.port,
            host_name: Cow::Borrowed(&service.host),
            peer: None,
        });
    };
    let peer = balancer.pick_excluding(hash_key, tried)?;
    Some(Destination {
        host: Cow::Owned(peer.host.clone()),
        port: peer.port,
        host_name: Cow::Owned(balancer.host_header().unwrap_or(&peer.host).to_string()),
        peer: Some(peer),
    })
}

fn build(
    out: &Outgoing<'_>,
    to: &Destination<'_>,
    scheme: &str,
    body: ProxyBody,
) -> Result<Request<ProxyBody>, Failure> {
    let mut headers = out.headers.clone();
    forward::set_host(
        &mut headers,
        out.preserve_host,
        out.original_host,
        &to.host_name,
        to.port,
        scheme,
    );
    let mut request = Request::new(body);
    *request.method_mut() = out.method.clone();
    *request.headers_mut() = headers;
    *request.uri_mut() = uri(scheme, &to.host, to.port, &out.path_and_query).map_err(|e| {
        tracing::warn!(
            host = %to.host, port = to.port, path = %out.path_and_query, error = %e,
            "cannot build the upstream request URI"
        );
        Failure::BadRequest
    })?;
    Ok(request)
}

/// The upstream URI from its parts: each part is checked on its own, which saves writing the
/// whole URI out and parsing it back.
fn uri(
    scheme: &str,
    host: &str,
    port: u16,
    path_and_query: &str,
) -> Result<http::Uri, http::Error> {
    let scheme = match scheme {
        "https" => http::uri::Scheme::HTTPS,
        "http" => http::uri::Scheme::HTTP,
        other => other.parse()?,
    };
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(scheme);
    parts.authority = Some(authority(host, port).parse()?);
    parts.path_and_query = Some(path_and_query.parse()?);
    Ok(http::Uri::from_parts(parts)?)
}

/// One try. The response-header wait (`read_timeout`) starts once the body is sent, so a slow
/// upload is not mistaken for a slow upstream.
async fn attempt_once(
    client: &HttpClient,
    request: Request<ProxyBody>,
    read_timeout: Duration,
    idempotent: bool,
) -> Result<Response<Incoming>, AttemptError> {
    let timed_out = || AttemptError {
        failure: Failure::Timeout,
        outcome: Some(Outcome::Timeout),
        retry: idempotent,
        detail: format!("no response within {read_timeout:?}"),
    };
    if request.body().is_end_stream() {
        // Nothing to upload: the wait for the response starts at once.
        return match tokio::time::timeout(read_timeout, client.request(request)).await {
            Ok(result) => result.map_err(|e| classify(&e, idempotent)),
            Err(_) => Err(timed_out()),
        };
    }
    let sent = Arc::new(Sent::default());
    let request = request.map(|b| body::tracked(b, sent.clone()));
    let response = client.request(request);
    tokio::pin!(response);
    let early = tokio::select! {
        result = &mut response => Some(result),
        () = sent.wait() => None,
    };
    let result = match early {
        Some(result) => result,
        None => match tokio::time::timeout(read_timeout, response).await {
            Ok(result) => result,
            Err(_) => return Err(timed_out()),
        },
    };
    result.map_err(|e| classify(&e, idempotent))
}

fn classify(e: &hyper_util::client::legacy::Error, idempotent: bool) -> AttemptError {
    let detail = error_chain(e);
    if is_too_large(e) {
        return AttemptError {
            failure: Failure::PayloadTooLarge,
            outcome: None,
            retry: false,
            detail,
        };
    }
    if e.is_connect() {
        // A name that does not resolve will not resolve on the next try either.
        let dns = detail.contains("dns error");
        return AttemptError {
            failure: if dns {
                Failure::NameResolution
            } else {
                Failure::BadGateway
            },
            outcome: Some(Outcome::TcpFailure),
            retry: !dns,
            detail,
        };
    }
    AttemptError {
        failure: Failure::BadGateway,
        outcome: Some(Outcome::TcpFailure),
        retry: idempotent,
        detail,
    }
}

fn report(balancer: Option<&Balancer>, to: &Destination<'_>, outcome: Outcome) {
    if let (Some(b), Some(p)) = (balancer, &to.peer) {
        b.report(p, outcome);
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// An error and its causes on one line (hyper's top-level messages say little on their own).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
