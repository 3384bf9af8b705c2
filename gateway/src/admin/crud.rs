//! The generic entity endpoints: which method does what on a collection, an entity and a
//! foreign-key path, plus the reads (paged listings and single entities).

use super::body::{self, Input};
use super::error::ApiError;
use super::lookup;
use super::routes::{nested_name, Endpoint, Scope};
use super::write;
use crate::entities::Kind;
use crate::node::Node;
use crate::store::{ListQuery, StoreError};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// What a handler needs from the request.
pub struct Request<'a> {
    pub method: &'a Method,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Request<'_> {
    pub fn input(&self) -> Result<Input, ApiError> {
        body::parse(self.headers, self.body)
    }
}

pub fn ok(value: Value) -> Response {
    (StatusCode::OK, Json(value)).into_response()
}

pub async fn handle(
    node: &Node,
    endpoint: Endpoint,
    req: Request<'_>,
) -> Result<Response, ApiError> {
    let method = req.method.clone();
    match endpoint {
        Endpoint::Collection { kind, scope } => match method {
            Method::GET => list(node, kind, scope, req.query).await.map(ok),
            Method::POST => {
                let created = write::create(node, kind, scope, req.input()?).await?;
                Ok((StatusCode::CREATED, Json(created)).into_response())
            }
            _ => Err(ApiError::MethodNotAllowed),
        },
        Endpoint::Entity { kind, key, scope } => match method {
            Method::GET => read(node, kind, &key, scope).await.map(ok),
            Method::PUT => write::put(node, kind, &key, scope, req.input()?)
                .await
                .map(ok),
            Method::PATCH => write::patch(node, kind, &key, scope, req.input()?)
                .await
                .map(ok),
            Method::DELETE => {
                write::delete(node, kind, &key, scope).await?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(ApiError::MethodNotAllowed),
        },
        Endpoint::Foreign {
            kind,
            key,
            field,
            target,
        } => write::foreign(node, (kind, &key, field), target, req).await,
    }
}

pub async fn read(
    node: &Node,
    kind: Kind,
    key: &str,
    scope: Option<Scope>,
) -> Result<Value, ApiError> {
    let parent = lookup::parent(node, &scope).await?;
    lookup::find(node, kind, key, parent)
        .await?
        .filter(|v| lookup::owned_by(v, parent))
        .ok_or(ApiError::NotFound)
}

/// A page of a collection: `{"data": [...], "next": "/services?offset=...", "offset": "..."}`.
async fn list(
    node: &Node,
    kind: Kind,
    scope: Option<Scope>,
    query: &str,
) -> Result<Value, ApiError> {
    let arg = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let size = page_size(arg("size").as_deref())?;
    let (tags, tags_any) = tags_filter(arg("tags").as_deref())?;
    let offset = arg("offset");
    let parent = lookup::parent(node, &scope).await?;
    let list_query = ListQuery {
        parent,
        size,
        offset: offset.clone(),
        tags,
        tags_any,
    };
    let page = node
        .store
        .list(kind, &list_query)
        .await
        .map_err(|e| match e {
            StoreError::InvalidOffset => ApiError::InvalidOffset(offset.unwrap_or_default()),
            other => ApiError::read(other),
        })?;
    let next = page.offset.as_deref().map(|o| {
        let escape =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        match &scope {
            Some(s) => format!(
                "/{}/{}/{}?offset={}",
                s.parent.endpoint(),
                escape(&s.key),
                nested_name(kind),
                escape(o)
            ),
            None => {
                let tags = arg("tags").map(|t| format!("&tags={}", escape(&t)));
                let size = arg("size").map(|s| format!("&size={}", escape(&s)));
                format!(
                    "/{}?offset={}{}{}",
                    kind.endpoint(),
                    escape(o),
                    tags.unwrap_or_default(),
                    size.unwrap_or_default()
                )
            }
        }
    });
    let mut body = json!({ "data": page.data, "next": next });
    if let Some(offset) = page.offset {
        body["offset"] = Value::String(offset);
    }
    Ok(body)
}

/// `size`: 100 by default, an integer from 1 to 1000 (Kong's messages).
pub fn page_size(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else {
        return Ok(100);
    };
    let number: f64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::InvalidSize("size must be a number".into()))?;
    if number.fract() != 0.0 || !(1.0..=1000.0).contains(&number) {
        return Err(ApiError::InvalidSize(
            "size must be an integer between 1 and 1000".into(),
        ));
    }
    Ok(number as usize)
}

/// `tags=a,b` wants every tag, `tags=a/b` any of them; tags are printable and hold neither
/// `,` nor `/`, so a filter mixing both is malformed.
pub fn tags_filter(raw: Option<&str>) -> Result<(Vec<String>, bool), ApiError> {
    let Some(raw) = raw else {
        return Ok((Vec::new(), false));
    };
    let invalid = ApiError::InvalidOption {
        field: "tags",
        message: "invalid filter syntax",
    };
    let any = raw.contains('/');
    if raw.is_empty() || (any && raw.contains(',')) {
        return Err(invalid);
    }
    let separator = if any { '/' } else { ',' };
    let parts: Vec<&str> = raw
        .strip_suffix(separator)
        .unwrap_or(raw)
        .split(separator)
        .collect();
    let printable = |t: &str| !t.is_empty() && t.chars().all(|c| !c.is_control());
    if !parts.iter().all(|t| printable(t)) {
        return Err(invalid);
    }
    Ok((parts.into_iter().map(str::to_string).collect(), any))
}
