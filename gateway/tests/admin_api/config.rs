//! `/config` on DB-less nodes (replace, export, errors with lines) and upstream health.

use super::*;

const DECLARATIVE: &str = r#"_format_version: "3.0"
services:
  - name: weather
    url: http://127.0.0.1:9/v1
    routes:
      - name: forecast
        paths: ["~/forecast/(?<apikey>[^/]+)/(?<location>[^/]+)$"]
upstreams:
  - name: pool.internal
    healthchecks:
      passive:
        unhealthy:
          http_failures: 2
    targets:
      - target: 127.0.0.1:9001
      - target: 127.0.0.1:9002
"#;

#[tokio::test]
async fn post_config_replaces_a_dbless_configuration_and_is_live_at_once() {
    let api = Api::over(Store::Memory(MemoryStore::new(Config::default())));
    let (status, body) = api
        .json(Method::POST, "/config", json!({ "config": DECLARATIVE }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["services"][0]["name"], "weather");
    let snapshot = api.node.snapshot();
    assert_eq!(
        snapshot.config.routes.len(),
        1,
        "the new snapshot serves the posted config"
    );
    let (status, listed) = api.get("/services/weather").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["host"], "127.0.0.1");
    let (status, exported) = api.get("/config").await;
    assert_eq!(status, StatusCode::OK);
    let text = exported["config"].as_str().expect("config text");
    assert!(text.contains("pool.internal"), "{text}");

    // Curl's form: config=<file contents>.
    let form = format!(
        "config={}",
        url::form_urlencoded::byte_serialize(DECLARATIVE.as_bytes()).collect::<String>()
    );
    let (status, _) = api.form(Method::POST, "/config", &form).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn post_config_reports_problems_with_their_lines_and_keeps_the_old_config() {
    let api = Api::over(Store::Memory(MemoryStore::new(Config::default())));
    let (status, _) = api
        .json(Method::POST, "/config", json!({ "config": DECLARATIVE }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let broken = "_format_version: \"3.0\"\nservices:\n  - name: a\n    port: 80\n";
    let (status, body) = api
        .json(Method::POST, "/config", json!({ "config": broken }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 14);
    assert_eq!(body["name"], "invalid declarative configuration");
    assert_eq!(body["problems"][0]["line"], 3, "{body}");
    assert_eq!(
        api.node.snapshot().config.services[0].name.as_deref(),
        Some("weather")
    );
}

#[tokio::test]
async fn post_config_is_refused_with_a_database() {
    let api = Api::postgres().await;
    let (status, body) = api
        .json(Method::POST, "/config", json!({ "config": DECLARATIVE }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "this endpoint is only available when Kong is configured to not use a database"
    );
}

#[tokio::test]
async fn upstream_health_lists_targets_and_takes_manual_overrides() {
    let api = Api::over(Store::Memory(MemoryStore::new(Config::default())));
    let (status, _) = api
        .json(Method::POST, "/config", json!({ "config": DECLARATIVE }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api.get("/upstreams/pool.internal/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let healths: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["health"].as_str().unwrap())
        .collect();
    assert_eq!(healths, ["HEALTHY", "HEALTHY"]);
    let (status, _) = api
        .send(
            Method::PUT,
            "/upstreams/pool.internal/targets/127.0.0.1:9001/unhealthy",
            None,
            String::new(),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.get("/upstreams/pool.internal/health").await;
    let first = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "127.0.0.1:9001")
        .cloned()
        .unwrap();
    assert_eq!(first["health"], "UNHEALTHY");
    let (_, whole) = api
        .get("/upstreams/pool.internal/health?balancer_health=1")
        .await;
    assert_eq!(
        whole["data"]["health"], "HEALTHY",
        "one healthy target keeps the balancer healthy"
    );
    let (status, _) = api.get("/upstreams/nope/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
