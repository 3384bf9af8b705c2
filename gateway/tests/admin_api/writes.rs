//! Creating, replacing, changing and deleting entities: bodies, validation and conflicts.

use super::*;

#[tokio::test]
async fn curl_form_bodies_create_services_and_routes() {
    let api = Api::postgres().await;
    let (status, service) = api
        .form(
            Method::POST,
            "/services",
            "name=weather&url=http://backend:8080/v1",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{service}");
    assert_eq!(
        (
            &service["protocol"],
            &service["host"],
            &service["port"],
            &service["path"]
        ),
        (
            &json!("http"),
            &json!("backend"),
            &json!(8080),
            &json!("/v1")
        )
    );
    assert_eq!(service["retries"], json!(5));
    let sid = id(&service);

    let body = format!("paths[]=/posts&paths[]=/comments&service.id={sid}");
    let (status, route) = api.form(Method::POST, "/routes", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{route}");
    assert_eq!(route["paths"], json!(["/posts", "/comments"]));
    assert_eq!(route["service"], json!({ "id": sid }));
    assert_eq!(route["strip_path"], json!(true));

    let body = "name=r2&paths=/a&paths=/b&strip_path=false&methods=GET&headers.x-version=1";
    let (status, nested) = api
        .form(Method::POST, "/services/weather/routes", body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{nested}");
    assert_eq!(nested["service"]["id"], json!(sid));
    assert_eq!(nested["paths"], json!(["/a", "/b"]));
    assert_eq!(nested["strip_path"], json!(false));
    assert_eq!(nested["methods"], json!(["GET"]));
    assert_eq!(nested["headers"], json!({ "x-version": ["1"] }));

    let (status, by_name) = api
        .form(
            Method::POST,
            "/routes",
            "hosts=example.com&service.name=weather",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{by_name}");
    assert_eq!(by_name["service"]["id"], json!(sid));

    let (status, err) = api
        .form(Method::POST, "/routes", "paths=/x&service.name=nope")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], json!(4));
    assert_eq!(err["name"], json!("foreign key violation"));
    assert_eq!(err["fields"], json!({ "service": { "name": "nope" } }));

    let missing = uuid::Uuid::new_v4();
    let (status, err) = api
        .json(
            Method::POST,
            "/routes",
            json!({ "paths": ["/x"], "service": { "id": missing } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        err["message"],
        json!(format!("the foreign key '{{id=\"{missing}\"}}' does not reference an existing 'services' entity."))
    );
}

#[tokio::test]
async fn multipart_bodies_are_forms_too() {
    let api = Api::postgres().await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"tags[]\"\r\n\r\nvip\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let (status, consumer) = api.send(Method::POST, "/consumers", Some(&ct), body).await;
    assert_eq!(status, StatusCode::CREATED, "{consumer}");
    assert_eq!(
        (&consumer["username"], &consumer["tags"]),
        (&json!("bob"), &json!(["vip"]))
    );
}

#[tokio::test]
async fn schema_violations_report_every_field() {
    let api = Api::postgres().await;
    let (status, err) = api
        .json(
            Method::POST,
            "/services",
            json!({ "name": "x", "host": "h", "port": "abc", "protocol": "ftp", "retries": 99999 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], json!(2));
    assert_eq!(err["name"], json!("schema violation"));
    assert_eq!(err["fields"]["port"], json!("expected an integer"));

    let (_, err) = api
        .json(
            Method::POST,
            "/services",
            json!({ "name": "bad name!", "protocol": "ftp" }),
        )
        .await;
    let fields = err["fields"].as_object().expect("fields");
    assert!(
        fields.contains_key("name")
            && fields.contains_key("protocol")
            && fields.contains_key("host"),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("3 schema violations ("),
        "{err}"
    );

    let (status, err) = api
        .json(Method::POST, "/services", json!({ "name": "ok" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["message"],
        json!("schema violation (host: required field missing)")
    );
    assert_eq!(err["fields"], json!({ "host": "required field missing" }));

    let (status, err) = api
        .json(
            Method::POST,
            "/consumers",
            json!({ "nickname": "x", "username": "u" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Kong: `{"nickname": "unknown field"}`; entities::parse currently nests the name twice.
    assert!(err["fields"].get("nickname").is_some(), "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field"),
        "{err}"
    );

    let (status, err) = api
        .send(
            Method::POST,
            "/services",
            Some("application/json"),
            "{oops".into(),
        )
        .await;
    assert_eq!(
        (status, err),
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "Cannot parse JSON body" })
        )
    );
    let (status, _) = api
        .send(
            Method::POST,
            "/services",
            Some("text/plain"),
            "host=x".into(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, err) = api
        .form(Method::POST, "/plugins", "name=no-such-plugin")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["fields"]["name"],
        json!(
            "plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property"
        )
    );
}

#[tokio::test]
async fn duplicates_conflict() {
    let api = Api::postgres().await;
    api.create("/services", json!({ "name": "weather", "host": "a" }))
        .await;
    let (status, err) = api
        .json(
            Method::POST,
            "/services",
            json!({ "name": "weather", "host": "b" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        err,
        json!({
            "code": 5, "name": "unique constraint violation",
            "message": "UNIQUE violation detected on '{name=\"weather\"}'", "fields": { "name": "weather" },
        })
    );
    api.create("/consumers", json!({ "username": "alice" }))
        .await;
    api.create("/consumers", json!({ "username": "bob" })).await;
    let (status, _) = api
        .form(Method::POST, "/consumers/alice/key-auth", "key=secret")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = api
        .form(Method::POST, "/consumers/bob/key-auth", "key=secret")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["fields"], json!({ "key": "secret" }));
}

#[tokio::test]
async fn put_upserts_by_name_and_by_id() {
    let api = Api::postgres().await;
    let (status, first) = api
        .json(
            Method::PUT,
            "/services/weather",
            json!({ "host": "a", "port": 81 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["name"], json!("weather"));
    let (status, second) = api
        .json(Method::PUT, "/services/weather", json!({ "host": "b" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!((id(&second), &second["host"]), (id(&first), &json!("b")));
    assert_eq!(
        second["port"],
        json!(80),
        "PUT replaces: omitted fields fall back to defaults"
    );
    assert_eq!(second["created_at"], first["created_at"]);

    let chosen = uuid::Uuid::new_v4().to_string();
    let path = format!("/services/{chosen}");
    let (status, by_id) = api
        .json(Method::PUT, &path, json!({ "name": "other", "host": "c" }))
        .await;
    assert_eq!((status, id(&by_id)), (StatusCode::OK, chosen.clone()));
    assert_eq!(api.get("/services/other").await.1["id"], json!(chosen));

    let (status, consumer) = api
        .form(Method::PUT, "/consumers/carol", "custom_id=c-1")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&consumer["username"], &consumer["custom_id"]),
        (&json!("carol"), &json!("c-1"))
    );
}

#[tokio::test]
async fn patch_merges_into_the_stored_entity() {
    let api = Api::postgres().await;
    let service = api
        .create(
            "/services",
            json!({ "name": "weather", "url": "http://a:8080/v1" }),
        )
        .await;
    let (status, patched) = api
        .form(Method::PATCH, "/services/weather", "retries=3&tags[]=x")
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (&patched["retries"], &patched["host"], &patched["port"]),
        (&json!(3), &json!("a"), &json!(8080))
    );
    assert_eq!(
        (&patched["tags"], id(&patched)),
        (&json!(["x"]), id(&service))
    );
    let (_, by_url) = api
        .json(
            Method::PATCH,
            &format!("/services/{}", id(&service)),
            json!({ "url": "https://b" }),
        )
        .await;
    assert_eq!(
        (&by_url["protocol"], &by_url["port"], &by_url["path"]),
        (&json!("https"), &json!(443), &Value::Null)
    );

    let plugin = api
        .form(
            Method::POST,
            "/services/weather/plugins",
            "name=rate-limiting&config.minute=5&config.hour=100",
        )
        .await
        .1;
    assert_eq!(plugin["config"], json!({ "minute": 5, "hour": 100 }));
    let path = format!("/plugins/{}", id(&plugin));
    let (status, plugin) = api.form(Method::PATCH, &path, "config.minute=10").await;
    assert_eq!(status, StatusCode::OK, "{plugin}");
    assert_eq!(plugin["config"], json!({ "minute": 10, "hour": 100 }));
    assert_eq!(plugin["service"]["id"], json!(id(&service)));

    let (status, err) = api
        .json(
            Method::PATCH,
            "/services/weather",
            json!({ "port": 0, "protocol": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["fields"]["protocol"].is_string(), "{err}");
    let (status, _) = api
        .json(Method::PATCH, "/services/missing", json!({ "retries": 1 }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deletes_cascade_or_are_refused() {
    let api = Api::postgres().await;
    api.create("/consumers", json!({ "username": "alice" }))
        .await;
    let key = api.create("/consumers/alice/key-auth", json!({})).await;
    assert_eq!(
        key["key"].as_str().map(str::len),
        Some(32),
        "a generated key: {key}"
    );
    let (status, body) = api.delete("/consumers/alice").await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(
        api.get(&format!("/key-auths/{}", id(&key))).await.0,
        StatusCode::NOT_FOUND
    );

    api.create("/services", json!({ "name": "s", "host": "h" }))
        .await;
    let route = api
        .create("/services/s/routes", json!({ "paths": ["/"] }))
        .await;
    let (status, err) = api.delete("/services/s").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], json!(4));
    assert_eq!(
        err["message"],
        json!("an existing 'routes' entity references this 'services' entity")
    );
    assert_eq!(api.get("/services/s").await.0, StatusCode::OK);

    assert_eq!(
        api.delete(&format!("/routes/{}", id(&route))).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.delete("/services/s").await.0, StatusCode::NO_CONTENT);
    // Kong answers 204 for what is already gone, but 404 under a missing parent or child.
    assert_eq!(api.delete("/services/s").await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        api.delete("/consumers/nobody/key-auth/k").await.0,
        StatusCode::NOT_FOUND
    );
}
