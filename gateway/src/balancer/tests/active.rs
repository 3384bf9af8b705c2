//! Active health checks against real HTTP servers on 127.0.0.1.

use super::{target, upstream};
use crate::balancer::{Balancers, Health};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A tiny HTTP server answering every request with the current `status` (0: never answers),
/// counting requests and keeping the head of the last one.
struct Backend {
    port: u16,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
    last: Arc<Mutex<String>>,
}

async fn backend(status: u16) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let status = Arc::new(AtomicU16::new(status));
    let hits = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new(String::new()));
    let (s, h, l) = (status.clone(), hits.clone(), last.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (s, h, l) = (s.clone(), h.clone(), l.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                *l.lock().expect("lock") = String::from_utf8_lossy(&seen).into_owned();
                let code = s.load(Ordering::SeqCst);
                if code == 0 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    return;
                }
                let reply =
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    Backend {
        port,
        status,
        hits,
        last,
    }
}

fn active(kind: &str) -> Value {
    json!({ "healthchecks": { "active": {
        "type": kind, "timeout": 0.5, "http_path": "/status",
        "healthy": { "interval": 0.1, "successes": 2 },
        "unhealthy": { "interval": 0.1, "http_failures": 2, "tcp_failures": 1, "timeouts": 1 }
    } } })
}

async fn wait_for(balancers: &Balancers, name: &str, address: &str, want: Health) {
    for _ in 0..50 {
        let health = balancers.health(name).expect("health");
        if health
            .iter()
            .any(|h| h.target == address && h.health == want)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{address} never became {want:?}: {:?}",
        balancers.health(name)
    );
}

#[tokio::test]
async fn active_http_check_marks_target_down_and_back_up() {
    let (flaky, steady) = (backend(200).await, backend(200).await);
    let u = upstream("a", active("http"));
    let flaky_addr = format!("127.0.0.1:{}", flaky.port);
    let targets = [
        target(&u, &flaky_addr, 100),
        target(&u, &format!("127.0.0.1:{}", steady.port), 100),
    ];
    let balancers = Balancers::new();
    balancers.sync(std::slice::from_ref(&u), &targets);
    let balancer = balancers.get("a").expect("balancer");

    flaky.status.store(500, Ordering::SeqCst);
    wait_for(&balancers, "a", &flaky_addr, Health::Unhealthy).await;
    for _ in 0..20 {
        assert_ne!(balancer.pick(None).expect("peer").port, flaky.port);
    }
    flaky.status.store(200, Ordering::SeqCst);
    wait_for(&balancers, "a", &flaky_addr, Health::Healthy).await;
    assert!((0..20).any(|_| balancer.pick(None).expect("peer").port == flaky.port));
    assert!(
        steady.hits.load(Ordering::SeqCst) >= 3,
        "steady target probed too"
    );
}

#[tokio::test]
async fn active_tcp_check_marks_a_closed_port_down() {
    let open = backend(200).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let closed_addr = format!("127.0.0.1:{}", closed.local_addr().expect("addr").port());
    drop(closed);
    let u = upstream("tcp", active("tcp"));
    let open_addr = format!("127.0.0.1:{}", open.port);
    let targets = [target(&u, &open_addr, 100), target(&u, &closed_addr, 100)];
    let balancers = Balancers::new();
    balancers.sync(std::slice::from_ref(&u), &targets);
    wait_for(&balancers, "tcp", &closed_addr, Health::Unhealthy).await;
    wait_for(&balancers, "tcp", &open_addr, Health::Healthy).await;
}

#[tokio::test]
async fn active_checks_stop_when_the_upstream_goes() {
    let server = backend(200).await;
    let u = upstream("gone", active("http"));
    let balancers = Balancers::new();
    balancers.sync(
        std::slice::from_ref(&u),
        &[target(&u, &format!("127.0.0.1:{}", server.port), 100)],
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(server.hits.load(Ordering::SeqCst) >= 2, "probes ran");
    balancers.sync(&[], &[]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = server.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        after,
        "no probes after removal"
    );
}

#[tokio::test]
async fn active_http_check_sends_path_and_headers_and_counts_timeouts() {
    let server = backend(200).await;
    let mut config = active("http");
    config["healthchecks"]["active"]["headers"] = json!({ "x-probe": ["yes"] });
    let u = upstream("timeouts", config);
    let address = format!("127.0.0.1:{}", server.port);
    let balancers = Balancers::new();
    balancers.sync(std::slice::from_ref(&u), &[target(&u, &address, 100)]);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let head = server.last.lock().expect("lock").clone();
    assert!(head.starts_with("GET /status HTTP/1.1\r\n"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-probe: yes"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("host: 127.0.0.1"),
        "{head}"
    );

    server.status.store(0, Ordering::SeqCst);
    wait_for(&balancers, "timeouts", &address, Health::Unhealthy).await;
}
