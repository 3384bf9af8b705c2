//! Plugins through the real proxy: key-auth in front of an echo upstream (header, query and
//! body keys, hidden credentials, Kong's 401s), consumer-scoped instances, and chains that read
//! the request body.

mod support;

use support::{send, Gateway, Upstream};

fn config(port: u16) -> String {
    format!(
        r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://127.0.0.1:{port}
    routes:
      - name: forecast
        paths: [/forecast]
        plugins:
          - name: key-auth
            config: {{hide_credentials: true, key_in_body: true}}
      - name: open
        paths: [/open]
consumers:
  - username: alice
    custom_id: portal-1
    keyauth_credentials:
      - key: alice-key
  - username: blocked
    keyauth_credentials:
      - key: blocked-key
    plugins:
      - name: request-termination
        config: {{status_code: 403, message: "account suspended"}}
"#
    )
}

#[tokio::test]
async fn key_auth_guards_a_route_and_tells_the_upstream_who_called() {
    let up = Upstream::start("weather").await;
    let gw = Gateway::start(&config(up.port())).await;

    let reply = send("GET", &gw.url("/forecast/berlin"), &[], "").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["message"], "No API key found in request");
    assert_eq!(reply.header("www-authenticate"), Some("Key realm=\"kong\""));
    assert!(reply.header("x-kong-response-latency").is_some());

    let reply = send(
        "GET",
        &gw.url("/forecast/berlin"),
        &[("apikey", "wrong")],
        "",
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.json()["message"].clone()),
        (401, "Unauthorized".into())
    );
    assert_eq!(up.hits(), 0, "rejected requests never reach the upstream");

    let reply = send(
        "GET",
        &gw.url("/forecast/berlin?apikey=alice-key&days=3"),
        &[("x-consumer-id", "forged")],
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.echoed("x-consumer-username").as_deref(),
        Some("alice")
    );
    assert_eq!(
        reply.echoed("x-consumer-custom-id").as_deref(),
        Some("portal-1")
    );
    assert_ne!(reply.echoed("x-consumer-id").as_deref(), Some("forged"));
    assert_eq!(
        reply.json()["query"],
        "days=3",
        "hide_credentials removes the key from the query"
    );

    let reply = send("GET", &gw.url("/open"), &[], "").await;
    assert_eq!(reply.status, 200, "routes without the plugin stay open");
}

#[tokio::test]
async fn a_key_in_the_body_is_read_then_removed_and_the_length_restated() {
    let up = Upstream::start("weather").await;
    let gw = Gateway::start(&config(up.port())).await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let reply = send(
        "POST",
        &gw.url("/forecast"),
        &form,
        "apikey=alice-key&city=berlin",
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.json()["body"], "city=berlin");
    assert_eq!(reply.echoed("content-length").as_deref(), Some("11"));
}

#[tokio::test]
async fn consumer_scoped_plugins_apply_after_authentication() {
    let up = Upstream::start("weather").await;
    let gw = Gateway::start(&config(up.port())).await;
    let reply = send(
        "GET",
        &gw.url("/forecast"),
        &[("apikey", "blocked-key")],
        "",
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["message"], "account suspended");
    let reply = send("GET", &gw.url("/forecast"), &[("apikey", "alice-key")], "").await;
    assert_eq!(reply.status, 200, "other consumers are unaffected");
    assert_eq!(up.hits(), 1);
}

// === prometheus ===

async fn scrape(gw: &Gateway) -> String {
    let response = tower::ServiceExt::oneshot(
        gateway::status::app(gw.node.clone()),
        http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn prometheus_records_kong_series_after_the_body_went_out() {
    let up = Upstream::start("weather").await;
    let port = up.port();
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://127.0.0.1:{port}
    routes:
      - name: forecast
        paths: [/forecast]
        plugins:
          - name: key-auth
  - name: pooled
    host: weather-pool
    routes: [{{name: pooled, paths: [/pooled]}}]
consumers:
  - username: alice
    keyauth_credentials: [{{key: alice-key}}]
upstreams:
  - name: weather-pool
    targets: [{{target: "127.0.0.1:{port}"}}]
plugins:
  - name: prometheus
    config: {{status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: true, upstream_health_metrics: true}}
"#
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(
            send("GET", &gw.url("/forecast"), &[("apikey", "alice-key")], "")
                .await
                .status,
            200
        );
    }
    assert_eq!(send("GET", &gw.url("/forecast"), &[], "").await.status, 401);
    assert_eq!(send("GET", &gw.url("/nowhere"), &[], "").await.status, 404);
    let text = scrape(&gw).await;
    let ok = "kong_http_requests_total{service=\"weather\",route=\"forecast\",code=\"200\",source=\"service\",consumer=\"alice\"} 3";
    assert!(text.contains(ok), "{text}");
    let denied = "kong_http_requests_total{service=\"weather\",route=\"forecast\",code=\"401\",source=\"kong\",consumer=\"\"} 1";
    assert!(text.contains(denied), "{text}");
    assert!(
        text.contains("kong_upstream_latency_ms_count{service=\"weather\",route=\"forecast\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("kong_kong_latency_ms_count{service=\"weather\",route=\"forecast\"} 4"),
        "{text}"
    );
    let egress = text
        .lines()
        .find(|l| l.starts_with("kong_bandwidth_bytes{service=\"weather\",route=\"forecast\",direction=\"egress\",consumer=\"alice\"}"))
        .unwrap_or_else(|| panic!("no egress series: {text}"));
    let bytes: u64 = egress.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(bytes > 300, "three echo bodies went out: {bytes}");
    assert!(text.contains("kong_datastore_reachable 1"));
    assert!(
        text.contains("kong_nginx_requests_total{node_id="),
        "{text}"
    );
}

// === transformers through the proxy ===

#[tokio::test]
async fn transformers_rewrite_the_request_and_the_json_response() {
    let up = Upstream::start("weather").await;
    let port = up.port();
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://127.0.0.1:{port}/v1
    routes:
      - name: forecast
        paths: ["~/forecast/(?<apikey>[^/]+)/([^/]+)$"]
        plugins:
          - name: request-transformer
            ordering: {{before: {{access: [key-auth]}}}}
            config:
              add: {{headers: ["apikey:$(uri_captures['apikey'])", "x-location:$(uri_captures[2])"]}}
              replace: {{uri: "/v1/forecast/$(uri_captures[2])"}}
          - name: key-auth
          - name: response-transformer
            config:
              remove: {{json: [headers]}}
              add: {{json: ["served_by:gateway"], headers: ["x-served-by:gateway"]}}
consumers:
  - username: alice
    keyauth_credentials: [{{key: alice-key}}]
"#
    ))
    .await;
    let reply = send("GET", &gw.url("/forecast/alice-key/berlin"), &[], "").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    assert_eq!(
        body["path"], "/v1/forecast/berlin",
        "replace.uri with a numbered capture"
    );
    assert_eq!(body["served_by"], "gateway", "response JSON edited");
    assert!(body.get("headers").is_none(), "response JSON field removed");
    assert_eq!(reply.header("x-served-by"), Some("gateway"));
    assert_eq!(
        reply
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok()),
        Some(reply.body.len()),
        "the edited body goes out with its own length"
    );
    let reply = send("GET", &gw.url("/forecast/wrong/berlin"), &[], "").await;
    assert_eq!(reply.status, 401, "the key from the path is checked");
}
