//! The bundled plugins through the real proxy: rate-limiting (local policy) with Kong's headers
//! and 429, cors preflight and simple requests, ip-restriction, request-size-limiting,
//! correlation-id, and gzip compression from the `KONG_NGINX_HTTP_GZIP*` settings.

mod support;

use support::{send, Gateway, Upstream};

async fn gateway(up: &Upstream, plugins: &str) -> Gateway {
    Gateway::start_with(
        &format!(
            r#"
_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{}
    routes:
      - name: api
        paths: [/api]
        plugins:
{plugins}
"#,
            up.port()
        ),
        &[
            ("KONG_NGINX_HTTP_GZIP", "on"),
            ("KONG_NGINX_HTTP_GZIP_TYPES", "application/json"),
            ("KONG_NGINX_HTTP_GZIP_VARY", "on"),
        ],
    )
    .await
}

#[tokio::test]
async fn rate_limiting_counts_and_answers_429_with_kong_headers() {
    let up = Upstream::start("api").await;
    let gw = gateway(
        &up,
        "          - {name: rate-limiting, config: {hour: 3, limit_by: ip}}",
    )
    .await;
    for remaining in ["2", "1", "0"] {
        let reply = send("GET", &gw.url("/api"), &[], "").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit-hour"), Some("3"));
        assert_eq!(reply.header("x-ratelimit-remaining-hour"), Some(remaining));
        assert_eq!(reply.header("ratelimit-remaining"), Some(remaining));
    }
    let refused = send("GET", &gw.url("/api"), &[], "").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["message"], "API rate limit exceeded");
    assert!(refused
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .is_some());
    assert_eq!(
        up.hits(),
        3,
        "the refused request never reached the upstream"
    );
}

#[tokio::test]
async fn cors_answers_preflights_and_marks_responses() {
    let up = Upstream::start("api").await;
    let cors = "          - {name: cors, config: {origins: [https://portal.example.com], credentials: true}}";
    let gw = gateway(&up, cors).await;
    let origin = ("origin", "https://portal.example.com");
    let preflight = send(
        "OPTIONS",
        &gw.url("/api"),
        &[origin, ("access-control-request-method", "POST")],
        "",
    )
    .await;
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://portal.example.com")
    );
    assert!(preflight
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("POST")));
    assert_eq!(up.hits(), 0, "the preflight is answered by the gateway");
    let simple = send("GET", &gw.url("/api"), &[origin], "").await;
    assert_eq!(simple.status, 200);
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://portal.example.com")
    );
    assert_eq!(
        simple.header("access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn ip_restriction_and_size_limits_refuse_before_the_upstream() {
    let up = Upstream::start("api").await;
    let plugins = "          - {name: ip-restriction, config: {deny: [127.0.0.0/8]}}";
    let gw = gateway(&up, plugins).await;
    let reply = send("GET", &gw.url("/api"), &[], "").await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["message"], "Your IP address is not allowed");

    let plugins = "          - {name: request-size-limiting, config: {allowed_payload_size: 1, size_unit: kilobytes}}";
    let gw = gateway(&up, plugins).await;
    let big = "x".repeat(2048);
    let reply = send("POST", &gw.url("/api"), &[], &big).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["message"], "Request size limit exceeded");
    assert_eq!(
        send("POST", &gw.url("/api"), &[], "small").await.status,
        200
    );
    assert_eq!(up.hits(), 1);
}

#[tokio::test]
async fn correlation_ids_reach_the_upstream_and_come_back() {
    let up = Upstream::start("api").await;
    let plugins = "          - {name: correlation-id, config: {header_name: X-Correlation-ID, echo_downstream: true}}";
    let gw = gateway(&up, plugins).await;
    let reply = send("GET", &gw.url("/api"), &[], "").await;
    let sent = reply
        .echoed("x-correlation-id")
        .expect("the upstream got an id");
    assert_eq!(
        reply.header("x-correlation-id"),
        Some(sent.as_str()),
        "echoed downstream"
    );
    let reply = send("GET", &gw.url("/api"), &[("x-correlation-id", "mine")], "").await;
    assert_eq!(
        reply.echoed("x-correlation-id").as_deref(),
        Some("mine"),
        "a client's id is kept"
    );
}

#[tokio::test]
async fn json_responses_are_gzipped_when_asked() {
    let up = Upstream::start("api").await;
    let gw = gateway(&up, "          - {name: correlation-id}").await;
    let plain = send("GET", &gw.url("/api"), &[], "").await;
    assert!(plain.header("content-encoding").is_none(), "not asked for");
    let zipped = send("GET", &gw.url("/api"), &[("accept-encoding", "gzip")], "").await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("Accept-Encoding"));
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&zipped.body[..]),
        &mut text,
    )
    .expect("valid gzip");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json")["upstream"],
        "api"
    );
}
