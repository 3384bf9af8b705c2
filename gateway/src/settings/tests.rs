use super::*;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The environment of a real Kong task definition on ECS starts the gateway unchanged.
#[test]
fn kong_task_definition_environment_is_accepted() {
    let env = vars(&[
        ("KONG_NGINX_HTTP_GZIP_PROXIED", "any"),
        ("KONG_NGINX_HTTP_GZIP_COMP_LEVEL", "6"),
        ("KONG_PLUGINS", "bundled,request-transformer_1251"),
        ("KONG_DATABASE", "postgres"),
        ("KONG_LOG_LEVEL", "warn"),
        ("KONG_PROXY_STREAM_ACCESS_LOG", "off"),
        ("KONG_PG_HOST", "db.example.internal"),
        ("KONG_NGINX_HTTP_GZIP_VARY", "on"),
        ("KONG_PG_PASSWORD", "s3cr3t/with@chars"),
        ("KONG_PG_DATABASE", "kong"),
        ("KONG_PROXY_ACCESS_LOG", "off"),
        ("KONG_NGINX_HTTP_GZIP_TYPES", "application/json"),
        ("KONG_PG_USER", "kong"),
        ("KONG_ADMIN_LISTEN", "0.0.0.0:8001, 0.0.0.0:8444 ssl"),
        ("KONG_NGINX_HTTP_GZIP", "on"),
    ]);
    let s = Settings::parse(&env).expect("accepted");
    let Database::Postgres(pg) = &s.database else {
        panic!("postgres expected")
    };
    assert_eq!(pg.host, "db.example.internal");
    assert_eq!(
        pg.url(),
        "postgres://kong:s3cr3t%2Fwith%40chars@db.example.internal:5432/kong?sslmode=disable"
    );
    assert!(
        !format!("{s:?}").contains("s3cr3t"),
        "the password never shows in Debug output"
    );
    assert_eq!(s.plugins, ["bundled", "request-transformer_1251"]);
    assert_eq!(s.admin_listen.len(), 2);
    assert!(s.admin_listen[1].ssl);
    assert_eq!(s.admin_listen[0].addr.to_string(), "0.0.0.0:8001");
    assert!(s.gzip.on && s.gzip.vary);
    assert_eq!(
        (s.gzip.level, s.gzip.types.clone(), s.gzip.proxied.clone()),
        (
            6,
            vec!["application/json".to_string()],
            vec!["any".to_string()]
        )
    );
    assert_eq!(s.tracing_level(), "warn");
    assert!(s.ignored.contains_key("KONG_PROXY_STREAM_ACCESS_LOG"));
    assert!(!s.ignored.contains_key("KONG_PG_HOST"));
}

#[test]
fn defaults_follow_kong() {
    let s = Settings::parse(&BTreeMap::new()).unwrap();
    assert_eq!(
        s.admin_listen[0].addr.to_string(),
        "127.0.0.1:8001",
        "Admin API on loopback by default"
    );
    assert_eq!(s.proxy_listen[0].addr.to_string(), "0.0.0.0:8000");
    assert!(s.status_listen.is_empty());
    assert!(
        matches!(s.database, Database::Postgres(ref pg) if pg.port == 5432 && pg.database == "kong")
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let env = vars(&[
        ("KONG_PG_PORT", "fivefour"),
        ("KONG_DATABASE", "cassandra"),
        ("KONG_PROXY_LISTEN", "nowhere"),
        ("KONG_NGINX_HTTP_GZIP", "maybe"),
    ]);
    let errors = Settings::parse(&env).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("KONG_DATABASE")));
    assert!(errors.iter().any(|e| e.starts_with("KONG_PROXY_LISTEN")));
    assert!(errors
        .iter()
        .any(|e| e.starts_with("KONG_NGINX_HTTP_GZIP:")));
}

#[test]
fn sizes_and_listen_forms() {
    assert_eq!(parse_size("8m"), Some(8 * 1024 * 1024));
    assert_eq!(parse_size("0"), Some(0));
    assert_eq!(parse_size("12x"), None);
    assert_eq!(parse_listen("off").unwrap(), vec![]);
    let l = parse_listen("127.0.0.1:9000 http2, [::1]:9001").unwrap();
    assert!(l[0].http2 && !l[0].ssl);
    assert_eq!(l[1].addr.port(), 9001);
}
