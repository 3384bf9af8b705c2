//! Redis stopped in the middle of a load run: with rate-limiting's redis policy and Kong's
//! default `fault_tolerant: true`, no request fails; the ones let through unlimited are counted
//! in `/metrics`, and limiting resumes when Redis is back.

mod support;

use stack_tests::TempRedis;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{send, Gateway, Upstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_redis_under_load_produces_no_5xx() {
    let mut redis = TempRedis::start().expect("redis");
    let up = Upstream::start("api").await;
    let gw = Arc::new(
        Gateway::start(&format!(
            r#"
_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{}
    routes: [{{name: api, paths: [/]}}]
plugins:
  - name: rate-limiting
    config:
      minute: 1000000
      limit_by: ip
      policy: redis
      redis: {{host: 127.0.0.1, port: {}, timeout: 200}}
"#,
            up.port(),
            redis.port()
        ))
        .await,
    );
    let running = Arc::new(AtomicBool::new(true));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (gw, running) = (gw.clone(), running.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while running.load(Ordering::Relaxed) {
                let reply = send("GET", &gw.url("/"), &[], "").await;
                statuses.push((
                    reply.status.as_u16(),
                    reply.header("x-ratelimit-limit-minute").is_some(),
                ));
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.stop();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.start_again().expect("redis back");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let failed: Vec<u16> = all.iter().map(|(s, _)| *s).filter(|s| *s >= 500).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {failed:?}",
        failed.len(),
        all.len()
    );
    assert!(all.iter().all(|(s, _)| *s == 200));
    let limited = all.iter().filter(|(_, headers)| *headers).count();
    assert!(
        limited > 0 && limited < all.len(),
        "counted before and after the outage, not during it"
    );
    assert!(
        all.last().is_some_and(|(_, headers)| *headers),
        "limiting resumed once Redis was back"
    );
    let passes = gw.node.shared.rate_limiting.fault_tolerant_passes();
    assert!(passes > 0, "the requests let through unlimited are counted");
    let metrics = gw.node.metrics_text().await;
    assert!(
        metrics.contains(&format!(
            "gateway_rate_limiting_fault_tolerant_passes_total {passes}"
        )),
        "{metrics}"
    );
    println!(
        "{} requests, {} unlimited during the outage",
        all.len(),
        passes
    );
}
