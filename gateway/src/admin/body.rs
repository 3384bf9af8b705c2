//! Request bodies of POST, PUT and PATCH: JSON, urlencoded forms or multipart forms, all turned
//! into one JSON object. Kong refuses other content types with 415 and unparsable JSON with 400.

use super::error::ApiError;
use super::{form, multipart};
use axum::http::{header, HeaderMap};
use serde_json::{Map, Value};

/// The arguments of a write request.
#[derive(Debug, Default)]
pub struct Input {
    pub fields: Map<String, Value>,
    /// Came from a form: every value is a string until a schema says otherwise.
    pub form: bool,
}

pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Input, ApiError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(raw) = raw else {
        return if body.is_empty() {
            Ok(Input::default())
        } else {
            Err(ApiError::UnsupportedMediaType)
        };
    };
    let content_type = raw.to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(Input {
                fields,
                form: false,
            }),
            _ => Err(ApiError::BadJson),
        };
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(Input {
            fields: form::decode_urlencoded(body),
            form: true,
        });
    }
    if content_type.starts_with("multipart/form-data") {
        // Kong reads a malformed multipart body as no arguments at all.
        let pairs = multipart::boundary(raw)
            .and_then(|b| multipart::parse(body, &b))
            .unwrap_or_default();
        return Ok(Input {
            fields: form::decode(pairs),
            form: true,
        });
    }
    Err(ApiError::UnsupportedMediaType)
}
