//! The rate-limiting plugin against real stores: Redis (one server shared by several simulated
//! nodes, stopped and restarted under load) and PostgreSQL (the `cluster` policy). Handlers are
//! called directly with a `RequestCtx`, as the proxy calls them.

use gateway::entities::{parse, Plugin};
use gateway::plugins::rate_limiting::policies::resp::{command, RedisClient, RedisTarget, Reply};
use gateway::plugins::rate_limiting::policies::{redis::redis_key, CounterKey};
use gateway::plugins::rate_limiting::{RateLimitState, RateLimiting, Window};
use gateway::plugins::registry::{self, BuildContext};
use gateway::plugins::{Handler, RequestCtx};
use gateway::store::migrations;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use stack_tests::TempRedis;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

fn request(ip: u8) -> RequestCtx {
    RequestCtx::new(
        Method::GET,
        "/",
        None,
        HeaderMap::new(),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, ip)),
    )
}

/// A handler built the way a snapshot builds it, on its own state (one simulated node).
fn node(state: &Arc<RateLimitState>, config: Value) -> Arc<RateLimiting> {
    let mut cx = BuildContext::default();
    cx.shared.rate_limiting = state.clone();
    Arc::new(RateLimiting::from_config(&config, &cx).expect("a valid config"))
}

fn redis_config(redis: &TempRedis, minute: u64, fault_tolerant: bool) -> Value {
    json!({"minute": minute, "limit_by": "ip", "policy": "redis", "fault_tolerant": fault_tolerant,
        "redis": {"host": "127.0.0.1", "port": redis.port(), "timeout": 500}})
}

/// Counting against a minute window must not straddle two minutes: wait for a fresh one when
/// fewer than `needed` seconds are left.
async fn minute_with_room(needed: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let into_minute = now.as_secs() % 60;
    if 60 - into_minute < needed {
        let wait =
            Duration::from_secs(60 - into_minute) - Duration::from_nanos(now.subsec_nanos().into());
        tokio::time::sleep(wait + Duration::from_millis(50)).await;
    }
}

/// Fire `per_node` concurrent requests at every node; how many were admitted.
async fn burst(nodes: &[Arc<RateLimiting>], per_node: usize, ip: u8) -> usize {
    let mut tasks = Vec::new();
    for handler in nodes {
        for _ in 0..per_node {
            let handler = handler.clone();
            tasks.push(tokio::spawn(async move {
                let answer = handler.access(&mut request(ip)).await;
                match answer.map(|a| a.status()) {
                    None => true,
                    Some(StatusCode::TOO_MANY_REQUESTS) => false,
                    Some(other) => panic!("unexpected {other}"),
                }
            }));
        }
    }
    let mut admitted = 0;
    for task in tasks {
        admitted += usize::from(task.await.expect("task"));
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_sharing_redis_admit_exactly_the_limit() {
    let redis = TempRedis::start().expect("redis");
    minute_with_room(15).await;
    let nodes: Vec<_> = (0..3)
        .map(|_| node(&RateLimitState::new(), redis_config(&redis, 100, false)))
        .collect();
    assert_eq!(burst(&nodes, 50, 1).await, 100);
    assert_eq!(burst(&nodes, 5, 1).await, 0, "the window stays full");
    assert_eq!(
        burst(&nodes, 10, 2).await,
        30,
        "another client has its own counter"
    );
}

#[tokio::test]
async fn redis_counters_carry_headers_and_expire_with_their_window() {
    let redis = TempRedis::start().expect("redis");
    minute_with_room(10).await;
    let handler = node(&RateLimitState::new(), redis_config(&redis, 2, false));
    let mut first = request(3);
    assert!(handler.access(&mut first).await.is_none());
    let mut headers = HeaderMap::new();
    handler.response_headers(&first, StatusCode::OK, &mut headers);
    assert_eq!(headers["x-ratelimit-limit-minute"], "2");
    assert_eq!(headers["x-ratelimit-remaining-minute"], "1");
    assert!(handler.access(&mut request(3)).await.is_none());
    let refused = handler.access(&mut request(3)).await.expect("a 429");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body().as_ref(),
        br#"{"message":"API rate limit exceeded"}"#
    );
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // The key lives exactly until the minute ends (Kong's would outlive it by far).
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let key = CounterKey {
        route: Uuid::nil(),
        service: Uuid::nil(),
        identifier: "192.0.2.3",
    };
    let client = RedisClient::new(RedisTarget {
        host: "127.0.0.1".into(),
        port: redis.port(),
        database: 0,
        username: None,
        password: None,
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let name = redis_key(&key, Window::Minute, now_ms);
    let frame = command(&[b"MGET", name.as_bytes()]);
    let value = client.call(frame, deadline).await.expect("MGET");
    assert_eq!(
        value,
        Reply::Array(Some(vec![Reply::Bulk(Some(b"2".to_vec()))])),
        "refusal undone"
    );
    let ttl = match client
        .call(command(&[b"PTTL", name.as_bytes()]), deadline)
        .await
    {
        Ok(Reply::Int(ms)) => ms,
        other => panic!("PTTL answered {other:?}"),
    };
    // Redis starts the TTL on its own clock when the script runs, a few ms after ours: allow that.
    let left = Window::Minute.ttl_ms(now_ms);
    assert!(ttl > 0 && ttl <= left + 100, "{ttl} ms, {left} ms left");
}

#[tokio::test]
async fn redis_outage_is_tolerated_counted_and_recovered_from() {
    let mut redis = TempRedis::start().expect("redis");
    minute_with_room(15).await;
    let state = RateLimitState::new();
    let tolerant = node(&state, redis_config(&redis, 3, true));
    let strict = node(&state, redis_config(&redis, 3, false));
    assert!(tolerant.access(&mut request(4)).await.is_none());

    redis.stop();
    for _ in 0..5 {
        let mut ctx = request(4);
        assert!(tolerant.access(&mut ctx).await.is_none(), "let through");
        let mut headers = HeaderMap::new();
        tolerant.response_headers(&ctx, StatusCode::OK, &mut headers);
        assert!(headers.is_empty(), "nothing counted, nothing claimed");
    }
    assert_eq!(state.fault_tolerant_passes(), 5);
    assert!(gateway::plugins::rate_limiting::fault_tolerant_passes() >= 5);
    let answer = strict.access(&mut request(4)).await.expect("a 500");
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body().as_ref(),
        br#"{"message":"An unexpected error occurred"}"#
    );

    redis.start_again().expect("redis again");
    // The client reconnects on its own (after a short back-off); the new server starts empty.
    let started = Instant::now();
    loop {
        let mut ctx = request(5);
        assert!(tolerant.access(&mut ctx).await.is_none());
        if ctx
            .extensions
            .get::<gateway::plugins::rate_limiting::RateLimitHeaders>()
            .is_some()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "counting never resumed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let passes = state.fault_tolerant_passes();
    assert!(strict.access(&mut request(5)).await.is_none());
    assert!(strict.access(&mut request(5)).await.is_none());
    let refused = strict.access(&mut request(5)).await.expect("a 429");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(state.fault_tolerant_passes(), passes);
}

#[tokio::test]
async fn a_silent_redis_costs_at_most_the_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let state = RateLimitState::new();
    let handler = node(
        &state,
        json!({"minute": 5, "policy": "redis",
        "redis": {"host": "127.0.0.1", "port": port, "timeout": 200}}),
    );
    let started = Instant::now();
    assert!(handler.access(&mut request(6)).await.is_none());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert_eq!(state.fault_tolerant_passes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_policy_admits_exactly_the_limit_under_concurrency() {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    minute_with_room(15).await;
    let config = json!({"minute": 40, "hour": 1000, "limit_by": "ip", "policy": "cluster"});
    let mut nodes = Vec::new();
    let mut states = Vec::new();
    for _ in 0..2 {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await
            .expect("a pool");
        let state = RateLimitState::new();
        assert!(state.use_postgres(pool.clone()));
        assert!(!state.use_postgres(pool), "set once");
        nodes.push(node(&state, config.clone()));
        states.push(state);
    }
    assert_eq!(burst(&nodes, 40, 7).await, 40);
    let mut ctx = request(7);
    let refused = nodes[0].access(&mut ctx).await.expect("a 429");
    assert_eq!(refused.headers()["x-ratelimit-remaining-minute"], "0");
    assert_eq!(
        refused.headers()["x-ratelimit-remaining-hour"],
        "960",
        "refusals not counted"
    );
    assert_eq!(states[0].fault_tolerant_passes(), 0);

    // Rows of ended windows go; the current ones stay.
    let far_future = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 7200;
    assert_eq!(
        states[1]
            .purge_expired_counters(far_future)
            .await
            .expect("purge"),
        2
    );
}

#[tokio::test]
async fn local_counters_survive_a_snapshot_rebuild() {
    let plugin: Plugin = parse(json!({"name": "rate-limiting",
        "config": {"hour": 2, "limit_by": "header", "header_name": "x-tenant"}}))
    .expect("a plugin");
    // A node keeps one `Shared` for its life and builds every snapshot's handlers with it.
    let node_context = BuildContext::default();
    let build = || {
        registry::build(
            &plugin.name,
            &plugin.config,
            &node_context.for_plugin(&plugin),
        )
    };
    let tenant = format!("tenant-{}", Uuid::new_v4());
    let call = |handler: Arc<dyn Handler>| {
        let tenant = tenant.clone();
        async move {
            let mut ctx = request(8);
            ctx.headers.insert("x-tenant", tenant.parse().unwrap());
            handler.access(&mut ctx).await.map(|a| a.status())
        }
    };
    let before = build().expect("built");
    assert_eq!(call(before.clone()).await, None);
    let after = build().expect("rebuilt");
    assert_eq!(call(after.clone()).await, None);
    assert_eq!(call(after).await, Some(StatusCode::TOO_MANY_REQUESTS));
    assert!(registry::spec("rate-limiting").is_some());
}
