use super::*;
use serde_json::json;

fn plugin(config: Value) -> Cors {
    Cors::from_config(&config).expect("valid cors config")
}

fn ctx(method: Method, headers: &[(&str, &str)]) -> RequestCtx {
    crate::test_support::request(method, None, headers)
}

fn preflight_ctx(origin: &str, extra: &[(&str, &str)]) -> RequestCtx {
    let mut headers = vec![
        ("origin", origin),
        ("access-control-request-method", "POST"),
    ];
    headers.extend_from_slice(extra);
    ctx(Method::OPTIONS, &headers)
}

fn access(cors: &Cors, c: &mut RequestCtx) -> Option<ShortCircuit> {
    futures_util::FutureExt::now_or_never(cors.access(c)).expect("access does not wait")
}

/// The response headers a simple (non-preflight) GET from `origin` gets.
fn simple(cors: &Cors, origin: Option<&str>, upstream: &[(&str, &str)]) -> HeaderMap {
    let c = match origin {
        Some(o) => ctx(Method::GET, &[("origin", o)]),
        None => ctx(Method::GET, &[]),
    };
    let mut headers = crate::test_support::headers(upstream);
    cors.response_headers(&c, StatusCode::OK, &mut headers);
    headers
}

fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn all<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

#[test]
fn origin_rules_decide_allow_origin_like_kong() {
    // (origins, request origin, expected Access-Control-Allow-Origin, Vary: Origin expected)
    type Case<'a> = (Value, Option<&'a str>, Option<&'a str>, bool);
    let cases: Vec<Case> = vec![
        (json!(null), Some("http://a.test"), Some("*"), false),
        (json!(["*"]), Some("http://a.test"), Some("*"), false),
        (json!(["*"]), None, Some("*"), false),
        // A single plain entry is sent as configured, even to another origin.
        (
            json!(["http://a.test"]),
            Some("http://b.test"),
            Some("http://a.test"),
            true,
        ),
        (json!(["http://a.test"]), None, Some("http://a.test"), true),
        // Several entries: exact ones compare normalized origins.
        (
            json!(["http://a.test", "http://b.test"]),
            Some("http://b.test"),
            Some("http://b.test"),
            true,
        ),
        (
            json!(["http://a.test", "http://b.test"]),
            Some("http://c.test"),
            None,
            true,
        ),
        (json!(["http://a.test", "http://b.test"]), None, None, true),
        (
            json!(["https://a.test", "http://b.test"]),
            Some("https://a.test:443"),
            Some("https://a.test"),
            true,
        ),
        (
            json!(["http://a.test:8080", "http://b.test"]),
            Some("http://a.test:8080/x"),
            Some("http://a.test:8080"),
            true,
        ),
        (
            json!(["http://a.test:8080", "http://b.test"]),
            Some("http://a.test"),
            None,
            true,
        ),
        // Regex entries without ':' match the host only, anchored at both ends.
        (
            json!([r"(.*\.)?example\.com"]),
            Some("https://api.example.com"),
            Some("https://api.example.com"),
            true,
        ),
        (
            json!([r"(.*\.)?example\.com"]),
            Some("https://example.com.evil.test"),
            None,
            true,
        ),
        (
            json!([r"(.*\.)?example\.com"]),
            Some("https://evilexample.com"),
            None,
            true,
        ),
        (
            json!([r"^.*\.example\.com$"]),
            Some("http://x.example.com:81"),
            Some("http://x.example.com:81"),
            true,
        ),
        // With ':' the regex sees scheme://host[:port].
        (
            json!([r"https://[a-z]+\.example\.com"]),
            Some("https://api.example.com"),
            Some("https://api.example.com"),
            true,
        ),
        (
            json!([r"https://[a-z]+\.example\.com"]),
            Some("http://api.example.com"),
            None,
            true,
        ),
        // '*' among several entries allows every origin (Kong 3.8+).
        (
            json!(["http://a.test", "*"]),
            Some("http://z.test"),
            Some("*"),
            true,
        ),
        (
            json!(["http://a.test", "*"]),
            Some("http://a.test"),
            Some("http://a.test"),
            true,
        ),
    ];
    for (origins, origin, expected, vary) in cases {
        let cors = plugin(json!({ "origins": origins }));
        let headers = simple(&cors, origin, &[]);
        let label = format!("origins {origins} from {origin:?}");
        assert_eq!(
            get(&headers, "access-control-allow-origin"),
            expected,
            "{label}"
        );
        assert_eq!(all(&headers, "vary") == ["Origin"], vary, "{label}");
    }
}

#[test]
fn preflight_is_answered_with_200_and_every_header() {
    let cors = plugin(json!({
        "origins": ["http://a.test", "http://b.test"],
        "headers": ["X-One", "X-Two"],
        "methods": ["GET", "POST"],
        "max_age": 3600,
        "credentials": true,
    }));
    let answer = access(&cors, &mut preflight_ctx("http://a.test", &[])).expect("answered");
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.body().is_empty());
    let h = answer.headers();
    assert_eq!(get(h, "access-control-allow-origin"), Some("http://a.test"));
    assert_eq!(get(h, "access-control-allow-headers"), Some("X-One,X-Two"));
    assert_eq!(get(h, "access-control-allow-methods"), Some("GET,POST"));
    assert_eq!(get(h, "access-control-max-age"), Some("3600"));
    assert_eq!(get(h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(all(h, "vary"), ["Origin"]);
    assert!(!h.contains_key("access-control-allow-private-network"));
}

#[test]
fn preflight_defaults_echo_requested_headers_and_list_all_methods() {
    let cors = plugin(json!({}));
    let requested = [("access-control-request-headers", "X-Custom")];
    let answer = access(&cors, &mut preflight_ctx("http://a.test", &requested)).unwrap();
    let h = answer.headers();
    assert_eq!(get(h, "access-control-allow-origin"), Some("*"));
    assert_eq!(get(h, "access-control-allow-headers"), Some("X-Custom"));
    assert_eq!(
        get(h, "access-control-allow-methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT")
    );
    assert!(!h.contains_key("vary"));
    assert!(!h.contains_key("access-control-max-age"));
    assert!(!h.contains_key("access-control-allow-credentials"));
    let bare = access(&cors, &mut preflight_ctx("http://a.test", &[])).unwrap();
    assert!(!bare.headers().contains_key("access-control-allow-headers"));
}

#[test]
fn only_true_preflights_are_answered() {
    let cors = plugin(json!({}));
    let not_preflights = [
        ctx(Method::OPTIONS, &[("origin", "http://a.test")]),
        ctx(Method::OPTIONS, &[("access-control-request-method", "GET")]),
        ctx(
            Method::OPTIONS,
            &[("origin", ""), ("access-control-request-method", "GET")],
        ),
        ctx(
            Method::GET,
            &[
                ("origin", "http://a.test"),
                ("access-control-request-method", "GET"),
            ],
        ),
    ];
    for mut c in not_preflights {
        assert!(access(&cors, &mut c).is_none(), "{:?}", c.headers);
    }
}

#[test]
fn preflight_continue_leaves_the_preflight_and_its_response_to_the_upstream() {
    let cors = plugin(json!({ "preflight_continue": true }));
    let mut c = preflight_ctx("http://a.test", &[]);
    assert!(access(&cors, &mut c).is_none());
    let mut headers = HeaderMap::new();
    cors.response_headers(&c, StatusCode::NO_CONTENT, &mut headers);
    assert!(headers.is_empty(), "no CORS headers added: {headers:?}");
}

#[test]
fn private_network_is_allowed_only_when_configured_and_asked() {
    let asked = [("access-control-request-private-network", "true")];
    for (configured, request, expected) in [
        (true, &asked[..], true),
        (true, &[][..], false),
        (false, &asked[..], false),
    ] {
        let cors = plugin(json!({ "private_network": configured }));
        let answer = access(&cors, &mut preflight_ctx("http://a.test", request)).unwrap();
        let got = get(answer.headers(), "access-control-allow-private-network");
        assert_eq!(got == Some("true"), expected, "{configured} {request:?}");
    }
}

#[test]
fn credentials_with_every_origin_echo_the_request_origin() {
    let cors = plugin(json!({ "credentials": true }));
    let headers = simple(&cors, Some("http://a.test"), &[]);
    assert_eq!(
        get(&headers, "access-control-allow-origin"),
        Some("http://a.test")
    );
    assert_eq!(
        get(&headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(all(&headers, "vary"), ["Origin"]);
    let headers = simple(&cors, None, &[]);
    assert_eq!(get(&headers, "access-control-allow-origin"), Some("*"));
    assert!(!headers.contains_key("access-control-allow-credentials"));
}

#[test]
fn responses_get_exposed_headers_and_keep_the_upstream_vary() {
    let cors = plugin(json!({
        "origins": ["http://a.test", "http://b.test"],
        "exposed_headers": ["X-Total", "X-Page"],
    }));
    let upstream = [
        ("vary", "Accept-Encoding"),
        ("access-control-allow-origin", "*"),
    ];
    let headers = simple(&cors, Some("http://a.test"), &upstream);
    assert_eq!(all(&headers, "vary"), ["Accept-Encoding", "Origin"]);
    assert_eq!(
        get(&headers, "access-control-allow-origin"),
        Some("http://a.test")
    );
    assert_eq!(
        get(&headers, "access-control-expose-headers"),
        Some("X-Total,X-Page")
    );
    let headers = simple(&cors, Some("http://evil.test"), &upstream);
    assert!(
        !headers.contains_key("access-control-allow-origin"),
        "the upstream's '*' is removed for an origin we do not allow"
    );
}

#[test]
fn allow_origin_absent_false_skips_requests_without_origin() {
    let cors = plugin(json!({ "allow_origin_absent": false, "exposed_headers": ["X-A"] }));
    assert!(simple(&cors, None, &[]).is_empty());
    let headers = simple(&cors, Some("http://a.test"), &[]);
    assert_eq!(get(&headers, "access-control-allow-origin"), Some("*"));
    assert_eq!(get(&headers, "access-control-expose-headers"), Some("X-A"));
}

#[test]
fn bad_configs_are_field_errors() {
    let cases = [
        (
            json!({ "origins": ["http://a.test", "(unclosed"] }),
            "config.origins.2",
        ),
        (json!({ "methods": ["GET", "FETCH"] }), "config.methods.2"),
        (json!({ "origin": "x" }), "config.origin"),
        (json!({ "credentials": "yes" }), "config"),
    ];
    for (config, field) in cases {
        let errors = Cors::from_config(&config).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{config}");
    }
    let errors = Cors::from_config(&json!({ "origins": ["a", "*.bad"] })).unwrap_err();
    assert_eq!(
        errors.iter().next().unwrap().1,
        "'*.bad' is not a valid regex"
    );
}

#[test]
fn origins_normalize_like_kong() {
    let cases = [
        ("http://a.test:80", ("http://a.test", "a.test")),
        ("https://a.test:443/path?q", ("https://a.test", "a.test")),
        ("http://a.test:443", ("http://a.test:443", "a.test")),
        ("http://user@a.test:8000", ("http://a.test:8000", "a.test")),
        ("http://[::1]:8080", ("http://[::1]:8080", "[::1]")),
        ("null", ("null", "null")),
        ("a.test", ("a.test", "a.test")),
    ];
    for (origin, (domain, host)) in cases {
        assert_eq!(
            normalize_origin(origin),
            (domain.to_string(), host.to_string()),
            "{origin}"
        );
    }
}

#[test]
fn max_age_is_written_as_lua_would() {
    for (value, expected) in [
        (json!(600), "600"),
        (json!(600.0), "600"),
        (json!(1.5), "1.5"),
    ] {
        let cors = plugin(json!({ "max_age": value }));
        let answer = access(&cors, &mut preflight_ctx("http://a.test", &[])).unwrap();
        assert_eq!(
            get(answer.headers(), "access-control-max-age"),
            Some(expected)
        );
    }
}
