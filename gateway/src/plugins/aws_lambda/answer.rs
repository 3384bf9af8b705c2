//! Turning Lambda's answer into the client's response, as Kong does: the function's payload
//! with Lambda's headers (`X-Amz-Executed-Version`, `X-Amz-Log-Result`, ...) and status (200,
//! 202 for `Event`, 204 for `DryRun`), `unhandled_status` for an unhandled function error, or
//! the proxy-integration answer; a failed call is Kong's 500.

use super::config::{Config, EmptyArraysMode};
use super::proxy_integration;
use crate::plugins::{kong_response, ShortCircuit};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

/// The `Via` this gateway adds to the responses it produces itself.
const VIA: &str = concat!("1.1 gateway/", env!("CARGO_PKG_VERSION"));

/// Headers that describe Lambda's connection or body framing, not the function's answer.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Kong 3.x raises a Lua error for anything that keeps it from reading a function's answer
/// (a refused signature, a throttle, a missing function, a timeout): the client sees 500.
pub fn failure() -> ShortCircuit {
    kong_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An unexpected error occurred",
    )
}

pub fn respond(config: &Config, lambda: Response<Bytes>) -> ShortCircuit {
    let (parts, payload) = lambda.into_parts();
    if parts.status.as_u16() >= 400 {
        tracing::error!(
            status = parts.status.as_u16(),
            message = %lambda_message(&payload),
            "aws-lambda: Lambda refused the invocation"
        );
        return failure();
    }
    let mut headers = parts.headers;
    for name in NOT_FORWARDED {
        headers.remove(*name);
    }
    let (status, body) = if config.is_proxy_integration {
        match proxy_integration::parse(&payload) {
            Ok(answer) => {
                apply(&mut headers, &answer.headers);
                (answer.status, answer.body)
            }
            Err(reason) => return bad_gateway(&reason),
        }
    } else {
        let unhandled = headers
            .get("x-amz-function-error")
            .is_some_and(|v| v.as_bytes() == b"Unhandled");
        let status = match config.unhandled_status {
            Some(code) if unhandled => StatusCode::from_u16(code).unwrap_or(parts.status),
            _ => parts.status,
        };
        let body = match config.empty_arrays_mode {
            EmptyArraysMode::Legacy if is_json(&headers) => legacy_empty_arrays(payload),
            _ => payload,
        };
        (status, body)
    };
    headers.append(http::header::VIA, HeaderValue::from_static(VIA));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A function answer that is not a proxy-integration response: Kong's 502.
fn bad_gateway(reason: &str) -> ShortCircuit {
    tracing::error!(reason, "aws-lambda: bad proxy integration answer");
    let body = json!({
        "message": "Bad Gateway",
        "error": format!("could not JSON decode Lambda function response: {reason}"),
    });
    let mut response = kong_response(StatusCode::BAD_GATEWAY, "Bad Gateway");
    *response.body_mut() = Bytes::from(body.to_string());
    response
}

fn apply(headers: &mut HeaderMap, from_function: &[(String, Vec<String>)]) {
    for (name, values) in from_function {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            tracing::warn!(name, "aws-lambda: function answered an invalid header name");
            continue;
        };
        headers.remove(&name);
        for value in values {
            match HeaderValue::from_str(value) {
                Ok(value) => {
                    headers.append(&name, value);
                }
                Err(_) => tracing::warn!(%name, "aws-lambda: invalid header value dropped"),
            }
        }
    }
    for name in NOT_FORWARDED {
        headers.remove(*name);
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|ct| ct.starts_with("application/") && ct.contains("json"))
}

/// Kong's `legacy` mode sends `[]` as `{}`; the payload is re-encoded only when it has one.
fn legacy_empty_arrays(payload: Bytes) -> Bytes {
    let Ok(mut value) = serde_json::from_slice::<Value>(&payload) else {
        return payload;
    };
    if !replace_empty_arrays(&mut value) {
        return payload;
    }
    Bytes::from(value.to_string())
}

fn replace_empty_arrays(value: &mut Value) -> bool {
    let children: Vec<&mut Value> = match value {
        Value::Array(items) if items.is_empty() => {
            *value = json!({});
            return true;
        }
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(fields) => fields.values_mut().collect(),
        _ => return false,
    };
    // Every child is visited: one replacement must not stop the others.
    let mut changed = false;
    for child in children {
        changed |= replace_empty_arrays(child);
    }
    changed
}

/// Lambda's error documents carry `Message` (or `message`).
fn lambda_message(payload: &[u8]) -> String {
    let value: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    value
        .get("Message")
        .or_else(|| value.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(payload).chars().take(200).collect())
}
