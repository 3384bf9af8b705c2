use super::*;
use serde_json::json;

fn spec(fields: serde_json::Value) -> HashSpec {
    let mut value = json!({"name": "pool"});
    for (k, v) in fields.as_object().unwrap() {
        value[k] = v.clone();
    }
    HashSpec::of(&crate::entities::parse::<Upstream>(value).unwrap())
}

#[test]
fn each_input_and_the_fallback() {
    let mut headers = HeaderMap::new();
    headers.insert("x-tenant", "acme".parse().unwrap());
    headers.insert("cookie", "a=1; session=s-42".parse().unwrap());
    let mut captures = BTreeMap::new();
    captures.insert("apikey".to_string(), "k1".to_string());
    let consumer = Uuid::new_v4();
    let src = HashSource {
        consumer: Some(consumer),
        client_ip: [10, 0, 0, 7].into(),
        headers: &headers,
        path: "/forecast/k1/berlin",
        query: Some("city=berlin&days=3"),
        captures: &captures,
    };
    let cases = [
        (json!({}), None),
        (json!({"hash_on": "consumer"}), Some(consumer.to_string())),
        (json!({"hash_on": "ip"}), Some("10.0.0.7".to_string())),
        (
            json!({"hash_on": "header", "hash_on_header": "X-Tenant"}),
            Some("acme".to_string()),
        ),
        (
            json!({"hash_on": "cookie", "hash_on_cookie": "session"}),
            Some("s-42".to_string()),
        ),
        (
            json!({"hash_on": "path"}),
            Some("/forecast/k1/berlin".to_string()),
        ),
        (
            json!({"hash_on": "query_arg", "hash_on_query_arg": "city"}),
            Some("berlin".to_string()),
        ),
        (
            json!({"hash_on": "uri_capture", "hash_on_uri_capture": "apikey"}),
            Some("k1".to_string()),
        ),
        (
            json!({"hash_on": "header", "hash_on_header": "x-missing", "hash_fallback": "ip"}),
            Some("10.0.0.7".to_string()),
        ),
    ];
    for (fields, expected) in cases {
        assert_eq!(spec(fields.clone()).key(&src), expected, "{fields}");
    }
    let anonymous = HashSource {
        consumer: None,
        ..src
    };
    assert_eq!(
        spec(json!({"hash_on": "consumer", "hash_fallback": "path"}))
            .key(&anonymous)
            .as_deref(),
        Some("/forecast/k1/berlin")
    );
}
