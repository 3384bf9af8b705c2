//! Route: which requests reach a service (hosts, paths, methods, headers) and how the path is
//! rewritten (strip_path, preserve_host).

use super::{check_name, check_tags, coerce, now_seconds, FieldErrors, Reference};
use serde::de::{Deserializer, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

const PROTOCOLS: &[&str] = &[
    "http", "https", "grpc", "grpcs", "tcp", "tls", "udp", "ws", "wss",
];
const REDIRECT_CODES: &[u16] = &[426, 301, 302, 307, 308];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_protocols", deserialize_with = "strings")]
    pub protocols: Vec<String>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub methods: Option<Vec<String>>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub hosts: Option<Vec<String>>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub paths: Option<Vec<String>>,
    #[serde(default, deserialize_with = "headers")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default = "default_redirect", deserialize_with = "coerce::u16")]
    pub https_redirect_status_code: u16,
    #[serde(default, deserialize_with = "coerce::i64")]
    pub regex_priority: i64,
    #[serde(default = "yes", deserialize_with = "coerce::boolean")]
    pub strip_path: bool,
    #[serde(default = "default_path_handling")]
    pub path_handling: String,
    #[serde(default, deserialize_with = "coerce::boolean")]
    pub preserve_host: bool,
    #[serde(default = "yes", deserialize_with = "coerce::boolean")]
    pub request_buffering: bool,
    #[serde(default = "yes", deserialize_with = "coerce::boolean")]
    pub response_buffering: bool,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub snis: Option<Vec<String>>,
    #[serde(default)]
    pub sources: Option<Value>,
    #[serde(default)]
    pub destinations: Option<Value>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub service: Option<Reference>,
}

fn default_protocols() -> Vec<String> {
    vec!["http".into(), "https".into()]
}
fn default_redirect() -> u16 {
    426
}
fn default_path_handling() -> String {
    "v0".into()
}
fn yes() -> bool {
    true
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(coerce::opt_strings(d)?.unwrap_or_default())
}

/// `headers` maps a name to accepted values; a form's `headers.x-v=1` gives a single string.
fn headers<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, Vec<String>>>, D::Error> {
    let Some(value) = Option::<Value>::deserialize(d)? else {
        return Ok(None);
    };
    let Value::Object(map) = value else {
        if value.is_null() {
            return Ok(None);
        }
        return Err(D::Error::custom("expected a map"));
    };
    let mut out = BTreeMap::new();
    for (name, values) in map {
        let list = match values {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .into_iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| D::Error::custom("expected a string"))?,
            _ => return Err(D::Error::custom("expected an array")),
        };
        out.insert(name.to_ascii_lowercase(), list);
    }
    Ok(Some(out))
}

/// A route path: a literal prefix, or a regex (`~/...`) anchored at the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePath {
    Prefix(String),
    Regex(String),
}

impl RoutePath {
    pub fn parse(path: &str) -> Result<RoutePath, String> {
        if let Some(pattern) = path.strip_prefix('~') {
            if !pattern.starts_with('/') {
                return Err("should start with: / (fixed path) or ~/ (regex path)".into());
            }
            regex::Regex::new(pattern).map_err(|e| {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                format!("invalid regex: '{pattern}' ({last})")
            })?;
            Ok(RoutePath::Regex(pattern.to_string()))
        } else if path.starts_with('/') {
            if path.contains("//") {
                return Err("must not have empty segments".into());
            }
            Ok(RoutePath::Prefix(path.to_string()))
        } else {
            Err("should start with: / (fixed path) or ~/ (regex path)".into())
        }
    }
}

impl Route {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_name(&mut errors, "name", self.name.as_deref());
        check_tags(&mut errors, &self.tags);
        if self.protocols.is_empty() {
            errors.add("protocols", "length must be at least 1");
        }
        for (i, p) in self.protocols.iter().enumerate() {
            if !PROTOCOLS.contains(&p.as_str()) {
                errors.add(
                    &format!("protocols.{}", i + 1),
                    format!("expected one of: {}", PROTOCOLS.join(", ")),
                );
            }
        }
        for (i, m) in self.methods.iter_mut().flatten().enumerate() {
            if m.is_empty() || !m.chars().all(|c| c.is_ascii_alphabetic()) {
                errors.add(
                    &format!("methods.{}", i + 1),
                    "invalid value: ".to_string() + m,
                );
            }
            *m = m.to_ascii_uppercase();
        }
        for (i, h) in self.hosts.iter_mut().flatten().enumerate() {
            *h = h.to_ascii_lowercase();
            if !valid_host_pattern(h) {
                errors.add(
                    &format!("hosts.{}", i + 1),
                    "invalid hostname: ".to_string() + h,
                );
            }
        }
        for (i, p) in self.paths.iter().flatten().enumerate() {
            if let Err(message) = RoutePath::parse(p) {
                errors.add(&format!("paths.{}", i + 1), message);
            }
        }
        if !REDIRECT_CODES.contains(&self.https_redirect_status_code) {
            errors.add(
                "https_redirect_status_code",
                "expected one of: 426, 301, 302, 307, 308",
            );
        }
        if !matches!(self.path_handling.as_str(), "v0" | "v1") {
            errors.add("path_handling", "expected one of: v0, v1");
        }
        let http = self.protocols.iter().any(|p| p == "http" || p == "https");
        let set = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
        let has_headers = self.headers.as_ref().is_some_and(|h| !h.is_empty());
        if http
            && !(set(&self.methods) || set(&self.hosts) || set(&self.paths) || has_headers)
            && !set(&self.snis)
        {
            errors.entity(format!(
                "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is '{}'",
                self.protocols.join("', '")
            ));
        }
        errors.into_result()
    }
}

/// A host, optionally with one leading or trailing `*` wildcard label and a port.
fn valid_host_pattern(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') => (n, Some(p)),
        _ => (host, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    let name = name
        .strip_prefix("*.")
        .or_else(|| name.strip_suffix(".*"))
        .unwrap_or(name);
    super::service::valid_host(name)
}
