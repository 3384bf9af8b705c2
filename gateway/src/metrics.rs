//! The node's metrics in Kong's Prometheus names and labels, so dashboards built for Kong work:
//! per-request series recorded by the prometheus plugin, node gauges read at scrape time, and
//! the text exposition served on the status listener's and the Admin API's `/metrics`.
//!
//! A leaf: the node gathers its gauges into [`NodeGauges`] and asks for the text; nothing here
//! reaches back into the node, its balancers or the Admin API.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Kong 3.x's buckets (milliseconds).
const KONG_LATENCY_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 200.0, 500.0, 750.0, 1000.0,
];
const UPSTREAM_LATENCY_BUCKETS: &[f64] = &[
    25.0, 50.0, 80.0, 100.0, 250.0, 400.0, 700.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0,
];

#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(buckets: &[f64]) -> Histogram {
        Histogram {
            counts: vec![0; buckets.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, buckets: &[f64], value: f64) {
        if let Some(i) = buckets.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }
}

/// Label values of a service/route series.
type Scope = (String, String);

#[derive(Debug, Default)]
struct Series {
    /// (service, route, code, source, consumer) → count.
    status: BTreeMap<(String, String, u16, &'static str, String), u64>,
    kong_latency: BTreeMap<Scope, Histogram>,
    upstream_latency: BTreeMap<Scope, Histogram>,
    request_latency: BTreeMap<Scope, Histogram>,
    /// (service, route, direction, consumer) → bytes.
    bandwidth: BTreeMap<(String, String, &'static str, String), u64>,
}

/// One request as the prometheus plugin records it.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub service: String,
    pub route: String,
    pub consumer: String,
    pub status: Option<(u16, &'static str)>,
    pub latencies: Option<(u64, Option<u64>, u64)>,
    pub bandwidth: Option<(u64, u64)>,
}

/// What the node reports at scrape time, gathered by the node (`Node::metrics_text`).
#[derive(Debug, Clone, Default)]
pub struct NodeGauges {
    pub node_id: String,
    /// The Kong release this gateway answers as.
    pub version: &'static str,
    pub datastore_reachable: bool,
    /// Every target's health state, when some prometheus instance asks for it
    /// ([`Metrics::upstream_health`]); empty otherwise.
    pub targets: Vec<TargetState>,
    /// Requests let through while the rate-limiting store was unreachable.
    pub fault_tolerant_passes: u64,
    /// Access log entries lost on this node.
    pub log_entries_dropped: u64,
}

/// One target's health, in `kong_upstream_target_health`'s words.
#[derive(Debug, Clone)]
pub struct TargetState {
    pub upstream: String,
    /// `host:port`
    pub target: String,
    /// `healthy`, `unhealthy` or `healthchecks_off`.
    pub state: &'static str,
}

/// Every metric of the node. Lives as long as the node; snapshots come and go.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<Series>,
    pub requests_total: AtomicU64,
    pub connections_accepted: AtomicU64,
    pub connections_active: AtomicI64,
    /// Any prometheus instance asks for upstream health (Kong: until a restart, once on).
    pub upstream_health: AtomicBool,
}

impl Metrics {
    pub fn record(&self, o: Observation) {
        let mut s = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let scope = (o.service, o.route);
        if let Some((code, source)) = o.status {
            *s.status
                .entry((
                    scope.0.clone(),
                    scope.1.clone(),
                    code,
                    source,
                    o.consumer.clone(),
                ))
                .or_default() += 1;
        }
        if let Some((kong, upstream, total)) = o.latencies {
            s.kong_latency
                .entry(scope.clone())
                .or_insert_with(|| Histogram::new(KONG_LATENCY_BUCKETS))
                .observe(KONG_LATENCY_BUCKETS, kong as f64);
            if let Some(up) = upstream {
                s.upstream_latency
                    .entry(scope.clone())
                    .or_insert_with(|| Histogram::new(UPSTREAM_LATENCY_BUCKETS))
                    .observe(UPSTREAM_LATENCY_BUCKETS, up as f64);
            }
            s.request_latency
                .entry(scope.clone())
                .or_insert_with(|| Histogram::new(UPSTREAM_LATENCY_BUCKETS))
                .observe(UPSTREAM_LATENCY_BUCKETS, total as f64);
        }
        if let Some((ingress, egress)) = o.bandwidth {
            for (direction, bytes) in [("ingress", ingress), ("egress", egress)] {
                if bytes > 0 {
                    *s.bandwidth
                        .entry((
                            scope.0.clone(),
                            scope.1.clone(),
                            direction,
                            o.consumer.clone(),
                        ))
                        .or_default() += bytes;
                }
            }
        }
    }

    /// Whether a scrape should gather every target's health (for [`NodeGauges::targets`]).
    pub fn wants_upstream_health(&self) -> bool {
        self.upstream_health.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of everything, with the node's gauges as gathered now.
    pub fn render(&self, node: &NodeGauges) -> String {
        let reachable = node.datastore_reachable;
        let mut out = String::with_capacity(4096);
        let id = &node.node_id;
        gauge(
            &mut out,
            "kong_node_info",
            "Kong Node metadata information",
            &[(labels(&[("node_id", id), ("version", node.version)]), 1.0)],
        );
        gauge(
            &mut out,
            "kong_datastore_reachable",
            "Datastore reachable from Kong, 0 is unreachable",
            &[(String::new(), f64::from(u8::from(reachable)))],
        );
        let conns = [
            (
                "accepted",
                self.connections_accepted.load(Ordering::Relaxed) as f64,
            ),
            (
                "active",
                self.connections_active.load(Ordering::Relaxed) as f64,
            ),
            ("total", self.requests_total.load(Ordering::Relaxed) as f64),
        ];
        let conns: Vec<(String, f64)> = conns
            .iter()
            .map(|(state, v)| {
                (
                    labels(&[("node_id", id), ("subsystem", "http"), ("state", state)]),
                    *v,
                )
            })
            .collect();
        gauge(
            &mut out,
            "kong_nginx_connections_total",
            "Number of connections by subsystem",
            &conns,
        );
        let total = self.requests_total.load(Ordering::Relaxed) as f64;
        gauge(
            &mut out,
            "kong_nginx_requests_total",
            "Number of requests total",
            &[(labels(&[("node_id", id), ("subsystem", "http")]), total)],
        );
        if self.wants_upstream_health() {
            gauge(&mut out, "kong_upstream_target_health", "Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.", &upstream_health(&node.targets));
        }
        // Ours, not Kong's: what the gateway let through or lost instead of failing requests.
        let passes = node.fault_tolerant_passes as f64;
        counter(&mut out, "gateway_rate_limiting_fault_tolerant_passes_total", "Requests let through because the rate-limiting store (Redis or PostgreSQL) was unreachable", passes);
        let dropped = node.log_entries_dropped as f64;
        counter(
            &mut out,
            "gateway_log_entries_dropped_total",
            "Access log entries dropped because a log sink's queue was full or unreachable",
            dropped,
        );
        self.render_series(&mut out);
        out
    }

    fn render_series(&self, out: &mut String) {
        let s = self.series.lock().unwrap_or_else(|p| p.into_inner());
        if !s.status.is_empty() {
            header(
                out,
                "kong_http_requests_total",
                "HTTP status codes per consumer/service/route in Kong",
                "counter",
            );
            for ((service, route, code, source, consumer), n) in &s.status {
                let code = code.to_string();
                let l = labels(&[
                    ("service", service),
                    ("route", route),
                    ("code", &code),
                    ("source", source),
                    ("consumer", consumer),
                ]);
                let _ = writeln!(out, "kong_http_requests_total{l} {n}");
            }
        }
        histograms(
            out,
            "kong_kong_latency_ms",
            "Latency added by Kong and enabled plugins for each service/route in Kong",
            KONG_LATENCY_BUCKETS,
            &s.kong_latency,
        );
        histograms(
            out,
            "kong_upstream_latency_ms",
            "Latency added by upstream response for each service/route in Kong",
            UPSTREAM_LATENCY_BUCKETS,
            &s.upstream_latency,
        );
        histograms(
            out,
            "kong_request_latency_ms",
            "Total latency incurred during requests for each service/route in Kong",
            UPSTREAM_LATENCY_BUCKETS,
            &s.request_latency,
        );
        if !s.bandwidth.is_empty() {
            header(
                out,
                "kong_bandwidth_bytes",
                "Total bandwidth (ingress/egress) throughput in bytes",
                "counter",
            );
            for ((service, route, direction, consumer), n) in &s.bandwidth {
                let l = labels(&[
                    ("service", service),
                    ("route", route),
                    ("direction", direction),
                    ("consumer", consumer),
                ]);
                let _ = writeln!(out, "kong_bandwidth_bytes{l} {n}");
            }
        }
    }
}

/// One row per target and state Kong knows, 1 for the state the target is in.
fn upstream_health(targets: &[TargetState]) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    for t in targets {
        for candidate in ["healthchecks_off", "healthy", "unhealthy", "dns_error"] {
            let l = labels(&[
                ("upstream", &t.upstream),
                ("target", &t.target),
                ("address", &t.target),
                ("state", candidate),
                ("subsystem", "http"),
            ]);
            rows.push((l, f64::from(u8::from(candidate == t.state))));
        }
    }
    rows
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, help, "counter");
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, rows: &[(String, f64)]) {
    header(out, name, help, "gauge");
    for (l, v) in rows {
        let _ = writeln!(out, "{name}{l} {v}");
    }
}

fn histograms(
    out: &mut String,
    name: &str,
    help: &str,
    buckets: &[f64],
    series: &BTreeMap<Scope, Histogram>,
) {
    if series.is_empty() {
        return;
    }
    header(out, name, help, "histogram");
    for ((service, route), h) in series {
        let mut cumulative = 0;
        for (le, n) in buckets.iter().zip(&h.counts) {
            cumulative += n;
            let l = labels(&[
                ("service", service),
                ("route", route),
                ("le", &le.to_string()),
            ]);
            let _ = writeln!(out, "{name}_bucket{l} {cumulative}");
        }
        let l = labels(&[("service", service), ("route", route), ("le", "+Inf")]);
        let _ = writeln!(out, "{name}_bucket{l} {}", h.count);
        let l = labels(&[("service", service), ("route", route)]);
        let _ = writeln!(out, "{name}_sum{l} {}\n{name}_count{l} {}", h.sum, h.count);
    }
}

/// `{a="x",b="y"}` with Prometheus escaping; empty for no labels.
fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            )
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests;
