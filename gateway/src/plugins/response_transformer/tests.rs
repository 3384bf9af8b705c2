use super::*;
use crate::test_support::{assert_reports, header_lines, headers};
use serde_json::json;

fn plugin(config: Value) -> ResponseTransformer {
    ResponseTransformer::from_config(&config).unwrap_or_else(|e| panic!("{config}: {e}"))
}

fn ctx() -> RequestCtx {
    crate::test_support::request(http::Method::GET, None, &[])
}

#[test]
fn header_operations() {
    let start = [("x-old", "o"), ("x-keep", "k"), ("server", "backend")];
    let cases: &[(Value, &[&str])] = &[
        (
            json!({"remove": {"headers": ["server", "x-nope"]}}),
            &["x-keep:k", "x-old:o"],
        ),
        (
            json!({"rename": {"headers": ["x-old:x-new"]}}),
            &["server:backend", "x-keep:k", "x-new:o"],
        ),
        (
            json!({"replace": {"headers": ["x-keep:K", "x-absent:A"]}}),
            &["server:backend", "x-keep:K", "x-old:o"],
        ),
        (
            json!({"add": {"headers": ["x-keep:never", "x-added:a:b"]}}),
            &["server:backend", "x-added:a:b", "x-keep:k", "x-old:o"],
        ),
        (
            json!({"append": {"headers": ["x-keep:k2"]}}),
            &["server:backend", "x-keep:k", "x-keep:k2", "x-old:o"],
        ),
        (
            json!({"add": {"headers": ["x-empty:"]}}),
            &["server:backend", "x-keep:k", "x-old:o"],
        ),
    ];
    for (config, expected) in cases {
        let mut map = headers(&start);
        plugin(config.clone()).response_headers(&ctx(), StatusCode::OK, &mut map);
        assert_eq!(header_lines(&map), *expected, "{config}");
    }
}

#[test]
fn json_edits_with_types() {
    let rt = plugin(json!({
        "remove": {"json": ["secret"]},
        "rename": {"json": ["old:new"]},
        "replace": {"json": ["count:7", "absent:1"], "json_types": ["number"]},
        "add": {"json": ["flag:true", "ratio:0.5", "text:hi", "bad:x"], "json_types": ["boolean", "number", "string", "number"]},
        "append": {"json": ["tags:b"]},
    }));
    let cases: &[(&str, &str, Option<Value>)] = &[
        (
            "application/json",
            r#"{"secret":"s","old":1,"count":"1","tags":"a"}"#,
            Some(
                json!({"new": 1, "count": 7, "tags": ["a", "b"], "flag": true, "ratio": 0.5, "text": "hi"}),
            ),
        ),
        (
            "application/json; charset=utf-8",
            "{}",
            Some(json!({"flag": true, "ratio": 0.5, "text": "hi", "tags": ["b"]})),
        ),
        ("application/json", "not json", None),
        ("application/problem+json", "{}", None),
        ("text/html", "{}", None),
    ];
    for (content_type, body, expected) in cases {
        let mut map = headers(&[("content-type", content_type), ("content-length", "99")]);
        rt.response_headers(&ctx(), StatusCode::OK, &mut map);
        assert_eq!(
            rt.buffers_response(&map),
            !content_type.contains('+') && content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert_eq!(
            map.contains_key("content-length"),
            !rt.buffers_response(&map),
            "{content_type}"
        );
        let mut bytes = Bytes::from(body.to_string());
        rt.response_body(&ctx(), &map, &mut bytes);
        match expected {
            Some(expected) => {
                assert_eq!(&serde_json::from_slice::<Value>(&bytes).unwrap(), expected)
            }
            None => assert_eq!(bytes, body.as_bytes(), "{content_type} {body} unchanged"),
        }
    }
}

#[test]
fn headers_only_configs_do_not_buffer() {
    let rt = plugin(json!({"add": {"headers": ["x:y"]}}));
    assert!(!rt.buffers_response(&headers(&[("content-type", "application/json")])));
    let mut map = headers(&[
        ("content-type", "application/json"),
        ("content-length", "2"),
    ]);
    rt.response_headers(&ctx(), StatusCode::OK, &mut map);
    assert_eq!(map["content-length"], "2");
}

#[test]
fn typed_values_cast_like_kong() {
    let cases = [
        ("true", "boolean", Some(json!(true))),
        ("yes", "boolean", Some(json!(false))),
        ("10", "number", Some(json!(10))),
        ("-1.5", "number", Some(json!(-1.5))),
        ("ten", "number", None),
        ("10", "string", Some(json!("10"))),
        ("", "string", None),
    ];
    for (value, kind, expected) in cases {
        assert_eq!(typed_value(value, kind), expected, "{value} as {kind}");
    }
}

#[test]
fn invalid_configs_name_the_entry() {
    // Header entries are checked by header_edit::header_entries (tested there); one shows the path.
    let cases = [
        (
            json!({"rename": {"headers": ["a:b/c"]}}),
            "config.rename.headers.1",
            "'b/c' is not a valid header",
        ),
        (
            json!({"add": {"json": ["a"]}}),
            "config.add.json.1",
            "invalid value: a",
        ),
        (
            json!({"add": {"json_types": ["date"]}}),
            "config.add.json_types.1",
            "expected one of",
        ),
        (
            json!({"remove": {"json_types": ["string"]}}),
            "config.remove.json_types",
            "unknown field",
        ),
        (
            json!({"add": {"querystring": []}}),
            "config.add.querystring",
            "unknown field",
        ),
    ];
    for (config, field, message) in cases {
        let errors = ResponseTransformer::from_config(&config).expect_err("invalid");
        assert_reports(&errors, field, message, &config);
    }
}
