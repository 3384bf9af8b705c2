//! Node-level behaviour: live refresh, DB-less mode, `GET /`, `/status`, OpenAPI, outages.

use super::*;

#[tokio::test]
async fn writes_are_live_on_the_node_at_once() {
    let api = Api::postgres().await;
    api.create("/services", json!({ "name": "live", "host": "h" }))
        .await;
    let snapshot = api.node.snapshot();
    assert_eq!(
        snapshot
            .config
            .services
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
        [Some("live".to_string())]
    );
}

#[tokio::test]
async fn db_less_mode_is_read_only() {
    let service: Service = parse(json!({ "name": "weather", "host": "backend" })).expect("valid");
    let sid = service.id.to_string();
    let config = Config {
        services: vec![service],
        ..Config::default()
    };
    let api = Api::over(Store::Memory(MemoryStore::new(config)));

    assert_eq!(
        api.get("/services").await.1["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(api.get("/services/weather").await.1["id"], json!(sid));
    let (status, err) = api.form(Method::POST, "/services", "name=x&host=y").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        err,
        json!({ "code": 12, "name": "operation unsupported", "message": "cannot create 'services' entities when not using a database" })
    );
    let (status, err) = api
        .json(Method::PATCH, "/services/weather", json!({ "retries": 1 }))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        err["message"],
        json!("cannot update 'services' entities by 'name' when not using a database")
    );
    let (status, err) = api.delete(&format!("/services/{sid}")).await;
    assert_eq!(
        (status, &err["message"]),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            &json!("cannot remove 'services' entities when not using a database")
        )
    );
    assert_eq!(
        api.delete("/services/absent").await.0,
        StatusCode::NO_CONTENT
    );
    let (status, err) = api.json(Method::PUT, "/consumers/x", json!({})).await;
    assert_eq!((status, &err["message"]), (StatusCode::METHOD_NOT_ALLOWED, &json!("cannot create or update 'consumers' entities by 'username' when not using a database")));
    assert_eq!(
        api.get("/").await.1["configuration"]["database"],
        json!("off")
    );
}

#[tokio::test]
async fn root_status_and_openapi() {
    let api = Api::postgres().await;
    api.create("/plugins", json!({ "name": "key-auth" })).await;
    let (status, root) = api.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["version"], json!("3.9.0"));
    assert_eq!(root["node_id"], json!(api.node.id.to_string()));
    assert_eq!(
        root["plugins"]["available_on_server"]["key-auth"]["priority"],
        json!(1250)
    );
    assert_eq!(root["plugins"]["enabled_in_cluster"], json!(["key-auth"]));
    assert_eq!(root["configuration"]["database"], json!("postgres"));

    let (status, health) = api.get("/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["database"]["reachable"], json!(true));
    assert!(
        health["server"]["total_requests"]
            .as_u64()
            .is_some_and(|n| n >= 3),
        "{health}"
    );
    assert_eq!(
        health["configuration_hash"].as_str().map(str::len),
        Some(32)
    );

    let (status, doc) = api.get("/openapi.json").await;
    assert_eq!((status, &doc["openapi"]), (StatusCode::OK, &json!("3.0.3")));
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/services",
        "/services/{service}",
        "/services/{service}/routes",
        "/consumers/{consumer}/key-auth",
        "/routes/{route}/service",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(doc["paths"]["/services"]["post"]["requestBody"].is_object());
    assert!(api.get("/endpoints").await.1["data"]
        .as_array()
        .is_some_and(|d| d.len() == paths.len()));
}

#[tokio::test]
async fn unreachable_database_is_a_plain_500() {
    let store =
        Store::Postgres(PgStore::connect_lazy("postgres://nobody@127.0.0.1:1/none").expect("lazy"));
    let api = Api::over(store);
    let (status, body) = api.get("/services").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": "An unexpected error occurred" })
        )
    );
    assert_eq!(
        api.get("/status").await.1["database"]["reachable"],
        json!(false)
    );
}
