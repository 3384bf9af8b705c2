use super::*;

#[test]
fn histograms_are_cumulative_with_kong_buckets() {
    let mut h = Histogram::new(KONG_LATENCY_BUCKETS);
    for v in [0.0, 1.0, 3.0, 2000.0] {
        h.observe(KONG_LATENCY_BUCKETS, v);
    }
    let mut out = String::new();
    let mut series = BTreeMap::new();
    series.insert(("svc".to_string(), "r".to_string()), h);
    histograms(
        &mut out,
        "kong_kong_latency_ms",
        "help",
        KONG_LATENCY_BUCKETS,
        &series,
    );
    assert!(
        out.contains("kong_kong_latency_ms_bucket{service=\"svc\",route=\"r\",le=\"1\"} 2\n"),
        "{out}"
    );
    assert!(out.contains("le=\"5\"} 3\n"), "{out}");
    assert!(out.contains("le=\"1000\"} 3\n"), "{out}");
    assert!(out.contains("le=\"+Inf\"} 4\n"), "{out}");
    assert!(out.contains("kong_kong_latency_ms_count{service=\"svc\",route=\"r\"} 4\n"));
    assert!(out.contains("# TYPE kong_kong_latency_ms histogram\n"));
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(labels(&[("a", "x\"y\\z\nw")]), "{a=\"x\\\"y\\\\z\\nw\"}");
    assert_eq!(labels(&[]), "");
}

#[test]
fn observations_accumulate_per_series() {
    let m = Metrics::default();
    let o = Observation {
        service: "weather".into(),
        route: "forecast".into(),
        consumer: String::new(),
        status: Some((200, "service")),
        latencies: Some((1, Some(30), 31)),
        bandwidth: Some((100, 0)),
    };
    m.record(o.clone());
    m.record(o);
    let mut out = String::new();
    m.render_series(&mut out);
    assert!(out.contains("kong_http_requests_total{service=\"weather\",route=\"forecast\",code=\"200\",source=\"service\",consumer=\"\"} 2\n"), "{out}");
    assert!(out.contains("kong_bandwidth_bytes{service=\"weather\",route=\"forecast\",direction=\"ingress\",consumer=\"\"} 200\n"), "{out}");
    assert!(
        !out.contains("direction=\"egress\""),
        "zero-byte directions are not recorded"
    );
    assert!(
        out.contains(
            "kong_upstream_latency_ms_bucket{service=\"weather\",route=\"forecast\",le=\"50\"} 2\n"
        ),
        "{out}"
    );
}

#[test]
fn node_gauges_render_without_a_node() {
    let m = Metrics::default();
    m.upstream_health.store(true, Ordering::Relaxed);
    let gauges = NodeGauges {
        node_id: "n1".into(),
        version: "3.9.0",
        datastore_reachable: true,
        targets: vec![TargetState {
            upstream: "weather".into(),
            target: "10.0.0.1:80".into(),
            state: "healthy",
        }],
        fault_tolerant_passes: 2,
        log_entries_dropped: 5,
    };
    let out = m.render(&gauges);
    assert!(
        out.contains("kong_node_info{node_id=\"n1\",version=\"3.9.0\"} 1\n"),
        "{out}"
    );
    assert!(out.contains("kong_datastore_reachable 1\n"), "{out}");
    assert!(out.contains("kong_upstream_target_health{upstream=\"weather\",target=\"10.0.0.1:80\",address=\"10.0.0.1:80\",state=\"healthy\",subsystem=\"http\"} 1\n"), "{out}");
    assert!(
        out.contains("state=\"unhealthy\",subsystem=\"http\"} 0\n"),
        "{out}"
    );
    assert!(
        out.contains("gateway_rate_limiting_fault_tolerant_passes_total 2\n"),
        "{out}"
    );
    assert!(
        out.contains("gateway_log_entries_dropped_total 5\n"),
        "{out}"
    );
}
