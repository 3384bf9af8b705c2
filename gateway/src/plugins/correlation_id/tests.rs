use super::*;
use http::Method;
use serde_json::json;

fn plugin(config: Value) -> CorrelationId {
    CorrelationId::from_config(&config).expect("valid correlation-id config")
}

fn ctx(headers: &[(&str, &str)]) -> RequestCtx {
    crate::test_support::request(Method::GET, None, headers)
}

fn run(plugin: &CorrelationId, c: &mut RequestCtx) {
    let answer = futures_util::FutureExt::now_or_never(plugin.access(c)).expect("no waiting");
    assert!(answer.is_none(), "correlation-id never answers by itself");
}

fn header(c: &RequestCtx, name: &str) -> String {
    c.headers[name].to_str().unwrap().to_string()
}

#[test]
fn a_missing_or_empty_id_is_generated_and_a_present_one_kept() {
    let p = plugin(json!({}));
    let cases = [
        (vec![], None),
        (vec![("kong-request-id", "")], None),
        (vec![("Kong-Request-ID", "abc")], Some("abc")),
    ];
    for (headers, kept) in cases {
        let mut c = ctx(&headers);
        run(&p, &mut c);
        let id = header(&c, "kong-request-id");
        match kept {
            Some(kept) => assert_eq!(id, kept),
            None => assert!(!id.is_empty(), "{headers:?}"),
        }
        assert_eq!(c.headers.get_all("kong-request-id").iter().count(), 1);
    }
}

#[test]
fn generators_have_kongs_shapes() {
    let uuid = Generator::Uuid.generate();
    assert!(Uuid::parse_str(&uuid).is_ok(), "{uuid}");
    assert_ne!(uuid, Generator::Uuid.generate());

    let first = Generator::UuidCounter.generate();
    let second = Generator::UuidCounter.generate();
    let (base1, n1) = first.split_once('#').expect("uuid#counter");
    let (base2, n2) = second.split_once('#').expect("uuid#counter");
    assert!(Uuid::parse_str(base1).is_ok());
    assert_eq!(base1, base2, "one uuid per process");
    assert!(n2.parse::<u64>().unwrap() > n1.parse::<u64>().unwrap());

    let tracker = Generator::Tracker.generate();
    let parts: Vec<&str> = tracker.split('-').collect();
    assert_eq!(parts.len(), 6, "{tracker}");
    assert_eq!(parts[2], std::process::id().to_string());
    let (_, millis) = parts[5].split_once('.').expect("seconds with a fraction");
    assert_eq!(millis.len(), 3);
}

#[test]
fn the_header_name_and_generator_are_configurable() {
    let p = plugin(json!({ "header_name": "X-Trace", "generator": "uuid" }));
    let mut c = ctx(&[]);
    run(&p, &mut c);
    assert!(Uuid::parse_str(&header(&c, "x-trace")).is_ok());
    assert!(!c.headers.contains_key("kong-request-id"));
}

#[test]
fn echo_downstream_returns_the_same_id() {
    // (echo_downstream, request id, expected on the response)
    let cases = [
        (false, Some("abc"), None),
        (true, Some("abc"), Some("abc")),
        (true, None, None), // generated: checked against the upstream's copy below
    ];
    for (echo, sent, expected) in cases {
        let p = plugin(json!({ "echo_downstream": echo }));
        let headers: Vec<(&str, &str)> = sent.map(|v| ("kong-request-id", v)).into_iter().collect();
        let mut c = ctx(&headers);
        run(&p, &mut c);
        let mut response = HeaderMap::new();
        p.response_headers(&c, StatusCode::OK, &mut response);
        let echoed = response.get("kong-request-id").map(|v| v.to_str().unwrap());
        match (echo, expected) {
            (false, _) => assert_eq!(echoed, None),
            (true, Some(id)) => assert_eq!(echoed, Some(id)),
            (true, None) => assert_eq!(echoed, Some(header(&c, "kong-request-id").as_str())),
        }
    }
}

#[test]
fn echo_without_an_access_phase_still_sends_an_id() {
    let p = plugin(json!({ "echo_downstream": true }));
    let mut response = HeaderMap::new();
    p.response_headers(&ctx(&[]), StatusCode::UNAUTHORIZED, &mut response);
    assert!(response.contains_key("kong-request-id"));
}

#[test]
fn bad_configs_are_field_errors() {
    let cases = [
        (json!({ "generator": "random" }), "config.generator"),
        (json!({ "header_name": "bad header" }), "config.header_name"),
        (json!({ "echo": true }), "config.echo"),
    ];
    for (config, field) in cases {
        let errors = CorrelationId::from_config(&config).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{config}");
    }
}
