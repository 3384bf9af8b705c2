//! `is_proxy_integration`: the function answers `{statusCode, headers, multiValueHeaders, body,
//! isBase64Encoded}` and that becomes the client's response; Kong's checks, in Kong's words.

use base64::Engine;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};

/// The response a function asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyAnswer {
    pub status: StatusCode,
    /// Header name and values, in the order the function gave them; a name from
    /// `multiValueHeaders` replaces the same name from `headers`.
    pub headers: Vec<(String, Vec<String>)>,
    pub body: Bytes,
}

/// Read a function's answer; the error is the reason Kong gives after
/// "could not JSON decode Lambda function response: ".
pub fn parse(payload: &[u8]) -> Result<ProxyAnswer, String> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let empty = Map::new();
    let answer = value.as_object().unwrap_or(&empty);
    let status = status_code(answer.get("statusCode")).ok_or("statusCode validation failed")?;
    let headers = match answer.get("headers") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(headers)) => headers,
        Some(_) => return Err("headers must be a table".into()),
    };
    let body = match answer.get("body") {
        None | Some(Value::Null) => "",
        Some(Value::String(body)) => body.as_str(),
        Some(_) => return Err("body must be a string".into()),
    };
    let body = match answer.get("isBase64Encoded") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Bytes::from(body.to_string()),
        Some(Value::Bool(true)) => base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map(Bytes::from)
            .map_err(|_| "body is not valid base64".to_string())?,
        Some(_) => return Err("isBase64Encoded must be a boolean".into()),
    };
    let mut merged: Vec<(String, Vec<String>)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), values(value)?)))
        .collect();
    if let Some(Value::Object(multi)) = answer.get("multiValueHeaders") {
        for (name, value) in multi {
            let Some(values) = values(value) else {
                continue;
            };
            merged.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            merged.push((name.clone(), values));
        }
    }
    Ok(ProxyAnswer {
        status,
        headers: merged,
        body,
    })
}

/// A number or numeric string from 100 to 599.
fn status_code(value: Option<&Value>) -> Option<StatusCode> {
    let number = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !(100.0..=599.0).contains(&number) {
        return None;
    }
    StatusCode::from_u16(number as u16).ok()
}

fn values(value: &Value) -> Option<Vec<String>> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    };
    match value {
        Value::Array(items) => Some(items.iter().filter_map(text).collect()),
        other => text(other).map(|v| vec![v]),
    }
}
