use super::error::{ApiError, Op};
use super::form::{coerce_scalars, decode, decode_urlencoded, parse_name, Seg};
use super::routes::{resolve, segments, Endpoint, Scope};
use super::{crud, multipart, openapi, schema, write};
use crate::entities::Kind;
use serde_json::{json, Value};

fn form(body: &str) -> Value {
    Value::Object(decode_urlencoded(body.as_bytes()))
}

// === form arguments ===

#[test]
fn form_bodies_decode_as_curl_sends_them() {
    let cases: &[(&str, Value)] = &[
        (
            "name=weather&url=http://backend:8080/v1",
            json!({ "name": "weather", "url": "http://backend:8080/v1" }),
        ),
        (
            "paths[]=/posts&paths[]=/comments",
            json!({ "paths": ["/posts", "/comments"] }),
        ),
        (
            "paths=/a&paths=/b&paths=/c",
            json!({ "paths": ["/a", "/b", "/c"] }),
        ),
        ("paths[2]=/b&paths[1]=/a", json!({ "paths": ["/a", "/b"] })),
        ("paths[1]=/a&paths[5]=/b", json!({ "paths": ["/a", "/b"] })),
        (
            "config.minute=5&config.hour=100",
            json!({ "config": { "minute": "5", "hour": "100" } }),
        ),
        ("service.id=abc", json!({ "service": { "id": "abc" } })),
        (
            "service.name=weather",
            json!({ "service": { "name": "weather" } }),
        ),
        (
            "headers.x-foo=bar",
            json!({ "headers": { "x-foo": "bar" } }),
        ),
        (
            "config.key_names[]=apikey&config.key_names[]=x-key",
            json!({ "config": { "key_names": ["apikey", "x-key"] } }),
        ),
        (
            "healthchecks.active.healthy.interval=5",
            json!({ "healthchecks": { "active": { "healthy": { "interval": "5" } } } }),
        ),
        ("tags=a&tags=b", json!({ "tags": ["a", "b"] })),
        ("name=", json!({ "name": null })),
        ("name=a%20b+c&x=%2Fy", json!({ "name": "a b c", "x": "/y" })),
        (".odd=1&odd.=2", json!({ ".odd": "1", "odd.": "2" })),
        ("a..b=1", json!({ "a": { "b": "1" } })),
        ("", json!({})),
    ];
    for (body, expected) in cases {
        assert_eq!(&form(body), expected, "body: {body}");
    }
}

#[test]
fn argument_names_split_into_keys_and_indexes() {
    let key = |s: &str| Seg::Key(s.to_string());
    assert_eq!(parse_name("paths"), vec![key("paths")]);
    assert_eq!(parse_name("paths[]"), vec![key("paths"), Seg::Index(None)]);
    assert_eq!(
        parse_name("a[2][]"),
        vec![key("a"), Seg::Index(Some(2)), Seg::Index(None)]
    );
    assert_eq!(
        parse_name("a.b[1].c"),
        vec![key("a"), key("b"), Seg::Index(Some(1)), key("c")]
    );
    // Not an index: a literal key, as in Kong.
    assert_eq!(parse_name("[1]"), vec![key("[1]")]);
    assert_eq!(parse_name("a[x]"), vec![key("a[x]")]);
}

#[test]
fn nested_arrays_of_records_decode() {
    let decoded = Value::Object(decode([
        ("sources[1].ip", "10.0.0.1"),
        ("sources[1].port", "80"),
        ("sources[2].ip", "10.0.0.2"),
    ]));
    assert_eq!(
        decoded,
        json!({ "sources": [{ "ip": "10.0.0.1", "port": "80" }, { "ip": "10.0.0.2" }] })
    );
}

#[test]
fn plugin_config_strings_become_scalars() {
    let mut config = json!({
        "minute": "5", "fault_tolerant": "false", "ratio": "0.5", "policy": "local",
        "names": ["1", "x"], "version": "1.2.3", "hex": "0x10", "inf": "inf", "empty": null,
    });
    coerce_scalars(&mut config);
    assert_eq!(
        config,
        json!({
            "minute": 5, "fault_tolerant": false, "ratio": 0.5, "policy": "local",
            "names": [1, "x"], "version": "1.2.3", "hex": "0x10", "inf": "inf", "empty": null,
        })
    );
}

#[test]
fn form_values_take_the_schema_types() {
    let mut args = decode_urlencoded(
        b"port=8080&enabled=false&name=123&tags=one&config.minute=5&host=example.com",
    );
    schema::infer_form(Kind::Service, &mut args);
    assert_eq!(args["port"], json!(8080));
    assert_eq!(args["enabled"], json!(false));
    assert_eq!(args["name"], json!("123"), "a string field stays a string");
    assert_eq!(args["tags"], json!(["one"]));
    let mut plugin = decode_urlencoded(b"name=rate-limiting&config.minute=5&enabled=true");
    schema::infer_form(Kind::Plugin, &mut plugin);
    assert_eq!(plugin["config"], json!({ "minute": 5 }));
    assert_eq!(plugin["enabled"], json!(true));
}

#[test]
fn multipart_bodies_give_name_value_pairs() {
    let ct = "multipart/form-data; boundary=------------------------abc123";
    let boundary = multipart::boundary(ct).expect("a boundary");
    assert_eq!(boundary, "------------------------abc123");
    let body = "--------------------------abc123\r\n\
        Content-Disposition: form-data; name=\"name\"\r\n\r\nweather\r\n\
        --------------------------abc123\r\n\
        Content-Disposition: form-data; name=\"paths[]\"\r\n\r\n/a\r\n\
        --------------------------abc123--\r\n";
    let pairs = multipart::parse(body.as_bytes(), &boundary).expect("well formed");
    assert_eq!(
        pairs,
        vec![
            ("name".into(), "weather".into()),
            ("paths[]".into(), "/a".into())
        ]
    );
    assert_eq!(multipart::parse(b"--x\r\nno end", "x"), None);
}

// === routing ===

#[test]
fn paths_resolve_from_the_kind_table() {
    let scope = |parent, key: &str, field| {
        Some(Scope {
            parent,
            key: key.into(),
            field,
        })
    };
    let cases: Vec<(&str, Option<Endpoint>)> = vec![
        (
            "/services",
            Some(Endpoint::Collection {
                kind: Kind::Service,
                scope: None,
            }),
        ),
        (
            "/services/",
            Some(Endpoint::Collection {
                kind: Kind::Service,
                scope: None,
            }),
        ),
        (
            "/key-auths/k1",
            Some(Endpoint::Entity {
                kind: Kind::KeyAuth,
                key: "k1".into(),
                scope: None,
            }),
        ),
        (
            "/services/s1/routes",
            Some(Endpoint::Collection {
                kind: Kind::Route,
                scope: scope(Kind::Service, "s1", "service"),
            }),
        ),
        (
            "/consumers/c1/key-auth/k%2F1",
            Some(Endpoint::Entity {
                kind: Kind::KeyAuth,
                key: "k/1".into(),
                scope: scope(Kind::Consumer, "c1", "consumer"),
            }),
        ),
        (
            "/routes/r1/plugins",
            Some(Endpoint::Collection {
                kind: Kind::Plugin,
                scope: scope(Kind::Route, "r1", "route"),
            }),
        ),
        (
            "/upstreams/u1/targets/10.0.0.1:80",
            Some(Endpoint::Entity {
                kind: Kind::Target,
                key: "10.0.0.1:80".into(),
                scope: scope(Kind::Upstream, "u1", "upstream"),
            }),
        ),
        (
            "/routes/r1/service",
            Some(Endpoint::Foreign {
                kind: Kind::Route,
                key: "r1".into(),
                field: "service",
                target: Kind::Service,
            }),
        ),
        ("/targets", None),
        ("/targets/t1", None),
        ("/consumers/c1/key-auths", None),
        ("/services/s1/targets", None),
        ("/nothing", None),
        ("/services/s1/routes/r1/extra", None),
    ];
    for (path, expected) in cases {
        let segs = segments(path);
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        assert_eq!(resolve(&segs), expected, "path: {path}");
    }
}

#[test]
fn every_openapi_path_is_served() {
    let doc = openapi::document();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "only {} paths", paths.len());
    for path in paths.keys() {
        let concrete: Vec<String> = segments(path)
            .into_iter()
            .map(|s| if s.starts_with('{') { "x".into() } else { s })
            .collect();
        let concrete: Vec<&str> = concrete.iter().map(String::as_str).collect();
        let node_level = matches!(
            concrete.first().copied(),
            None | Some("status" | "endpoints" | "openapi.json" | "schemas")
        ) || concrete.starts_with(&["plugins", "enabled"])
            || concrete.starts_with(&["plugins", "schema"]);
        assert!(
            node_level || resolve(&concrete).is_some(),
            "{path} is not served"
        );
    }
    assert!(paths.contains_key("/consumers/{consumer}/key-auth/{keyauth_credential}"));
    assert!(paths.contains_key("/upstreams/{upstream}/targets/{target}"));
    assert!(!paths.contains_key("/targets"));
    let service = &doc["components"]["schemas"]["Service"];
    assert_eq!(service["properties"]["port"]["default"], json!(80));
    assert_eq!(service["required"], json!(["host"]));
}

// === schemas ===

#[test]
fn schemas_are_derived_from_the_entities() {
    let field = |kind, name: &str| {
        schema::fields(kind)
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let port = field(Kind::Service, "port");
    assert_eq!(
        (port.ty, port.default.clone(), port.required),
        ("integer", json!(80), false)
    );
    assert!(field(Kind::Service, "host").required);
    assert_eq!(field(Kind::Route, "paths").ty, "array");
    assert_eq!(field(Kind::Route, "strip_path").default, json!(true));
    assert_eq!(field(Kind::Route, "service").reference, Some(Kind::Service));
    assert_eq!(field(Kind::Service, "tls_verify").ty, "boolean");
    assert_eq!(field(Kind::KeyAuth, "ttl").ty, "integer");
    let key = field(Kind::KeyAuth, "key");
    assert!(key.auto && key.unique && key.default.is_null());
    assert!(field(Kind::Service, "id").auto);
    assert_eq!(field(Kind::Upstream, "healthchecks").ty, "record");
    assert!(field(Kind::Plugin, "name").required);
}

// === PATCH merging ===

#[test]
fn patch_merges_records_and_replaces_the_rest() {
    let stored = json!({
        "name": "rate-limiting",
        "config": { "minute": 5, "hour": 100, "redis": { "host": "a", "port": 6379 } },
        "tags": ["a", "b"],
        "service": { "id": "s1" },
    });
    let patch = json!({
        "config": { "minute": 10, "redis": { "host": "b" } },
        "tags": ["c"],
        "service": null,
    });
    let Value::Object(patch) = patch else {
        unreachable!()
    };
    assert_eq!(
        write::merge(stored, patch),
        json!({
            "name": "rate-limiting",
            "config": { "minute": 10, "hour": 100, "redis": { "host": "b", "port": 6379 } },
            "tags": ["c"],
            "service": null,
        })
    );
}

// === query arguments ===

#[test]
fn page_sizes_follow_kong() {
    assert_eq!(crud::page_size(None).ok(), Some(100));
    assert_eq!(crud::page_size(Some("1000")).ok(), Some(1000));
    for bad in ["0", "1001", "1.5", "abc", ""] {
        assert!(
            matches!(crud::page_size(Some(bad)), Err(ApiError::InvalidSize(_))),
            "{bad}"
        );
    }
}

#[test]
fn tag_filters_are_and_or_or() {
    let ok = |raw| crud::tags_filter(Some(raw)).ok();
    assert_eq!(ok("a,b"), Some((vec!["a".into(), "b".into()], false)));
    assert_eq!(ok("a/b"), Some((vec!["a".into(), "b".into()], true)));
    assert_eq!(ok("a"), Some((vec!["a".into()], false)));
    assert_eq!(ok("a,"), Some((vec!["a".into()], false)));
    for bad in ["a,b/c", "", ",a", "a,,b"] {
        assert!(crud::tags_filter(Some(bad)).is_err(), "{bad}");
    }
}

// === error bodies ===

#[test]
fn errors_render_as_kong_does() {
    let unique = ApiError::Unique {
        field: "name".into(),
        value: "x".into(),
    };
    assert_eq!(
        unique.body(),
        json!({
            "code": 5, "name": "unique constraint violation",
            "message": "UNIQUE violation detected on '{name=\"x\"}'", "fields": { "name": "x" },
        })
    );
    let fk = ApiError::ForeignKey {
        field: "service".into(),
        table: "services",
        key: json!({ "name": "nope" }),
    };
    assert_eq!(
        fk.body()["message"],
        json!(
            "the foreign key '{name=\"nope\"}' does not reference an existing 'services' entity."
        )
    );
    assert_eq!(fk.body()["code"], json!(4));
    let read_only = ApiError::ReadOnly {
        op: Op::Create,
        table: "routes",
        by: None,
    };
    assert_eq!(
        read_only.body(),
        json!({
            "code": 12, "name": "operation unsupported",
            "message": "cannot create 'routes' entities when not using a database",
        })
    );
    let by_name = ApiError::ReadOnly {
        op: Op::Update,
        table: "services",
        by: Some("name"),
    };
    assert_eq!(
        by_name.body()["message"],
        json!("cannot update 'services' entities by 'name' when not using a database")
    );
    assert_eq!(
        ApiError::Internal("password=secret".into()).body(),
        json!({ "message": "An unexpected error occurred" })
    );
}
