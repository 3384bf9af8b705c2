//! response-transformer: edit the response headers and, for JSON responses, the top-level fields
//! of the body, as Kong 3.x does (remove, rename, replace, add, append; `json_types`).
//!
//! Body edits need the whole body: [`Handler::buffers_response`] says whether this response
//! must be buffered (only when there are JSON edits and the response is JSON).

use super::header_edit::{header_entries, list, name_of, pair, parse_config, Edit, HeaderEdit};
use super::{Handler, RequestCtx};
use crate::entities::FieldErrors;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Lists {
    #[serde(deserialize_with = "list")]
    headers: Vec<String>,
    #[serde(deserialize_with = "list")]
    json: Vec<String>,
    /// Under replace, add and append: how each `json` value is typed, by position.
    #[serde(deserialize_with = "list")]
    json_types: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    remove: Option<Lists>,
    rename: Option<Lists>,
    replace: Option<Lists>,
    add: Option<Lists>,
    append: Option<Lists>,
}

#[derive(Debug)]
pub struct ResponseTransformer {
    headers: HeaderEdit<HeaderValue>,
    json: Edit<String, Value>,
}

impl ResponseTransformer {
    pub fn from_config(config: &Value) -> Result<ResponseTransformer, FieldErrors> {
        let config: Config = parse_config(config)?;
        let mut errors = FieldErrors::default();
        let mut headers = HeaderEdit::default();
        let mut json = Edit::default();
        let empty = Lists::default();
        for (op, lists) in [
            ("remove", &config.remove),
            ("rename", &config.rename),
            ("replace", &config.replace),
            ("add", &config.add),
            ("append", &config.append),
        ] {
            let lists = lists.as_ref().unwrap_or(&empty);
            let value = |value: &str, entry: &str| {
                HeaderValue::from_str(value).map_err(|_| format!("invalid value: {entry}"))
            };
            header_entries(
                op,
                &lists.headers,
                &mut headers,
                &mut errors,
                |_, _| true,
                value,
            );
            json_edits(op, lists, &mut json, &mut errors);
        }
        errors.into_result()?;
        Ok(ResponseTransformer { headers, json })
    }

    /// The body with the JSON edits applied; None when it is not a JSON object.
    fn transform_json(&self, body: &[u8]) -> Option<Bytes> {
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        self.json.apply_json(&mut object, |v| Some(v.clone()));
        Some(Bytes::from(Value::Object(object).to_string()))
    }
}

/// Kong's test: one of the listed media types is exactly `application/json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').any(|media| {
        let essence = media.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case("application/json")
    })
}

impl Handler for ResponseTransformer {
    fn response_headers(&self, _ctx: &RequestCtx, _status: StatusCode, headers: &mut HeaderMap) {
        self.headers.apply(headers, |v| Some(v.clone()));
        if !self.json.is_empty() && is_json(headers) {
            // The body is about to change length.
            headers.remove(http::header::CONTENT_LENGTH);
        }
    }

    fn buffers_response(&self, headers: &HeaderMap) -> bool {
        !self.json.is_empty() && is_json(headers)
    }

    fn response_body(&self, _ctx: &RequestCtx, headers: &HeaderMap, body: &mut Bytes) {
        if !self.buffers_response(headers) {
            return;
        }
        match self.transform_json(body) {
            Some(rewritten) => *body = rewritten,
            None => tracing::debug!("response-transformer: the body is not a JSON object"),
        }
    }
}

// === building ===

fn json_edits(op: &str, lists: &Lists, edit: &mut Edit<String, Value>, errors: &mut FieldErrors) {
    let typed = matches!(op, "replace" | "add" | "append");
    if !typed && !lists.json_types.is_empty() {
        errors.add(&format!("config.{op}.json_types"), "unknown field");
    }
    for (i, kind) in lists.json_types.iter().enumerate() {
        if !matches!(kind.as_str(), "boolean" | "number" | "string") {
            let field = format!("config.{op}.json_types.{}", i + 1);
            errors.add(&field, "expected one of: boolean, number, string");
        }
    }
    for (i, entry) in lists.json.iter().enumerate() {
        let field = format!("config.{op}.json.{}", i + 1);
        if op == "remove" {
            edit.remove.push(name_of(entry).to_string());
            continue;
        }
        let Some((name, value)) = pair(entry, &field, errors) else {
            continue;
        };
        let name = name.to_string();
        match op {
            "rename" if !value.is_empty() => edit.rename.push((name, value.to_string())),
            "rename" => {}
            _ => {
                let kind = lists.json_types.get(i).map_or("string", String::as_str);
                // Kong drops a value that is empty or not a number where one is wanted.
                let Some(value) = typed_value(value, kind) else {
                    continue;
                };
                match op {
                    "replace" => edit.replace.push((name, value)),
                    "add" => edit.add.push((name, value)),
                    _ => edit.append.push((name, value)),
                }
            }
        }
    }
}

/// Kong's `json_types` cast: `boolean` is true only for "true"; `number` as Lua's `tonumber`.
fn typed_value(value: &str, kind: &str) -> Option<Value> {
    if value.is_empty() {
        return None;
    }
    Some(match kind {
        "boolean" => Value::Bool(value == "true"),
        "number" => match value.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => {
                let n = value.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
                Value::Number(serde_json::Number::from_f64(n)?)
            }
        },
        _ => Value::String(value.to_string()),
    })
}

#[cfg(test)]
mod tests;
