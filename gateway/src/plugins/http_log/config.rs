//! http-log's configuration (Kong 3.x schema, with 2.x's queue fields) and the settings the
//! sender runs on, checked once when the instance is built.

use crate::entities::FieldErrors;
use crate::plugins::log_serializer::refuse_lua;
use crate::plugins::typed_config;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    http_endpoint: Option<String>,
    #[serde(default = "post")]
    method: String,
    #[serde(default = "json")]
    content_type: String,
    #[serde(default = "ten_seconds")]
    timeout: f64,
    #[serde(default = "one_minute")]
    keepalive: f64,
    #[serde(default)]
    retry_count: Option<u32>,
    #[serde(default)]
    queue_size: Option<usize>,
    #[serde(default)]
    flush_timeout: Option<f64>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    queue: QueueConfig,
    #[serde(default)]
    custom_fields_by_lua: Option<Value>,
}

fn post() -> String {
    "POST".into()
}
fn json() -> String {
    "application/json".into()
}
fn ten_seconds() -> f64 {
    10_000.0
}
fn one_minute() -> f64 {
    60_000.0
}

/// Kong 3.x's `queue` record (seconds, as Kong counts them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct QueueConfig {
    name: Option<String>,
    max_batch_size: usize,
    max_coalescing_delay: f64,
    max_entries: usize,
    max_bytes: Option<usize>,
    max_retry_time: f64,
    initial_retry_delay: f64,
    max_retry_delay: f64,
    concurrency_limit: i32,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            name: None,
            max_batch_size: 1,
            max_coalescing_delay: 1.0,
            max_entries: 10_000,
            max_bytes: None,
            max_retry_time: 60.0,
            initial_retry_delay: 0.01,
            max_retry_delay: 60.0,
            concurrency_limit: 1,
        }
    }
}

/// What the sender needs, checked.
#[derive(Debug)]
pub struct Settings {
    pub endpoint: Uri,
    pub method: Method,
    /// Everything sent with each request: the configured headers, `Content-Type`, and
    /// `Authorization` from the endpoint's user info.
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub keepalive: Duration,
    pub retry_count: Option<u32>,
    pub max_batch_size: usize,
    pub max_coalescing_delay: Duration,
    pub max_entries: usize,
    pub max_bytes: Option<usize>,
    /// None: a failed batch is not retried (Kong's `max_retry_time` of -1).
    pub max_retry_time: Option<Duration>,
    pub initial_retry_delay: Duration,
    pub max_retry_delay: Duration,
}

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, FieldErrors> {
        let c: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let endpoint = endpoint(c.http_endpoint.as_deref(), &mut errors);
        let method = match c.method.as_str() {
            "POST" | "PUT" | "PATCH" => Method::from_bytes(c.method.as_bytes()).ok(),
            _ => None,
        };
        if method.is_none() {
            errors.add("config.method", "expected one of: POST, PUT, PATCH");
        }
        if !matches!(
            c.content_type.as_str(),
            "application/json" | "application/json; charset=utf-8"
        ) {
            errors.add(
                "config.content_type",
                "expected one of: application/json, application/json; charset=utf-8",
            );
        }
        let headers = headers(&c, endpoint.as_ref(), &mut errors);
        let q = &c.queue;
        check_range(
            &mut errors,
            "queue.max_batch_size",
            q.max_batch_size as f64,
            1.0,
            1e6,
        );
        check_range(
            &mut errors,
            "queue.max_coalescing_delay",
            q.max_coalescing_delay,
            0.0,
            3600.0,
        );
        check_range(
            &mut errors,
            "queue.max_entries",
            q.max_entries as f64,
            1.0,
            1e6,
        );
        check_range(
            &mut errors,
            "queue.initial_retry_delay",
            q.initial_retry_delay,
            0.001,
            1e6,
        );
        check_range(
            &mut errors,
            "queue.max_retry_delay",
            q.max_retry_delay,
            0.001,
            1e6,
        );
        check_range(&mut errors, "timeout", c.timeout, 0.0, f64::from(i32::MAX));
        check_range(
            &mut errors,
            "keepalive",
            c.keepalive,
            0.0,
            f64::from(i32::MAX),
        );
        if !matches!(q.concurrency_limit, -1 | 1) {
            errors.add("config.queue.concurrency_limit", "expected one of: -1, 1");
        }
        refuse_lua(c.custom_fields_by_lua.as_ref(), &mut errors);
        let (Some(endpoint), Some(method), true) = (endpoint, method, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Settings {
            endpoint,
            method,
            headers,
            timeout: millis(c.timeout),
            keepalive: millis(c.keepalive),
            retry_count: c.retry_count,
            // Kong 2.x's names, when given, win over the queue defaults (as Kong 3.x maps them).
            max_batch_size: c.queue_size.unwrap_or(q.max_batch_size).max(1),
            max_coalescing_delay: seconds(c.flush_timeout.unwrap_or(q.max_coalescing_delay)),
            max_entries: q.max_entries,
            max_bytes: q.max_bytes,
            max_retry_time: (q.max_retry_time >= 0.0).then(|| seconds(q.max_retry_time)),
            initial_retry_delay: seconds(q.initial_retry_delay),
            max_retry_delay: seconds(q.max_retry_delay),
        })
    }
}

fn endpoint(raw: Option<&str>, errors: &mut FieldErrors) -> Option<Uri> {
    let field = "config.http_endpoint";
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        errors.add(field, "required field missing");
        return None;
    };
    let parsed = url::Url::parse(raw).ok().filter(|u| u.host_str().is_some());
    let Some(parsed) = parsed else {
        errors.add(field, "missing host in url");
        return None;
    };
    match parsed.scheme() {
        "http" => {}
        "https" => {
            errors.add(
                field,
                "https endpoints are not supported yet (this gateway has no TLS client): use http",
            );
            return None;
        }
        other => {
            errors.add(field, format!("unsupported scheme '{other}': use http"));
            return None;
        }
    }
    // Without the user info: that travels as an Authorization header.
    let mut bare = parsed.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    match bare.as_str().parse::<Uri>() {
        Ok(uri) => Some(uri),
        Err(e) => {
            errors.add(field, format!("invalid url: {e}"));
            None
        }
    }
}

/// The headers every request carries; Kong refuses `Host`, `Content-Length` and
/// `Content-Type`, and an `Authorization` header alongside user info in the endpoint.
fn headers(c: &Config, endpoint: Option<&Uri>, errors: &mut FieldErrors) -> HeaderMap {
    let mut map = HeaderMap::new();
    let userinfo = c
        .http_endpoint
        .as_deref()
        .and_then(|raw| url::Url::parse(raw).ok())
        .filter(|u| !u.username().is_empty() || u.password().is_some());
    for (name, value) in c.headers.iter().flatten() {
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "host" | "content-length" | "content-type") {
            errors.add("config.headers", format!("cannot contain '{name}' header"));
            continue;
        }
        if lower == "authorization" && userinfo.is_some() {
            errors.add(
                "config",
                "specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed",
            );
            continue;
        }
        match (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                map.append(n, v);
            }
            _ => errors.add("config.headers", format!("invalid header '{name}'")),
        }
    }
    if let Ok(v) = HeaderValue::from_str(&c.content_type) {
        map.insert(http::header::CONTENT_TYPE, v);
    }
    if let (Some(info), Some(_)) = (userinfo, endpoint) {
        let user = percent_decoded(info.username());
        let password = percent_decoded(info.password().unwrap_or(""));
        let basic = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        if let Ok(mut v) = HeaderValue::from_str(&basic) {
            v.set_sensitive(true);
            map.insert(http::header::AUTHORIZATION, v);
        }
    }
    map
}

fn check_range(errors: &mut FieldErrors, field: &str, value: f64, min: f64, max: f64) {
    if !(min..=max).contains(&value) {
        errors.add(
            &format!("config.{field}"),
            format!("value should be between {min} and {max}"),
        );
    }
}

fn millis(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::ZERO)
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

fn percent_decoded(s: &str) -> String {
    // `+` is literal in user info, unlike in a form: protect it from the form decoder.
    let protected = s.replace('+', "%2B");
    url::form_urlencoded::parse(format!("_={protected}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Standard base64 with padding (for a Basic credential).
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
