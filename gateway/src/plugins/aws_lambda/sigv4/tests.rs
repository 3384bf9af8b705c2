use super::*;
use bytes::Bytes;
use std::time::{Duration, UNIX_EPOCH};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const CREDENTIAL: &str =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
// 2015-08-30T12:36:00Z, the time of AWS's SigV4 test suite.
const SUITE_TIME: u64 = 1_440_938_160;

fn suite_signer() -> Signer<'static> {
    Signer {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "service",
    }
}

fn sign_suite(method: &str, uri: &str) -> String {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "example.amazonaws.com")
        .body(Bytes::new())
        .expect("a request");
    suite_signer().sign(&mut request, UNIX_EPOCH + Duration::from_secs(SUITE_TIME));
    assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
    request.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .to_string()
}

#[test]
fn reproduces_the_aws_test_suite() {
    let cases = [
        // get-vanilla
        (
            "GET",
            "/",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        // get-vanilla-query-order-key-case: the query is sorted before signing.
        (
            "GET",
            "/?Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        // post-vanilla
        (
            "POST",
            "/",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
    ];
    for (method, uri, signature) in cases {
        assert_eq!(
            sign_suite(method, uri),
            format!("{CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature={signature}"),
            "{method} {uri}"
        );
    }
}

#[test]
fn get_utf8_encodes_the_raw_path_bytes() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    let canonical = canonical_request(
        "GET",
        "/ሴ",
        "",
        &headers,
        &["host", "x-amz-date"],
        &sha256_hex(b""),
    );
    assert!(canonical.starts_with("GET\n/%E1%88%B4\n\n"), "{canonical}");
    let scope = Scope::new("20150830T123600Z", "us-east-1", "service");
    let sts = string_to_sign("20150830T123600Z", &scope, &canonical);
    assert_eq!(
        signature(SECRET, &scope, &sts),
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
    );
}

#[test]
fn derives_the_documented_signing_key() {
    // The worked example of AWS's "derive a signing key" documentation (service iam).
    let scope = Scope::new("20150830", "us-east-1", "iam");
    assert_eq!(
        hex::encode(signing_key(SECRET, &scope)),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
}

#[test]
fn signs_the_session_token_and_every_header_but_content_length() {
    let mut request = Request::builder()
        .method("POST")
        .uri("/2015-03-31/functions/f/invocations?Qualifier=%24LATEST")
        .header("host", "lambda.eu-west-1.amazonaws.com")
        .header("content-length", "2")
        .header("x-amz-invocation-type", "RequestResponse")
        .body(Bytes::from_static(b"{}"))
        .expect("a request");
    let signer = Signer {
        session_token: Some("TOKEN"),
        ..suite_signer()
    };
    signer.sign(&mut request, UNIX_EPOCH + Duration::from_secs(SUITE_TIME));
    let auth = request.headers()["authorization"].to_str().expect("ascii");
    assert!(
        auth.contains("SignedHeaders=host;x-amz-date;x-amz-invocation-type;x-amz-security-token,"),
        "{auth}"
    );
    assert_eq!(request.headers()["x-amz-security-token"], "TOKEN");
}

#[test]
fn canonical_forms_double_encode_paths_and_sort_queries() {
    let table = [
        ("/a b", "/a%20b"),
        ("/functions/arn%3Aaws/x", "/functions/arn%253Aaws/x"),
        ("", "/"),
    ];
    for (path, want) in table {
        assert_eq!(canonical_uri(path), want, "{path}");
    }
    assert_eq!(canonical_query("b=2&a=%24x&A=0"), "A=0&a=%24x&b=2");
    assert_eq!(canonical_query("flag"), "flag=");
    assert_eq!(collapse_spaces("  a   b "), "a b");
}
