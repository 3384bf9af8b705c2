//! `/config` on a DB-less node: replace the whole configuration at once (Kong's `POST /config`,
//! the body a declarative file as text in `config`, or the document itself as JSON) and read
//! it back (`GET /config`).

use super::body::Input;
use super::crud::ok;
use super::error::ApiError;
use crate::declarative;
use crate::node::Node;
use crate::store::Store;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub async fn post(node: &Node, input: Input) -> Result<Response, ApiError> {
    if !node.store.is_dbless() {
        return Err(ApiError::DatabaseMode);
    }
    let text = match input.fields.get("config") {
        Some(Value::String(text)) => text.clone(),
        Some(document @ Value::Object(_)) => document.to_string(),
        _ if input.fields.contains_key("_format_version") => {
            Value::Object(input.fields).to_string()
        }
        _ => {
            let mut errors = crate::entities::FieldErrors::default();
            errors.add("config", "required field missing");
            return Err(ApiError::Schema(errors));
        }
    };
    let config = declarative::parse_str(&text, "config").map_err(ApiError::Declarative)?;
    let flattened = serde_json::to_value(&config).map_err(|e| ApiError::Internal(e.to_string()))?;
    node.replace_config(config)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(flattened)).into_response())
}

/// The configuration being served, as a declarative document.
pub async fn get(node: &Node) -> Result<Response, ApiError> {
    let Store::Memory(memory) = &node.store else {
        return Err(ApiError::DatabaseMode);
    };
    let document = declarative::to_document(&memory.config());
    Ok(ok(json!({ "config": document.to_string() })))
}
