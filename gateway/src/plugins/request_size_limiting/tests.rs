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
fn a_content_length_at_the_limit_passes_and_one_byte_more_is_refused() {
    // (config, the largest Content-Length it allows, one byte more)
    let limits = [
        (
            json!({ "allowed_payload_size": 10, "size_unit": "bytes" }),
            "10",
            "11",
        ),
        (
            json!({ "allowed_payload_size": 1, "size_unit": "kilobytes" }),
            "1024",
            "1025",
        ),
        (json!({ "allowed_payload_size": 1 }), "1048576", "1048577"),
        (json!({}), "134217728", "134217729"),
    ];
    for (config, limit, over) in limits {
        let limiting = plugin(config.clone());
        let check =
            |length: &str| outcome(limiting.check(&ctx(&[("content-length", length)], None)));
        assert_eq!(check(limit), None, "{config} content-length {limit}");
        let refused = Some((413, EXCEEDED.to_string()));
        assert_eq!(check(over), refused, "{config} content-length {over}");
    }
}

#[test]
fn without_a_length_a_buffered_body_is_measured() {
    let four_bytes = plugin(json!({ "allowed_payload_size": 4, "size_unit": "bytes" }));
    // (headers, buffered body, expected status or None)
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'static [u8]>, Option<u16>);
    let cases: [Case; 4] = [
        (&[], Some(b"12345"), Some(413)),
        (&[], Some(b"1234"), None),
        // An unbuffered (streamed) body without a length passes.
        (&[], None, None),
        // Expect: 100-continue gets 417 instead.
        (
            &[("content-length", "5"), ("expect", " 100-Continue ")],
            None,
            Some(417),
        ),
    ];
    for (headers, body, expected) in cases {
        let got = outcome(four_bytes.check(&ctx(headers, body)));
        let expected = expected.map(|s| (s, EXCEEDED.to_string()));
        assert_eq!(got, expected, "{headers:?} {body:?}");
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
