//! The model user's setup end to end through the real snapshot, router and chain: the API key
//! sits in the path, request-transformer copies it into a header, key-auth finds it there.

use crate::declarative::parse_str;
use crate::plugins::RequestCtx;
use crate::router::RequestInfo;
use crate::snapshot::Snapshot;
use http::{HeaderMap, Method, StatusCode};

const CONFIG: &str = r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://weather.internal:8080/v1
    routes:
      - name: forecast
        paths: ["~/forecast/(?<apikey>[^/]+)/(?<location>[^/]+)$"]
        plugins:
          - name: key-auth
          - name: request-transformer
            ordering:
              before:
                access: [key-auth]
            config:
              add:
                headers: ["apikey:$(uri_captures['apikey'])"]
              replace:
                uri: "/forecast/$(uri_captures.location)"
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
"#;

/// Route the request, then run the route's chain in order; the status of any plugin answer.
async fn run(snapshot: &Snapshot, path: &str) -> (RequestCtx, Option<StatusCode>) {
    let headers = HeaderMap::new();
    let info = RequestInfo {
        method: "GET",
        host: "gateway.example",
        path,
        scheme: "http",
        sni: None,
        headers: &headers,
    };
    let found = snapshot
        .router
        .find(&info)
        .expect("the forecast route matches");
    let mut ctx = RequestCtx::new(
        Method::GET,
        path,
        None,
        HeaderMap::new(),
        [10, 0, 0, 1].into(),
    );
    ctx.uri_captures = found.captures.named.clone();
    let chain = &snapshot.chains[found.route_index];
    let names: Vec<&str> = chain.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["request-transformer", "key-auth"],
        "ordering moves the transformer first"
    );
    for entry in &chain.entries {
        let Some(handler) = entry.handler_for(ctx.consumer_id()) else {
            continue;
        };
        if let Some(answer) = handler.access(&mut ctx).await {
            return (ctx, Some(answer.status()));
        }
    }
    (ctx, None)
}

#[tokio::test]
async fn a_key_in_the_path_identifies_the_consumer() {
    let config = parse_str(CONFIG, "forecast.yaml").expect("valid config");
    let snapshot = Snapshot::compile(config, 1, &Default::default());

    let (ctx, answer) = run(&snapshot, "/forecast/alice-key/berlin").await;
    assert_eq!(answer, None, "key-auth lets the request through");
    let consumer = ctx.consumer.as_ref().expect("a consumer");
    assert_eq!(consumer.username.as_deref(), Some("alice"));
    assert_eq!(ctx.headers["apikey"], "alice-key");
    assert_eq!(ctx.headers["x-consumer-username"], "alice");
    assert_eq!(
        ctx.upstream_path.as_deref(),
        Some("/forecast/berlin"),
        "the key leaves the upstream path"
    );

    let (ctx, answer) = run(&snapshot, "/forecast/wrong-key/berlin").await;
    assert_eq!(
        answer,
        Some(StatusCode::UNAUTHORIZED),
        "a wrong key is refused"
    );
    assert!(ctx.consumer.is_none());
}
