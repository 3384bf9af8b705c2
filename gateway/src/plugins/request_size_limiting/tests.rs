use super::*;
use bytes::Bytes;
use http::Method;
use serde_json::json;

fn plugin(config: Value) -> RequestSizeLimiting {
    RequestSizeLimiting::from_config(&config).expect("valid request-size-limiting config")
}

fn ctx(headers: &[(&str, &str)], body: Option<&'static [u8]>) -> RequestCtx {
    let map = crate::test_support::headers(headers);
    let mut ctx = RequestCtx::new(Method::POST, "/", None, map, [127, 0, 0, 1].into());
    ctx.body = body.map(Bytes::from_static);
    ctx
}

fn outcome(answer: Option<ShortCircuit>) -> Option<(u16, String)> {
    answer.map(|a| {
        let body: Value = serde_json::from_slice(a.body()).unwrap();
        (
            a.status().as_u16(),
            body["message"].as_str().unwrap().to_string(),
        )
    })
}

const EXCEEDED: &str = "Request size limit exceeded";

#[test]
fn limits_by_unit_content_length_and_buffered_body() {
    // (config, headers, buffered body, expected status or None)
    type Case<'a> = (
        Value,
        &'a [(&'a str, &'a str)],
        Option<&'static [u8]>,
        Option<u16>,
    );
    let cases: [Case; 12] = [
        (
            json!({ "allowed_payload_size": 10, "size_unit": "bytes" }),
            &[("content-length", "10")],
            None,
            None,
        ),
        (
            json!({ "allowed_payload_size": 10, "size_unit": "bytes" }),
            &[("content-length", "11")],
            None,
            Some(413),
        ),
        (
            json!({ "allowed_payload_size": 1, "size_unit": "kilobytes" }),
            &[("content-length", "1024")],
            None,
            None,
        ),
        (
            json!({ "allowed_payload_size": 1, "size_unit": "kilobytes" }),
            &[("content-length", "1025")],
            None,
            Some(413),
        ),
        (
            json!({ "allowed_payload_size": 1 }),
            &[("content-length", "1048576")],
            None,
            None,
        ),
        (
            json!({ "allowed_payload_size": 1 }),
            &[("content-length", "1048577")],
            None,
            Some(413),
        ),
        (
            json!({}),
            &[("content-length", "134217729")],
            None,
            Some(413),
        ),
        (json!({}), &[("content-length", "134217728")], None, None),
        // No length: a buffered (chunked) body is measured; an unbuffered one passes.
        (
            json!({ "allowed_payload_size": 4, "size_unit": "bytes" }),
            &[],
            Some(b"12345"),
            Some(413),
        ),
        (
            json!({ "allowed_payload_size": 4, "size_unit": "bytes" }),
            &[],
            Some(b"1234"),
            None,
        ),
        (
            json!({ "allowed_payload_size": 4, "size_unit": "bytes" }),
            &[],
            None,
            None,
        ),
        // Expect: 100-continue gets 417 instead.
        (
            json!({ "allowed_payload_size": 4, "size_unit": "bytes" }),
            &[("content-length", "5"), ("expect", " 100-Continue ")],
            None,
            Some(417),
        ),
    ];
    for (config, headers, body, expected) in cases {
        let got = outcome(plugin(config.clone()).check(&ctx(headers, body)));
        let expected = expected.map(|s| (s, EXCEEDED.to_string()));
        assert_eq!(got, expected, "{config} {headers:?} {body:?}");
    }
}

#[test]
fn require_content_length_answers_411_without_one() {
    let strict = plugin(json!({ "require_content_length": true }));
    let required = Some((411, "A valid Content-Length header is required".to_string()));
    assert_eq!(outcome(strict.check(&ctx(&[], Some(b"x")))), required);
    assert_eq!(outcome(strict.check(&ctx(&[], None))), required);
    assert_eq!(
        outcome(strict.check(&ctx(&[("content-length", "12")], None))),
        None
    );
    let lenient = plugin(json!({}));
    assert_eq!(outcome(lenient.check(&ctx(&[], None))), None);
}

#[test]
fn bad_configs_are_field_errors() {
    let cases = [
        (json!({ "size_unit": "gigabytes" }), "config.size_unit"),
        (json!({ "allowed_payload_size": -1 }), "config"),
        (json!({ "allowed_payload_size": "big" }), "config"),
        (json!({ "max": 1 }), "config.max"),
    ];
    for (config, field) in cases {
        let errors = RequestSizeLimiting::from_config(&config).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{config}");
    }
}
