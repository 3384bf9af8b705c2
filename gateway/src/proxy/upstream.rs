//! Sending a request to a service's upstream: pick a peer (through the upstream's balancer when
//! the service host names one), connect through a pooled keep-alive client, retry another peer
//! when the connection fails, and report every outcome for passive health checks.

use super::body::{is_too_large, BoxError, ProxyBody};
use super::errors::Failure;
use super::forward;
use crate::balancer::{Outcome, Peer};
use crate::entities::Service;
use crate::node::Node;
use http::{HeaderMap, Method, Request, Response};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

type HttpClient = Client<HttpConnector, ProxyBody>;

/// The request as it leaves for the upstream (headers already edited).
pub struct Outgoing<'a> {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub preserve_host: bool,
    pub original_host: &'a str,
    pub body: ProxyBody,
}

/// Pooled clients, one per distinct connect timeout (hyper sets it per connector).
pub struct Upstreams {
    clients: RwLock<HashMap<u32, HttpClient>>,
}

impl Upstreams {
    pub fn new() -> Upstreams {
        Upstreams {
            clients: RwLock::new(HashMap::new()),
        }
    }

    fn client(&self, connect_timeout_ms: u32) -> HttpClient {
        if let Some(c) = self
            .clients
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&connect_timeout_ms)
        {
            return c.clone();
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_millis(connect_timeout_ms.into())));
        connector.set_nodelay(true);
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        let mut clients = self.clients.write().unwrap_or_else(|p| p.into_inner());
        clients.entry(connect_timeout_ms).or_insert(client).clone()
    }

    /// Forward `out` to the service, retrying other peers on connection failures when the
    /// request body can be sent again (it is empty).
    pub async fn send(
        &self,
        node: &Node,
        service: &Service,
        out: Outgoing<'_>,
    ) -> Result<Response<ProxyBody>, Failure> {
        if service.protocol != "http" {
            tracing::warn!(service = %service.id, protocol = %service.protocol, "upstream protocol not supported yet");
            return Err(Failure::BadGateway);
        }
        let balancer = node.balancers.get(&service.host);
        let replayable = out.body.is_end_stream();
        let attempts = 1 + if replayable {
            u32::from(service.retries)
        } else {
            0
        };
        let client = self.client(service.connect_timeout);
        let read_timeout = Duration::from_millis(service.read_timeout.into());
        let mut body = Some(out.body);
        let mut tried: Vec<Peer> = Vec::new();
        let mut failure = Failure::BadGateway;
        for _ in 0..attempts {
            let (host, port, peer) = match &balancer {
                Some(b) => match b.pick_excluding(None, &tried) {
                    Some(p) => (p.host.clone(), p.port, Some(p)),
                    None if tried.is_empty() => return Err(Failure::NoPeer),
                    None => break,
                },
                None => (service.host.clone(), service.port, None),
            };
            let host_name = balancer
                .as_ref()
                .map(|b| b.host_header().unwrap_or(&service.host).to_string())
                .unwrap_or_else(|| host.clone());
            let mut headers = out.headers.clone();
            forward::set_host(
                &mut headers,
                out.preserve_host,
                out.original_host,
                &host_name,
                port,
                "http",
            );
            let authority = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            let mut request = Request::new(body.take().unwrap_or_else(super::body::empty));
            *request.method_mut() = out.method.clone();
            *request.headers_mut() = headers;
            *request.uri_mut() = match format!("http://{authority}{}", out.path_and_query).parse() {
                Ok(uri) => uri,
                Err(_) => return Err(Failure::BadRequest),
            };
            let report = |outcome| {
                if let (Some(b), Some(p)) = (&balancer, &peer) {
                    b.report(p, outcome);
                }
            };
            match tokio::time::timeout(read_timeout, client.request(request)).await {
                Err(_) => {
                    report(Outcome::Timeout);
                    return Err(Failure::Timeout);
                }
                Ok(Ok(response)) => {
                    report(Outcome::Status(response.status().as_u16()));
                    return Ok(
                        response.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync())
                    );
                }
                Ok(Err(e)) if e.is_connect() => {
                    report(Outcome::TcpFailure);
                    failure = if is_dns_failure(&e) {
                        Failure::NameResolution
                    } else {
                        Failure::BadGateway
                    };
                    tracing::warn!(service = %service.id, peer = %authority, error = %e, "upstream connection failed");
                    tried.extend(peer);
                    if balancer.is_none() && failure == Failure::NameResolution {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    if is_too_large(&e) {
                        return Err(Failure::PayloadTooLarge);
                    }
                    report(Outcome::TcpFailure);
                    tracing::warn!(service = %service.id, peer = %authority, error = %e, "upstream request failed");
                    return Err(Failure::BadGateway);
                }
            }
        }
        Err(failure)
    }
}

fn is_dns_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.to_string().starts_with("dns error") {
            return true;
        }
        current = err.source();
    }
    false
}
