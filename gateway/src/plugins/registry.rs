//! Which plugins exist ([`PLUGINS`], one row each: name, Kong's priority, phases, build) and
//! what an instance is built with (its config, the snapshot's consumers, the node's state).

use super::acl::Acl;
use super::aws_lambda::AwsLambda;
use super::consumers::Consumers;
use super::correlation_id::CorrelationId;
use super::cors::Cors;
use super::file_log::{self, FileLog};
use super::http_log::{self, HttpLog};
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
use super::{Handler, Phase};
use crate::entities::{FieldErrors, Plugin};
use crate::metrics::Metrics;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// Everything the gateway knows about one plugin: adding a plugin is its module plus one row
/// of [`PLUGINS`]; the registry, the chains and the Admin API all read that row.
#[derive(Debug)]
pub struct PluginSpec {
    pub name: &'static str,
    /// Kong's default priority: higher runs first.
    pub priority: i32,
    /// The phases an instance may act in; a route's chain for a phase holds only these.
    pub phases: &'static [Phase],
    /// An instance from its entity's `config`; a bad config is a field error.
    pub build: Build,
}

/// How a [`PluginSpec`] builds an instance.
pub type Build = fn(&Value, &BuildContext) -> Result<Arc<dyn Handler>, FieldErrors>;

use Phase::{Access, Log, ResponseBody, ResponseHeaders};

/// Every plugin this build can run, highest priority first (Kong's priorities).
pub static PLUGINS: &[PluginSpec] = &[
    PluginSpec {
        name: "correlation-id",
        priority: 100_001,
        phases: &[Access, ResponseHeaders],
        build: |config, _| boxed(CorrelationId::from_config(config)),
    },
    PluginSpec {
        name: "cors",
        priority: 2000,
        phases: &[Access, ResponseHeaders],
        build: |config, _| boxed(Cors::from_config(config)),
    },
    PluginSpec {
        name: "key-auth",
        priority: 1250,
        phases: &[Access],
        build: |config, cx| {
            let handler = KeyAuth::from_config(config, cx.consumers.clone())?;
            // Access logs redact the values of every key name in use.
            cx.shared.logs.redaction.add_key_auth(config);
            Ok(Arc::new(handler))
        },
    },
    PluginSpec {
        name: "ip-restriction",
        priority: 990,
        phases: &[Access],
        build: |config, _| boxed(IpRestriction::from_config(config)),
    },
    PluginSpec {
        name: "request-size-limiting",
        priority: 951,
        phases: &[Access],
        build: |config, _| boxed(RequestSizeLimiting::from_config(config)),
    },
    PluginSpec {
        name: "acl",
        priority: 950,
        phases: &[Access],
        build: |config, _| boxed(Acl::from_config(config)),
    },
    PluginSpec {
        name: "rate-limiting",
        priority: 910,
        phases: &[Access, ResponseHeaders],
        build: |config, cx| boxed(RateLimiting::from_config(config, cx)),
    },
    PluginSpec {
        name: "request-transformer",
        priority: 801,
        phases: &[Access],
        build: |config, _| boxed(RequestTransformer::from_config(config)),
    },
    PluginSpec {
        name: "response-transformer",
        priority: 800,
        phases: &[ResponseHeaders, ResponseBody],
        build: |config, _| boxed(ResponseTransformer::from_config(config)),
    },
    PluginSpec {
        name: "aws-lambda",
        priority: 750,
        phases: &[Access],
        build: |config, cx| cx.shared.lambdas.get_or_build(config),
    },
    PluginSpec {
        name: "prometheus",
        priority: 13,
        phases: &[Log],
        build: |config, cx| boxed(Prometheus::from_config(config, cx.shared.metrics.clone())),
    },
    PluginSpec {
        name: "http-log",
        priority: 12,
        phases: &[Log],
        build: |config, cx| {
            let shared = &cx.shared;
            boxed(HttpLog::from_config(
                config,
                &shared.logs,
                &shared.http_log_queues,
            ))
        },
    },
    PluginSpec {
        name: "file-log",
        priority: 9,
        phases: &[Log],
        build: |config, cx| {
            let shared = &cx.shared;
            boxed(FileLog::from_config(
                config,
                &shared.logs,
                &shared.file_log_writers,
            ))
        },
    },
    PluginSpec {
        name: "syslog",
        priority: 4,
        phases: &[Log],
        build: |config, cx| boxed(Syslog::from_config(config, &cx.shared.logs)),
    },
    PluginSpec {
        name: "request-termination",
        priority: 2,
        phases: &[Access],
        build: |config, _| boxed(RequestTermination::from_config(config)),
    },
];

/// The row for a plugin name, if this build has it.
pub fn spec(name: &str) -> Option<&'static PluginSpec> {
    PLUGINS.iter().find(|s| s.name == name)
}

/// A built handler, shared.
fn boxed<H: Handler + 'static>(
    built: Result<H, FieldErrors>,
) -> Result<Arc<dyn Handler>, FieldErrors> {
    Ok(Arc::new(built?))
}

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
    /// What the access-log plugins share: the redaction list, the lost-entry count...
    pub logs: Arc<LogSinks>,
    /// ...and each one's own: file-log's writers, http-log's queues.
    pub file_log_writers: Arc<file_log::Writers>,
    pub http_log_queues: Arc<http_log::Queues>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            metrics: Arc::default(),
            rate_limiting: RateLimitState::new(),
            logs: Arc::default(),
            file_log_writers: Arc::default(),
            http_log_queues: Arc::default(),
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
    match spec(name) {
        Some(spec) => (spec.build)(config, cx),
        None => {
            let mut errors = FieldErrors::default();
            errors.add(
                "name",
                format!(
                    "plugin '{name}' not enabled; add it to the 'plugins' configuration property"
                ),
            );
            Err(errors)
        }
    }
}
