//! The PostgreSQL store's Kong-visible rules, below the Admin API: which field a unique or
//! foreign-key violation names, what a delete cascades to or is refused by, lookups by
//! endpoint key, and the version that every write bumps. (The Admin API's own tests cover
//! duplicate names and keys, and refusing to delete a service with routes, over HTTP.)

use gateway::config::Config;
use gateway::entities::Kind;
use gateway::store::{migrations, PgStore, Store, StoreError};
use serde_json::{json, Value};
use uuid::Uuid;

async fn store() -> Store {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    Store::Postgres(PgStore::connect_lazy(&url).expect("a pool"))
}

/// The canonical JSON of a valid entity, as the Admin API hands it to the store.
fn entity(kind: Kind, value: Value) -> Value {
    let mut config = Config::default();
    config
        .push_value(kind, value)
        .unwrap_or_else(|e| panic!("invalid {kind:?}: {e}"));
    config.values(kind).remove(0)
}

async fn insert(store: &Store, kind: Kind, value: Value) -> Value {
    let value = entity(kind, value);
    store.insert(kind, value).await.expect("insert")
}

fn id(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("an id")
}

#[tokio::test]
async fn unique_violations_name_the_field_and_value() {
    let store = store().await;
    let upstream = insert(&store, Kind::Upstream, json!({ "name": "up" })).await;
    let other = insert(&store, Kind::Upstream, json!({ "name": "other" })).await;
    let service = insert(&store, Kind::Service, json!({ "name": "s", "host": "h" })).await;
    insert(
        &store,
        Kind::Consumer,
        json!({ "username": "alice", "custom_id": "c-1" }),
    )
    .await;
    let target = json!({ "upstream": { "id": id(&upstream) }, "target": "10.0.0.1:80" });
    insert(&store, Kind::Target, target.clone()).await;
    insert(
        &store,
        Kind::Plugin,
        json!({ "name": "key-auth", "instance_name": "ka" }),
    )
    .await;

    let cases: Vec<(Kind, Value, &str, String)> = vec![
        (
            Kind::Consumer,
            json!({ "username": "alice" }),
            "username",
            "alice".into(),
        ),
        (
            Kind::Consumer,
            json!({ "username": "bob", "custom_id": "c-1" }),
            "custom_id",
            "c-1".into(),
        ),
        (
            Kind::Service,
            service.clone(),
            "id",
            id(&service).to_string(),
        ),
        (Kind::Target, target.clone(), "target", "10.0.0.1:80".into()),
        (
            Kind::Plugin,
            json!({ "name": "cors", "instance_name": "ka" }),
            "instance_name",
            "ka".into(),
        ),
        (
            Kind::Plugin,
            json!({ "name": "key-auth" }),
            "name",
            "key-auth (already configured on this scope)".into(),
        ),
    ];
    for (kind, value, field, expected) in cases {
        let value = if value.get("created_at").is_some() {
            value
        } else {
            entity(kind, value)
        };
        match store.insert(kind, value.clone()).await {
            Err(StoreError::Unique { field: f, value: v }) => {
                assert_eq!((f.as_str(), v), (field, expected), "{kind:?} {value}");
            }
            other => panic!("{kind:?} {value}: expected a unique violation, got {other:?}"),
        }
    }

    // The same target under another upstream, and the same plugin on another scope, are fine.
    let moved = json!({ "upstream": { "id": id(&other) }, "target": "10.0.0.1:80" });
    insert(&store, Kind::Target, moved).await;
    let scoped = json!({ "name": "key-auth", "service": { "id": id(&service) } });
    insert(&store, Kind::Plugin, scoped).await;
}

#[tokio::test]
async fn foreign_keys_name_the_missing_parent() {
    let store = store().await;
    let missing = Uuid::new_v4();
    let cases = [
        (
            Kind::Route,
            json!({ "service": { "id": missing }, "paths": ["/"] }),
            "service",
            "services",
        ),
        (
            Kind::KeyAuth,
            json!({ "consumer": { "id": missing }, "key": "k" }),
            "consumer",
            "consumers",
        ),
        (
            Kind::Plugin,
            json!({ "name": "cors", "route": { "id": missing } }),
            "route",
            "routes",
        ),
        (
            Kind::Target,
            json!({ "upstream": { "id": missing }, "target": "a:1" }),
            "upstream",
            "upstreams",
        ),
    ];
    for (kind, value, field, table) in cases {
        match store.insert(kind, entity(kind, value)).await {
            Err(StoreError::ForeignKey {
                field: f,
                table: t,
                id,
            }) => {
                assert_eq!((f.as_str(), t, id), (field, table, missing), "{kind:?}");
            }
            other => panic!("{kind:?}: expected a foreign key error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn deletes_cascade_like_kong_or_are_refused() {
    let store = store().await;
    let service = insert(&store, Kind::Service, json!({ "name": "s", "host": "h" })).await;
    let scope = json!({ "id": id(&service) });
    let plugin = insert(
        &store,
        Kind::Plugin,
        json!({ "name": "cors", "service": scope }),
    )
    .await;
    let route = insert(
        &store,
        Kind::Route,
        json!({ "service": scope, "paths": ["/"] }),
    )
    .await;
    let upstream = insert(&store, Kind::Upstream, json!({ "name": "up" })).await;
    let target = json!({ "upstream": { "id": id(&upstream) }, "target": "a:1" });
    let target = insert(&store, Kind::Target, target).await;

    match store.delete(Kind::Service, id(&service)).await {
        Err(StoreError::Referenced { parent, child }) => {
            assert_eq!((parent, child), ("services", "routes"));
        }
        other => panic!("expected the delete to be refused, got {other:?}"),
    }
    let s = id(&service).to_string();
    assert!(store.get(Kind::Service, &s).await.expect("get").is_some());

    store
        .delete(Kind::Route, id(&route))
        .await
        .expect("delete route");
    store
        .delete(Kind::Service, id(&service))
        .await
        .expect("delete service");
    let gone = |kind, value: &Value| {
        let store = store.clone();
        let key = id(value).to_string();
        async move { store.get(kind, &key).await.expect("get").is_none() }
    };
    assert!(
        gone(Kind::Plugin, &plugin).await,
        "plugins go with their service"
    );
    store
        .delete(Kind::Upstream, id(&upstream))
        .await
        .expect("delete upstream");
    assert!(
        gone(Kind::Target, &target).await,
        "targets go with their upstream"
    );
    assert!(matches!(
        store.delete(Kind::Upstream, id(&upstream)).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn get_finds_by_id_or_endpoint_key() {
    let store = store().await;
    let upstream = insert(&store, Kind::Upstream, json!({ "name": "up" })).await;
    let consumer = insert(
        &store,
        Kind::Consumer,
        json!({ "username": "al", "custom_id": "c" }),
    )
    .await;
    let service = insert(&store, Kind::Service, json!({ "name": "svc", "host": "h" })).await;
    let rows = [
        (Kind::Service, service.clone(), "svc"),
        (
            Kind::Route,
            json!({ "name": "r", "service": { "id": id(&service) }, "paths": ["/"] }),
            "r",
        ),
        (Kind::Consumer, consumer.clone(), "al"),
        (
            Kind::KeyAuth,
            json!({ "consumer": { "id": id(&consumer) }, "key": "sekrit" }),
            "sekrit",
        ),
        (Kind::Upstream, upstream.clone(), "up"),
        (
            Kind::Target,
            json!({ "upstream": { "id": id(&upstream) }, "target": "a:1" }),
            "a:1",
        ),
        (
            Kind::Plugin,
            json!({ "name": "cors", "instance_name": "p" }),
            "p",
        ),
    ];
    for (kind, value, key) in rows {
        let stored = if value.get("created_at").is_some() {
            value
        } else {
            insert(&store, kind, value).await
        };
        let by_key = store.get(kind, key).await.expect("get by key");
        assert_eq!(by_key.as_ref(), Some(&stored), "{kind:?} by {key}");
        let by_id = store
            .get(kind, &id(&stored).to_string())
            .await
            .expect("get by id");
        assert_eq!(by_id.as_ref(), Some(&stored), "{kind:?} by id");
        assert_eq!(
            store.get(kind, "absent").await.expect("get"),
            None,
            "{kind:?}"
        );
    }
    // custom_id is unique but no endpoint key; an unknown id is simply absent.
    assert_eq!(store.get(Kind::Consumer, "c").await.expect("get"), None);
    let unknown = Uuid::new_v4().to_string();
    assert_eq!(store.get(Kind::Service, &unknown).await.expect("get"), None);
}

#[tokio::test]
async fn every_write_bumps_the_version_and_loads_carry_it() {
    let store = store().await;
    let start = store.version().await.expect("version");
    let service = insert(&store, Kind::Service, json!({ "name": "s", "host": "h" })).await;
    assert_eq!(store.version().await.expect("version"), start + 1);
    let mut changed = service.clone();
    changed["retries"] = json!(1);
    store.upsert(Kind::Service, changed).await.expect("upsert");
    assert_eq!(
        store.version().await.expect("version"),
        start + 2,
        "an upsert is one change, though it fires both INSERT and UPDATE triggers"
    );
    // A refused write changes nothing, the version included.
    assert!(store.insert(Kind::Service, service.clone()).await.is_err());
    assert_eq!(store.version().await.expect("version"), start + 2);
    store
        .delete(Kind::Service, id(&service))
        .await
        .expect("delete");
    let (config, version) = store.load_versioned().await.expect("load");
    assert_eq!((config.services.len(), version), (0, start + 3));

    // Many statements in one transaction are one change too (an import, a script).
    let Store::Postgres(pg) = &store else {
        unreachable!("a PostgreSQL store")
    };
    let mut tx = pg.pool().begin().await.expect("begin");
    for name in ["one", "two", "three"] {
        let value = entity(Kind::Service, json!({ "name": name, "host": "h" }));
        sqlx::query("INSERT INTO services (id, data) VALUES ($1, $2)")
            .bind(id(&value))
            .bind(&value)
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    tx.commit().await.expect("commit");
    assert_eq!(store.version().await.expect("version"), start + 4);
}

/// `config sync` applies its whole diff in one transaction: a conflict half way leaves the
/// database exactly as it was.
#[tokio::test]
async fn a_sync_that_fails_half_way_changes_nothing() {
    let store = store().await;
    let bob = insert(
        &store,
        Kind::Consumer,
        json!({"username": "bob", "custom_id": "c1"}),
    )
    .await;
    insert(
        &store,
        Kind::KeyAuth,
        json!({"consumer": {"id": id(&bob)}, "key": "bob-key"}),
    )
    .await;
    let before = store.load().await.expect("load");
    // The service and carol are created before bob is deleted, and carol takes bob's custom_id.
    let file = r#"
_format_version: "3.0"
services:
  - name: weather
    url: http://backend:8080
consumers:
  - username: carol
    custom_id: c1
"#;
    let desired = gateway::declarative::parse_str(file, "sync.yaml").expect("valid file");
    let changes = gateway::declarative::diff(&before, &desired);
    assert!(changes.len() >= 4, "{changes:?}");
    let err = gateway::declarative::apply(&store, &changes)
        .await
        .expect_err("custom_id is taken");
    assert!(
        matches!(err, StoreError::Unique { ref field, .. } if field == "custom_id"),
        "{err:?}"
    );
    let after = store.load().await.expect("load");
    assert_eq!(after, before, "nothing of the failed sync remains");
}
