//! Every way an Admin API request fails, and the status and body Kong answers each with
//! (`kong/db/errors.lua`, `kong/api/endpoints.lua`). Internals never reach a 5xx body.

use crate::entities::{FieldErrors, Kind};
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Kong's error codes (`kong/db/errors.lua`).
mod code {
    pub const SCHEMA_VIOLATION: u8 = 2;
    pub const FOREIGN_KEY_VIOLATION: u8 = 4;
    pub const UNIQUE_VIOLATION: u8 = 5;
    pub const INVALID_OFFSET: u8 = 7;
    pub const INVALID_SIZE: u8 = 9;
    pub const INVALID_OPTIONS: u8 = 11;
    pub const OPERATION_UNSUPPORTED: u8 = 12;
    pub const INVALID_DECLARATIVE: u8 = 14;
}

/// What a write was trying to do, in the words of Kong's DB-less refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Upsert,
    Delete,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Upsert => "create or update",
            Op::Delete => "remove",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    /// A named thing that does not exist (`No entity named 'x'`).
    #[error("{0}")]
    NotFoundMessage(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("cannot parse JSON body")]
    BadJson,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("{0}")]
    Schema(FieldErrors),
    #[error("UNIQUE violation detected on '{{{field}=\"{value}\"}}'")]
    Unique { field: String, value: String },
    /// A reference to a parent that does not exist; `key` is what was given (`{"id": ...}`).
    #[error(
        "the foreign key '{}' does not reference an existing '{table}' entity.",
        pretty(key)
    )]
    ForeignKey {
        field: String,
        table: &'static str,
        key: Value,
    },
    #[error("an existing '{child}' entity references this '{parent}' entity")]
    Referenced {
        parent: &'static str,
        child: &'static str,
    },
    #[error("{0}")]
    InvalidSize(String),
    #[error("'{0}' is not a valid offset: bad offset")]
    InvalidOffset(String),
    #[error("invalid option ({field}: {message})")]
    InvalidOption {
        field: &'static str,
        message: &'static str,
    },
    /// DB-less mode: `cannot create 'services' entities when not using a database`.
    #[error("cannot {} '{table}' entities{} when not using a database", op.verb(), by.map(|f| format!(" by '{f}'")).unwrap_or_default())]
    ReadOnly {
        op: Op,
        table: &'static str,
        by: Option<&'static str>,
    },
    /// A 400 with only a message (`no healthchecker found for x`).
    #[error("{0}")]
    BadRequestMessage(String),
    /// `/config` is for DB-less nodes only.
    #[error("this endpoint is only available when Kong is configured to not use a database")]
    DatabaseMode,
    /// A declarative configuration that does not parse or validate (`POST /config`).
    #[error("declarative config is invalid: {0}")]
    Declarative(crate::declarative::DeclarativeError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Kong renders keys the way Lua's pretty-printer does: `{name="x"}`.
fn pretty(key: &Value) -> String {
    match key {
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}=\"{s}\""),
                    other => format!("{k}={other}"),
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => other.to_string(),
    }
}

impl ApiError {
    /// A failed store read: only the database being down is possible, and that is a 500.
    pub fn read(err: StoreError) -> ApiError {
        match err {
            StoreError::InvalidOffset => ApiError::InvalidOffset(String::new()),
            other => ApiError::Internal(other.to_string()),
        }
    }

    /// A failed store write, with what was being done (for DB-less mode's refusal).
    pub fn write(err: StoreError, op: Op, kind: Kind, by: Option<&'static str>) -> ApiError {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Unique { field, value } => ApiError::Unique { field, value },
            StoreError::ForeignKey { field, table, id } => ApiError::ForeignKey {
                field,
                table,
                key: json!({ "id": id }),
            },
            StoreError::Referenced { parent, child } => ApiError::Referenced { parent, child },
            StoreError::Schema(errors) => ApiError::Schema(errors),
            StoreError::ReadOnly => ApiError::ReadOnly {
                op,
                table: kind.table(),
                by,
            },
            StoreError::InvalidOffset => ApiError::InvalidOffset(String::new()),
            StoreError::Unavailable(message) => ApiError::Internal(message),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound | ApiError::NotFoundMessage(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed | ApiError::ReadOnly { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unique { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body Kong sends for this error.
    pub fn body(&self) -> Value {
        let message = self.to_string();
        let coded = |code: u8, name: &str, extra: Option<(&str, Value)>| {
            let mut body = json!({ "code": code, "name": name, "message": message });
            if let Some((key, value)) = extra {
                body[key] = value;
            }
            body
        };
        match self {
            ApiError::NotFound => json!({ "message": "Not found" }),
            ApiError::MethodNotAllowed => json!({ "message": "Method not allowed" }),
            ApiError::BadJson => json!({ "message": "Cannot parse JSON body" }),
            ApiError::Internal(_) => json!({ "message": "An unexpected error occurred" }),
            ApiError::Declarative(e) => coded(
                code::INVALID_DECLARATIVE,
                "invalid declarative configuration",
                Some(("problems", declarative_problems(e))),
            ),
            ApiError::NotFoundMessage(_)
            | ApiError::UnsupportedMediaType
            | ApiError::DatabaseMode
            | ApiError::BadRequestMessage(_) => {
                json!({ "message": message })
            }
            ApiError::Schema(errors) => coded(
                code::SCHEMA_VIOLATION,
                "schema violation",
                Some(("fields", errors.to_json())),
            ),
            ApiError::Unique { field, value } => coded(
                code::UNIQUE_VIOLATION,
                "unique constraint violation",
                Some(("fields", json!({ field.as_str(): value }))),
            ),
            ApiError::ForeignKey { field, key, .. } => coded(
                code::FOREIGN_KEY_VIOLATION,
                "foreign key violation",
                Some(("fields", json!({ field.as_str(): key }))),
            ),
            ApiError::Referenced { child, .. } => coded(
                code::FOREIGN_KEY_VIOLATION,
                "foreign key violation",
                Some(("fields", json!({ "@referenced_by": child }))),
            ),
            ApiError::InvalidSize(_) => coded(code::INVALID_SIZE, "invalid size", None),
            ApiError::InvalidOffset(_) => coded(code::INVALID_OFFSET, "invalid offset", None),
            ApiError::InvalidOption { field, message: m } => coded(
                code::INVALID_OPTIONS,
                "invalid options",
                Some(("options", json!({ *field: m }))),
            ),
            ApiError::ReadOnly { .. } => {
                coded(code::OPERATION_UNSUPPORTED, "operation unsupported", None)
            }
        }
    }
}

/// Each problem with where it is, so a client can point at the line.
fn declarative_problems(e: &crate::declarative::DeclarativeError) -> Value {
    Value::Array(
        e.problems
            .iter()
            .map(|p| json!({ "path": p.path, "line": p.line, "column": p.column, "message": p.message }))
            .collect(),
    )
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> ApiError {
        ApiError::Schema(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "admin API request failed");
        }
        // Kong answers 415 with no body at all.
        if matches!(self, ApiError::UnsupportedMediaType) {
            return self.status().into_response();
        }
        (self.status(), Json(self.body())).into_response()
    }
}
