use super::config::{base64, Settings};
use super::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn defaults_are_kongs() {
    let s = Settings::parse(&json!({"http_endpoint": "http://collector:9000/logs?x=1"})).unwrap();
    assert_eq!(s.endpoint.to_string(), "http://collector:9000/logs?x=1");
    assert_eq!(s.method, http::Method::POST);
    assert_eq!(s.headers["content-type"], "application/json");
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(s.keepalive, Duration::from_secs(60));
    assert_eq!(
        (s.max_batch_size, s.max_entries, s.max_bytes, s.retry_count),
        (1, 10_000, None, None)
    );
    assert_eq!(s.max_coalescing_delay, Duration::from_secs(1));
    assert_eq!(s.max_retry_time, Some(Duration::from_secs(60)));
    assert_eq!(s.initial_retry_delay, Duration::from_millis(10));
    assert_eq!(s.max_retry_delay, Duration::from_secs(60));
}

#[test]
fn kong_2_queue_fields_map_onto_the_queue() {
    let s = Settings::parse(&json!({
        "http_endpoint": "http://c/",
        "queue_size": 20,
        "flush_timeout": 0.5,
        "retry_count": 3,
        "queue": {"max_retry_time": -1},
    }))
    .unwrap();
    assert_eq!(s.max_batch_size, 20);
    assert_eq!(s.max_coalescing_delay, Duration::from_millis(500));
    assert_eq!(s.retry_count, Some(3));
    assert_eq!(s.max_retry_time, None, "-1: no retries");
}

#[test]
fn kong_exports_with_nulls_are_accepted() {
    let config = json!({
        "http_endpoint": "http://c/", "method": "PUT", "content_type": "application/json",
        "timeout": 1000, "keepalive": 1000, "retry_count": null, "queue_size": null,
        "flush_timeout": null, "headers": null, "custom_fields_by_lua": null,
        "queue": {"max_batch_size": 5, "max_coalescing_delay": 2, "max_entries": 100,
            "max_bytes": null, "max_retry_time": 10, "initial_retry_delay": 0.5,
            "max_retry_delay": 5, "concurrency_limit": 1},
    });
    let s = Settings::parse(&config).unwrap();
    assert_eq!((s.method.as_str(), s.max_batch_size), ("PUT", 5));
}

#[test]
fn bad_configs_name_their_field() {
    let cases = [
        (json!({}), "config.http_endpoint"),
        (
            json!({"http_endpoint": "https://c/"}),
            "config.http_endpoint",
        ),
        (json!({"http_endpoint": "ftp://c/"}), "config.http_endpoint"),
        (
            json!({"http_endpoint": "not a url"}),
            "config.http_endpoint",
        ),
        (
            json!({"http_endpoint": "http://c/", "method": "GET"}),
            "config.method",
        ),
        (
            json!({"http_endpoint": "http://c/", "content_type": "text/plain"}),
            "config.content_type",
        ),
        (
            json!({"http_endpoint": "http://c/", "headers": {"Host": "x"}}),
            "config.headers",
        ),
        (
            json!({"http_endpoint": "http://c/", "headers": {"Content-Type": "x"}}),
            "config.headers",
        ),
        (
            json!({"http_endpoint": "http://u:p@c/", "headers": {"Authorization": "x"}}),
            "config",
        ),
        (
            json!({"http_endpoint": "http://c/", "queue": {"max_batch_size": 0}}),
            "config.queue.max_batch_size",
        ),
        (
            json!({"http_endpoint": "http://c/", "queue": {"max_coalescing_delay": 4000}}),
            "config.queue.max_coalescing_delay",
        ),
        (
            json!({"http_endpoint": "http://c/", "queue": {"concurrency_limit": 4}}),
            "config.queue.concurrency_limit",
        ),
        (
            json!({"http_endpoint": "http://c/", "timeout": -1}),
            "config.timeout",
        ),
        (
            json!({"http_endpoint": "http://c/", "custom_fields_by_lua": {"a": "b"}}),
            "config.custom_fields_by_lua",
        ),
    ];
    for (config, field) in cases {
        let errors = Settings::parse(&config).expect_err(&config.to_string());
        assert!(
            errors.iter().any(|(f, _)| f == field),
            "{config}: {errors:?}"
        );
    }
}

#[test]
fn user_info_becomes_basic_auth_and_leaves_the_url() {
    let s = Settings::parse(&json!({
        "http_endpoint": "http://bob:s%3Acret@c:81/in",
        "headers": {"X-Token": "t"},
    }))
    .unwrap();
    assert_eq!(s.endpoint.to_string(), "http://c:81/in");
    assert_eq!(
        s.headers["authorization"],
        format!("Basic {}", base64(b"bob:s:cret"))
    );
    assert_eq!(s.headers["x-token"], "t");
}

#[test]
fn base64_pads() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ];
    for (input, want) in cases {
        assert_eq!(base64(input.as_bytes()), want);
    }
}

#[test]
fn batches_above_one_are_arrays() {
    let one = sender::body_of(vec!["{\"a\":1}".into()], false);
    assert_eq!(one, "{\"a\":1}");
    let batch = sender::body_of(vec!["{\"a\":1}".into(), "{\"b\":2}".into()], true);
    assert_eq!(batch, "[{\"a\":1},{\"b\":2}]");
    let single = sender::body_of(vec!["{}".into()], true);
    assert_eq!(
        single, "[{}]",
        "an array whenever the batch size is above 1"
    );
}

#[test]
fn instances_with_one_config_share_a_queue_that_starts_lazily() {
    let sinks = LogSinks::default();
    let queues = Queues::default();
    let config = json!({"http_endpoint": "http://127.0.0.1:9/"});
    let a = HttpLog::from_config(&config, &sinks, &queues).unwrap();
    let b = HttpLog::from_config(&config, &sinks, &queues).unwrap();
    let other = HttpLog::from_config(
        &json!({"http_endpoint": "http://127.0.0.1:10/"}),
        &sinks,
        &queues,
    )
    .unwrap();
    assert!(Arc::ptr_eq(&a.queue, &b.queue));
    assert!(!Arc::ptr_eq(&a.queue, &other.queue));
    assert!(a.queue.sender.get().is_none());
    // Outside a runtime the entry is dropped and counted, not a panic.
    a.queue.push("{}".into());
    assert_eq!(a.queue.dropped.count(), 1);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let sinks = LogSinks::default();
    let queues = Queues::default();
    let config = json!({
        "http_endpoint": "http://127.0.0.1:9/",
        "queue": {"max_entries": 2, "max_batch_size": 100, "max_coalescing_delay": 60},
    });
    let log = HttpLog::from_config(&config, &sinks, &queues).unwrap();
    // The sender task never runs in between: this test holds the only thread.
    for _ in 0..5 {
        log.queue.push("{}".into());
    }
    assert_eq!(log.queue.dropped.count(), 3);
    assert_eq!(sinks.dropped_total(), 3);
}
