use super::*;
use crate::declarative::parse_str;
use http::Method;
use serde_json::json;

const CONFIG: &str = r#"
_format_version: "3.0"
consumers:
  - username: alice
    custom_id: portal-1
    keyauth_credentials:
      - key: alice-key
  - username: bob
    keyauth_credentials:
      - key: bob-old-key
        ttl: 1
        created_at: 1000
  - username: anonymous-user
"#;

fn plugin(config: serde_json::Value) -> KeyAuth {
    let parsed = parse_str(CONFIG, "test.yaml").expect("valid config");
    KeyAuth::from_config(&config, Arc::new(Consumers::build(&parsed))).expect("valid plugin config")
}

fn ctx(query: Option<&str>, headers: &[(&str, &str)]) -> RequestCtx {
    crate::test_support::request(Method::GET, query, headers)
}

fn message(answer: &ShortCircuit) -> String {
    serde_json::from_slice::<Value>(answer.body()).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_key_in_a_header_identifies_the_consumer() {
    let auth = plugin(json!({}));
    let mut c = ctx(
        None,
        &[("apikey", "alice-key"), ("x-consumer-username", "forged")],
    );
    assert!(auth.authenticate(&mut c).is_none());
    assert_eq!(
        c.consumer.as_ref().unwrap().username.as_deref(),
        Some("alice")
    );
    assert_eq!(
        c.headers["x-consumer-username"], "alice",
        "a forged header is replaced"
    );
    assert_eq!(c.headers["x-consumer-custom-id"], "portal-1");
    assert!(c.headers.contains_key("x-credential-identifier"));
    assert!(!c.headers.contains_key("x-anonymous-consumer"));
    assert_eq!(
        c.headers["apikey"], "alice-key",
        "kept unless hide_credentials"
    );
}

#[test]
fn missing_wrong_expired_and_duplicate_keys_are_401() {
    let auth = plugin(json!({}));
    type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (None, &[], "No API key found in request"),
        (None, &[("apikey", "nope")], "Unauthorized"),
        (None, &[("apikey", "bob-old-key")], "Unauthorized"),
        (Some("apikey=a&apikey=b"), &[], "Duplicate API key found"),
    ];
    for (query, headers, expected) in cases {
        let answer = auth.authenticate(&mut ctx(query, headers)).expect("a 401");
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(message(&answer), expected, "{query:?} {headers:?}");
        assert_eq!(answer.headers()["www-authenticate"], "Key realm=\"kong\"");
    }
}

#[test]
fn query_keys_and_hidden_credentials() {
    let auth = plugin(json!({"hide_credentials": true, "key_names": ["apikey", "x-key"]}));
    let mut c = ctx(Some("city=berlin&apikey=alice-key"), &[]);
    assert!(auth.authenticate(&mut c).is_none());
    assert_eq!(
        c.query.as_deref(),
        Some("city=berlin"),
        "the key is removed from the query"
    );
    let mut c = ctx(None, &[("x-key", "alice-key")]);
    assert!(auth.authenticate(&mut c).is_none());
    assert!(
        !c.headers.contains_key("x-key"),
        "the key header is removed"
    );
    let auth = plugin(json!({"key_in_query": false}));
    let answer = auth
        .authenticate(&mut ctx(Some("apikey=alice-key"), &[]))
        .expect("a 401");
    assert_eq!(message(&answer), "No API key found in request");
}

#[test]
fn keys_in_bodies_when_asked() {
    let auth = plugin(json!({"key_in_body": true, "hide_credentials": true}));
    assert!(auth.needs_body());
    let mut c = ctx(
        None,
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    c.body = Some(bytes::Bytes::from_static(b"apikey=alice-key&q=1"));
    assert!(auth.authenticate(&mut c).is_none());
    assert_eq!(c.body.as_deref(), Some(&b"q=1"[..]));
    let mut c = ctx(None, &[("content-type", "application/json")]);
    c.body = Some(bytes::Bytes::from_static(
        br#"{"apikey":"alice-key","q":1}"#,
    ));
    assert!(auth.authenticate(&mut c).is_none());
    assert_eq!(c.body.as_deref(), Some(&br#"{"q":1}"#[..]));
}

#[test]
fn anonymous_lets_unauthenticated_requests_through_as_that_consumer() {
    let auth = plugin(json!({"anonymous": "anonymous-user"}));
    let mut c = ctx(None, &[("apikey", "wrong")]);
    assert!(auth.authenticate(&mut c).is_none());
    assert_eq!(
        c.consumer.as_ref().unwrap().username.as_deref(),
        Some("anonymous-user")
    );
    assert_eq!(c.headers["x-anonymous-consumer"], "true");
    let missing = plugin(json!({"anonymous": "ghost"}));
    let answer = missing.authenticate(&mut ctx(None, &[])).expect("an error");
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn preflight_requests_skip_authentication_when_configured() {
    let auth = plugin(json!({"run_on_preflight": false}));
    let mut c = ctx(None, &[]);
    c.method = Method::OPTIONS;
    assert!(auth.authenticate(&mut c).is_none());
    let auth = plugin(json!({}));
    let mut c = ctx(None, &[]);
    c.method = Method::OPTIONS;
    assert!(auth.authenticate(&mut c).is_some());
}

#[test]
fn bad_config_is_a_field_error() {
    let consumers = Arc::new(Consumers::default());
    let err = KeyAuth::from_config(&json!({"key_names": []}), consumers.clone()).unwrap_err();
    assert_eq!(err.iter().next().unwrap().0, "config.key_names");
    let err = KeyAuth::from_config(&json!({"colour": "red"}), consumers).unwrap_err();
    assert_eq!(err.iter().next().unwrap().0, "config.colour");
}
