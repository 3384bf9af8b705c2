//! The Admin API behind the proxy, the pattern Kong documents for exposing it safely: the Admin
//! API listens on loopback only; a service points at it, and its route is guarded by key-auth
//! and by `acl` (only the `admin` group), so a developer portal reaches it through the public
//! listener with an admin consumer's key, while the developers it signs up cannot.

mod support;

use gateway::node::Node;
use gateway::proxy::Proxy;
use gateway::settings::Settings;
use gateway::store::{migrations, PgStore, Store};
use std::collections::BTreeMap;
use support::send;

#[tokio::test]
async fn a_portal_drives_the_admin_api_through_a_key_auth_guarded_route() {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    let store = Store::Postgres(PgStore::connect_lazy(&url).expect("a pool"));
    let node = Node::new(store, None);
    node.refresh().await.expect("load");

    // The Admin API on loopback, as KONG_ADMIN_LISTEN's default.
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind admin");
    let admin_port = admin.local_addr().unwrap().port();
    let app = gateway::admin::app(node.clone());
    tokio::spawn(async move { axum::serve(admin, app).await });
    let admin_url = |path: &str| format!("http://127.0.0.1:{admin_port}{path}");

    // Configure the loopback through the Admin API itself, as an operator would with curl.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let body = format!("name=admin-api&url=http://127.0.0.1:{admin_port}");
    assert_eq!(
        send("POST", &admin_url("/services"), &form, &body)
            .await
            .status,
        201
    );
    let route = "name=admin-api&paths[]=/admin-api";
    assert_eq!(
        send(
            "POST",
            &admin_url("/services/admin-api/routes"),
            &form,
            route
        )
        .await
        .status,
        201
    );
    let plugin = "name=key-auth&config.key_names[]=apikey&config.hide_credentials=true";
    assert_eq!(
        send(
            "POST",
            &admin_url("/routes/admin-api/plugins"),
            &form,
            plugin
        )
        .await
        .status,
        201
    );
    // Without this, any developer's key would open the Admin API.
    let acl = "name=acl&config.allow[]=admin";
    let created = send("POST", &admin_url("/routes/admin-api/plugins"), &form, acl).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        send("POST", &admin_url("/consumers"), &form, "username=portal")
            .await
            .status,
        201
    );
    let group = send(
        "POST",
        &admin_url("/consumers/portal/acls"),
        &form,
        "group=admin",
    )
    .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let key = send(
        "POST",
        &admin_url("/consumers/portal/key-auth"),
        &form,
        "key=portal-secret",
    )
    .await;
    assert_eq!(key.status, 201);

    // The public proxy listener.
    let settings = Settings::parse(&BTreeMap::new()).expect("defaults");
    let proxy = Proxy::new(node.clone(), &settings);
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let public_port = public.local_addr().unwrap().port();
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(gateway::server::serve_proxy(
        public,
        proxy,
        settings.max_header_size,
        stop_rx,
    ));
    let public_url = |path: &str| format!("http://127.0.0.1:{public_port}{path}");

    let denied = send("GET", &public_url("/admin-api/consumers"), &[], "").await;
    assert_eq!(denied.status, 401, "no key, no Admin API");
    let wrong = send(
        "GET",
        &public_url("/admin-api/consumers"),
        &[("apikey", "guess")],
        "",
    )
    .await;
    assert_eq!(wrong.status, 401);

    let listed = send(
        "GET",
        &public_url("/admin-api/consumers"),
        &[("apikey", "portal-secret")],
        "",
    )
    .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"][0]["username"], "portal");

    // The portal signs a developer up: a consumer and a key, through the public listener.
    let auth = [
        ("apikey", "portal-secret"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let created = send(
        "POST",
        &public_url("/admin-api/consumers"),
        &auth,
        "username=dev-1",
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let key = send(
        "POST",
        &public_url("/admin-api/consumers/dev-1/key-auth"),
        &auth,
        "",
    )
    .await;
    assert_eq!(key.status, 201);
    let generated = key.json()["key"]
        .as_str()
        .expect("a generated key")
        .to_string();
    assert_eq!(generated.len(), 32);

    // The developer's key is valid, but the developer is not in the admin group.
    let developer = [("apikey", generated.as_str())];
    for path in [
        "/admin-api/consumers",
        "/admin-api/consumers/dev-1/key-auth",
    ] {
        let refused = send("GET", &public_url(path), &developer, "").await;
        assert_eq!(refused.status, 403, "{path}");
        assert_eq!(refused.json()["message"], "You cannot consume this service");
    }
    let escalate = send(
        "POST",
        &public_url("/admin-api/consumers/dev-1/acls"),
        &[
            ("apikey", generated.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        "group=admin",
    )
    .await;
    assert_eq!(
        escalate.status, 403,
        "a developer cannot join the admin group"
    );
    let still = send(
        "GET",
        &public_url("/admin-api/consumers/dev-1/acls"),
        &[("apikey", "portal-secret")],
        "",
    )
    .await;
    assert_eq!(still.status, 200, "the portal's key still works");
    assert_eq!(still.json()["data"], serde_json::json!([]));
}
