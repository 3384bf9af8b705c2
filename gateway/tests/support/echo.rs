//! Echo upstreams: tiny hyper servers on loopback that answer with what they received
//! (method, path, query, headers, body) as JSON. Request headers steer them:
//! `x-echo-status` (answer with this status), `x-echo-delay-ms` (wait before answering),
//! `x-echo-stream-bytes` + `x-echo-pause-ms` (stream that many bytes: 64 KiB, a pause, the rest);
//! `Upgrade: websocket` switches protocols and echoes raw bytes.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type Body = BoxBody<Bytes, Infallible>;

pub struct Upstream {
    pub addr: SocketAddr,
    pub name: String,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Upstream {
    /// An echo upstream answering 200 (or `x-echo-status`).
    pub async fn start(name: &str) -> Upstream {
        Upstream::spawn(name, None).await
    }

    /// An upstream that always answers `status` (still with the echo body).
    pub async fn failing(name: &str, status: u16) -> Upstream {
        Upstream::spawn(name, Some(status)).await
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    async fn spawn(name: &str, status: Option<u16>) -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let addr = listener.local_addr().expect("upstream address");
        let hits = Arc::new(AtomicUsize::new(0));
        let (name_c, hits_c) = (name.to_string(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (name, hits) = (name_c.clone(), hits_c.clone());
                let service = hyper::service::service_fn(move |req| {
                    hits.fetch_add(1, Ordering::SeqCst);
                    echo(req, name.clone(), status)
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            name: name.to_string(),
            hits,
            task,
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header_num(req: &http::request::Parts, name: &str) -> Option<u64> {
    req.headers.get(name)?.to_str().ok()?.parse().ok()
}

async fn echo(
    mut req: Request<Incoming>,
    name: String,
    fixed: Option<u16>,
) -> Result<Response<Body>, Infallible> {
    if req
        .headers()
        .get("upgrade")
        .is_some_and(|v| v == "websocket")
    {
        return Ok(switch_to_echo(hyper::upgrade::on(&mut req)));
    }
    let arrived = Instant::now();
    let (parts, mut body) = req.into_parts();
    if let Some(ms) = header_num(&parts, "x-echo-delay-ms") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = fixed
        .or_else(|| header_num(&parts, "x-echo-status").map(|s| s as u16))
        .unwrap_or(200);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(total) = header_num(&parts, "x-echo-stream-bytes") {
        let pause = header_num(&parts, "x-echo-pause-ms").unwrap_or(0);
        return Ok(stream_response(status, total as usize, pause));
    }
    let mut received = Vec::new();
    let (mut first_ms, mut last_ms) = (None, None);
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Some(data) = frame.data_ref() {
            let at = arrived.elapsed().as_millis() as u64;
            first_ms.get_or_insert(at);
            last_ms = Some(at);
            received.extend_from_slice(data);
        }
    }
    let mut headers = Map::new();
    for key in parts.headers.keys() {
        let values: Vec<Value> = parts
            .headers
            .get_all(key)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        headers.insert(key.as_str().to_string(), Value::Array(values));
    }
    let answer = json!({
        "upstream": name,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&received),
        "body_len": received.len(),
        "first_chunk_ms": first_ms,
        "last_chunk_ms": last_ms,
    });
    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Answer 101 and, once switched, echo every byte back (no WebSocket framing: the gateway
/// only splices bytes).
fn switch_to_echo(upgrade: hyper::upgrade::OnUpgrade) -> Response<Body> {
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut io = TokioIo::new(upgraded);
        let mut buf = [0u8; 1024];
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut response = Response::new(Full::new(Bytes::new()).boxed());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert("upgrade", http::HeaderValue::from_static("websocket"));
    headers.insert("connection", http::HeaderValue::from_static("Upgrade"));
    response
}

/// `total` bytes of `x`: 64 KiB at once, then after `pause_ms` the rest in 1 MiB chunks.
fn stream_response(status: StatusCode, total: usize, pause_ms: u64) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let first = total.min(64 * 1024);
        if tx.send(Bytes::from(vec![b'x'; first])).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        let mut left = total - first;
        let chunk = Bytes::from(vec![b'x'; 1024 * 1024]);
        while left > 0 {
            let n = left.min(chunk.len());
            if tx.send(chunk.slice(..n)).await.is_err() {
                return;
            }
            left -= n;
        }
    });
    let mut response = Response::new(ChannelBody { rx }.boxed());
    *response.status_mut() = status;
    response
}

/// A body fed through a channel, ending when the sender is dropped.
pub struct ChannelBody {
    pub rx: mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}
