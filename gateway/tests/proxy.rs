//! The proxy over real sockets: an in-process gateway in front of echo upstreams, checked
//! against Kong 3.x behaviour (routing, forwarded headers, errors, balancing, limits,
//! streaming, shutdown, path normalisation).

mod support;

use bytes::Bytes;
use std::time::{Duration, Instant};
use support::client::{client, read, streaming_request};
use support::{raw, send, Gateway, Upstream};

const VIA: &str = concat!("1.1 gateway/", env!("CARGO_PKG_VERSION"));

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

// === routing ===

#[tokio::test]
async fn routes_by_path_host_and_method_and_joins_service_paths() {
    let up = Upstream::start("echo").await;
    let port = up.port();
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: based
    url: http://127.0.0.1:{port}/base
    routes:
      - {{name: strip, paths: [/strip]}}
      - {{name: keep, paths: [/keep], strip_path: false}}
      - {{name: regex-keep, paths: ['~/users/(?<id>\d+)/items$'], strip_path: false}}
      - {{name: regex-strip, paths: ['~/r/(?<id>\d+)']}}
      - {{name: hosted, hosts: [example.test], paths: [/hosted]}}
      - {{name: post-only, methods: [POST], paths: [/only-post]}}
  - name: root
    url: http://127.0.0.1:{port}
    routes:
      - {{name: root-strip, paths: [/root]}}
"#
    ))
    .await;
    // (method, path, Host, expected upstream path; None: no route)
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("GET", "/strip/x", "any.test", Some("/base/x")),
        ("GET", "/strip", "any.test", Some("/base")),
        ("GET", "/strip/", "any.test", Some("/base/")),
        ("GET", "/keep/x", "any.test", Some("/base/keep/x")),
        ("GET", "/root/a/b", "any.test", Some("/a/b")),
        ("GET", "/root", "any.test", Some("/")),
        (
            "GET",
            "/users/42/items",
            "any.test",
            Some("/base/users/42/items"),
        ),
        ("GET", "/users/x/items", "any.test", None),
        ("GET", "/r/42/rest", "any.test", Some("/base/rest")),
        ("GET", "/hosted/y", "example.test", Some("/base/y")),
        ("GET", "/hosted/y", "EXAMPLE.test:8000", Some("/base/y")),
        ("GET", "/hosted/y", "other.test", None),
        ("POST", "/only-post", "any.test", Some("/base")),
        ("GET", "/only-post", "any.test", None),
        ("GET", "/nowhere", "any.test", None),
    ];
    for (method, path, host, expected) in cases {
        let reply = send(method, &gw.url(path), &[("host", host)], "").await;
        match expected {
            Some(upstream_path) => {
                assert_eq!(
                    reply.status, 200,
                    "{method} {path} (Host {host}): {reply:?}"
                );
                assert_eq!(reply.json()["path"], *upstream_path, "{method} {path}");
                assert_eq!(reply.json()["method"], *method);
            }
            None => {
                assert_eq!(
                    reply.status, 404,
                    "{method} {path} (Host {host}): {reply:?}"
                );
                let body = reply.json();
                assert_eq!(body["message"], "no Route matched with those values");
                assert_eq!(
                    body["request_id"].as_str().map(str::len),
                    Some(32),
                    "{body}"
                );
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/json; charset=utf-8")
                );
            }
        }
    }
}

#[tokio::test]
async fn passes_the_query_string_through_unchanged() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/q]}}]\n",
        up.port()
    ))
    .await;
    for query in ["b=2&a=%20x&flag", "x=%2F%3F&x=2&empty=", "a+b=c%2Bd"] {
        let reply = send("GET", &gw.url(&format!("/q/p?{query}")), &[], "").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["query"], query);
        assert_eq!(reply.json()["path"], "/p");
    }
}

// === upstream request headers ===

fn header_gateway_yaml(port: u16) -> String {
    format!(
        r#"
_format_version: "3.0"
services:
  - name: echo
    url: http://127.0.0.1:{port}
    routes:
      - {{name: stripped, paths: [/strip]}}
      - {{name: kept, paths: [/keep], strip_path: false}}
      - {{name: preserved, paths: [/preserve], preserve_host: true}}
  - name: default-port
    url: http://localhost
    routes:
      - {{name: port80, paths: [/port80]}}
"#
    )
}

#[tokio::test]
async fn sets_host_by_preserve_host() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&header_gateway_yaml(up.port())).await;
    let plain = send("GET", &gw.url("/strip"), &[("host", "client.test")], "").await;
    assert_eq!(
        plain.echoed("host").as_deref(),
        Some(&*format!("127.0.0.1:{}", up.port()))
    );
    let preserved = send(
        "GET",
        &gw.url("/preserve"),
        &[("host", "Client.Test:1234")],
        "",
    )
    .await;
    assert_eq!(
        preserved.echoed("host").as_deref(),
        Some("Client.Test:1234")
    );
    assert_eq!(
        preserved.json()["headers"]["host"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn adds_kong_forwarded_headers() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&header_gateway_yaml(up.port())).await;
    let gw_port = gw.addr.port().to_string();
    let reply = send(
        "GET",
        &gw.url("/strip/a/b?x=1"),
        &[
            ("host", "Shop.Example:8000"),
            ("x-forwarded-for", "10.0.0.1, 10.0.0.2"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "spoofed.test"),
            ("x-forwarded-port", "1"),
            ("x-forwarded-prefix", "/spoofed"),
            ("x-real-ip", "10.9.9.9"),
        ],
        "",
    )
    .await;
    let expected = [
        ("x-forwarded-for", "10.0.0.1, 10.0.0.2, 127.0.0.1"),
        ("x-forwarded-proto", "http"),
        ("x-forwarded-host", "shop.example"),
        ("x-forwarded-port", gw_port.as_str()),
        ("x-forwarded-path", "/strip/a/b"),
        ("x-forwarded-prefix", "/strip"),
        ("x-real-ip", "127.0.0.1"),
        ("via", VIA),
    ];
    for (name, value) in expected {
        assert_eq!(reply.echoed(name).as_deref(), Some(value), "{name}");
    }
    let kept = send(
        "GET",
        &gw.url("/keep/a"),
        &[("x-forwarded-prefix", "/spoofed")],
        "",
    )
    .await;
    assert_eq!(
        kept.echoed("x-forwarded-prefix"),
        None,
        "no prefix when nothing is stripped"
    );
    assert_eq!(kept.echoed("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    // The request id the client sees is the one the upstream got.
    assert_eq!(
        kept.echoed("x-kong-request-id").as_deref(),
        kept.header("x-kong-request-id")
    );
}

#[tokio::test]
async fn removes_hop_by_hop_headers() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&header_gateway_yaml(up.port())).await;
    let request = "GET /strip HTTP/1.1\r\nHost: a.test\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n\
         Keep-Alive: timeout=5\r\nTE: trailers, deflate\r\nUpgrade: h2c\r\nProxy: http://evil\r\n\
         Proxy-Connection: keep-alive\r\nVia: 1.0 fred\r\nX-End-To-End: kept\r\n\r\n";
    let (status, text) = raw(gw.addr, request.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let body: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).expect("JSON body");
    let headers = &body["headers"];
    for gone in [
        "x-hop",
        "keep-alive",
        "upgrade",
        "proxy",
        "proxy-connection",
    ] {
        assert!(
            headers.get(gone).is_none(),
            "{gone} was forwarded: {headers}"
        );
    }
    if let Some(connection) = headers.get("connection") {
        assert!(
            !connection.to_string().to_lowercase().contains("x-hop"),
            "{connection}"
        );
    }
    assert_eq!(headers["te"][0], "trailers");
    assert_eq!(headers["x-end-to-end"][0], "kept");
    assert_eq!(headers["via"][0], format!("1.0 fred, {VIA}"));
}

#[tokio::test]
async fn tunnels_websocket_upgrades() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start("ws").await;
    let gw = Gateway::start(&header_gateway_yaml(up.port())).await;
    let mut stream = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    let handshake = "GET /strip/chat HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\n\
                     Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    stream
        .write_all(handshake.as_bytes())
        .await
        .expect("handshake");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = stream.read(&mut byte).await.expect("read head");
        assert_eq!(
            n,
            1,
            "closed during the handshake: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    for message in ["ping", "pong pong"] {
        stream.write_all(message.as_bytes()).await.expect("write");
        let mut echoed = vec![0u8; message.len()];
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut echoed))
            .await
            .expect("echo in time")
            .expect("read echo");
        assert_eq!(echoed, message.as_bytes());
    }
}

// === response headers ===

#[tokio::test]
async fn proxied_and_gateway_answers_carry_kong_latency_headers() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - url: http://127.0.0.1:{}
    routes:
      - {{name: open, paths: [/open]}}
      - name: closed
        paths: [/closed]
        plugins:
          - {{name: request-termination, config: {{status_code: 403, message: So long}}}}
"#,
        up.port()
    ))
    .await;
    let proxied = send("GET", &gw.url("/open"), &[("x-echo-delay-ms", "150")], "").await;
    assert_eq!(proxied.status, 200);
    assert_eq!(proxied.header("via"), Some(VIA));
    let upstream_ms: u64 = proxied
        .header("x-kong-upstream-latency")
        .expect("upstream latency")
        .parse()
        .expect("number");
    assert!(upstream_ms >= 150, "upstream latency {upstream_ms} ms");
    let proxy_ms: u64 = proxied
        .header("x-kong-proxy-latency")
        .expect("proxy latency")
        .parse()
        .expect("number");
    assert!(proxy_ms < 100, "proxy latency {proxy_ms} ms");
    assert_eq!(proxied.header("x-kong-response-latency"), None);
    assert_eq!(up.hits(), 1);

    let terminated = send("GET", &gw.url("/closed"), &[], "").await;
    assert_eq!(terminated.status, 403);
    assert_eq!(terminated.json()["message"], "So long");
    assert!(
        terminated.header("x-kong-response-latency").is_some(),
        "{terminated:?}"
    );
    assert_eq!(terminated.header("x-kong-upstream-latency"), None);
    assert_eq!(terminated.header("via"), None);
    assert_eq!(
        up.hits(),
        1,
        "a terminated request never reaches the upstream"
    );

    let unrouted = send("GET", &gw.url("/none"), &[], "").await;
    assert_eq!(unrouted.status, 404);
    assert!(unrouted.header("x-kong-response-latency").is_some());
    assert_eq!(
        unrouted.header("x-kong-request-id"),
        unrouted.json()["request_id"].as_str()
    );
}

// === errors ===

#[tokio::test]
async fn answers_kong_errors_when_it_cannot_proxy() {
    let up = Upstream::start("echo").await;
    let closed = closed_port();
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: refused
    url: http://127.0.0.1:{closed}
    retries: 2
    routes: [{{paths: [/refused]}}]
  - name: unresolvable
    url: http://does-not-exist.invalid
    routes: [{{paths: [/unresolvable]}}]
  - name: empty
    host: empty-upstream
    routes: [{{paths: [/empty]}}]
  - name: secure
    url: https://127.0.0.1:{port}
    routes: [{{paths: [/secure]}}]
routes:
  - {{name: serviceless, paths: [/serviceless]}}
upstreams:
  - name: empty-upstream
    targets: [{{target: "127.0.0.1:{port}", weight: 0}}]
"#,
        port = up.port()
    ))
    .await;
    let cases = [
        (
            "/refused",
            502,
            "An invalid response was received from the upstream server",
        ),
        ("/unresolvable", 503, "name resolution failed"),
        (
            "/empty",
            503,
            "failure to get a peer from the ring-balancer",
        ),
        ("/serviceless", 503, "no Service found with those values"),
        (
            "/secure",
            502,
            "An invalid response was received from the upstream server",
        ),
    ];
    for (path, status, message) in cases {
        let started = Instant::now();
        let reply = send("GET", &gw.url(path), &[], "").await;
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        assert_eq!(reply.json()["message"], message, "{path}");
        assert!(reply.header("x-kong-response-latency").is_some(), "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn times_out_with_504_and_retries_only_idempotent_requests() {
    let up = Upstream::start("slow").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    read_timeout: 300\n    retries: 1\n    routes: [{{paths: [/slow]}}]\n",
        up.port()
    ))
    .await;
    let started = Instant::now();
    let reply = send("GET", &gw.url("/slow"), &[("x-echo-delay-ms", "3000")], "").await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 504, "{reply:?}");
    assert_eq!(reply.json()["message"], "The upstream server is timing out");
    assert!(
        elapsed >= Duration::from_millis(580) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    assert_eq!(up.hits(), 2, "a GET is tried again after a timeout");

    let reply = send(
        "POST",
        &gw.url("/slow"),
        &[("x-echo-delay-ms", "3000")],
        "data",
    )
    .await;
    assert_eq!(reply.status, 504);
    assert_eq!(up.hits(), 3, "a POST is not");

    // The wait is per read: a response that trickles in within the timeout is not cut.
    let reply = send("GET", &gw.url("/slow"), &[("x-echo-delay-ms", "100")], "").await;
    assert_eq!(reply.status, 200);
}

// === load balancing ===

fn targets_yaml(targets: &[(u16, u32)]) -> String {
    targets
        .iter()
        .map(|(port, weight)| {
            format!("      - {{target: \"127.0.0.1:{port}\", weight: {weight}}}\n")
        })
        .collect()
}

#[tokio::test]
async fn balances_by_weight_across_targets() {
    let ups = [
        Upstream::start("a").await,
        Upstream::start("b").await,
        Upstream::start("c").await,
    ];
    let targets = targets_yaml(&[
        (ups[0].port(), 100),
        (ups[1].port(), 200),
        (ups[2].port(), 100),
    ]);
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - host: pool\n    routes: [{{paths: [/lb]}}]\nupstreams:\n  - name: pool\n    targets:\n{targets}"
    ))
    .await;
    for _ in 0..200 {
        let reply = send("GET", &gw.url("/lb"), &[], "").await;
        assert_eq!(reply.status, 200);
        // Host is the target's address, as Kong sets it from the balancer's pick.
        let name = reply.json()["upstream"].as_str().map(str::to_string);
        let picked = ups
            .iter()
            .find(|u| Some(&u.name) == name.as_ref())
            .expect("known upstream");
        assert_eq!(
            reply.echoed("host"),
            Some(format!("127.0.0.1:{}", picked.port()))
        );
    }
    let hits: Vec<usize> = ups.iter().map(Upstream::hits).collect();
    assert_eq!(hits.iter().sum::<usize>(), 200);
    for (got, want) in hits.iter().zip([50, 100, 50]) {
        assert!(
            got.abs_diff(want) <= 12,
            "hits {hits:?}, want about [50, 100, 50]"
        );
    }
}

#[tokio::test]
async fn passive_health_checks_take_a_failing_target_out() {
    let good = Upstream::start("good").await;
    let bad = Upstream::failing("bad", 500).await;
    let targets = targets_yaml(&[(good.port(), 100), (bad.port(), 100)]);
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - host: pool
    routes: [{{paths: [/p]}}]
upstreams:
  - name: pool
    healthchecks:
      passive:
        unhealthy: {{http_statuses: [500], http_failures: 2}}
    targets:
{targets}"#
    ))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(send("GET", &gw.url("/p"), &[], "").await.status.as_u16());
    }
    assert_eq!(bad.hits(), 2, "excluded after two 500s: {statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 500).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses[10..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(good.hits(), 18);
}

#[tokio::test]
async fn retries_skip_a_target_that_refuses_connections() {
    let good = Upstream::start("good").await;
    let targets = targets_yaml(&[(closed_port(), 100), (good.port(), 100)]);
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - host: pool\n    retries: 3\n    routes: [{{paths: [/r]}}]\nupstreams:\n  - name: pool\n    targets:\n{targets}"
    ))
    .await;
    for i in 0..10 {
        let body = format!("payload {i}");
        let reply = send("POST", &gw.url("/r"), &[], &body).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.json()["body"],
            body,
            "the body is sent again on the retry"
        );
    }
    assert_eq!(good.hits(), 10);
}

#[tokio::test]
async fn answers_503_once_every_target_is_unhealthy() {
    let bad = Upstream::failing("bad", 503).await;
    let targets = targets_yaml(&[(bad.port(), 100)]);
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - host: pool\n    routes: [{{paths: [/u]}}]\nupstreams:\n  - name: pool\n    healthchecks: {{passive: {{unhealthy: {{http_failures: 1}}}}}}\n    targets:\n{targets}"
    ))
    .await;
    assert_eq!(send("GET", &gw.url("/u"), &[], "").await.status, 503);
    let reply = send("GET", &gw.url("/u"), &[], "").await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json()["message"],
        "failure to get a peer from the ring-balancer"
    );
    assert_eq!(bad.hits(), 1);
}

// === limits ===

async fn limited_gateway(up: &Upstream) -> Gateway {
    Gateway::start_with(
        &format!(
            "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/l]}}]\n",
            up.port()
        ),
        &[("KONG_CLIENT_MAX_BODY_SIZE", "1k"), ("KONG_MAX_HEADER_SIZE", "4096")],
    )
    .await
}

#[tokio::test]
async fn rejects_bodies_over_client_max_body_size() {
    let up = Upstream::start("echo").await;
    let gw = limited_gateway(&up).await;
    let fits = "a".repeat(1000);
    let reply = send("POST", &gw.url("/l"), &[], &fits).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["body_len"], 1000);

    let reply = send("POST", &gw.url("/l"), &[], &"a".repeat(2000)).await;
    assert_eq!(reply.status, 413, "with Content-Length");
    assert_eq!(reply.json()["message"], "Payload too large");
    assert_eq!(up.hits(), 1, "refused before reaching the upstream");

    let (request, tx) = streaming_request(&gw.url("/l"));
    let pending = tokio::spawn(client().request(request));
    for _ in 0..3 {
        if tx.send(Bytes::from("b".repeat(700))).await.is_err() {
            break;
        }
    }
    drop(tx);
    let response = pending.await.expect("task").expect("response");
    let reply = read(response).await;
    assert_eq!(reply.status, 413, "chunked: {reply:?}");
    assert_eq!(reply.json()["message"], "Payload too large");
}

#[tokio::test]
async fn rejects_header_blocks_over_max_header_size() {
    let up = Upstream::start("echo").await;
    let gw = limited_gateway(&up).await;
    let reply = send("GET", &gw.url("/l"), &[("x-big", &"h".repeat(3000))], "").await;
    assert_eq!(reply.status, 200, "under the limit");

    // Over max_header_size: Kong's (nginx's) 494 with its JSON body.
    let reply = send("GET", &gw.url("/l"), &[("x-big", &"h".repeat(5000))], "").await;
    assert_eq!(reply.status.as_u16(), 494);
    assert_eq!(
        reply.json()["message"],
        "Request header or cookie too large"
    );

    // Far past it (over 4x, at least 64 KiB) hyper stops reading and answers 431 itself.
    let request = format!(
        "GET /l HTTP/1.1\r\nHost: a\r\nX-Huge: {}\r\n\r\n",
        "h".repeat(80 * 1024)
    );
    let (status, _) = raw(gw.addr, request.as_bytes()).await;
    assert_eq!(status, 431);
    assert_eq!(up.hits(), 1);
}

// === streaming ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_large_response_without_buffering_it() {
    use http_body_util::BodyExt;
    let up = Upstream::start("stream").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/big]}}]\n",
        up.port()
    ))
    .await;
    let total = 50 * 1024 * 1024;
    let request = http::Request::get(gw.url("/big"))
        .header("x-echo-stream-bytes", total.to_string())
        .header("x-echo-pause-ms", "600")
        .body(http_body_util::Full::new(Bytes::new()).boxed())
        .expect("request");
    let started = Instant::now();
    let response = client().request(request).await.expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = body.frame().await.expect("a first frame").expect("frame");
    let first_at = started.elapsed();
    assert!(
        first_at < Duration::from_millis(400),
        "first bytes after {first_at:?}"
    );
    let mut received = first.data_ref().map_or(0, Bytes::len);
    while let Some(frame) = body.frame().await {
        received += frame.expect("frame").data_ref().map_or(0, Bytes::len);
    }
    assert_eq!(received, total);
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_request_body_as_it_arrives() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/up]}}]\n",
        up.port()
    ))
    .await;
    let (request, tx) = streaming_request(&gw.url("/up"));
    let pending = tokio::spawn(client().request(request));
    tx.send(Bytes::from("first,")).await.expect("send");
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.send(Bytes::from("second")).await.expect("send");
    drop(tx);
    let reply = read(pending.await.expect("task").expect("response")).await;
    let body = reply.json();
    assert_eq!(body["body"], "first,second");
    let first = body["first_chunk_ms"].as_u64().expect("first chunk time");
    let last = body["last_chunk_ms"].as_u64().expect("last chunk time");
    assert!(
        first < 300,
        "the upstream got the first chunk after {first} ms"
    );
    assert!(last >= 400, "and the last after {last} ms");
}

// === shutdown ===

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_refuses_new_ones() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/s]}}]\n",
        up.port()
    ))
    .await;
    let (url, addr) = (gw.url("/s"), gw.addr);
    let in_flight =
        tokio::spawn(async move { send("GET", &url, &[("x-echo-delay-ms", "800")], "").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.trigger_stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted during shutdown"
    );
    let reply = in_flight.await.expect("in-flight task");
    assert_eq!(reply.status, 200);
    tokio::time::timeout(Duration::from_secs(2), gw.stopped())
        .await
        .expect("the listener ends once drained");
}

// === path normalisation ===

#[tokio::test]
async fn normalises_the_path_before_routing_and_forwarding() {
    let up = Upstream::start("echo").await;
    let gw = Gateway::start(&format!(
        "_format_version: \"3.0\"\nservices:\n  - url: http://127.0.0.1:{}\n    routes: [{{paths: [/api], strip_path: false}}]\n",
        up.port()
    ))
    .await;
    // (raw path, upstream path; None: no route)
    let cases = [
        ("/api/../api/x?q=%2E%2E", Some("/api/x")),
        ("/%61pi/x", Some("/api/x")),
        ("/api/./x//y", Some("/api/x/y")),
        ("/api/a%20b", Some("/api/a%20b")),
        ("/api/a%2Fb", Some("/api/a%2Fb")),
        ("/api/%2e%2e/secret", None),
        ("/x/../../api", Some("/api")),
    ];
    for (raw_path, expected) in cases {
        let request = format!("GET {raw_path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let (status, text) = raw(gw.addr, request.as_bytes()).await;
        match expected {
            Some(path) => {
                assert_eq!(status, 200, "{raw_path}: {text}");
                assert!(
                    text.contains(&format!("\"path\":\"{path}\"")),
                    "{raw_path}: {text}"
                );
                let forwarded = raw_path.split('?').next().unwrap_or(raw_path);
                assert!(
                    text.contains(&format!("\"x-forwarded-path\":[\"{forwarded}\"]")),
                    "{raw_path}: {text}"
                );
            }
            None => assert_eq!(status, 404, "{raw_path}: {text}"),
        }
    }
    assert!(
        raw(
            gw.addr,
            b"GET /api/../api/x?q=%2E%2E HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        .await
        .1
        .contains("\"query\":\"q=%2E%2E\""),
        "the query string is not normalised"
    );
}
