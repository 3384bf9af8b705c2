//! Access-log plugins through the real proxy: file-log lines in a temp file, http-log entries
//! at a local collector (one by one, batched, retried), syslog datagrams on a unix socket
//! bound by the test (PRI per response class); secrets never reach any of them.

mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{send, Gateway, Upstream};
use tokio::sync::mpsc;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "gateway-logging-{name}-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// Services with key-auth on one route, an open one, and `plugin` applied globally.
fn config(upstream_port: u16, plugin: &str) -> String {
    format!(
        r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://127.0.0.1:{upstream_port}/v1
    routes:
      - name: forecast
        paths: [/forecast]
        plugins:
          - name: key-auth
            config: {{key_names: [apikey, x-weather-key]}}
      - name: open
        paths: [/open]
consumers:
  - username: alice
    custom_id: portal-1
    keyauth_credentials:
      - key: alice-secret-key
plugins:
{plugin}
"#
    )
}

/// The JSON lines of a file, once it holds `n` of them (the writer is asynchronous).
async fn lines(path: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n || Instant::now() > deadline {
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn file_log_appends_one_json_line_per_request_without_secrets() {
    let up = Upstream::start("weather").await;
    let path = temp_path("file.log");
    let plugin = format!(
        "  - name: file-log\n    config: {{path: {}}}",
        path.display()
    );
    let gw = Gateway::start(&config(up.port(), &plugin)).await;

    let ok = send(
        "GET",
        &gw.url("/forecast/berlin?apikey=alice-secret-key&days=3"),
        &[("authorization", "Bearer top-secret")],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
    let denied = send(
        "GET",
        &gw.url("/forecast"),
        &[("x-weather-key", "guess")],
        "",
    )
    .await;
    assert_eq!(denied.status, 401);
    let logged = lines(&path, 2).await;
    assert_eq!(logged.len(), 2, "{logged:?}");

    let first = &logged[0];
    assert_eq!(first["request"]["method"], "GET");
    assert_eq!(
        first["request"]["uri"],
        "/forecast/berlin?apikey=REDACTED&days=3"
    );
    assert_eq!(first["request"]["querystring"]["days"], "3");
    assert_eq!(first["response"]["status"], 200);
    assert_eq!(
        first["response"]["headers"]["x-kong-request-id"],
        ok.header("x-kong-request-id").unwrap()
    );
    assert_eq!(first["upstream_uri"], "/v1/berlin?apikey=REDACTED&days=3");
    assert_eq!(first["service"]["name"], "weather");
    assert_eq!(first["route"]["name"], "forecast");
    assert_eq!(first["consumer"]["username"], "alice");
    assert_eq!(first["consumer"]["custom_id"], "portal-1");
    assert_eq!(first["source"], "upstream");
    assert_eq!(first["client_ip"], "127.0.0.1");
    assert!(first["latencies"]["proxy"].as_i64().unwrap() >= 0);
    assert!(first["started_at"].as_u64().unwrap() > 1_600_000_000_000);

    let second = &logged[1];
    assert_eq!(second["response"]["status"], 401);
    assert_eq!(second["source"], "kong");
    assert_eq!(second["latencies"]["proxy"], -1);
    assert_eq!(second["request"]["headers"]["x-weather-key"], "REDACTED");
    assert!(second.get("consumer").is_none());

    let text = std::fs::read_to_string(&path).unwrap();
    for secret in ["alice-secret-key", "top-secret", "guess"] {
        assert!(!text.contains(secret), "{secret} leaked into the log");
    }
    let _ = std::fs::remove_file(&path);
}

// === http-log ===

/// A local HTTP collector: every request body arrives on the channel; the first `fail`
/// requests are answered 500.
struct Collector {
    port: u16,
    bodies: mpsc::UnboundedReceiver<(http::request::Parts, Bytes)>,
    seen: Arc<AtomicUsize>,
}

impl Collector {
    async fn start(fail: usize) -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, bodies) = mpsc::unbounded_channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, counter) = (tx.clone(), counter.clone());
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (tx, counter) = (tx.clone(), counter.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let n = counter.fetch_add(1, Ordering::SeqCst);
                            let status = if n < fail { 500 } else { 200 };
                            if status == 200 {
                                let _ = tx.send((parts, body));
                            }
                            let mut response = http::Response::new(Full::new(Bytes::from("ok")));
                            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Collector { port, bodies, seen }
    }

    async fn next(&mut self) -> (http::request::Parts, Value) {
        let (parts, body) = tokio::time::timeout(Duration::from_secs(10), self.bodies.recv())
            .await
            .expect("an entry within 10 s")
            .expect("collector running");
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
        (parts, json)
    }
}

fn http_log(port: u16, extra: &str) -> String {
    format!(
        "  - name: http-log\n    config: {{http_endpoint: \"http://user:pw@127.0.0.1:{port}/logs\", headers: {{x-source: gateway}}{extra}}}"
    )
}

#[tokio::test]
async fn http_log_posts_each_entry_to_the_collector() {
    let up = Upstream::start("weather").await;
    let mut collector = Collector::start(0).await;
    let gw = Gateway::start(&config(up.port(), &http_log(collector.port, ""))).await;
    for path in ["/open/a", "/open/b"] {
        assert_eq!(send("GET", &gw.url(path), &[], "").await.status, 200);
    }
    let mut uris = Vec::new();
    for _ in 0..2 {
        let (parts, entry) = collector.next().await;
        assert_eq!(parts.method, "POST");
        assert_eq!(parts.uri.path(), "/logs");
        assert_eq!(parts.headers["content-type"], "application/json");
        assert_eq!(parts.headers["x-source"], "gateway");
        assert_eq!(parts.headers["authorization"], "Basic dXNlcjpwdw==");
        assert!(entry.is_object(), "one entry per request: {entry}");
        uris.push(entry["request"]["uri"].as_str().unwrap().to_string());
    }
    uris.sort();
    assert_eq!(uris, ["/open/a", "/open/b"]);
}

#[tokio::test]
async fn http_log_batches_entries_into_an_array() {
    let up = Upstream::start("weather").await;
    let mut collector = Collector::start(0).await;
    let queue = ", queue: {max_batch_size: 3, max_coalescing_delay: 30}";
    let gw = Gateway::start(&config(up.port(), &http_log(collector.port, queue))).await;
    for path in ["/open/1", "/open/2", "/open/3"] {
        assert_eq!(send("GET", &gw.url(path), &[], "").await.status, 200);
    }
    let (_, batch) = collector.next().await;
    let entries = batch
        .as_array()
        .unwrap_or_else(|| panic!("an array: {batch}"));
    assert_eq!(
        entries.len(),
        3,
        "a full batch goes at once, before the delay"
    );
    assert_eq!(collector.seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http_log_retries_a_failed_send() {
    let up = Upstream::start("weather").await;
    let mut collector = Collector::start(2).await;
    let queue = ", queue: {initial_retry_delay: 0.01, max_retry_time: 10}";
    let gw = Gateway::start(&config(up.port(), &http_log(collector.port, queue))).await;
    assert_eq!(send("GET", &gw.url("/open/x"), &[], "").await.status, 200);
    let (_, entry) = collector.next().await;
    assert_eq!(entry["request"]["uri"], "/open/x");
    assert_eq!(
        collector.seen.load(Ordering::SeqCst),
        3,
        "two failures, then success"
    );
}

// === syslog ===

#[tokio::test]
async fn syslog_sends_rfc3164_datagrams_with_the_pri_of_each_outcome() {
    let up = Upstream::start("weather").await;
    let dir = temp_path("syslog");
    std::fs::create_dir_all(&dir).unwrap();
    let socket_path = dir.join("log.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let plugin = format!(
        "  - name: syslog\n    config: {{facility: local0, successful_severity: info, client_errors_severity: warning, server_errors_severity: err, socket_path: {}}}",
        socket_path.display()
    );
    let gw = Gateway::start(&config(up.port(), &plugin)).await;
    // local0 = 16: PRI = 16 * 8 + severity (info 6, warning 4, err 3).
    let cases = [("200", 134), ("404", 132), ("500", 131)];
    for (status, pri) in cases {
        let reply = send("GET", &gw.url("/open"), &[("x-echo-status", status)], "").await;
        assert_eq!(reply.status.as_str(), status);
        let mut buf = vec![0u8; 64 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .expect("a datagram within 5 s")
            .unwrap();
        let datagram = String::from_utf8_lossy(&buf[..n]).into_owned();
        let prefix = format!("<{pri}>");
        assert!(datagram.starts_with(&prefix), "{status}: {datagram}");
        let (_, json) = datagram
            .split_once(" kong: ")
            .unwrap_or_else(|| panic!("no tag: {datagram}"));
        let entry: Value = serde_json::from_str(json).unwrap();
        assert_eq!(entry["response"]["status"].to_string(), status);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn syslog_below_the_log_level_sends_nothing() {
    let up = Upstream::start("weather").await;
    let dir = temp_path("syslog-quiet");
    std::fs::create_dir_all(&dir).unwrap();
    let socket_path = dir.join("log.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let plugin = format!(
        "  - name: syslog\n    config: {{log_level: err, server_errors_severity: crit, socket_path: {}}}",
        socket_path.display()
    );
    let gw = Gateway::start(&config(up.port(), &plugin)).await;
    assert_eq!(send("GET", &gw.url("/open"), &[], "").await.status, 200);
    let reply = send("GET", &gw.url("/open"), &[("x-echo-status", "502")], "").await;
    assert_eq!(reply.status, 502);
    let mut buf = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
        .await
        .expect("the 502's datagram")
        .unwrap();
    // user (1) * 8 + crit (2): the 200 (info) was below err and never sent.
    assert!(
        buf[..n].starts_with(b"<10>"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let _ = std::fs::remove_dir_all(&dir);
}
