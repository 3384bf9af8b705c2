//! Reading: unknown paths, pagination, tag filters and the nested endpoints.

use super::*;

#[tokio::test]
async fn unknown_paths_methods_and_entities() {
    let api = Api::postgres().await;
    let not_found = json!({ "message": "Not found" });
    for path in [
        "/services/nope",
        "/nothing",
        "/services/nope/routes",
        "/targets",
        "/upstreams/u/health",
    ] {
        assert_eq!(
            api.get(path).await,
            (StatusCode::NOT_FOUND, not_found.clone()),
            "{path}"
        );
    }
    let (status, _) = api
        .form(Method::POST, "/services/nope/routes", "paths=/x")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = api.delete("/services").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "message": "Method not allowed" })
        )
    );
    let (status, _) = api.json(Method::POST, "/services/x", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = api.delete("/status").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn pages_link_to_the_next() {
    let api = Api::postgres().await;
    for i in 0..5 {
        api.create("/consumers", json!({ "username": format!("user{i}") }))
            .await;
    }
    let (status, page) = api.get("/consumers?size=2").await;
    assert_eq!(status, StatusCode::OK);
    let mut names = Vec::new();
    let mut page = page;
    let mut pages = 1;
    loop {
        names.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|c| c["username"].clone()),
        );
        let Some(next) = page["next"].as_str() else {
            break;
        };
        assert!(
            next.starts_with("/consumers?offset=") && next.ends_with("&size=2"),
            "{next}"
        );
        assert!(page["offset"].is_string(), "{page}");
        page = api.get(next).await.1;
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        (0..5)
            .map(|i| json!(format!("user{i}")))
            .collect::<Vec<_>>()
    );
    assert!(
        page.get("offset").is_none(),
        "the last page has no offset: {page}"
    );
    assert_eq!(page["next"], Value::Null);

    let (status, err) = api.get("/consumers?size=0").await;
    assert_eq!((status, &err["code"]), (StatusCode::BAD_REQUEST, &json!(9)));
    let (status, err) = api.get("/consumers?size=abc").await;
    assert_eq!(
        (status, &err["message"]),
        (StatusCode::BAD_REQUEST, &json!("size must be a number"))
    );
    let (status, err) = api.get("/consumers?offset=garbage").await;
    assert_eq!((status, &err["code"]), (StatusCode::BAD_REQUEST, &json!(7)));
    let (_, empty) = api.get("/services").await;
    assert_eq!(empty, json!({ "data": [], "next": null }));
}

#[tokio::test]
async fn tags_filter_listings() {
    let api = Api::postgres().await;
    for (name, tags) in [
        ("ab", json!(["a", "b"])),
        ("a", json!(["a"])),
        ("c", json!(["c"])),
    ] {
        api.create(
            "/services",
            json!({ "name": name, "host": "h", "tags": tags }),
        )
        .await;
    }
    let names = |page: Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(api.get("/services?tags=a").await.1), ["ab", "a"]);
    assert_eq!(names(api.get("/services?tags=a,b").await.1), ["ab"]);
    assert_eq!(names(api.get("/services?tags=b/c").await.1), ["ab", "c"]);
    let (_, page) = api.get("/services?tags=a&size=1").await;
    assert_eq!(names(page.clone()), ["ab"]);
    assert!(
        page["next"]
            .as_str()
            .unwrap_or("")
            .contains("&tags=a&size=1"),
        "{page}"
    );
    let (status, err) = api.get("/services?tags=a,b/c").await;
    assert_eq!(
        (status, &err["code"]),
        (StatusCode::BAD_REQUEST, &json!(11))
    );
}

#[tokio::test]
async fn nested_endpoints() {
    let api = Api::postgres().await;
    let service = api
        .create("/services", json!({ "name": "s", "host": "h" }))
        .await;
    let route = api
        .create("/services/s/routes", json!({ "name": "r", "paths": ["/"] }))
        .await;
    let consumer = api
        .create("/consumers", json!({ "username": "alice" }))
        .await;
    api.create("/consumers", json!({ "username": "bob" })).await;

    let on_route = api
        .create("/routes/r/plugins", json!({ "name": "key-auth" }))
        .await;
    assert_eq!(on_route["route"]["id"], json!(id(&route)));
    let on_consumer = api
        .create(
            "/consumers/alice/plugins",
            json!({ "name": "rate-limiting", "config": { "minute": 1 } }),
        )
        .await;
    assert_eq!(on_consumer["consumer"]["id"], json!(id(&consumer)));
    assert_eq!(
        api.get("/routes/r/plugins").await.1["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(api.get("/services/s/plugins").await.1["data"], json!([]));
    assert_eq!(
        api.get(&format!("/routes/r/plugins/{}", id(&on_route)))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/services/s/plugins/{}", id(&on_route)))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/services/s/routes/r").await.1["id"],
        json!(id(&route))
    );

    api.form(Method::POST, "/consumers/alice/key-auth", "key=k1")
        .await;
    assert_eq!(
        api.get("/consumers/alice/key-auth/k1").await.1["consumer"]["id"],
        json!(id(&consumer))
    );
    assert_eq!(
        api.get("/consumers/bob/key-auth/k1").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/key-auths").await.1["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get("/key-auths/k1/consumer").await.1["username"],
        json!("alice")
    );

    let (status, svc) = api.get("/routes/r/service").await;
    assert_eq!((status, id(&svc)), (StatusCode::OK, id(&service)));
    let (status, svc) = api
        .json(Method::PATCH, "/routes/r/service", json!({ "retries": 1 }))
        .await;
    assert_eq!((status, &svc["retries"]), (StatusCode::OK, &json!(1)));
    assert_eq!(
        api.delete("/routes/r/service").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );

    api.create("/upstreams", json!({ "name": "u" })).await;
    let (status, target) = api
        .form(
            Method::POST,
            "/upstreams/u/targets",
            "target=10.0.0.1:8080&weight=50",
        )
        .await;
    assert_eq!(
        (status, &target["weight"]),
        (StatusCode::CREATED, &json!(50)),
        "{target}"
    );
    assert_eq!(
        api.get("/upstreams/u/targets/10.0.0.1:8080").await.1["id"],
        json!(id(&target))
    );
    let (status, target) = api
        .form(
            Method::PATCH,
            "/upstreams/u/targets/10.0.0.1:8080",
            "weight=10",
        )
        .await;
    assert_eq!((status, &target["weight"]), (StatusCode::OK, &json!(10)));
    assert_eq!(
        api.get("/upstreams/u/targets").await.1["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.delete("/upstreams/u/targets/10.0.0.1:8080").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get("/upstreams/u/targets/10.0.0.1:8080").await.0,
        StatusCode::NOT_FOUND
    );

    assert!(api.get("/plugins/enabled").await.1["enabled_plugins"]
        .as_array()
        .is_some_and(|p| p.contains(&json!("key-auth"))));
    assert_eq!(api.get("/plugins/schema/key-auth").await.0, StatusCode::OK);
    assert_eq!(
        api.get("/plugins/schema/nope").await.1,
        json!({ "message": "No plugin named 'nope'" })
    );
    assert!(api.get("/schemas/services").await.1["fields"].is_array());
    let (status, ok) = api
        .json(
            Method::POST,
            "/schemas/routes/validate",
            json!({ "paths": ["/"] }),
        )
        .await;
    assert_eq!(
        (status, ok),
        (
            StatusCode::OK,
            json!({ "message": "schema validation successful" })
        )
    );
}
