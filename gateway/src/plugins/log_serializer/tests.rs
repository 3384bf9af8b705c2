use super::*;
use crate::entities::{parse, Route, Service};
use crate::plugins::consumers::ConsumerInfo;
use http::{HeaderValue, Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

fn service() -> Service {
    parse(json!({"name": "weather", "url": "http://example.com:8080/v1"})).unwrap()
}

fn route() -> Route {
    parse(json!({"name": "forecast", "paths": ["/forecast"]})).unwrap()
}

fn ctx(query: Option<&str>) -> RequestCtx {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("gw.example:8000"));
    headers.insert("authorization", HeaderValue::from_static("Bearer secret"));
    headers.insert("x-api-key", HeaderValue::from_static("k-123"));
    headers.insert("cookie", HeaderValue::from_static("session=abc"));
    headers.append("accept", HeaderValue::from_static("text/plain"));
    headers.append("accept", HeaderValue::from_static("application/json"));
    headers.insert("user-agent", HeaderValue::from_static("test"));
    RequestCtx::new(
        Method::GET,
        "/forecast/berlin",
        query,
        headers,
        "10.0.0.7".parse().unwrap(),
    )
}

fn record<'a>(
    service: &'a Service,
    route: &'a Route,
    uri: &'a http::Uri,
    response_headers: &'a HeaderMap,
) -> LogRecord<'a> {
    LogRecord {
        status: StatusCode::OK,
        from_upstream: true,
        service: Some(service),
        route: Some(route),
        request_bytes: 120,
        response_bytes: 40,
        latency_kong_ms: 2,
        latency_upstream_ms: Some(30),
        latency_total_ms: 35,
        request_id: "abc123",
        scheme: "http",
        port: 8000,
        request_uri: Some(uri),
        upstream_uri: Some("/v1/berlin?apikey=k-9&days=3"),
        response_headers: Some(response_headers),
        started_at_ms: 1_700_000_000_123,
    }
}

fn response_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("set-cookie", HeaderValue::from_static("session=new"));
    h
}

#[test]
fn the_log_object_has_kongs_shape() {
    let (service, route, headers) = (service(), route(), response_headers());
    let uri: http::Uri = "/forecast/berlin?days=3&flag&tag=a&tag=b".parse().unwrap();
    let mut ctx = ctx(Some("days=3&flag&tag=a&tag=b"));
    ctx.consumer = Some(Arc::new(ConsumerInfo {
        id: Uuid::nil(),
        username: Some("alice".into()),
        custom_id: None,
        id_header: HeaderValue::from_static("x"),
        username_header: None,
        custom_id_header: None,
        groups: Vec::new(),
        groups_header: None,
    }));
    let credential = Uuid::new_v4();
    ctx.credential_id = Some(credential);
    let log = serialize(
        &ctx,
        &record(&service, &route, &uri, &headers),
        &Redaction::default(),
    );

    let request = &log["request"];
    assert_eq!(request["method"], "GET");
    assert_eq!(request["id"], "abc123");
    assert_eq!(request["uri"], "/forecast/berlin?days=3&flag&tag=a&tag=b");
    assert_eq!(
        request["url"],
        "http://gw.example:8000/forecast/berlin?days=3&flag&tag=a&tag=b"
    );
    assert_eq!(
        request["querystring"],
        json!({"days": "3", "flag": true, "tag": ["a", "b"]})
    );
    assert_eq!(
        request["headers"]["accept"],
        json!(["text/plain", "application/json"])
    );
    assert_eq!(request["headers"]["user-agent"], "test");
    assert_eq!(request["size"], 120);
    assert_eq!(log["response"]["status"], 200);
    assert_eq!(
        log["response"]["headers"]["content-type"],
        "application/json"
    );
    assert!(
        log["response"]["size"].as_u64().unwrap() > 40,
        "counts the head too"
    );
    assert_eq!(
        log["latencies"],
        json!({"kong": 2, "proxy": 30, "request": 35, "receive": 3})
    );
    assert_eq!(log["upstream_status"], "200");
    assert_eq!(log["service"]["name"], "weather");
    assert_eq!(log["service"]["port"], 8080);
    assert_eq!(log["route"]["name"], "forecast");
    assert_eq!(
        log["consumer"],
        json!({"id": Uuid::nil(), "username": "alice", "custom_id": null})
    );
    assert_eq!(
        log["authenticated_entity"],
        json!({"id": credential, "consumer_id": Uuid::nil()})
    );
    assert_eq!(log["client_ip"], "10.0.0.7");
    assert_eq!(log["started_at"], 1_700_000_000_123u64);
    assert_eq!(log["source"], "upstream");
    assert_eq!(log["workspace_name"], "default");
    assert!(log["workspace"].is_string());
}

#[test]
fn a_gateway_answer_has_no_proxy_latency_and_no_consumer() {
    let (service, route, headers) = (service(), route(), response_headers());
    let uri: http::Uri = "/forecast".parse().unwrap();
    let mut r = record(&service, &route, &uri, &headers);
    r.status = StatusCode::UNAUTHORIZED;
    r.from_upstream = false;
    r.latency_upstream_ms = None;
    r.upstream_uri = None;
    let log = serialize(&ctx(None), &r, &Redaction::default());
    assert_eq!(log["latencies"]["proxy"], -1);
    assert_eq!(log["latencies"]["receive"], 0);
    assert_eq!(log["source"], "kong");
    assert_eq!(log["upstream_status"], "");
    assert_eq!(log["upstream_uri"], "");
    assert_eq!(log["request"]["querystring"], json!({}));
    for absent in ["consumer", "authenticated_entity", "tries"] {
        assert!(log.get(absent).is_none(), "{absent} is left out");
    }
}

#[test]
fn secrets_are_redacted_in_headers_query_and_uris() {
    let (service, route, headers) = (service(), route(), response_headers());
    let uri: http::Uri = "/forecast/berlin?apikey=k-9&X-API-KEY=k-1&days=3"
        .parse()
        .unwrap();
    let ctx = ctx(Some("apikey=k-9&X-API-KEY=k-1&days=3"));
    let redaction = Redaction::default();
    redaction.add_key_auth(&json!({"key_names": ["X-Api-Key"]}));
    let log = serialize(&ctx, &record(&service, &route, &uri, &headers), &redaction);
    let text = log.to_string();
    for secret in [
        "k-9",
        "k-1",
        "k-123",
        "Bearer secret",
        "session=abc",
        "session=new",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let request = &log["request"];
    let cases = [
        (&request["headers"]["authorization"], "REDACTED"),
        (&request["headers"]["x-api-key"], "REDACTED"),
        (&request["headers"]["cookie"], "REDACTED"),
        (&request["querystring"]["apikey"], "REDACTED"),
        (&request["querystring"]["X-API-KEY"], "REDACTED"),
        (&request["querystring"]["days"], "3"),
        (&log["response"]["headers"]["set-cookie"], "REDACTED"),
        (
            &request["uri"],
            "/forecast/berlin?apikey=REDACTED&X-API-KEY=REDACTED&days=3",
        ),
        (&log["upstream_uri"], "/v1/berlin?apikey=REDACTED&days=3"),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn without_key_auth_names_only_the_fixed_ones_are_redacted() {
    let (service, route, headers) = (service(), route(), response_headers());
    let uri: http::Uri = "/forecast".parse().unwrap();
    let log = serialize(
        &ctx(None),
        &record(&service, &route, &uri, &headers),
        &Redaction::default(),
    );
    assert_eq!(log["request"]["headers"]["x-api-key"], "k-123");
    assert_eq!(log["request"]["headers"]["authorization"], "REDACTED");
}

#[test]
fn query_values_decode_like_kong() {
    let secrets = Redaction::default();
    let cases = [
        ("a=1+2&b=%2Fx", json!({"a": "1 2", "b": "/x"})),
        ("token=abc==", json!({"token": "abc=="})),
        ("empty=&&flag", json!({"empty": "", "flag": true})),
        ("k=1&k=2&k=3", json!({"k": ["1", "2", "3"]})),
    ];
    for (query, want) in cases {
        assert_eq!(
            querystring(Some(query), &secrets.secrets()),
            want,
            "{query}"
        );
    }
}

#[test]
fn hosts_lose_their_port() {
    let cases = [
        ("example.com:8000", "example.com"),
        ("example.com", "example.com"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
    ];
    for (host, want) in cases {
        assert_eq!(host_without_port(host), want);
    }
}

#[test]
fn drops_add_up_per_sink_and_for_the_node() {
    let sinks = LogSinks::default();
    let (a, b) = (sinks.dropped("a".into()), sinks.dropped("b".into()));
    a.add(2, "full");
    a.add(1, "full");
    b.add(4, "down");
    assert_eq!((a.count(), b.count(), sinks.dropped_total()), (3, 4, 7));
}

#[test]
fn lua_fields_are_refused_unless_empty() {
    let cases = [
        (None, true),
        (Some(json!(null)), true),
        (Some(json!({})), true),
        (Some(json!({"x": "return 1"})), false),
    ];
    for (value, ok) in cases {
        let mut errors = FieldErrors::default();
        refuse_lua(value.as_ref(), &mut errors);
        assert_eq!(errors.is_empty(), ok, "{value:?}");
    }
}
