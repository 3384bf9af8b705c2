//! prometheus: record each request in Kong's metric names (`kong_http_requests_total`, the
//! latency histograms, `kong_bandwidth_bytes`), as far as the instance's flags ask (all off by
//! default since Kong 3.0). The exposition is served by the node (`/metrics`).

use super::{typed_config, Handler, LogRecord, RequestCtx};
use crate::entities::FieldErrors;
use crate::metrics::{Metrics, Observation};
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    per_consumer: bool,
    status_code_metrics: bool,
    latency_metrics: bool,
    bandwidth_metrics: bool,
    upstream_health_metrics: bool,
}

#[derive(Debug)]
pub struct Prometheus {
    config: Config,
    metrics: Arc<Metrics>,
}

impl Prometheus {
    pub fn from_config(config: &Value, metrics: Arc<Metrics>) -> Result<Prometheus, FieldErrors> {
        let config: Config = typed_config(config)?;
        if config.upstream_health_metrics {
            metrics.upstream_health.store(true, Ordering::Relaxed);
        }
        Ok(Prometheus { config, metrics })
    }
}

impl Handler for Prometheus {
    fn log(&self, ctx: &RequestCtx, record: &LogRecord<'_>) {
        // Kong records nothing for requests without a service.
        let Some(service) = record.service else {
            return;
        };
        let c = &self.config;
        let consumer = match (&ctx.consumer, c.per_consumer) {
            (Some(consumer), true) => consumer.username.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let source = if record.from_upstream {
            "service"
        } else {
            "kong"
        };
        self.metrics.record(Observation {
            service: service.name.clone().unwrap_or_else(|| service.host.clone()),
            route: record
                .route
                .map(|r| r.name.clone().unwrap_or_else(|| r.id.to_string()))
                .unwrap_or_default(),
            consumer,
            status: c
                .status_code_metrics
                .then_some((record.status.as_u16(), source)),
            latencies: c.latency_metrics.then_some((
                record.latency_kong_ms,
                record.latency_upstream_ms,
                record.latency_total_ms,
            )),
            bandwidth: c
                .bandwidth_metrics
                .then_some((record.request_bytes, record.response_bytes)),
        });
    }
}
