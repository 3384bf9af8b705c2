//! Windows, configuration and headers; `requests` covers identifiers, counters and the handler.

use super::windows::date_to_seconds;
use super::*;
use serde_json::json;

mod requests;

const MS: i64 = 1000;

fn at(year: i64, month: u32, day: u32, h: i64, m: i64, s: i64) -> i64 {
    date_to_seconds(year, month, day, h, m, s)
}

#[test]
fn windows_align_to_calendar_boundaries() {
    let now = at(2024, 2, 29, 13, 45, 30);
    let feb_29 = |hour, minute| at(2024, 2, 29, hour, minute, 0);
    let midnight = |year, month, day| at(year, month, day, 0, 0, 0);
    let cases = [
        (Window::Second, now, now + 1),
        (Window::Minute, feb_29(13, 45), feb_29(13, 46)),
        (Window::Hour, feb_29(13, 0), feb_29(14, 0)),
        (Window::Day, midnight(2024, 2, 29), midnight(2024, 3, 1)),
        (Window::Month, midnight(2024, 2, 1), midnight(2024, 3, 1)),
        (Window::Year, midnight(2024, 1, 1), midnight(2025, 1, 1)),
    ];
    for (window, start, end) in cases {
        assert_eq!(window.bounds(now), (start, end), "{window:?}");
        assert_eq!(window.start(now * MS + 999), start, "{window:?}");
    }
    // February 2024 has 29 days; December rolls into the next year.
    assert_eq!(
        Window::Month.bounds(now).1 - Window::Month.bounds(now).0,
        29 * 86_400
    );
    let december = at(2023, 12, 31, 23, 59, 59);
    assert_eq!(
        Window::Month.bounds(december),
        (midnight(2023, 12, 1), midnight(2024, 1, 1))
    );
    assert_eq!(midnight(1970, 1, 1), 0);
    assert_eq!(midnight(2000, 3, 1), 951_868_800);
}

#[test]
fn reset_seconds_and_ttls_count_to_the_window_end() {
    let now_ms = at(2024, 5, 10, 8, 30, 15) * MS + 400;
    let cases = [
        (Window::Second, 1, 600),
        (Window::Minute, 45, 44_600),
        (Window::Hour, 29 * 60 + 45, (29 * 60 + 45) * MS - 400),
        (
            Window::Day,
            15 * 3600 + 29 * 60 + 45,
            (15 * 3600 + 29 * 60 + 45) * MS - 400,
        ),
    ];
    for (window, reset, ttl) in cases {
        assert_eq!(window.reset_seconds(now_ms), reset, "{window:?}");
        assert_eq!(window.ttl_ms(now_ms), ttl, "{window:?}");
    }
    let start_of_minute = at(2024, 5, 10, 8, 31, 0) * MS;
    assert_eq!(Window::Minute.reset_seconds(start_of_minute), 60);
    let month_end = at(2024, 5, 31, 23, 59, 59) * MS + 999;
    assert_eq!(Window::Month.reset_seconds(month_end), 1, "never 0");
    assert_eq!(Window::Month.ttl_ms(month_end), 1);
}

#[test]
fn config_defaults_follow_kong() {
    let c = Config::parse(&json!({"minute": 5})).unwrap();
    assert_eq!(c.limits, vec![(Window::Minute, 5)]);
    assert_eq!(c.limit_by, LimitBy::Consumer);
    assert_eq!(c.policy, PolicyKind::Local);
    assert!(c.fault_tolerant);
    assert!(!c.hide_client_headers);
    assert_eq!(c.error_code, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(c.error_message, "API rate limit exceeded");
    assert_eq!(c.sync_rate, -1.0);
    assert_eq!(c.redis.port, 6379);
    assert_eq!(c.redis.timeout, Duration::from_millis(2000));
    assert_eq!(c.redis.database, 0);
    // Kong's exports write every field, nulls included.
    let exported = json!({"second": null, "minute": 5, "hour": 100, "redis": null,
        "redis_host": null, "header_name": null, "path": null, "sync_rate": -1});
    let c = Config::parse(&exported).unwrap();
    assert_eq!(c.limits, vec![(Window::Minute, 5), (Window::Hour, 100)]);
}

#[test]
fn flat_redis_fields_map_onto_the_nested_record() {
    let flat = json!({"minute": 5, "policy": "redis", "redis_host": "cache", "redis_port": 6380,
        "redis_password": "pw", "redis_database": 2, "redis_timeout": 300});
    let nested = json!({"minute": 5, "policy": "redis", "redis": {"host": "cache", "port": 6380,
        "password": "pw", "database": 2, "timeout": 300}});
    let a = Config::parse(&flat).unwrap();
    let b = Config::parse(&nested).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.redis.host.as_deref(), Some("cache"));
    assert_eq!(a.redis.timeout, Duration::from_millis(300));
    let both =
        json!({"minute": 5, "policy": "redis", "redis": {"host": "old"}, "redis_host": "new"});
    assert_eq!(
        Config::parse(&both).unwrap().redis.host.as_deref(),
        Some("new")
    );
}

#[test]
fn bad_configs_are_field_errors() {
    let cases = [
        (json!({}), "@entity"),
        (json!({"minute": 0}), "config.minute"),
        (json!({"minute": 10, "hour": 5}), "config"),
        (json!({"minute": 5, "policy": "redis"}), "config.redis.host"),
        (json!({"minute": 5, "policy": "memcached"}), "config.policy"),
        (
            json!({"minute": 5, "limit_by": "header"}),
            "config.header_name",
        ),
        (json!({"minute": 5, "limit_by": "path"}), "config.path"),
        (json!({"minute": 5, "limit_by": "moon"}), "config.limit_by"),
        (json!({"minute": 5, "sync_rate": 1}), "config"),
        (json!({"minute": 5, "error_code": 42}), "config.error_code"),
        (
            json!({"minute": 5, "error_code": 429.5}),
            "config.error_code",
        ),
        (json!({"minute": 5, "error_code": 600}), "config.error_code"),
        (json!({"minute": 5, "speed": 1}), "config.speed"),
        (
            json!({"minute": 5, "policy": "redis", "redis": {"host": "h", "ssl": true}}),
            "config.redis.ssl",
        ),
    ];
    for (config, field) in cases {
        let errors = Config::parse(&config).expect_err(&config.to_string());
        assert!(
            errors.iter().any(|(f, _)| f == field),
            "{config}: {errors:?} should name {field}"
        );
    }
    let errors = Config::parse(&json!({"minute": 10, "hour": 5})).unwrap_err();
    assert_eq!(
        errors.iter().next().map(|(_, m)| m.to_string()).unwrap(),
        "The limit for hour(5.0) cannot be lower than the limit for minute(10.0)"
    );
}

#[test]
fn the_tightest_window_has_least_remaining_then_resets_last() {
    let u = |window, limit, remaining| Usage {
        window,
        limit,
        remaining,
    };
    let cases = [
        (
            vec![u(Window::Second, 5, 4), u(Window::Minute, 100, 2)],
            Window::Minute,
        ),
        (
            vec![u(Window::Second, 5, 3), u(Window::Minute, 100, 3)],
            Window::Minute,
        ),
        (
            vec![u(Window::Second, 5, 0), u(Window::Hour, 100, 50)],
            Window::Second,
        ),
    ];
    for (usages, expected) in cases {
        assert_eq!(headers::tightest(&usages).unwrap().window, expected);
    }
    let now_ms = at(2024, 1, 1, 0, 0, 50) * MS;
    let (built, reset) =
        headers::build(&[u(Window::Second, 5, 4), u(Window::Minute, 10, 1)], now_ms);
    assert_eq!(reset, 10);
    let mut map = HeaderMap::new();
    built.apply(&mut map);
    let expected = [
        ("x-ratelimit-limit-second", "5"),
        ("x-ratelimit-remaining-second", "4"),
        ("x-ratelimit-limit-minute", "10"),
        ("x-ratelimit-remaining-minute", "1"),
        ("ratelimit-limit", "10"),
        ("ratelimit-remaining", "1"),
        ("ratelimit-reset", "10"),
    ];
    assert_eq!(map.len(), expected.len());
    for (name, value) in expected {
        assert_eq!(map[name], value, "{name}");
    }
}
