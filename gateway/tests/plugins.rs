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
