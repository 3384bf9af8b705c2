//! The rate-limiting plugin's `config`: Kong 3.x fields and defaults, the deprecated flat
//! `redis_*` fields mapped onto the nested `redis` record, and Kong's validation messages.

use super::windows::Window;
use crate::entities::FieldErrors;
use crate::plugins::{config_status, typed_config};
use http::{HeaderName, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Kong's value of `sync_rate` for "count synchronously"; the only behaviour we implement.
const SYNC_RATE_REALTIME: f64 = -1.0;

/// What each request is counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitBy {
    /// The consumer, else the credential, else the client IP.
    Consumer,
    /// The credential, else the client IP.
    Credential,
    Ip,
    /// The matched service, else the client IP.
    Service,
    /// This request header's value, else the client IP.
    Header(HeaderName),
    /// This exact path (all requests to it share one counter); other paths by client IP.
    Path(String),
}

/// Where the counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// In this process: per node.
    Local,
    /// A PostgreSQL table shared by the nodes of one database.
    Cluster,
    /// A Redis server shared by any nodes.
    Redis,
}

/// The `redis` record (or the flat `redis_*` fields), with Kong's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    pub host: Option<String>,
    pub port: u16,
    pub timeout: Duration,
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: i64,
    pub ssl: bool,
    pub ssl_verify: bool,
    pub server_name: Option<String>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The configured windows and their limits, shortest window first.
    pub limits: Vec<(Window, u64)>,
    pub limit_by: LimitBy,
    pub policy: PolicyKind,
    pub fault_tolerant: bool,
    pub hide_client_headers: bool,
    pub error_code: StatusCode,
    pub error_message: String,
    pub sync_rate: f64,
    pub redis: RedisConfig,
}

/// Every field may be `null` (Kong's exports write them all), hence the options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    second: Option<f64>,
    minute: Option<f64>,
    hour: Option<f64>,
    day: Option<f64>,
    month: Option<f64>,
    year: Option<f64>,
    limit_by: Option<String>,
    header_name: Option<String>,
    path: Option<String>,
    policy: Option<String>,
    fault_tolerant: Option<bool>,
    hide_client_headers: Option<bool>,
    error_code: Option<f64>,
    error_message: Option<String>,
    sync_rate: Option<f64>,
    redis: Option<RawRedis>,
    redis_host: Option<String>,
    redis_port: Option<u16>,
    redis_timeout: Option<u64>,
    redis_username: Option<String>,
    redis_password: Option<String>,
    redis_database: Option<i64>,
    redis_ssl: Option<bool>,
    redis_ssl_verify: Option<bool>,
    redis_server_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedis {
    host: Option<String>,
    port: Option<u16>,
    timeout: Option<u64>,
    username: Option<String>,
    password: Option<String>,
    database: Option<i64>,
    ssl: Option<bool>,
    ssl_verify: Option<bool>,
    server_name: Option<String>,
}

impl Raw {
    fn limit(&self, window: Window) -> Option<f64> {
        match window {
            Window::Second => self.second,
            Window::Minute => self.minute,
            Window::Hour => self.hour,
            Window::Day => self.day,
            Window::Month => self.month,
            Window::Year => self.year,
        }
    }

    /// The nested record, with any (deprecated) flat field laid over it, as Kong's shorthands do.
    fn redis(&mut self) -> RedisConfig {
        let nested = self.redis.take().unwrap_or_default();
        RedisConfig {
            host: self.redis_host.take().or(nested.host),
            port: self.redis_port.or(nested.port).unwrap_or(6379),
            timeout: Duration::from_millis(self.redis_timeout.or(nested.timeout).unwrap_or(2000)),
            username: self.redis_username.take().or(nested.username),
            password: self.redis_password.take().or(nested.password),
            database: self.redis_database.or(nested.database).unwrap_or(0),
            ssl: self.redis_ssl.or(nested.ssl).unwrap_or(false),
            ssl_verify: self.redis_ssl_verify.or(nested.ssl_verify).unwrap_or(false),
            server_name: self.redis_server_name.take().or(nested.server_name),
        }
    }
}

impl Config {
    pub fn parse(value: &Value) -> Result<Config, FieldErrors> {
        let mut raw: Raw = typed_config(value)?;
        let mut errors = FieldErrors::default();
        let limits = limits(&raw, &mut errors);
        let limit_by = limit_by(&raw, &mut errors);
        let policy = match raw.policy.as_deref().unwrap_or("local") {
            "local" => PolicyKind::Local,
            "cluster" => PolicyKind::Cluster,
            "redis" => PolicyKind::Redis,
            _ => {
                errors.add("config.policy", "expected one of: local, cluster, redis");
                PolicyKind::Local
            }
        };
        let redis = raw.redis();
        if policy == PolicyKind::Redis {
            check_redis(&redis, &mut errors);
        }
        let sync_rate = raw.sync_rate.unwrap_or(SYNC_RATE_REALTIME);
        check_sync_rate(sync_rate, policy, &mut errors);
        let error_code = raw.error_code.unwrap_or(429.0);
        let status = config_status(error_code, "config.error_code", &mut errors);
        errors.into_result()?;
        Ok(Config {
            limits,
            limit_by,
            policy,
            fault_tolerant: raw.fault_tolerant.unwrap_or(true),
            hide_client_headers: raw.hide_client_headers.unwrap_or(false),
            error_code: status.unwrap_or(StatusCode::TOO_MANY_REQUESTS),
            error_message: raw
                .error_message
                .take()
                .unwrap_or_else(|| "API rate limit exceeded".into()),
            sync_rate,
            redis,
        })
    }
}

/// At least one window, each limit > 0, and no longer window with a lower limit than a
/// shorter one. A fractional limit admits up to its ceiling, as Kong's `remaining > 0` does.
fn limits(raw: &Raw, errors: &mut FieldErrors) -> Vec<(Window, u64)> {
    let configured: Vec<(Window, f64)> = Window::ALL
        .into_iter()
        .filter_map(|w| raw.limit(w).map(|v| (w, v)))
        .collect();
    if configured.is_empty() {
        errors.entity(
            "at least one of these fields must be non-empty: 'config.second', 'config.minute', \
             'config.hour', 'config.day', 'config.month', 'config.year'",
        );
    }
    for (window, value) in &configured {
        if value.is_nan() || *value <= 0.0 {
            errors.add(
                &format!("config.{}", window.name()),
                "value must be greater than 0",
            );
        }
    }
    for (i, (shorter, low)) in configured.iter().enumerate() {
        if let Some((longer, high)) = configured[i + 1..].iter().find(|(_, v)| v < low) {
            errors.add(
                "config",
                format!(
                    "The limit for {}({high:.1}) cannot be lower than the limit for {}({low:.1})",
                    longer.name(),
                    shorter.name()
                ),
            );
            break;
        }
    }
    configured
        .into_iter()
        .map(|(w, v)| (w, v.max(0.0).ceil() as u64))
        .collect()
}

fn limit_by(raw: &Raw, errors: &mut FieldErrors) -> LimitBy {
    match raw.limit_by.as_deref().unwrap_or("consumer") {
        "consumer" => LimitBy::Consumer,
        "credential" => LimitBy::Credential,
        "ip" => LimitBy::Ip,
        "service" => LimitBy::Service,
        "header" => match raw.header_name.as_deref() {
            None => {
                errors.add("config.header_name", "required field missing");
                LimitBy::Ip
            }
            Some(name) => match HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) {
                Ok(name) => LimitBy::Header(name),
                Err(_) => {
                    errors.add("config.header_name", "bad header name");
                    LimitBy::Ip
                }
            },
        },
        "path" => match raw.path.as_deref() {
            Some(path) if path.starts_with('/') => LimitBy::Path(path.to_string()),
            Some(_) => {
                errors.add("config.path", "should start with: /");
                LimitBy::Ip
            }
            None => {
                errors.add("config.path", "required field missing");
                LimitBy::Ip
            }
        },
        _ => {
            errors.add(
                "config.limit_by",
                "expected one of: consumer, credential, ip, service, header, path",
            );
            LimitBy::Ip
        }
    }
}

fn check_redis(redis: &RedisConfig, errors: &mut FieldErrors) {
    if redis.host.as_deref().is_none_or(str::is_empty) {
        errors.add("config.redis.host", "required field missing");
    }
    if redis.port == 0 {
        errors.add("config.redis.port", "value should be between 0 and 65535");
    }
    if redis.timeout.is_zero() {
        errors.add("config.redis.timeout", "value must be greater than 0");
    }
    if redis.ssl {
        // No TLS stack in this build: refusing beats silently talking plain text.
        errors.add(
            "config.redis.ssl",
            "TLS connections to Redis are not supported by this gateway",
        );
    }
}

fn check_sync_rate(sync_rate: f64, policy: PolicyKind, errors: &mut FieldErrors) {
    if sync_rate == SYNC_RATE_REALTIME {
        return;
    }
    if policy != PolicyKind::Redis {
        errors.add("config", "sync_rate can only be used with the redis policy");
    } else if sync_rate < 0.02 {
        errors.add(
            "config",
            "sync_rate must be greater than 0.02, or -1 to disable",
        );
    }
}
