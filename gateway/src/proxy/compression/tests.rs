use super::*;
use crate::test_support::headers;
use flate2::read::GzDecoder;
use std::io::Read;

fn settings() -> Gzip {
    Gzip {
        on: true,
        level: 6,
        types: vec!["application/json".into()],
        proxied: vec!["off".into()],
        vary: true,
        min_length: 20,
    }
}

fn asked(pairs: &[(&str, &str)]) -> Asked {
    Asked::of(&http::Method::GET, &headers(pairs))
}

#[test]
fn nginx_rules_decide_what_is_compressed() {
    let s = settings();
    let json = headers(&[("content-type", "application/json; charset=utf-8")]);
    let gz = asked(&[("accept-encoding", "br, gzip;q=0.8")]);
    assert!(wanted(&s, gz, StatusCode::OK, &json));
    assert!(wanted(&s, gz, StatusCode::NOT_FOUND, &json));
    assert!(
        !wanted(&s, gz, StatusCode::CREATED, &json),
        "nginx: 200, 403 and 404 only"
    );
    assert!(!wanted(
        &s,
        asked(&[("accept-encoding", "gzip;q=0")]),
        StatusCode::OK,
        &json
    ));
    assert!(!wanted(&s, asked(&[]), StatusCode::OK, &json));
    assert!(!wanted(
        &s,
        gz,
        StatusCode::OK,
        &headers(&[("content-type", "image/png")])
    ));
    assert!(
        wanted(
            &s,
            gz,
            StatusCode::OK,
            &headers(&[("content-type", "text/html")])
        ),
        "text/html always"
    );
    let encoded = headers(&[
        ("content-type", "application/json"),
        ("content-encoding", "br"),
    ]);
    assert!(!wanted(&s, gz, StatusCode::OK, &encoded), "never twice");
    let short = headers(&[
        ("content-type", "application/json"),
        ("content-length", "5"),
    ]);
    assert!(
        !wanted(&s, gz, StatusCode::OK, &short),
        "below gzip_min_length"
    );
    let mut off = settings();
    off.on = false;
    assert!(!wanted(&off, gz, StatusCode::OK, &json));
    assert!(!wanted(
        &s,
        Asked::of(
            &http::Method::HEAD,
            &headers(&[("accept-encoding", "gzip")])
        ),
        StatusCode::OK,
        &json
    ));
}

#[test]
fn proxied_requests_follow_gzip_proxied() {
    let json = headers(&[("content-type", "application/json")]);
    let via = asked(&[("accept-encoding", "gzip"), ("via", "1.1 cloudfront")]);
    assert!(
        !wanted(&settings(), via, StatusCode::OK, &json),
        "gzip_proxied off"
    );
    let mut any = settings();
    any.proxied = vec!["any".into()];
    assert!(wanted(&any, via, StatusCode::OK, &json));
    let mut no_store = settings();
    no_store.proxied = vec!["no-store".into()];
    assert!(!wanted(&no_store, via, StatusCode::OK, &json));
    let cached = headers(&[
        ("content-type", "application/json"),
        ("cache-control", "private, no-store"),
    ]);
    assert!(wanted(&no_store, via, StatusCode::OK, &cached));
}

#[tokio::test]
async fn the_body_round_trips_and_headers_describe_it() {
    let original = "{\"forecast\":\"sunny\"}".repeat(2000);
    let mut h = headers(&[
        ("content-type", "application/json"),
        ("content-length", "40000"),
        ("etag", "\"abc\""),
    ]);
    let body = apply(
        &settings(),
        &mut h,
        super::super::body::full(original.clone()),
    );
    assert_eq!(h["content-encoding"], "gzip");
    assert!(!h.contains_key("content-length"));
    assert_eq!(h["vary"], "Accept-Encoding");
    assert_eq!(h["etag"], "W/\"abc\"");
    let compressed = body.collect().await.unwrap().to_bytes();
    assert!(
        compressed.len() < original.len() / 10,
        "{} bytes",
        compressed.len()
    );
    let mut out = String::new();
    GzDecoder::new(&compressed[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, original);
}
