use super::*;
use crate::test_support::{assert_reports, header_lines};
use serde_json::json;
use std::collections::BTreeMap;

fn plugin(config: Value) -> RequestTransformer {
    RequestTransformer::from_config(&config).unwrap_or_else(|e| panic!("{config}: {e}"))
}

fn request(query: Option<&str>, headers: &[(&str, &str)], body: Option<&str>) -> RequestCtx {
    let map = crate::test_support::headers(headers);
    let mut ctx = RequestCtx::new(
        Method::POST,
        "/forecast/k-1/berlin",
        query,
        map,
        [127, 0, 0, 1].into(),
    );
    ctx.uri_captures = BTreeMap::from([
        ("apikey".to_string(), "k-1".to_string()),
        ("location".to_string(), "berlin".to_string()),
    ]);
    ctx.body = body.map(|b| Bytes::from(b.to_string()));
    ctx
}

#[test]
fn header_operations_and_templates() {
    let start: &[(&str, &str)] = &[
        ("x-old", "o"),
        ("x-keep", "k"),
        ("x-multi", "1"),
        ("host", "client.example"),
    ];
    let cases: &[(Value, &[&str])] = &[
        (
            json!({"remove": {"headers": ["x-old", "X-MULTI", "host"]}}),
            &["host:client.example", "x-keep:k"],
        ),
        (
            json!({"rename": {"headers": ["x-old:x-new", "x-none:x-other"]}}),
            &["host:client.example", "x-keep:k", "x-multi:1", "x-new:o"],
        ),
        (
            json!({"replace": {"headers": ["x-keep:K2", "x-absent:A", "host:upstream.example"]}}),
            &["host:upstream.example", "x-keep:K2", "x-multi:1", "x-old:o"],
        ),
        (
            json!({"add": {"headers": ["x-keep:never", "x-added:yes", "host:never"]}}),
            &[
                "host:client.example",
                "x-added:yes",
                "x-keep:k",
                "x-multi:1",
                "x-old:o",
            ],
        ),
        (
            json!({"append": {"headers": ["x-multi:2", "x-fresh:f"]}}),
            &[
                "host:client.example",
                "x-fresh:f",
                "x-keep:k",
                "x-multi:1",
                "x-multi:2",
                "x-old:o",
            ],
        ),
        (
            json!({"add": {"headers": [
                "apikey:$(uri_captures['apikey'])",
                "x-loc:$(uri_captures.location)",
                "x-copy:$(headers['x-old'])",
                "x-dotted:$(headers.x_keep)",
                "x-q:$(query_params['q'])",
                "x-missing:[$(headers['x-nope'])]",
            ]}, "remove": {"headers": ["x-old", "x-keep", "x-multi", "host"]}}),
            // Templates see the request as it came in, before the removals.
            &[
                "apikey:k-1",
                "host:client.example",
                "x-copy:o",
                "x-dotted:k",
                "x-loc:berlin",
                "x-missing:[]",
                "x-q:rain",
            ],
        ),
        (
            json!({"add": {"headers": ["x-empty:"]}, "replace": {"headers": ["x-keep:"]}}),
            &["host:client.example", "x-keep:k", "x-multi:1", "x-old:o"],
        ),
    ];
    for (config, expected) in cases {
        let mut ctx = request(Some("q=rain"), start, None);
        plugin(config.clone()).transform(&mut ctx);
        assert_eq!(header_lines(&ctx.headers), *expected, "{config}");
    }
}

#[test]
fn querystring_operations_sort_like_kongs_set_query() {
    let cases: &[(Value, Option<&str>, Option<&str>)] = &[
        (json!({}), Some("z=1&a=2"), Some("z=1&a=2")),
        (
            json!({"remove": {"querystring": ["z"]}}),
            Some("z=1&a=2"),
            Some("a=2"),
        ),
        (
            json!({"remove": {"querystring": ["z", "a"]}}),
            Some("z=1&a=2"),
            None,
        ),
        (
            json!({"rename": {"querystring": ["z:y", "nope:x"]}}),
            Some("z=1&a=2"),
            Some("a=2&y=1"),
        ),
        (
            json!({"replace": {"querystring": ["a:new value", "b:x"]}}),
            Some("z=1&a=2"),
            Some("a=new%20value&z=1"),
        ),
        (
            json!({"add": {"querystring": ["a:x", "b:$(uri_captures.location)"]}}),
            Some("z=1&a=2"),
            Some("a=2&b=berlin&z=1"),
        ),
        (
            json!({"append": {"querystring": ["a:3", "c:c", "flag:v"]}}),
            Some("a=2&flag"),
            Some("a=2&a=3&c=c&flag=v"),
        ),
        (
            json!({"add": {"querystring": ["k:$(headers.x_key)"]}}),
            None,
            Some("k=s%26cret"),
        ),
        (
            json!({"add": {"querystring": ["q:$(query_params.q)x"]}}),
            Some("flag"),
            Some("flag&q=x"),
        ),
    ];
    for (config, query, expected) in cases {
        let mut ctx = request(*query, &[("x-key", "s&cret")], None);
        plugin(config.clone()).transform(&mut ctx);
        assert_eq!(ctx.query.as_deref(), *expected, "{config} on {query:?}");
    }
}

#[test]
fn json_and_form_bodies() {
    const JSON: &str = "application/json; charset=utf-8";
    const FORM: &str = "application/x-www-form-urlencoded";
    let config = json!({
        "remove": {"body": ["secret"]},
        "rename": {"body": ["old:new"]},
        "replace": {"body": ["name:$(uri_captures.location)", "absent:x"]},
        "add": {"body": ["name:never", "added:a b"]},
        "append": {"body": ["tags:t2"]},
    });
    let cases: &[(&str, &str, &str)] = &[
        (
            JSON,
            r#"{"secret":1,"old":"o","name":"n","tags":"t1"}"#,
            r#"{"added":"a b","name":"berlin","new":"o","tags":["t1","t2"]}"#,
        ),
        (JSON, "", r#"{"added":"a b","name":"never","tags":["t2"]}"#),
        (JSON, "[1,2]", "[1,2]"),
        (JSON, "not json", "not json"),
        (
            FORM,
            "secret=1&old=o&name=n&tags=t1",
            "new=o&name=berlin&tags=t1&tags=t2&added=a%20b",
        ),
        ("text/plain", "secret=1", "secret=1"),
    ];
    let rt = plugin(config);
    for (content_type, body, expected) in cases {
        let mut ctx = request(None, &[("content-type", content_type)], Some(body));
        rt.transform(&mut ctx);
        let got = String::from_utf8(ctx.body.clone().unwrap().to_vec()).unwrap();
        if content_type == &JSON && expected.starts_with('{') {
            let got: Value = serde_json::from_str(&got).unwrap();
            let expected: Value = serde_json::from_str(expected).unwrap();
            assert_eq!(got, expected, "{body}");
        } else {
            assert_eq!(got, *expected, "{content_type} {body}");
        }
        if got != *body {
            assert_eq!(
                ctx.headers["content-length"],
                got.len().to_string().as_str()
            );
        }
    }
}

#[test]
fn an_empty_body_without_additions_is_left_alone() {
    let rt = plugin(json!({"remove": {"body": ["a"]}}));
    let mut ctx = request(None, &[("content-type", "application/json")], None);
    rt.transform(&mut ctx);
    assert!(ctx.body.is_none());
    assert!(!ctx.headers.contains_key("content-length"));
}

#[test]
fn method_and_uri() {
    let rt = plugin(
        json!({"http_method": "PUT", "replace": {"uri": "/v2/$(uri_captures.location)/$(uri_captures['apikey'])"}}),
    );
    let mut ctx = request(Some("a=1"), &[], None);
    rt.transform(&mut ctx);
    assert_eq!(ctx.method, Method::PUT);
    assert_eq!(ctx.upstream_path.as_deref(), Some("/v2/berlin/k-1"));
    assert_eq!(ctx.query.as_deref(), Some("a=1"), "the query is kept");

    let cases = [
        ("/literal path?x#y", "/literal%20path%3Fx%23y"),
        ("/$(headers.x_city)", "/s%C3%A3o%20paulo"),
        ("$(headers.x_nope)", ""),
        ("relative", ""),
    ];
    for (uri, expected) in cases {
        let mut ctx = request(None, &[("x-city", "são paulo")], None);
        ctx.headers.insert(
            "x-city",
            HeaderValue::from_bytes("são paulo".as_bytes()).unwrap(),
        );
        plugin(json!({"replace": {"uri": uri}})).transform(&mut ctx);
        // An empty expectation: the upstream path is left to the route (no replacement).
        assert_eq!(
            ctx.upstream_path.as_deref().unwrap_or(""),
            expected,
            "{uri}"
        );
    }
}

#[test]
fn a_form_body_joins_the_query_when_the_method_becomes_get() {
    let rt = plugin(json!({"http_method": "GET"}));
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let mut ctx = request(Some("b=q&a=1"), &form, Some("a=2&c=3"));
    rt.transform(&mut ctx);
    assert_eq!(ctx.method, Method::GET);
    assert_eq!(ctx.query.as_deref(), Some("a=1&a=2&b=q&c=3"));
    assert_eq!(
        ctx.body.as_deref(),
        Some(&b"a=2&c=3"[..]),
        "Kong keeps the body"
    );

    let mut ctx = request(
        Some("b=q"),
        &[("content-type", "application/json")],
        Some("{}"),
    );
    rt.transform(&mut ctx);
    assert_eq!(ctx.query.as_deref(), Some("b=q"), "only form bodies move");
}

#[test]
fn needs_the_body_only_when_it_touches_it() {
    let cases = [
        (json!({}), false),
        (
            json!({"add": {"headers": ["a:b"], "querystring": ["a:b"]}}),
            false,
        ),
        (json!({"http_method": "POST"}), false),
        (json!({"http_method": "GET"}), true),
        (json!({"remove": {"body": ["a"]}}), true),
        (json!({"append": {"body": ["a:b"]}}), true),
        (json!({"add": {"body": ["a:"]}}), false),
    ];
    for (config, expected) in cases {
        assert_eq!(plugin(config.clone()).needs_body(), expected, "{config}");
    }
}

#[test]
fn invalid_configs_name_the_entry() {
    // Header entries are checked by header_edit::header_entries (tested there); one shows the path.
    let cases = [
        (
            json!({"add": {"headers": ["ok:1", "no-colon"]}}),
            "config.add.headers.2",
            "invalid value: no-colon",
        ),
        (
            json!({"replace": {"querystring": ["q"]}}),
            "config.replace.querystring.1",
            "invalid value: q",
        ),
        (
            json!({"append": {"body": ["a:$(shared.x)"]}}),
            "config.append.body.1",
            "unknown template variable 'shared'",
        ),
        (
            json!({"replace": {"uri": "/$(headers)"}}),
            "config.replace.uri",
            "needs a key",
        ),
        (
            json!({"add": {"uri": "/x"}}),
            "config.add.uri",
            "unknown field",
        ),
        (
            json!({"http_method": "get"}),
            "config.http_method",
            "invalid value: get",
        ),
        (
            json!({"add": {"cookies": []}}),
            "config.add.cookies",
            "unknown field",
        ),
        (
            json!({"add": {"headers": "a:b"}}),
            "config.add.headers",
            "invalid type",
        ),
    ];
    for (config, field, message) in cases {
        let errors = RequestTransformer::from_config(&config).expect_err("invalid");
        assert_reports(&errors, field, message, &config);
    }
    let errors =
        RequestTransformer::from_config(&json!({"add": {"headers": ["a", "b"]}})).unwrap_err();
    assert_eq!(errors.len(), 2, "every error is reported at once");
    assert!(RequestTransformer::from_config(
        &json!({"http_method": null, "replace": {"uri": null, "body": null}})
    )
    .is_ok());
}

mod forecast;
