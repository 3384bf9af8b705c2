//! Which plugins exist, their default priorities (Kong's), and how an instance is built from
//! its entity's `config`.

use super::consumers::Consumers;
use super::rate_limiting::{RateLimitState, RateLimiting};
use super::{key_auth::KeyAuth, request_termination::RequestTermination, Handler};
use crate::entities::{FieldErrors, Plugin};
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
pub const AVAILABLE: &[&str] = &["key-auth", "rate-limiting", "request-termination"];

/// What a plugin may need from the snapshot it is built for.
#[derive(Debug, Clone)]
pub struct BuildContext {
    pub consumers: Arc<Consumers>,
    /// The instance being built (set by [`BuildContext::for_plugin`]).
    pub instance: Instance,
    /// Rate-limiting counters and connections: they outlive snapshots, so the default is the
    /// process-wide state, never a fresh one.
    pub rate_limiting: Arc<RateLimitState>,
}

impl Default for BuildContext {
    fn default() -> BuildContext {
        BuildContext {
            consumers: Arc::default(),
            instance: Instance::default(),
            rate_limiting: RateLimitState::global(),
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
        "key-auth" => Ok(Arc::new(KeyAuth::from_config(
            config,
            cx.consumers.clone(),
        )?)),
        "rate-limiting" => Ok(Arc::new(RateLimiting::from_config(config, cx)?)),
        "request-termination" => Ok(Arc::new(RequestTermination::from_config(config)?)),
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
