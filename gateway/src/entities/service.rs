//! Service: an upstream API, given as `url` or as protocol / host / port / path.

use super::{check_name, check_tags, coerce, now_seconds, FieldErrors};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PROTOCOLS: &[&str] = &[
    "grpc",
    "grpcs",
    "http",
    "https",
    "tcp",
    "tls",
    "tls_passthrough",
    "udp",
    "ws",
    "wss",
];
const MAX_TIMEOUT: u32 = i32::MAX as u32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_protocol")]
    pub protocol: String,
    #[serde(default)]
    pub host: String,
    #[serde(default = "default_port", deserialize_with = "coerce::u16")]
    pub port: u16,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "default_retries", deserialize_with = "coerce::u16")]
    pub retries: u16,
    #[serde(default = "default_timeout", deserialize_with = "coerce::u32")]
    pub connect_timeout: u32,
    #[serde(default = "default_timeout", deserialize_with = "coerce::u32")]
    pub write_timeout: u32,
    #[serde(default = "default_timeout", deserialize_with = "coerce::u32")]
    pub read_timeout: u32,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
    #[serde(default = "yes", deserialize_with = "coerce::boolean")]
    pub enabled: bool,
    #[serde(default)]
    pub tls_verify: Option<bool>,
    #[serde(default)]
    pub tls_verify_depth: Option<u8>,
    #[serde(default)]
    pub client_certificate: Option<super::Reference>,
    #[serde(default)]
    pub ca_certificates: Option<Vec<Uuid>>,
    /// Shorthand for protocol, host, port and path; expanded by `validate`, never stored.
    #[serde(default, skip_serializing)]
    pub url: Option<String>,
}

fn default_protocol() -> String {
    "http".into()
}
fn default_port() -> u16 {
    80
}
fn default_retries() -> u16 {
    5
}
fn default_timeout() -> u32 {
    60_000
}
fn yes() -> bool {
    true
}

impl Service {
    /// Expand `url`, then check every field; all problems are reported together.
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if let Some(raw) = self.url.take() {
            match url::Url::parse(&raw) {
                Ok(u) if u.host_str().is_some() => {
                    self.protocol = u.scheme().to_string();
                    self.host = u.host_str().unwrap_or_default().to_string();
                    self.port = u.port_or_known_default().unwrap_or(80);
                    let after_scheme = raw.split_once("://").map(|(_, rest)| rest).unwrap_or("");
                    let has_path = after_scheme.contains('/');
                    self.path = has_path.then(|| u.path().to_string());
                }
                _ => errors.add("url", "missing host in url"),
            }
        }
        check_name(&mut errors, "name", self.name.as_deref());
        check_tags(&mut errors, &self.tags);
        if !PROTOCOLS.contains(&self.protocol.as_str()) {
            errors.add(
                "protocol",
                format!("expected one of: {}", PROTOCOLS.join(", ")),
            );
        }
        if self.host.is_empty() {
            errors.add("host", "required field missing");
        } else if !valid_host(&self.host) {
            errors.add("host", "invalid hostname: ".to_string() + &self.host);
        }
        if let Some(path) = &self.path {
            if !path.starts_with('/') {
                errors.add("path", "should start with: /");
            } else if path.contains("//") {
                errors.add("path", "must not have empty segments");
            }
        }
        for (field, value) in [
            ("connect_timeout", self.connect_timeout),
            ("write_timeout", self.write_timeout),
            ("read_timeout", self.read_timeout),
        ] {
            if !(1..=MAX_TIMEOUT).contains(&value) {
                errors.add(
                    field,
                    format!("value should be between 1 and {MAX_TIMEOUT}"),
                );
            }
        }
        if self.retries > 32767 {
            errors.add("retries", "value should be between 0 and 32767");
        }
        let stream = matches!(
            self.protocol.as_str(),
            "tcp" | "tls" | "tls_passthrough" | "udp"
        );
        if stream && self.path.is_some() {
            errors.add(
                "path",
                "value must be null for protocol ".to_string() + &self.protocol,
            );
        }
        errors.into_result()
    }

    /// The service as a base URL, for logs and `url` round trips.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}:{}{}",
            self.protocol,
            self.host,
            self.port,
            self.path.as_deref().unwrap_or("")
        )
    }
}

/// A hostname or an IP address (Kong's `typedefs.host`).
pub(crate) fn valid_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}
