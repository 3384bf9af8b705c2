//! Active health checks: a tokio task per upstream that probes its targets (HTTP GET or a bare
//! TCP connect) on the healthy and unhealthy intervals, and stops when its handle is dropped.

use super::health::{Counter, Thresholds};
use super::upstream::{log_transition, Balancer, Slot};
use super::Outcome;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;

/// The running checker of one upstream; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct ActiveChecker {
    task: AbortHandle,
}

impl Drop for ActiveChecker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ActiveChecker {
    /// Starts probing when an active interval is set and a tokio runtime is running.
    pub(crate) fn start(balancer: &Arc<Balancer>) -> Option<ActiveChecker> {
        let active = &balancer.checks.active;
        if active.healthy.interval <= 0.0 && active.unhealthy.interval <= 0.0 {
            return None;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(upstream = %balancer.name, "no tokio runtime: active health checks off");
            return None;
        };
        let task = runtime.spawn(run(balancer.clone())).abort_handle();
        Some(ActiveChecker { task })
    }
}

async fn run(balancer: Arc<Balancer>) {
    let active = &balancer.checks.active;
    tokio::join!(
        probe_loop(&balancer, active.healthy.interval, true),
        probe_loop(&balancer, active.unhealthy.interval, false),
    );
}

/// Probes, every `interval` seconds, the targets currently routable (`healthy_group`) or not.
async fn probe_loop(balancer: &Balancer, interval: f64, healthy_group: bool) {
    if interval <= 0.0 {
        return;
    }
    let thresholds = Thresholds::active(&balancer.checks);
    let concurrency = balancer.checks.active.concurrency.max(1) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(interval));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let due = balancer
            .slots
            .iter()
            .filter(|s| s.state.is_routable() == healthy_group);
        stream::iter(due)
            .for_each_concurrent(concurrency, |slot| async {
                let result = probe(balancer, slot).await;
                record(balancer, slot, &thresholds, result);
            })
            .await;
    }
}

/// What one probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// A TCP check connected.
    Connected,
    /// Anything that a status-based check would report.
    Seen(Outcome),
}

fn record(balancer: &Balancer, slot: &Slot, thresholds: &Thresholds, result: Probe) {
    let classified = match result {
        Probe::Connected => Some((Counter::Success, thresholds.successes())),
        Probe::Seen(outcome) => thresholds.classify(outcome),
    };
    if let Some((counter, limit)) = classified {
        if let Some(state) = slot.state.record(counter, limit) {
            log_transition(&balancer.name, &slot.host, slot.port, state, "active");
        }
    }
}

async fn probe(balancer: &Balancer, slot: &Slot) -> Probe {
    let active = &balancer.checks.active;
    let timeout = Duration::from_secs_f64(active.timeout.max(0.001));
    let connect = TcpStream::connect((slot.host.as_str(), slot.port));
    let stream = match tokio::time::timeout(timeout, connect).await {
        Err(_) => return Probe::Seen(Outcome::Timeout),
        Ok(Err(_)) => return Probe::Seen(Outcome::TcpFailure),
        Ok(Ok(stream)) => stream,
    };
    // Without a TLS stack, https/grpcs probes stop at the TCP connect.
    if matches!(active.kind.as_str(), "tcp" | "https" | "grpcs") {
        return Probe::Connected;
    }
    let host = balancer.host_header().unwrap_or(&slot.host);
    match tokio::time::timeout(timeout, http_get(stream, host, balancer)).await {
        Err(_) => Probe::Seen(Outcome::Timeout),
        Ok(outcome) => Probe::Seen(outcome),
    }
}

/// One `GET http_path` over an open connection; the status, or a TCP failure when the exchange
/// breaks (a malformed response counts as status 0, an HTTP failure in Kong).
async fn http_get(stream: TcpStream, host: &str, balancer: &Balancer) -> Outcome {
    let active = &balancer.checks.active;
    let Ok((mut sender, connection)) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
    else {
        return Outcome::TcpFailure;
    };
    let driver = tokio::spawn(connection);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let mut request = http::Request::get(active.http_path.as_str())
        .header(http::header::HOST, host)
        .header(http::header::CONNECTION, "close")
        .header(http::header::USER_AGENT, "gateway-healthcheck");
    for (name, value) in probe_headers(active.headers.as_ref()) {
        request = request.header(name, value);
    }
    let outcome = match request.body(Empty::new()) {
        Err(_) => Outcome::Status(0),
        Ok(request) => match sender.send_request(request).await {
            Ok(response) => Outcome::Status(response.status().as_u16()),
            Err(e) if e.is_parse() => Outcome::Status(0),
            Err(_) => Outcome::TcpFailure,
        },
    };
    driver.abort();
    outcome
}

/// Kong's `active.headers`: a map of header name to a value or a list of values.
fn probe_headers(headers: Option<&serde_json::Value>) -> Vec<(String, String)> {
    let Some(serde_json::Value::Object(map)) = headers else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, values) in map {
        match values {
            serde_json::Value::Array(items) => {
                for item in items {
                    out.push((name.clone(), json_text(item)));
                }
            }
            other => out.push((name.clone(), json_text(other))),
        }
    }
    out
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
