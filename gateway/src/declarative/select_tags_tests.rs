//! decK's `_info.select_tags`: read with positions, added to every entity of the file, and
//! scoping [`plan`] to the database entities that carry them; without `_info`, a full sync.

use super::*;
use serde_json::{json, Value};
use uuid::Uuid;

const FILE: &str = r#"_format_version: "3.0"
_info:
  select_tags: [gateway-config]
services:
  - name: weather
    url: http://backend:8080
    tags: [team-a, gateway-config]
    routes:
      - name: forecast
        paths: [/forecast]
consumers:
  - username: ops
    keyauth_credentials:
      - key: ops-key
"#;

fn loaded(text: &str) -> Loaded {
    let env = |name: &str| (name == CONFIG_STRING_VAR).then(|| text.to_string());
    load(None, &env).unwrap_or_else(|e| panic!("must parse:\n{e}"))
}

fn parse_errors(text: &str) -> String {
    match parse_str(text, "test.yaml") {
        Ok(config) => panic!("expected errors, parsed {config:?}"),
        Err(e) => e.to_string(),
    }
}

fn plan_errors(current: &Config, text: &str) -> String {
    match plan(current, &loaded(text)) {
        Ok(changes) => panic!("expected errors, planned {changes:?}"),
        Err(e) => e.to_string(),
    }
}

/// What the developer portal leaves through the Admin API: an untagged consumer with a key,
/// random ids. Returns the database and the consumer's id.
fn portal() -> (Config, Uuid) {
    let mut db = Config::default();
    let alice = db
        .push_value(
            Kind::Consumer,
            json!({ "id": Uuid::new_v4(), "username": "alice" }),
        )
        .expect("a valid consumer");
    db.push_value(
        Kind::KeyAuth,
        json!({ "consumer": { "id": alice }, "key": "alice-key" }),
    )
    .expect("a valid credential");
    (db, alice)
}

/// `current` with `changes` applied (cascades left out: these tests need none).
fn applied(current: &Config, changes: &[Change]) -> Config {
    let mut rows: Vec<(Kind, Value)> = Kind::ALL
        .into_iter()
        .flat_map(|k| current.values(k).into_iter().map(move |v| (k, v)))
        .collect();
    for change in changes {
        let (kind, id, value) = match change {
            Change::Create { kind, id, value } => (kind, id, Some(value)),
            Change::Update {
                kind, id, after, ..
            } => (kind, id, Some(after)),
            Change::Delete { kind, id, .. } => (kind, id, None),
        };
        rows.retain(|(k, v)| !(k == kind && v["id"] == json!(id)));
        rows.extend(value.map(|v| (*kind, v.clone())));
    }
    let mut config = Config::default();
    for (kind, value) in rows {
        config.push_value(kind, value).expect("a valid entity");
    }
    config
}

fn lines(changes: &[Change]) -> Vec<String> {
    let report = render(changes, &Secrets::default());
    report.lines().map(str::to_string).collect()
}

fn touches(changes: &[Change], id: Uuid) -> bool {
    changes.iter().any(|c| match c {
        Change::Create { id: i, .. }
        | Change::Update { id: i, .. }
        | Change::Delete { id: i, .. } => *i == id,
    })
}

fn tags(value: &Value) -> Vec<&str> {
    let list = value["tags"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    list.iter().filter_map(Value::as_str).collect()
}

#[test]
fn select_tags_are_added_to_every_entity_created_from_the_file() {
    let loaded = loaded(FILE);
    assert_eq!(loaded.select_tags, ["gateway-config"]);
    let changes = plan(&Config::default(), &loaded).expect("a plan");
    assert_eq!(changes.len(), 4, "{changes:?}");
    for change in &changes {
        let Change::Create { kind, value, .. } = change else {
            panic!("only creates expected: {change:?}");
        };
        let expected: &[&str] = match kind {
            Kind::Service => &["team-a", "gateway-config"],
            _ => &["gateway-config"],
        };
        assert_eq!(
            tags(value),
            expected,
            "{kind:?}: stated tags first, no duplicate"
        );
    }
}

#[test]
fn untagged_portal_consumer_and_key_survive_a_scoped_sync() {
    let (db, alice) = portal();
    let key = db.keyauth_credentials[0].id;
    let loaded = loaded(FILE);
    let changes = plan(&db, &loaded).expect("a plan");
    assert_eq!(
        lines(&changes).last().map(String::as_str),
        Some("Summary: Created: 4, Updated: 0, Deleted: 0")
    );
    assert!(
        !touches(&changes, alice) && !touches(&changes, key),
        "{changes:?}"
    );

    let after = applied(&db, &changes);
    assert_eq!(after.consumers.len(), 2);
    assert!(after
        .keyauth_credentials
        .iter()
        .any(|k| k.id == key && k.key == "alice-key"));
    assert_eq!(
        plan(&after, &loaded).expect("a plan"),
        [],
        "a second sync changes nothing"
    );
    assert_eq!(
        scope_line(&loaded.select_tags).as_deref(),
        Some("Select tags: gateway-config (entities without all of them are neither updated nor deleted)")
    );
}

#[test]
fn a_tagged_entity_gone_from_the_file_is_deleted_and_untagged_ones_stay() {
    let (db, alice) = portal();
    let synced = applied(&db, &plan(&db, &loaded(FILE)).expect("a plan"));
    let edited = FILE.replace(
        "    routes:\n      - name: forecast\n        paths: [/forecast]\n",
        "",
    );
    let changes = plan(&synced, &loaded(&edited)).expect("a plan");
    assert_eq!(
        lines(&changes),
        [
            "deleting route forecast",
            "Summary: Created: 0, Updated: 0, Deleted: 1"
        ]
    );
    assert!(!touches(&changes, alice));
}

#[test]
fn a_file_entity_like_an_untagged_one_is_an_error_at_its_line() {
    let (db, alice) = portal();
    let same_username = FILE.replace("  - username: ops\n", "  - username: alice\n");
    assert_eq!(
        plan_errors(&db, &same_username),
        format!(
            "KONG_DECLARATIVE_CONFIG_STRING:12:5: consumers[0]: consumer 'alice' clashes with \
             consumer {alice} in the database, which has the same username 'alice' but not all \
             the select tags (gateway-config): config sync neither takes over nor deletes \
             entities without them; add the select tags to that consumer (Admin API), or remove \
             this one from the file"
        )
    );
    let same_key = FILE.replace("key: ops-key", "key: alice-key");
    let message = plan_errors(&db, &same_key);
    assert!(
        message.starts_with(
            "KONG_DECLARATIVE_CONFIG_STRING:14:9: consumers[0].keyauth_credentials[0]: \
             keyauth_credential '"
        ) && message.contains("which has the same key but not all the select tags"),
        "{message}"
    );
    assert!(
        !message.contains("alice-key"),
        "a key is never shown: {message}"
    );
}

#[test]
fn an_update_that_would_clash_points_at_the_file_entity() {
    let (mut db, _) = portal();
    db.consumers[0].custom_id = Some("crm-1".into());
    // `ops` made through the Admin API with the select tag: a random id, which the file adopts.
    db.push_value(
        Kind::Consumer,
        json!({ "id": Uuid::new_v4(), "username": "ops", "tags": ["gateway-config"] }),
    )
    .expect("a valid consumer");
    let text = FILE.replace(
        "  - username: ops\n",
        "  - username: ops\n    custom_id: crm-1\n",
    );
    let message = plan_errors(&db, &text);
    assert!(
        message.starts_with(
            "KONG_DECLARATIVE_CONFIG_STRING:12:5: consumers[0]: consumer 'ops' clashes with \
             consumer "
        ) && message.contains("the same custom_id 'crm-1'"),
        "{message}"
    );
}

#[test]
fn deleting_a_tagged_service_that_an_untagged_route_uses_is_an_error() {
    let (db, _) = portal();
    let mut synced = applied(&db, &plan(&db, &loaded(FILE)).expect("a plan"));
    let weather = synced.services[0].id;
    synced
        .push_value(
            Kind::Route,
            json!({ "name": "by-hand", "paths": ["/x"], "service": { "id": weather } }),
        )
        .expect("a valid route");
    let without_services = r#"_format_version: "3.0"
_info:
  select_tags: [gateway-config]
consumers:
  - username: ops
    keyauth_credentials:
      - key: ops-key
"#;
    assert_eq!(
        plan_errors(&synced, without_services),
        "KONG_DECLARATIVE_CONFIG_STRING: cannot delete service 'weather', which the file no \
         longer lists: route 'by-hand' still uses it and lacks the select tags \
         (gateway-config), so config sync leaves it alone; delete or re-point that route \
         first, or keep the service in the file"
    );
}

#[test]
fn without_info_a_sync_is_full_and_deletes_what_the_file_does_not_list() {
    let (db, alice) = portal();
    let full = FILE.replace("_info:\n  select_tags: [gateway-config]\n", "");
    let loaded = loaded(&full);
    assert!(loaded.select_tags.is_empty() && scope_line(&loaded.select_tags).is_none());
    assert_eq!(loaded.config.routes[0].tags, None, "no tags added");
    let changes = plan(&db, &loaded).expect("a plan");
    assert_eq!(changes, diff(&db, &loaded.config));
    assert!(lines(&changes).contains(&"deleting consumer alice".to_string()));
    assert!(touches(&changes, alice));
}

#[test]
fn info_problems_point_at_their_key() {
    let text = r#"_format_version: "3.0"
_info:
  select_tags: [ok, "bad/tag"]
  defaults:
    service:
      port: 8080
  default_lookup_tags: {}
  colour: blue
"#;
    assert_eq!(
        parse_errors(text),
        "test.yaml:3:21: _info.select_tags[1]: invalid tag: expected a non-empty printable \
         string without ',' or '/'\n\
         test.yaml:4:3: _info.defaults: decK's '_info.defaults' is not supported by this \
         gateway: state the values on each entity\n\
         test.yaml:8:3: _info.colour: unknown key 'colour'"
    );
    assert_eq!(
        parse_errors("_format_version: \"3.0\"\n_info:\n  select_tags: gateway\n"),
        "test.yaml:3:16: _info.select_tags: expected an array of tags"
    );
}

#[test]
fn db_less_reads_select_tags_as_tags_and_empty_defaults_are_accepted() {
    let text = r#"_format_version: "3.0"
_info:
  select_tags: [gateway-config, gateway-config]
  defaults: {}
consumers:
  - username: ops
    tags: gateway-config
"#;
    let config = parse_str(text, "test.yaml").unwrap_or_else(|e| panic!("must parse:\n{e}"));
    assert_eq!(
        config.consumers[0].tags,
        Some(vec!["gateway-config".into()])
    );
}
