//! Upstream (a virtual host name balanced across targets, with health checks) and Target.

use super::{check_tags, coerce, now_seconds, FieldErrors, Reference};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ALGORITHMS: &[&str] = &[
    "round-robin",
    "consistent-hashing",
    "least-connections",
    "latency",
];
const HASH_ON: &[&str] = &[
    "none",
    "consumer",
    "ip",
    "header",
    "cookie",
    "path",
    "query_arg",
    "uri_capture",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    #[serde(default = "none")]
    pub hash_on: String,
    #[serde(default = "none")]
    pub hash_fallback: String,
    #[serde(default)]
    pub hash_on_header: Option<String>,
    #[serde(default)]
    pub hash_fallback_header: Option<String>,
    #[serde(default)]
    pub hash_on_cookie: Option<String>,
    #[serde(default = "slash")]
    pub hash_on_cookie_path: String,
    #[serde(default)]
    pub hash_on_query_arg: Option<String>,
    #[serde(default)]
    pub hash_on_uri_capture: Option<String>,
    #[serde(default = "default_slots", deserialize_with = "coerce::u32")]
    pub slots: u32,
    #[serde(default)]
    pub healthchecks: Healthchecks,
    #[serde(default)]
    pub host_header: Option<String>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub use_srv_name: bool,
    #[serde(default)]
    pub client_certificate: Option<Reference>,
}

fn default_algorithm() -> String {
    "round-robin".into()
}
fn none() -> String {
    "none".into()
}
fn slash() -> String {
    "/".into()
}
fn default_slots() -> u32 {
    10_000
}

/// Kong's `healthchecks` record: active probes, passive error counting, and the threshold (in
/// percent of healthy weight) under which the whole upstream counts as unhealthy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Healthchecks {
    pub active: ActiveChecks,
    pub passive: PassiveChecks,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActiveChecks {
    #[serde(rename = "type")]
    pub kind: String,
    pub timeout: f64,
    pub concurrency: u32,
    pub http_path: String,
    pub https_verify_certificate: bool,
    pub https_sni: Option<String>,
    pub headers: Option<serde_json::Value>,
    pub healthy: ActiveHealthy,
    pub unhealthy: ActiveUnhealthy,
}

impl Default for ActiveChecks {
    fn default() -> Self {
        ActiveChecks {
            kind: "http".into(),
            timeout: 1.0,
            concurrency: 10,
            http_path: "/".into(),
            https_verify_certificate: true,
            https_sni: None,
            headers: None,
            healthy: ActiveHealthy::default(),
            unhealthy: ActiveUnhealthy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActiveHealthy {
    /// Seconds between probes of a healthy target; 0 disables them.
    pub interval: f64,
    #[serde(deserialize_with = "coerce::u16s")]
    pub http_statuses: Vec<u16>,
    pub successes: u32,
}

impl Default for ActiveHealthy {
    fn default() -> Self {
        ActiveHealthy {
            interval: 0.0,
            http_statuses: vec![200, 302],
            successes: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActiveUnhealthy {
    /// Seconds between probes of an unhealthy target; 0 disables them.
    pub interval: f64,
    #[serde(deserialize_with = "coerce::u16s")]
    pub http_statuses: Vec<u16>,
    pub tcp_failures: u32,
    pub timeouts: u32,
    pub http_failures: u32,
}

impl Default for ActiveUnhealthy {
    fn default() -> Self {
        ActiveUnhealthy {
            interval: 0.0,
            http_statuses: vec![429, 404, 500, 501, 502, 503, 504, 505],
            tcp_failures: 0,
            timeouts: 0,
            http_failures: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassiveChecks {
    #[serde(rename = "type")]
    pub kind: String,
    pub healthy: PassiveHealthy,
    pub unhealthy: PassiveUnhealthy,
}

impl Default for PassiveChecks {
    fn default() -> Self {
        PassiveChecks {
            kind: "http".into(),
            healthy: PassiveHealthy::default(),
            unhealthy: PassiveUnhealthy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassiveHealthy {
    #[serde(deserialize_with = "coerce::u16s")]
    pub http_statuses: Vec<u16>,
    pub successes: u32,
}

impl Default for PassiveHealthy {
    fn default() -> Self {
        PassiveHealthy {
            http_statuses: vec![
                200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
                306, 307, 308,
            ],
            successes: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassiveUnhealthy {
    #[serde(deserialize_with = "coerce::u16s")]
    pub http_statuses: Vec<u16>,
    pub tcp_failures: u32,
    pub timeouts: u32,
    pub http_failures: u32,
}

impl Default for PassiveUnhealthy {
    fn default() -> Self {
        PassiveUnhealthy {
            http_statuses: vec![429, 500, 503],
            tcp_failures: 0,
            timeouts: 0,
            http_failures: 0,
        }
    }
}

impl Upstream {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        if self.name.is_empty() {
            errors.add("name", "required field missing");
        } else if !super::service::valid_host(&self.name) {
            errors.add(
                "name",
                "Invalid name ('".to_string() + &self.name + "'); must be a valid hostname",
            );
        }
        if !ALGORITHMS.contains(&self.algorithm.as_str()) {
            errors.add(
                "algorithm",
                format!("expected one of: {}", ALGORITHMS.join(", ")),
            );
        }
        for (field, value) in [
            ("hash_on", &self.hash_on),
            ("hash_fallback", &self.hash_fallback),
        ] {
            if !HASH_ON.contains(&value.as_str()) {
                errors.add(field, format!("expected one of: {}", HASH_ON.join(", ")));
            }
        }
        if !(10..=65536).contains(&self.slots) {
            errors.add("slots", "value should be between 10 and 65536");
        }
        let hc = &self.healthchecks;
        if !(0.0..=100.0).contains(&hc.threshold) {
            errors.add(
                "healthchecks.threshold",
                "value should be between 0 and 100",
            );
        }
        if !matches!(
            hc.active.kind.as_str(),
            "http" | "https" | "tcp" | "grpc" | "grpcs"
        ) {
            errors.add(
                "healthchecks.active.type",
                "expected one of: tcp, http, https, grpc, grpcs",
            );
        }
        if !hc.active.http_path.starts_with('/') {
            errors.add("healthchecks.active.http_path", "should start with: /");
        }
        for (field, v) in [
            (
                "healthchecks.active.healthy.interval",
                hc.active.healthy.interval,
            ),
            (
                "healthchecks.active.unhealthy.interval",
                hc.active.unhealthy.interval,
            ),
            ("healthchecks.active.timeout", hc.active.timeout),
        ] {
            if !(0.0..=65535.0).contains(&v) {
                errors.add(field, "value should be between 0 and 65535");
            }
        }
        errors.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub upstream: Option<Reference>,
    #[serde(default)]
    pub target: String,
    #[serde(default = "default_weight", deserialize_with = "coerce::u16")]
    pub weight: u16,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
}

fn default_weight() -> u16 {
    100
}

impl Target {
    /// Normalises `target` to `host:port` (port 8000 when omitted, as Kong).
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        if self.upstream.is_none() {
            errors.add("upstream", "required field missing");
        }
        match split_host_port(&self.target) {
            Some((host, port)) if super::service::valid_host(&host) => {
                self.target = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
            }
            _ if self.target.is_empty() => errors.add("target", "required field missing"),
            _ => errors.add(
                "target",
                "Invalid target ('".to_string()
                    + &self.target
                    + "'); not a valid hostname or ip address",
            ),
        }
        errors.into_result()
    }

    /// Host and port of a normalised target.
    pub fn host_port(&self) -> Option<(String, u16)> {
        split_host_port(&self.target)
    }
}

fn split_host_port(target: &str) -> Option<(String, u16)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 8000,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    if target.matches(':').count() > 1 {
        return Some((target.to_string(), 8000));
    }
    match target.split_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((target.to_string(), 8000)),
    }
}
