//! rate-limiting: Kong 3.x's plugin. Fixed windows from a second to a year aligned to UTC
//! calendar boundaries, counted per consumer, credential, IP, service, header or path, in this
//! process (`local`), PostgreSQL (`cluster`) or Redis (`redis`).
//!
//! Unlike Kong, every policy counts a request and decides on it in one atomic step (Kong reads,
//! decides, then increments later, so concurrent requests and nodes overshoot the limit), and
//! a refused request does not use up quota. Counters and connections live in a
//! [`RateLimitState`] that outlives configuration snapshots.

mod config;
mod headers;
pub mod policies;
mod state;
mod windows;

pub use config::{Config, LimitBy, PolicyKind, RedisConfig};
pub use headers::{RateLimitHeaders, Usage};
pub use state::{fault_tolerant_passes, RateLimitState};
pub use windows::Window;

use super::registry::BuildContext;
use super::{kong_response, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderValue, StatusCode};
use policies::resp::{RedisClient, RedisTarget};
use policies::{CounterKey, Hit, PolicyError};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long the `cluster` policy waits for PostgreSQL before the request is a store failure.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(2);

/// The policy of one instance, resolved at build time.
#[derive(Debug)]
enum Store {
    Local,
    Cluster,
    Redis {
        client: Arc<RedisClient>,
        timeout: Duration,
    },
}

#[derive(Debug)]
pub struct RateLimiting {
    config: Config,
    route: Uuid,
    service: Uuid,
    store: Store,
    state: Arc<RateLimitState>,
}

impl RateLimiting {
    /// Build an instance; no I/O (a Redis connection opens on the first request).
    pub fn from_config(config: &Value, cx: &BuildContext) -> Result<RateLimiting, FieldErrors> {
        let config = Config::parse(config)?;
        let state = cx.shared.rate_limiting.clone();
        let store = match config.policy {
            PolicyKind::Local => Store::Local,
            PolicyKind::Cluster => Store::Cluster,
            PolicyKind::Redis => {
                let r = &config.redis;
                let target = RedisTarget {
                    host: r.host.clone().unwrap_or_default(),
                    port: r.port,
                    database: r.database,
                    username: r.username.clone(),
                    password: r.password.clone(),
                };
                Store::Redis {
                    client: state.redis_client(&target),
                    timeout: r.timeout,
                }
            }
        };
        Ok(RateLimiting {
            route: cx.instance.route.unwrap_or(Uuid::nil()),
            service: cx.instance.service.unwrap_or(Uuid::nil()),
            config,
            store,
            state,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What this request is counted by (Kong's `get_identifier`): the client IP whenever the
    /// configured source is missing.
    pub fn identifier(&self, ctx: &RequestCtx) -> String {
        let chosen = match &self.config.limit_by {
            LimitBy::Consumer => ctx
                .consumer
                .as_ref()
                .map(|c| c.id)
                .or(ctx.credential_id)
                .map(|id| id.to_string()),
            LimitBy::Credential => ctx.credential_id.map(|id| id.to_string()),
            LimitBy::Ip => None,
            LimitBy::Service => ctx.service_id.map(|id| id.to_string()),
            LimitBy::Header(name) => ctx
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            LimitBy::Path(path) => (ctx.path == *path).then(|| path.clone()),
        };
        chosen.unwrap_or_else(|| ctx.client_ip.to_string())
    }

    /// Count the request and decide: `None` lets it through (with headers kept for the
    /// response), `Some` is the 429 (or the 500 of a failed store without `fault_tolerant`).
    pub async fn check(&self, ctx: &mut RequestCtx, now_ms: i64) -> Option<ShortCircuit> {
        let identifier = self.identifier(ctx);
        let key = CounterKey {
            route: self.route,
            service: self.service,
            identifier: &identifier,
        };
        let hit = match self.count(&key, now_ms).await {
            Ok(hit) => hit,
            Err(error) => {
                let passed = self.config.fault_tolerant;
                self.state
                    .store_failed(&error, passed, now_ms.div_euclid(1000));
                return (!passed).then(|| {
                    kong_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "An unexpected error occurred",
                    )
                });
            }
        };
        let usages: Vec<Usage> = self
            .config
            .limits
            .iter()
            .zip(&hit.counts)
            .map(|(&(window, limit), &count)| Usage {
                window,
                limit,
                remaining: limit.saturating_sub(count),
            })
            .collect();
        let (headers, reset) = headers::build(&usages, now_ms);
        if hit.admitted {
            if !self.config.hide_client_headers {
                ctx.extensions.insert(headers);
            }
            return None;
        }
        let mut answer = kong_response(self.config.error_code, &self.config.error_message);
        if !self.config.hide_client_headers {
            headers.apply(answer.headers_mut());
            answer
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(reset));
        }
        Some(answer)
    }

    async fn count(&self, key: &CounterKey<'_>, now_ms: i64) -> Result<Hit, PolicyError> {
        let limits = &self.config.limits;
        match &self.store {
            Store::Local => Ok(self.state.local.hit(key, limits, now_ms)),
            Store::Redis { client, timeout } => {
                policies::redis::hit(client, *timeout, key, limits, now_ms).await
            }
            Store::Cluster => {
                let cluster = self.state.cluster()?;
                tokio::time::timeout(CLUSTER_TIMEOUT, cluster.hit(key, limits, now_ms))
                    .await
                    .map_err(|_| PolicyError::Timeout(CLUSTER_TIMEOUT))?
            }
        }
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Handler for RateLimiting {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(self.check(ctx, now_ms()))
    }

    fn response_headers(&self, ctx: &RequestCtx, _status: StatusCode, headers: &mut HeaderMap) {
        if let Some(ours) = ctx.extensions.get::<RateLimitHeaders>() {
            ours.apply(headers);
        }
    }
}

#[cfg(test)]
mod tests;
