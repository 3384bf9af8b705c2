//! Unit tests of the pure parts: config checks, payloads, proxy-integration answers, response
//! shaping, clock formats, credential documents. The wire protocol is tested in
//! `gateway/tests/aws_lambda.rs` against a local Lambda.

use super::clock::{parse_iso8601, Civil};
use super::config::Config;
use super::*;
use http::{HeaderValue, Method, StatusCode};
use serde_json::json;
use std::time::UNIX_EPOCH;

fn config(extra: Value) -> Config {
    let mut base = json!({"function_name": "f", "aws_region": "us-east-1"});
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    Config::parse(&base).expect("a valid config")
}

fn ctx(method: Method, path: &str, query: Option<&str>, headers: &[(&str, &str)]) -> RequestCtx {
    let map = crate::test_support::headers(headers);
    RequestCtx::new(method, path, query, map, "10.0.0.7".parse().expect("ip"))
}

#[test]
fn config_defaults_are_kongs() {
    let c = config(json!({}));
    assert_eq!(c.timeout, 60_000.0);
    assert_eq!(c.keepalive, 60_000.0);
    assert_eq!(c.port, 443);
    assert_eq!(c.invocation_type, config::InvocationType::RequestResponse);
    assert_eq!(c.log_type, config::LogType::Tail);
    assert!(c.skip_large_bodies && c.base64_encode_body);
    assert!(!c.is_proxy_integration && !c.awsgateway_compatible && !c.disable_https);
    assert_eq!(c.aws_role_session_name, "kong");
    assert_eq!(c.empty_arrays_mode, config::EmptyArraysMode::Legacy);
}

#[test]
fn config_errors_name_their_fields() {
    let cases = [
        (json!({"aws_region": "x"}), "config.function_name"),
        (
            json!({"function_name": "f", "aws_key": "k"}),
            "config.aws_secret",
        ),
        (
            json!({"function_name": "f", "aws_secret": "s"}),
            "config.aws_key",
        ),
        (
            json!({"function_name": "f", "invocation_type": "Sync"}),
            "config",
        ),
        (
            json!({"function_name": "f", "unhandled_status": 42}),
            "config.unhandled_status",
        ),
        (
            json!({"function_name": "f", "proxy_url": "https://p:1"}),
            "config.proxy_url",
        ),
        (json!({"function_name": "f", "bogus": 1}), "config.bogus"),
    ];
    for (value, field) in cases {
        let errors = Config::parse(&value).expect_err("invalid");
        let json = errors.to_json();
        let pointer = format!("/{}", field.replace('.', "/"));
        assert!(json.pointer(&pointer).is_some(), "{value}: {json}");
    }
    // Kong's exported configs carry nulls for unset fields.
    assert!(
        Config::parse(&json!({"function_name": "f", "qualifier": null, "aws_key": null})).is_ok()
    );
}

#[test]
fn legacy_payload_merges_query_and_body_arguments() {
    let mut c = ctx(
        Method::POST,
        "/x",
        Some("a=1&a=2&flag&k=q"),
        &[("content-type", "application/json")],
    );
    c.body = Some(Bytes::from_static(br#"{"k":"body","n":3}"#));
    let event = payload::build(&config(json!({})), &c, UNIX_EPOCH);
    assert_eq!(
        event,
        json!({"a": ["1", "2"], "flag": true, "k": "body", "n": 3})
    );
}

#[test]
fn forwarded_fields_follow_the_flags() {
    let all = json!({"forward_request_method": true, "forward_request_uri": true,
                     "forward_request_headers": true, "forward_request_body": true});
    let mut c = ctx(
        Method::PUT,
        "/p",
        Some("x=1"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-a", "1"),
            ("x-a", "2"),
        ],
    );
    c.body = Some(Bytes::from_static(b"b=2&c=%20"));
    let event = payload::build(&config(all.clone()), &c, UNIX_EPOCH);
    assert_eq!(event["request_method"], "PUT");
    assert_eq!(event["request_uri"], "/p?x=1");
    assert_eq!(event["request_uri_args"], json!({"x": "1"}));
    assert_eq!(event["request_headers"]["x-a"], json!(["1", "2"]));
    assert_eq!(event["request_body"], "b=2&c=%20");
    assert_eq!(event["request_body_args"], json!({"b": "2", "c": " "}));
    assert!(event.get("request_body_base64").is_none());

    // A body Kong cannot parse is base64-encoded, unless it is text or encoding is off.
    let table = [
        ("application/octet-stream", true, json!("AAEC"), Some(true)),
        (
            "text/plain; charset=utf-8",
            true,
            json!("\u{0}\u{1}\u{2}"),
            None,
        ),
        (
            "application/octet-stream",
            false,
            json!("\u{0}\u{1}\u{2}"),
            None,
        ),
    ];
    for (content_type, encode, body, flag) in table {
        let mut c = ctx(Method::POST, "/", None, &[("content-type", content_type)]);
        c.body = Some(Bytes::from_static(&[0, 1, 2]));
        let cfg = config(json!({"forward_request_body": true, "base64_encode_body": encode}));
        let event = payload::build(&cfg, &c, UNIX_EPOCH);
        assert_eq!(event["request_body"], body, "{content_type}");
        assert_eq!(event["request_body_args"], json!({}), "{content_type}");
        assert_eq!(
            event.get("request_body_base64").cloned(),
            flag.map(Value::Bool)
        );
        assert!(event.get("request_method").is_none());
    }
}

#[test]
fn large_bodies_are_skipped_unless_asked_for() {
    let mut c = ctx(Method::POST, "/", None, &[("content-type", "text/plain")]);
    c.body = Some(Bytes::from(vec![b'a'; payload::LARGE_BODY + 1]));
    let skip = payload::build(
        &config(json!({"forward_request_body": true})),
        &c,
        UNIX_EPOCH,
    );
    assert_eq!(skip["request_body"], "");
    let keep = config(json!({"forward_request_body": true, "skip_large_bodies": false}));
    let keep = payload::build(&keep, &c, UNIX_EPOCH);
    assert_eq!(
        keep["request_body"].as_str().map(str::len),
        Some(payload::LARGE_BODY + 1)
    );
}

#[test]
fn api_gateway_events_in_both_formats() {
    let mut c = ctx(
        Method::POST,
        "/users/42",
        Some("q=a&q=b&one=1"),
        &[
            ("host", "api.example.com:8000"),
            ("user-agent", "curl/8"),
            ("cookie", "a=1; b=2"),
            ("x-m", "1"),
            ("x-m", "2"),
        ],
    );
    c.uri_captures.insert("id".into(), "42".into());
    c.body = Some(Bytes::from_static(b"hi"));
    let v1 = payload::build(
        &config(json!({"awsgateway_compatible": true})),
        &c,
        UNIX_EPOCH,
    );
    assert_eq!(v1["version"], "1.0");
    assert_eq!(v1["httpMethod"], "POST");
    assert_eq!(v1["path"], "/users/42");
    assert_eq!(v1["pathParameters"], json!({"id": "42"}));
    assert_eq!(v1["queryStringParameters"], json!({"q": "a", "one": "1"}));
    assert_eq!(
        v1["multiValueQueryStringParameters"]["q"],
        json!(["a", "b"])
    );
    assert_eq!(v1["headers"]["x-m"], "1");
    assert_eq!(v1["multiValueHeaders"]["x-m"], json!(["1", "2"]));
    assert_eq!(
        (v1["body"].clone(), v1["isBase64Encoded"].clone()),
        (json!("aGk="), json!(true))
    );
    assert_eq!(v1["requestContext"]["domainName"], "api.example.com");
    assert_eq!(v1["requestContext"]["domainPrefix"], "api");
    assert_eq!(v1["requestContext"]["identity"]["sourceIp"], "10.0.0.7");
    assert_eq!(v1["requestContext"]["identity"]["userAgent"], "curl/8");

    let cfg = config(
        json!({"awsgateway_compatible": true, "base64_encode_body": false,
                            "awsgateway_compatible_payload_version": "2.0"}),
    );
    let v2 = payload::build(&cfg, &c, UNIX_EPOCH);
    assert_eq!(v2["version"], "2.0");
    assert_eq!(v2["rawPath"], "/users/42");
    assert_eq!(v2["rawQueryString"], "q=a&q=b&one=1");
    assert_eq!(v2["queryStringParameters"]["q"], "a,b");
    assert_eq!(v2["headers"]["x-m"], "1,2");
    assert!(v2["headers"].get("cookie").is_none());
    assert_eq!(v2["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(v2["requestContext"]["http"]["method"], "POST");
    assert_eq!(
        (v2["body"].clone(), v2["isBase64Encoded"].clone()),
        (json!("hi"), json!(false))
    );
}

#[test]
fn proxy_integration_answers_are_checked_like_kongs() {
    let ok = proxy_integration::parse(
        br#"{"statusCode":"201","headers":{"X-A":"1","X-N":5},"multiValueHeaders":{"x-a":["2","3"]},
            "body":"aGVsbG8=","isBase64Encoded":true}"#,
    )
    .expect("valid");
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body, Bytes::from_static(b"hello"));
    assert_eq!(
        ok.headers,
        vec![
            ("X-N".to_string(), vec!["5".to_string()]),
            ("x-a".to_string(), vec!["2".to_string(), "3".to_string()])
        ]
    );
    let bad = [
        (r#"{"statusCode":600}"#, "statusCode validation failed"),
        (r#"{"body":"x"}"#, "statusCode validation failed"),
        (r#""just a string""#, "statusCode validation failed"),
        (
            r#"{"statusCode":200,"headers":"x"}"#,
            "headers must be a table",
        ),
        (r#"{"statusCode":200,"body":{}}"#, "body must be a string"),
        (
            r#"{"statusCode":200,"isBase64Encoded":"yes"}"#,
            "isBase64Encoded must be a boolean",
        ),
    ];
    for (payload, reason) in bad {
        assert_eq!(
            proxy_integration::parse(payload.as_bytes()),
            Err(reason.to_string())
        );
    }
    assert!(proxy_integration::parse(b"not json").is_err());
}

fn lambda(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).expect("status");
    for (name, value) in headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    response
}

#[test]
fn answers_become_responses() {
    let json_ct = ("content-type", "application/json");
    let table = [
        (
            json!({}),
            lambda(200, &[json_ct], r#"{"a":[]}"#),
            200,
            r#"{"a":{}}"#,
        ),
        (
            json!({"empty_arrays_mode": "correct"}),
            lambda(200, &[json_ct], r#"{"a":[]}"#),
            200,
            r#"{"a":[]}"#,
        ),
        (json!({}), lambda(202, &[], ""), 202, ""),
        (
            json!({"unhandled_status": 412}),
            lambda(200, &[json_ct, ("x-amz-function-error", "Unhandled")], "{}"),
            412,
            "{}",
        ),
        (
            json!({}),
            lambda(200, &[json_ct, ("x-amz-function-error", "Unhandled")], "{}"),
            200,
            "{}",
        ),
        (
            json!({}),
            lambda(403, &[json_ct], r#"{"message":"nope"}"#),
            500,
            r#"{"message":"An unexpected error occurred"}"#,
        ),
        (
            json!({"is_proxy_integration": true}),
            lambda(
                200,
                &[json_ct],
                r#"{"statusCode":418,"body":"tea","headers":{"content-type":"text/plain"}}"#,
            ),
            418,
            "tea",
        ),
    ];
    for (extra, response, status, body) in table {
        let answer = answer::respond(&config(extra.clone()), response);
        assert_eq!(answer.status().as_u16(), status, "{extra}");
        assert_eq!(answer.body(), &Bytes::from(body.to_string()), "{extra}");
        if status < 500 {
            assert!(answer.headers()["via"]
                .to_str()
                .is_ok_and(|v| v.contains("gateway/")));
        }
    }
    let bad = answer::respond(
        &config(json!({"is_proxy_integration": true})),
        lambda(200, &[json_ct], r#"{"statusCode":"x"}"#),
    );
    assert_eq!(bad.status(), StatusCode::BAD_GATEWAY);
    let body: Value = serde_json::from_slice(bad.body()).expect("json");
    assert_eq!(body["message"], "Bad Gateway");
    assert_eq!(
        body["error"],
        "could not JSON decode Lambda function response: statusCode validation failed"
    );
}

#[test]
fn clock_formats_round_trip() {
    let at = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let civil = Civil::from_system(at);
    assert_eq!(civil.amz_date(), "20150830T123600Z");
    assert_eq!(civil.clf(), "30/Aug/2015:12:36:00 +0000");
    for text in ["2015-08-30T12:36:00Z", "2015-08-30T12:36:00.123Z"] {
        assert_eq!(parse_iso8601(text), Some(at), "{text}");
    }
    assert_eq!(
        parse_iso8601("2000-02-29T00:00:00Z")
            .map(Civil::from_system)
            .map(|c| c.day),
        Some(29)
    );
    assert_eq!(parse_iso8601("yesterday"), None);
}

#[test]
fn credential_documents_and_sts_answers_parse() {
    let doc = credentials::parse_document(
        br#"{"AccessKeyId":"AK","SecretAccessKey":"SK","Token":"T","Expiration":"2015-08-30T12:36:00Z"}"#,
    )
    .expect("valid");
    assert_eq!(
        (doc.access_key_id.as_str(), doc.session_token.as_deref()),
        ("AK", Some("T"))
    );
    assert_eq!(
        doc.expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160))
    );
    assert!(
        !format!("{doc:?}").contains("SK"),
        "secrets stay out of logs"
    );
    let xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AK2</AccessKeyId>\
               <SecretAccessKey>SK2</SecretAccessKey><SessionToken>T2</SessionToken>\
               <Expiration>2015-08-30T12:36:00Z</Expiration></Credentials></AssumeRoleResult>\
               </AssumeRoleResponse>";
    let assumed = sts::parse_assume_role(xml).expect("valid");
    assert_eq!(assumed.secret_access_key, "SK2");
    assert!(sts::parse_assume_role("<Error/>").is_err());
}

#[test]
fn endpoints_follow_region_host_port_and_https() {
    let c = config(
        json!({"qualifier": "$LATEST", "function_name": "arn:aws:lambda:us-east-1:1:function:f"}),
    );
    let e = invoke::Endpoint::new(&c, None).expect("a region");
    assert_eq!(e.base, "https://lambda.us-east-1.amazonaws.com");
    assert_eq!(
        e.path,
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations"
    );
    assert_eq!(e.query.as_deref(), Some("Qualifier=%24LATEST"));
    let c = config(json!({"host": "127.0.0.1", "port": 9000, "disable_https": true}));
    let e = invoke::Endpoint::new(&c, None).expect("a region");
    assert_eq!(
        (e.base.as_str(), e.host.as_str()),
        ("http://127.0.0.1:9000", "127.0.0.1:9000")
    );
    let no_region = Config::parse(&json!({"function_name": "f"})).expect("valid");
    assert!(invoke::Endpoint::new(&no_region, None).is_none());
    let env_region = invoke::Endpoint::new(&no_region, Some("eu-west-1".into())).expect("env");
    assert_eq!(env_region.region, "eu-west-1");
}
