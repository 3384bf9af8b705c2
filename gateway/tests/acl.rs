//! ACL group memberships (`acls`) through the Admin API, over PostgreSQL and DB-less: nested
//! under their consumer and named there by group, one membership per (consumer, group), and
//! gone with their consumer.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gateway::admin::app;
use gateway::declarative::parse_str;
use gateway::node::Node;
use gateway::store::{migrations, MemoryStore, PgStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn send(
    app: &Router,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("a request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn postgres_app() -> Router {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    let store = Store::Postgres(PgStore::connect_lazy(&url).expect("a pool"));
    app(Node::new(store, None))
}

fn groups(list: &Value) -> Vec<&str> {
    let mut groups: Vec<&str> = list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["group"].as_str().expect("a group"))
        .collect();
    groups.sort();
    groups
}

#[tokio::test]
async fn memberships_are_unique_per_consumer_and_named_by_group_under_it() {
    let api = postgres_app().await;
    for name in ["alice", "bob"] {
        let (status, _) = send(
            &api,
            Method::POST,
            "/consumers",
            Some(json!({ "username": name })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let admin = json!({ "group": "admin", "tags": ["ops"] });
    let (status, created) = send(
        &api,
        Method::POST,
        "/consumers/alice/acls",
        Some(admin.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["group"], "admin");
    assert!(
        created.get("updated_at").is_none(),
        "Kong's acls have no updated_at"
    );

    let (status, body) = send(
        &api,
        Method::POST,
        "/consumers/alice/acls",
        Some(admin.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("group=\"admin\""),
        "{body}"
    );
    let (status, _) = send(&api, Method::POST, "/consumers/bob/acls", Some(admin)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the same group for another consumer"
    );

    let (status, found) = send(&api, Method::GET, "/consumers/alice/acls/admin", None).await;
    assert_eq!((status, &found["id"]), (StatusCode::OK, &created["id"]));
    let by_id = format!("/consumers/bob/acls/{}", created["id"].as_str().unwrap());
    assert_eq!(
        send(&api, Method::GET, &by_id, None).await.0,
        StatusCode::NOT_FOUND,
        "alice's, not bob's"
    );
    let (_, owner) = send(
        &api,
        Method::GET,
        &format!("/acls/{}/consumer", created["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(owner["username"], "alice");

    // PUT by group creates; PATCH edits; DELETE by group removes.
    let (status, ops) = send(
        &api,
        Method::PUT,
        "/consumers/alice/acls/ops",
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, &ops["group"]),
        (StatusCode::OK, &json!("ops")),
        "{ops}"
    );
    let (status, patched) = send(
        &api,
        Method::PATCH,
        "/consumers/alice/acls/ops",
        Some(json!({ "tags": ["x"] })),
    )
    .await;
    assert_eq!((status, &patched["tags"]), (StatusCode::OK, &json!(["x"])));
    assert_eq!(
        groups(
            &send(&api, Method::GET, "/consumers/alice/acls", None)
                .await
                .1
        ),
        ["admin", "ops"]
    );
    let (status, _) = send(&api, Method::DELETE, "/consumers/alice/acls/ops", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, body) = send(&api, Method::POST, "/consumers/alice/acls", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["fields"]["group"], "required field missing", "{body}");
    let (status, body) = send(&api, Method::POST, "/acls", Some(json!({ "group": "g" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"]["consumer"], "required field missing",
        "{body}"
    );

    // A consumer's memberships go with it.
    assert_eq!(
        groups(&send(&api, Method::GET, "/acls", None).await.1),
        ["admin", "admin"]
    );
    let (status, _) = send(&api, Method::DELETE, "/consumers/alice", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = send(&api, Method::GET, "/acls", None).await;
    assert_eq!(left["data"].as_array().unwrap().len(), 1);
    assert_ne!(left["data"][0]["consumer"]["id"], created["consumer"]["id"]);
}

#[tokio::test]
async fn dbless_memberships_come_from_the_file_and_are_read_only() {
    let config = parse_str(
        "_format_version: \"3.0\"\nconsumers:\n  - username: portal\n    acls: [{group: admin}]\n",
        "kong.yaml",
    )
    .expect("a valid file");
    let api = app(Node::new(Store::Memory(MemoryStore::new(config)), None));
    let (status, found) = send(&api, Method::GET, "/consumers/portal/acls/admin", None).await;
    assert_eq!((status, &found["group"]), (StatusCode::OK, &json!("admin")));
    let (status, _) = send(
        &api,
        Method::POST,
        "/consumers/portal/acls",
        Some(json!({ "group": "ops" })),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, schema) = send(&api, Method::GET, "/schemas/acls", None).await;
    assert_eq!(status, StatusCode::OK);
    let group = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f.get("group"))
        .expect("a group field");
    assert_eq!(group["required"], true);
}
