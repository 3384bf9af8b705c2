//! A test HTTP client: whole requests and replies through hyper, and raw bytes over TCP for
//! what a well-behaved client would not send (dot segments, oversized headers).

use super::echo::ChannelBody;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

pub type ClientBody = BoxBody<Bytes, Infallible>;

/// A whole reply.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "reply body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of request header `name` as an echo upstream saw it.
    pub fn echoed(&self, name: &str) -> Option<String> {
        self.json()["headers"][name][0].as_str().map(str::to_string)
    }
}

pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http()
}

/// Send a request with a whole body and read the whole reply.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .expect("request");
    let response = tokio::time::timeout(Duration::from_secs(10), client().request(request))
        .await
        .expect("reply within 10 s")
        .unwrap_or_else(|e| panic!("request to {url} failed: {e:?}"));
    read(response).await
}

pub async fn read(response: http::Response<Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("reply body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request whose body the test feeds chunk by chunk (sent chunked).
pub fn streaming_request(url: &str) -> (Request<ClientBody>, mpsc::Sender<Bytes>) {
    let (tx, rx) = mpsc::channel(4);
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .body(ChannelBody { rx }.boxed())
        .expect("request");
    (request, tx)
}

/// Write `request` as is on a new connection and read until the server closes it (send
/// `Connection: close`). Returns the status and everything read.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before taking everything (413, 494): keep what it said.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}
