//! Kong's serialized log object (`kong.log.serialize()`, Kong 3.x shape): what file-log,
//! http-log and syslog write for each request; and what every sink shares for the node (the
//! redaction list, the count of lost entries). The sinks depend on this module, never the
//! other way.
//!
//! Security by default, stricter than Kong (which redacts only the `authorization` and
//! `proxy-authorization` request headers): the values of request headers and query arguments
//! named `authorization`, `proxy-authorization`, `cookie`, `apikey`, or any `key_names` entry of
//! a key-auth instance this node has built, are written as `"REDACTED"` in `request.headers`,
//! `request.querystring` and the query parts of `request.uri`, `request.url` and `upstream_uri`;
//! so is the response's `set-cookie`. A consumer is logged by id, username and custom_id;
//! credentials never (`authenticated_entity` holds the credential's id only).
//!
//! Not (yet) logged: `tries` (the balancer does not report its attempts), `request.tls` (no TLS
//! listener). `workspace` is a placeholder (the nil UUID): there are no workspaces here.

use super::{LogRecord, RequestCtx};
use crate::entities::FieldErrors;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

pub const REDACTED: &str = "REDACTED";
/// Always redacted, in request headers and query arguments alike.
const SECRET_NAMES: &[&str] = &["authorization", "proxy-authorization", "cookie", "apikey"];
/// Redacted in response headers.
const SECRET_RESPONSE_HEADERS: &[&str] = &["set-cookie"];
/// How often a sink may warn about lost entries.
const WARN_INTERVAL_MS: u64 = 10_000;

/// What every logging plugin shares for the life of the node (it lives in `Shared`): the
/// names to redact and the node's count of lost entries. Each sink's own long-lived state (file
/// writers, http-log queues) is the sink's, in `Shared` beside this.
#[derive(Debug, Default)]
pub struct LogSinks {
    pub(crate) redaction: Arc<Redaction>,
    dropped_total: Arc<AtomicU64>,
}

impl LogSinks {
    /// Log entries lost on this node so far (full queues, unwritable files, failed sends).
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total.load(Ordering::Relaxed)
    }

    /// A drop counter for one sink, adding to the node's total.
    pub(crate) fn dropped(&self, sink: String) -> Dropped {
        Dropped {
            sink,
            node_total: self.dropped_total.clone(),
            count: AtomicU64::new(0),
            last_warned_ms: AtomicU64::new(0),
        }
    }
}

// === impl Redaction ===

/// Names whose values never reach a log: the fixed ones, and key-auth's `key_names`.
#[derive(Debug, Default)]
pub struct Redaction {
    key_names: RwLock<BTreeSet<String>>,
}

impl Redaction {
    /// Remember a key-auth instance's `key_names` (Kong's default: `apikey`). Names only ever
    /// accumulate: redacting a name no longer in use costs nothing.
    pub fn add_key_auth(&self, config: &Value) {
        let Some(names) = config.get("key_names").and_then(Value::as_array) else {
            return;
        };
        let mut known = self.key_names.write().unwrap_or_else(|p| p.into_inner());
        for name in names.iter().filter_map(Value::as_str) {
            known.insert(name.to_ascii_lowercase());
        }
    }

    fn secrets(&self) -> Secrets<'_> {
        Secrets(self.key_names.read().unwrap_or_else(|p| p.into_inner()))
    }
}

struct Secrets<'a>(std::sync::RwLockReadGuard<'a, BTreeSet<String>>);

impl Secrets<'_> {
    fn is_secret(&self, name: &str) -> bool {
        let is = |n: &str| SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(n));
        is(name) || self.0.contains(&name.to_ascii_lowercase())
    }
}

// === the log object ===

/// The log object for one request, as Kong's logging plugins write it.
pub fn serialize(ctx: &RequestCtx, record: &LogRecord<'_>, redaction: &Redaction) -> Value {
    let secrets = redaction.secrets();
    let uri = match record.request_uri.and_then(|u| u.path_and_query()) {
        Some(pq) => redact_target(pq.as_str(), &secrets),
        None => redact_target(&join_query(&ctx.path, ctx.query.as_deref()), &secrets),
    };
    let host = ctx
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or("", host_without_port);
    let url = format!("{}://{host}:{}{uri}", record.scheme, record.port);
    let mut root = Map::new();
    root.insert(
        "request".into(),
        json!({
            "id": record.request_id,
            "method": ctx.method.as_str(),
            "uri": uri,
            "url": url,
            "querystring": querystring(ctx.query.as_deref(), &secrets),
            "headers": headers(&ctx.headers, |n| secrets.is_secret(n)),
            "size": record.request_bytes,
        }),
    );
    let upstream_uri = record.upstream_uri.map(|u| redact_target(u, &secrets));
    root.insert(
        "upstream_uri".into(),
        json!(upstream_uri.unwrap_or_default()),
    );
    let upstream_status = match record.from_upstream {
        true => record.status.as_u16().to_string(),
        false => String::new(),
    };
    root.insert("upstream_status".into(), json!(upstream_status));
    root.insert("response".into(), response(record));
    root.insert("latencies".into(), latencies(record));
    insert_identity(&mut root, ctx, record);
    root.insert("client_ip".into(), json!(ctx.client_ip.to_string()));
    root.insert("started_at".into(), json!(record.started_at_ms));
    let source = if record.from_upstream {
        "upstream"
    } else {
        "kong"
    };
    root.insert("source".into(), json!(source));
    root.insert("workspace".into(), json!(uuid::Uuid::nil()));
    root.insert("workspace_name".into(), json!("default"));
    Value::Object(root)
}

fn response(record: &LogRecord<'_>) -> Value {
    let secret = |n: &str| SECRET_RESPONSE_HEADERS.contains(&n);
    let (headers, head_size) = match record.response_headers {
        Some(h) => (self::headers(h, secret), head_size(h)),
        None => (Value::Object(Map::new()), 0),
    };
    json!({
        "status": record.status.as_u16(),
        "headers": headers,
        "size": record.response_bytes + head_size,
    })
}

/// Kong's latencies: `kong` before proxying (or the whole, when the gateway answered),
/// `proxy` the upstream's time to its response head (-1 without one), `request` the whole,
/// `receive` the time the upstream's body took to go through.
fn latencies(record: &LogRecord<'_>) -> Value {
    let receive = match record.latency_upstream_ms {
        Some(upstream) => record
            .latency_total_ms
            .saturating_sub(record.latency_kong_ms + upstream),
        None => 0,
    };
    json!({
        "kong": record.latency_kong_ms,
        "proxy": record.latency_upstream_ms.map_or(-1, |ms| ms as i64),
        "request": record.latency_total_ms,
        "receive": receive,
    })
}

/// `service`, `route`, `consumer` and `authenticated_entity`, each only when there is one.
fn insert_identity(root: &mut Map<String, Value>, ctx: &RequestCtx, record: &LogRecord<'_>) {
    if let Some(service) = record.service.and_then(|s| serde_json::to_value(s).ok()) {
        root.insert("service".into(), service);
    }
    if let Some(route) = record.route.and_then(|r| serde_json::to_value(r).ok()) {
        root.insert("route".into(), route);
    }
    if let Some(consumer) = &ctx.consumer {
        root.insert(
            "consumer".into(),
            json!({
                "id": consumer.id,
                "username": consumer.username,
                "custom_id": consumer.custom_id,
            }),
        );
        if let Some(credential) = ctx.credential_id {
            root.insert(
                "authenticated_entity".into(),
                json!({ "id": credential, "consumer_id": consumer.id }),
            );
        }
    }
}

/// Headers as Kong's `get_headers()` gives them: lower-case names, a list for repeated ones.
fn headers(map: &HeaderMap, secret: impl Fn(&str) -> bool) -> Value {
    let mut out = Map::new();
    for name in map.keys() {
        let value = if secret(name.as_str()) {
            json!(REDACTED)
        } else {
            let mut values: Vec<Value> = map
                .get_all(name)
                .iter()
                .map(|v| json!(String::from_utf8_lossy(v.as_bytes())))
                .collect();
            match values.len() {
                1 => values.remove(0),
                _ => Value::Array(values),
            }
        };
        out.insert(name.as_str().to_string(), value);
    }
    Value::Object(out)
}

/// The query as Kong's `get_query()` gives it: decoded; `true` for an argument without `=`;
/// a list for a repeated one.
fn querystring(query: Option<&str>, secrets: &Secrets<'_>) -> Value {
    let mut out = Map::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (decode_key(k), json!(decode_value(v))),
            None => (decode_key(pair), Value::Bool(true)),
        };
        let value = if secrets.is_secret(&key) {
            json!(REDACTED)
        } else {
            value
        };
        match out.get_mut(&key) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => *existing = json!([existing.take(), value]),
            None => {
                out.insert(key, value);
            }
        }
    }
    Value::Object(out)
}

/// A request target (path and query) with the values of secret arguments replaced.
fn redact_target(target: &str, secrets: &Secrets<'_>) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secrets.is_secret(&decode_key(k)) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

fn join_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

fn decode_key(raw: &str) -> String {
    url::form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

fn decode_value(raw: &str) -> String {
    // A leading name keeps any `=` inside the value where it belongs.
    url::form_urlencoded::parse(format!("_={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `example.com:8000` → `example.com`; `[::1]:8000` → `[::1]`.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// The status line and header block, near enough (`bytes_sent` counts them in Kong).
fn head_size(headers: &HeaderMap) -> u64 {
    let fields: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    (17 + fields + 2) as u64
}

// === what the logging plugins share ===

/// A sink's lost entries: counted (also in the node's total), and a warning at most once per
/// interval, so a dead collector never floods the gateway's own log.
#[derive(Debug)]
pub struct Dropped {
    sink: String,
    node_total: Arc<AtomicU64>,
    count: AtomicU64,
    last_warned_ms: AtomicU64,
}

impl Dropped {
    pub fn add(&self, entries: u64, why: &str) {
        let count = self.count.fetch_add(entries, Ordering::Relaxed) + entries;
        self.node_total.fetch_add(entries, Ordering::Relaxed);
        let now = epoch_ms();
        let last = self.last_warned_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARN_INTERVAL_MS
            && self
                .last_warned_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(sink = %self.sink, dropped = count, reason = why, "log entries dropped");
        }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `custom_fields_by_lua` is accepted empty (Kong exports write `null`), refused otherwise:
/// there is no Lua here.
pub(crate) fn refuse_lua(value: Option<&Value>, errors: &mut FieldErrors) {
    let empty = match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    };
    if !empty {
        errors.add(
            "config.custom_fields_by_lua",
            "Lua code is not supported by this gateway: remove custom_fields_by_lua",
        );
    }
}

#[cfg(test)]
mod tests;
