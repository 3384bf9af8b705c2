//! Identifiers, local counters, the handler's answers and headers, and RESP framing.

use super::super::policies::local::LocalCounters;
use super::super::policies::resp::{command, read_reply, Reply};
use super::super::policies::CounterKey;
use super::super::*;
use super::{at, MS};
use crate::plugins::consumers::ConsumerInfo;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};

fn ctx(path: &str, headers: &[(&'static str, &'static str)]) -> RequestCtx {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, HeaderValue::from_static(v));
    }
    RequestCtx::new(
        http::Method::GET,
        path,
        None,
        map,
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
    )
}

fn plugin(config: Value) -> RateLimiting {
    let cx = BuildContext::default();
    RateLimiting::from_config(&config, &cx).unwrap()
}

fn consumer(id: Uuid) -> Arc<ConsumerInfo> {
    Arc::new(ConsumerInfo {
        id,
        username: None,
        custom_id: None,
        id_header: HeaderValue::from_static("x"),
        username_header: None,
        groups: Vec::new(),
        groups_header: None,
        custom_id_header: None,
    })
}

#[test]
fn identifiers_fall_back_to_the_client_ip() {
    let (consumer_id, credential, service) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let ip = "10.0.0.7".to_string();
    let mut authed = ctx("/a", &[("x-team", "blue")]);
    authed.consumer = Some(consumer(consumer_id));
    authed.credential_id = Some(credential);
    authed.service_id = Some(service);
    let mut credential_only = ctx("/b", &[]);
    credential_only.credential_id = Some(credential);
    let anonymous = ctx("/a", &[]);
    let by = |limit_by: &str| json!({"limit_by": limit_by});
    let by_team = json!({"limit_by": "header", "header_name": "X-Team"});
    let by_path = json!({"limit_by": "path", "path": "/a"});
    // (config, request, expected identifier)
    let cases = [
        (by("consumer"), &authed, consumer_id.to_string()),
        (by("consumer"), &credential_only, credential.to_string()),
        (by("consumer"), &anonymous, ip.clone()),
        (by("credential"), &authed, credential.to_string()),
        (by("credential"), &anonymous, ip.clone()),
        (by("ip"), &authed, ip.clone()),
        (by("service"), &authed, service.to_string()),
        (by("service"), &anonymous, ip.clone()),
        (by_team.clone(), &authed, "blue".into()),
        (by_team, &anonymous, ip.clone()),
        (by_path.clone(), &authed, "/a".into()),
        (by_path, &credential_only, ip.clone()),
    ];
    for (mut config, request, expected) in cases {
        config["minute"] = json!(5);
        assert_eq!(
            plugin(config.clone()).identifier(request),
            expected,
            "{config}"
        );
    }
}

fn key(identifier: &str) -> CounterKey<'_> {
    CounterKey {
        route: Uuid::nil(),
        service: Uuid::nil(),
        identifier,
    }
}

#[test]
fn local_counters_admit_exactly_the_limit_per_window() {
    let counters = LocalCounters::default();
    let limits = [(Window::Second, 2), (Window::Minute, 3)];
    let t0 = at(2024, 1, 1, 0, 0, 10) * MS;
    let admitted: Vec<bool> = (0..3)
        .map(|_| counters.hit(&key("a"), &limits, t0).admitted)
        .collect();
    assert_eq!(admitted, [true, true, false], "the second window is full");
    let refused = counters.hit(&key("a"), &limits, t0);
    assert_eq!(refused.counts, vec![2, 2], "refusals use up no quota");
    assert!(
        counters.hit(&key("a"), &limits, t0 + MS).admitted,
        "a new second"
    );
    assert!(
        !counters.hit(&key("a"), &limits, t0 + 2 * MS).admitted,
        "minute full"
    );
    assert!(
        counters.hit(&key("b"), &limits, t0).admitted,
        "another identifier"
    );
    assert!(
        counters.hit(&key("a"), &limits, t0 + 60 * MS).admitted,
        "a new minute"
    );
}

#[test]
fn local_counters_hold_under_threads_and_sweep_expired_slots() {
    let counters = Arc::new(LocalCounters::default());
    let limits = [(Window::Hour, 500)];
    let now = at(2024, 1, 1, 5, 0, 0) * MS;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let counters = counters.clone();
            std::thread::spawn(move || {
                (0..100)
                    .filter(|_| counters.hit(&key("shared"), &limits, now).admitted)
                    .count()
            })
        })
        .collect();
    let admitted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(admitted, 500);
    assert_eq!(counters.len(), 1);
    // Two hours later the slot has expired: the next request to each shard sweeps it away.
    let later = now + 2 * 3_600 * MS;
    let fresh: Vec<String> = (0..1_000).map(|i| format!("client-{i}")).collect();
    for identifier in &fresh {
        counters.hit(&key(identifier), &limits, later);
    }
    assert_eq!(
        counters.len(),
        fresh.len(),
        "only the new identifiers remain"
    );
}

#[tokio::test]
async fn admitted_requests_carry_headers_to_the_response() {
    let p = plugin(json!({"minute": 2, "hour": 5, "limit_by": "ip"}));
    let now = at(2024, 1, 1, 0, 0, 45) * MS;
    let mut c = ctx("/", &[]);
    assert!(p.check(&mut c, now).await.is_none());
    let mut response = HeaderMap::new();
    p.response_headers(&c, StatusCode::OK, &mut response);
    assert_eq!(response["x-ratelimit-remaining-hour"], "4");
    assert_eq!(response["x-ratelimit-remaining-minute"], "1");
    assert_eq!(response["ratelimit-limit"], "2");
    assert_eq!(response["ratelimit-reset"], "15");
    assert!(p.check(&mut ctx("/", &[]), now).await.is_none());
    let refused = p.check(&mut ctx("/", &[]), now).await.expect("a 429");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body().as_ref(),
        br#"{"message":"API rate limit exceeded"}"#
    );
    let h = refused.headers();
    assert_eq!(h["retry-after"], "15");
    assert_eq!(h["x-ratelimit-remaining-minute"], "0");
    assert_eq!(h["x-ratelimit-remaining-hour"], "3", "not counted: refused");
    assert_eq!(h["ratelimit-remaining"], "0");
}

#[tokio::test]
async fn hidden_headers_and_custom_errors() {
    let p = plugin(json!({"minute": 1, "hide_client_headers": true,
        "error_code": 403, "error_message": "slow down"}));
    let now = at(2024, 1, 1, 0, 0, 0) * MS;
    let mut c = ctx("/", &[]);
    assert!(p.check(&mut c, now).await.is_none());
    let mut response = HeaderMap::new();
    p.response_headers(&c, StatusCode::OK, &mut response);
    assert!(response.is_empty());
    let refused = p.check(&mut ctx("/", &[]), now).await.expect("refused");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.body().as_ref(), br#"{"message":"slow down"}"#);
    assert!(!refused.headers().contains_key("retry-after"));
    assert!(!refused.headers().contains_key("ratelimit-limit"));
}

#[tokio::test]
async fn cluster_without_a_database_is_a_store_failure() {
    let state = RateLimitState::new();
    let mut cx = BuildContext::default();
    cx.shared.rate_limiting = state.clone();
    let build = |config: Value| RateLimiting::from_config(&config, &cx).unwrap();
    let tolerant = build(json!({"minute": 1, "policy": "cluster"}));
    assert!(tolerant.check(&mut ctx("/", &[]), 0).await.is_none());
    assert_eq!(state.fault_tolerant_passes(), 1);
    assert!(fault_tolerant_passes() >= 1);
    let strict = build(json!({"minute": 1, "policy": "cluster", "fault_tolerant": false}));
    let answer = strict.check(&mut ctx("/", &[]), 0).await.expect("a 500");
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body().as_ref(),
        br#"{"message":"An unexpected error occurred"}"#
    );
    assert_eq!(state.fault_tolerant_passes(), 1, "a 500 is no pass");
}

#[tokio::test]
async fn resp_frames_round_trip() {
    assert_eq!(command(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    let wire: &[u8] = b"*4\r\n:12\r\n$-1\r\n+OK\r\n*2\r\n$2\r\nhi\r\n-ERR no\r\n";
    let mut reader = tokio::io::BufReader::new(wire);
    let reply = read_reply(&mut reader).await.unwrap();
    assert_eq!(
        reply,
        Reply::Array(Some(vec![
            Reply::Int(12),
            Reply::Bulk(None),
            Reply::Status("OK".into()),
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"hi".to_vec())),
                Reply::Error("ERR no".into())
            ])),
        ]))
    );
    let mut truncated = tokio::io::BufReader::new(&b"$5\r\nab"[..]);
    assert!(read_reply(&mut truncated).await.is_err());
}
