//! The JSON event the function receives, built the way Kong builds it: query and body arguments
//! merged (no `forward_request_*` flag), the `request_*` fields of the forward flags, or an
//! API Gateway proxy event (`awsgateway_compatible`, payload format 1.0 or 2.0).

use super::clock::Civil;
use super::config::{Config, PayloadVersion};
use crate::plugins::RequestCtx;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime};

/// Bodies larger than nginx's default `client_body_buffer_size` are buffered to disk by Kong,
/// and with `skip_large_bodies` left out of the event.
pub const LARGE_BODY: usize = 8 * 1024;

/// Media types Kong forwards as text even when it cannot parse them into arguments.
const RAW_CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "text/html",
    "application/xml",
    "text/xml",
    "application/soap+xml",
];

/// The event for one request.
pub fn build(config: &Config, ctx: &RequestCtx, now: SystemTime) -> Value {
    if config.awsgateway_compatible {
        let request = Observed::new(ctx, config, now);
        return match config.awsgateway_compatible_payload_version {
            PayloadVersion::V1 => request.gateway_v1(ctx),
            PayloadVersion::V2 => request.gateway_v2(ctx),
        };
    }
    if config.forwards_anything() {
        return forwarded(config, ctx);
    }
    let mut merged = query_args(ctx.query.as_deref());
    if let BodyArgs::Parsed(Value::Object(body)) = body_args(ctx, body(ctx, config)) {
        merged.extend(body);
    }
    Value::Object(merged)
}

fn forwarded(config: &Config, ctx: &RequestCtx) -> Value {
    let mut event = Map::new();
    if config.forward_request_method {
        event.insert("request_method".into(), json!(ctx.method.as_str()));
    }
    if config.forward_request_headers {
        event.insert("request_headers".into(), Value::Object(header_args(ctx)));
    }
    if config.forward_request_uri {
        let uri = match ctx.query.as_deref().filter(|q| !q.is_empty()) {
            Some(query) => format!("{}?{query}", ctx.path),
            None => ctx.path.clone(),
        };
        event.insert("request_uri".into(), json!(uri));
        let args = query_args(ctx.query.as_deref());
        event.insert("request_uri_args".into(), Value::Object(args));
    }
    if config.forward_request_body {
        let raw = body(ctx, config);
        let (text, args) = match body_args(ctx, raw) {
            BodyArgs::Parsed(args) => (lossy(raw), args),
            BodyArgs::Invalid => (lossy(raw), Value::Null),
            BodyArgs::UnknownContentType => {
                let text = if config.base64_encode_body && !is_raw(ctx) {
                    event.insert("request_body_base64".into(), json!(true));
                    base64::engine::general_purpose::STANDARD.encode(raw)
                } else {
                    lossy(raw)
                };
                (text, json!({}))
            }
        };
        event.insert("request_body".into(), json!(text));
        if !args.is_null() {
            event.insert("request_body_args".into(), args);
        }
    }
    Value::Object(event)
}

/// What the request looks like to an API Gateway event.
struct Observed {
    headers: Map<String, Value>,
    multi_headers: Map<String, Value>,
    host: String,
    user_agent: Value,
    body: String,
    base64: bool,
    request_id: String,
    time: Civil,
    epoch_ms: u64,
    source_ip: String,
}

impl Observed {
    fn new(ctx: &RequestCtx, config: &Config, now: SystemTime) -> Observed {
        let mut headers = Map::new();
        let mut multi_headers = Map::new();
        for name in ctx.headers.keys() {
            let values: Vec<Value> = ctx
                .headers
                .get_all(name)
                .iter()
                .map(|v| json!(String::from_utf8_lossy(v.as_bytes())))
                .collect();
            headers.insert(name.to_string(), values[0].clone());
            multi_headers.insert(name.to_string(), Value::Array(values));
        }
        let host = header(ctx, "host").unwrap_or_default();
        let host = host
            .rsplit_once(':')
            .map_or(host.as_str(), |(h, _)| h)
            .to_string();
        let raw = body(ctx, config);
        let base64 = !raw.is_empty() && config.base64_encode_body;
        let body = match base64 {
            true => base64::engine::general_purpose::STANDARD.encode(raw),
            false => lossy(raw),
        };
        let started = now.checked_sub(ctx.started.elapsed()).unwrap_or(now);
        Observed {
            user_agent: headers.get("user-agent").cloned().unwrap_or(Value::Null),
            headers,
            multi_headers,
            host,
            body,
            base64,
            request_id: header(ctx, "x-kong-request-id")
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
            time: Civil::from_system(started),
            epoch_ms: started
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as u64,
            source_ip: ctx.client_ip.to_string(),
        }
    }

    fn domain_prefix(&self) -> &str {
        self.host.split('.').next().unwrap_or("")
    }

    fn gateway_v1(self, ctx: &RequestCtx) -> Value {
        let mut single = Map::new();
        let mut multi = Map::new();
        for (name, value) in query_args(ctx.query.as_deref()) {
            let values = match value {
                Value::Array(values) => values,
                other => vec![other],
            };
            single.insert(name.clone(), values[0].clone());
            multi.insert(name, Value::Array(values));
        }
        json!({
            "version": "1.0",
            // Kong puts the matched route path here; the route's pattern is not in our
            // context, so the request path stands in for it.
            "resource": ctx.path,
            "path": ctx.path,
            "httpMethod": ctx.method.as_str(),
            "headers": self.headers,
            "multiValueHeaders": self.multi_headers,
            "pathParameters": ctx.uri_captures,
            "queryStringParameters": single,
            "multiValueQueryStringParameters": multi,
            "body": self.body,
            "isBase64Encoded": self.base64,
            "requestContext": {
                "path": ctx.path,
                "protocol": "HTTP/1.1",
                "httpMethod": ctx.method.as_str(),
                "domainName": self.host,
                "domainPrefix": self.domain_prefix(),
                "identity": { "sourceIp": self.source_ip, "userAgent": self.user_agent },
                "requestId": self.request_id,
                "requestTime": self.time.clf(),
                "requestTimeEpoch": self.epoch_ms,
                "resourcePath": ctx.path,
            },
        })
    }

    /// API Gateway HTTP API's format 2.0: repeated headers and query values joined by commas,
    /// cookies in their own array.
    fn gateway_v2(self, ctx: &RequestCtx) -> Value {
        let joined = |multi: &Map<String, Value>, skip: &str| -> Map<String, Value> {
            multi
                .iter()
                .filter(|(name, _)| name.as_str() != skip)
                .map(|(name, values)| (name.clone(), json!(join(values))))
                .collect()
        };
        let cookies: Vec<String> = ctx
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty())
            .collect();
        let query: Map<String, Value> = query_args(ctx.query.as_deref())
            .into_iter()
            .map(|(name, value)| (name, json!(join(&value))))
            .collect();
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": ctx.path,
            "rawQueryString": ctx.query.clone().unwrap_or_default(),
            "headers": joined(&self.multi_headers, "cookie"),
            "queryStringParameters": query,
            "pathParameters": ctx.uri_captures,
            "requestContext": {
                "domainName": self.host,
                "domainPrefix": self.domain_prefix(),
                "http": {
                    "method": ctx.method.as_str(),
                    "path": ctx.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": self.user_agent,
                },
                "requestId": self.request_id,
                "routeKey": "$default",
                "stage": "$default",
                "time": self.time.clf(),
                "timeEpoch": self.epoch_ms,
            },
            "body": self.body,
            "isBase64Encoded": self.base64,
        });
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        event
    }
}

fn join(value: &Value) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => String::new(),
        other => other.to_string(),
    };
    match value {
        Value::Array(values) => values.iter().map(text).collect::<Vec<_>>().join(","),
        other => text(other),
    }
}

enum BodyArgs {
    Parsed(Value),
    /// The content type is one Kong parses, but the body does not parse.
    Invalid,
    UnknownContentType,
}

fn body_args(ctx: &RequestCtx, raw: &[u8]) -> BodyArgs {
    match media_type(ctx).as_deref() {
        Some("application/json") => match serde_json::from_slice::<Value>(raw) {
            Ok(value @ (Value::Object(_) | Value::Array(_))) => BodyArgs::Parsed(value),
            _ => BodyArgs::Invalid,
        },
        Some("application/x-www-form-urlencoded") => {
            BodyArgs::Parsed(Value::Object(query_args(Some(&lossy(raw)))))
        }
        _ => BodyArgs::UnknownContentType,
    }
}

/// The body Kong would see: none when `skip_large_bodies` drops one it buffered to disk.
fn body<'a>(ctx: &'a RequestCtx, config: &Config) -> &'a [u8] {
    let raw = ctx.body.as_deref().unwrap_or_default();
    if config.skip_large_bodies && raw.len() > LARGE_BODY {
        tracing::warn!(
            bytes = raw.len(),
            "aws-lambda: request body too large, not forwarded"
        );
        return &[];
    }
    raw
}

fn media_type(ctx: &RequestCtx) -> Option<String> {
    let value = header(ctx, "content-type")?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_raw(ctx: &RequestCtx) -> bool {
    media_type(ctx).is_some_and(|m| RAW_CONTENT_TYPES.contains(&m.as_str()))
}

fn header(ctx: &RequestCtx, name: &str) -> Option<String> {
    let value = ctx.headers.get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Arguments the way Kong reads them: a repeated name becomes an array, a bare name `true`.
pub fn query_args(query: Option<&str>) -> Map<String, Value> {
    let mut args = Map::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((name, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else {
            continue;
        };
        let value = if pair.contains('=') {
            json!(value)
        } else {
            json!(true)
        };
        add(&mut args, name.into_owned(), value);
    }
    args
}

/// Request headers as `kong.request.get_headers()` gives them: lower-case names, repeated
/// headers as arrays.
fn header_args(ctx: &RequestCtx) -> Map<String, Value> {
    let mut args = Map::new();
    for (name, value) in &ctx.headers {
        let value = json!(String::from_utf8_lossy(value.as_bytes()));
        add(&mut args, name.to_string(), value);
    }
    args
}

fn add(args: &mut Map<String, Value>, name: String, value: Value) {
    match args.get_mut(&name) {
        Some(Value::Array(values)) => values.push(value),
        Some(existing) => *existing = json!([existing.take(), value]),
        None => {
            args.insert(name, value);
        }
    }
}
