//! Which plugins exist, their default priorities (Kong's), and how an instance is built from
//! its entity's `config`.

use super::acl::Acl;
use super::aws_lambda::AwsLambda;
use super::consumers::Consumers;
use super::correlation_id::CorrelationId;
use super::cors::Cors;
use super::file_log::FileLog;
use super::http_log::HttpLog;
use super::ip_restriction::IpRestriction;
use super::key_auth::KeyAuth;
use super::log_serializer::LogSinks;
use super::prometheus::Prometheus;
use super::rate_limiting::{RateLimitState, RateLimiting};
use super::request_size_limiting::RequestSizeLimiting;
use super::request_termination::RequestTermination;
use super::request_transformer::RequestTransformer;
use super::response_transformer::ResponseTransformer;
use super::syslog::Syslog;
use super::Handler;
use crate::entities::{FieldErrors, Plugin};
use crate::metrics::Metrics;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// Kong's default priorities: higher runs first.
pub fn priority(name: &str) -> Option<i32> {
    Some(match name {
        "correlation-id" => 100_001,
        "cors" => 2000,
        "key-auth" => 1250,
        "ip-restriction" => 990,
        "request-size-limiting" => 951,
        "acl" => 950,
        "rate-limiting" => 910,
        "request-transformer" => 801,
        "response-transformer" => 800,
        "aws-lambda" => 750,
        "prometheus" => 13,
        "http-log" => 12,
        "file-log" => 9,
        "syslog" => 4,
        "request-termination" => 2,
        _ => return None,
    })
}

/// Plugins this build can run.
pub const AVAILABLE: &[&str] = &[
    "acl",
    "aws-lambda",
    "correlation-id",
    "cors",
    "file-log",
    "http-log",
    "ip-restriction",
    "key-auth",
    "prometheus",
    "rate-limiting",
    "request-size-limiting",
    "request-termination",
    "request-transformer",
    "response-transformer",
    "syslog",
];

/// What a plugin may need from the snapshot it is built for.
#[derive(Debug, Clone, Default)]
pub struct BuildContext {
    pub consumers: Arc<Consumers>,
    pub shared: Shared,
    /// The instance being built (set by [`BuildContext::for_plugin`]).
    pub instance: Instance,
}

/// What lives as long as the node, across snapshots: plugins keep their state here (metrics,
/// rate-limiting counters and connections).
#[derive(Debug, Clone)]
pub struct Shared {
    pub metrics: Arc<Metrics>,
    pub rate_limiting: Arc<RateLimitState>,
    /// aws-lambda instances by config: their connection pools and cached credentials survive
    /// snapshot rebuilds (a portal signing developers up rebuilds often).
    pub lambdas: Arc<LambdaInstances>,
    /// The access-log plugins' writers, queues and redaction list.
    pub logs: Arc<LogSinks>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            metrics: Arc::default(),
            rate_limiting: RateLimitState::new(),
            logs: Arc::default(),
            lambdas: Arc::default(),
        }
    }
}

impl BuildContext {
    /// The same context, for building this plugin instance.
    pub fn for_plugin(&self, plugin: &Plugin) -> BuildContext {
        BuildContext {
            instance: Instance {
                id: plugin.id,
                route: plugin.route.as_ref().map(|r| r.id),
                service: plugin.service.as_ref().map(|s| s.id),
            },
            ..self.clone()
        }
    }
}

/// Built aws-lambda handlers, keyed by their exact config.
#[derive(Debug, Default)]
pub struct LambdaInstances {
    built: std::sync::Mutex<std::collections::HashMap<String, Arc<AwsLambda>>>,
}

impl LambdaInstances {
    /// Kept entries at most; past it the cache starts over (configs that changed many times).
    const MAX: usize = 256;

    fn get_or_build(&self, config: &Value) -> Result<Arc<dyn Handler>, FieldErrors> {
        let key = config.to_string();
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = built.get(&key) {
            return Ok(existing.clone());
        }
        let fresh = Arc::new(AwsLambda::from_config(config)?);
        if built.len() >= Self::MAX {
            built.clear();
        }
        built.insert(key, fresh.clone());
        Ok(fresh)
    }
}

/// A plugin instance's identity and where it is attached (rate-limiting keys its counters by
/// the route and service, as Kong does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Instance {
    pub id: Uuid,
    pub route: Option<Uuid>,
    pub service: Option<Uuid>,
}

/// Build a handler for a plugin instance; unknown plugins and bad configs are field errors.
pub fn build(
    name: &str,
    config: &Value,
    cx: &BuildContext,
) -> Result<Arc<dyn Handler>, FieldErrors> {
    match name {
        "aws-lambda" => cx.shared.lambdas.get_or_build(config),
        "key-auth" => {
            let handler = KeyAuth::from_config(config, cx.consumers.clone())?;
            // Access logs redact the values of every key name in use.
            cx.shared.logs.redaction.add_key_auth(config);
            Ok(Arc::new(handler))
        }
        "prometheus" => Ok(Arc::new(Prometheus::from_config(
            config,
            cx.shared.metrics.clone(),
        )?)),
        "rate-limiting" => Ok(Arc::new(RateLimiting::from_config(config, cx)?)),
        "request-termination" => Ok(Arc::new(RequestTermination::from_config(config)?)),
        "acl" => Ok(Arc::new(Acl::from_config(config)?)),
        "cors" => Ok(Arc::new(Cors::from_config(config)?)),
        "ip-restriction" => Ok(Arc::new(IpRestriction::from_config(config)?)),
        "request-size-limiting" => Ok(Arc::new(RequestSizeLimiting::from_config(config)?)),
        "correlation-id" => Ok(Arc::new(CorrelationId::from_config(config)?)),
        "request-transformer" => Ok(Arc::new(RequestTransformer::from_config(config)?)),
        "response-transformer" => Ok(Arc::new(ResponseTransformer::from_config(config)?)),
        "file-log" => Ok(Arc::new(FileLog::from_config(config, &cx.shared.logs)?)),
        "http-log" => Ok(Arc::new(HttpLog::from_config(config, &cx.shared.logs)?)),
        "syslog" => Ok(Arc::new(Syslog::from_config(config, &cx.shared.logs)?)),
        other => {
            let mut errors = FieldErrors::default();
            errors.add(
                "name",
                format!(
                    "plugin '{other}' not enabled; add it to the 'plugins' configuration property"
                ),
            );
            Err(errors)
        }
    }
}
