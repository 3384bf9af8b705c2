//! The writes: POST creates, PUT upserts (by id, or by endpoint key when the key is no UUID),
//! PATCH merges into the stored entity and re-validates, DELETE removes. Each successful write
//! refreshes the node, so the change is live here before the answer leaves.

use super::body::Input;
use super::crud::{self, ok, Request};
use super::error::{ApiError, Op};
use super::lookup;
use super::routes::Scope;
use super::schema::{self, RECORDS};
use crate::entities::{now_seconds, Kind};
use crate::node::Node;
use crate::store::StoreError;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub async fn create(
    node: &Node,
    kind: Kind,
    scope: Option<Scope>,
    input: Input,
) -> Result<Value, ApiError> {
    let (_, fields) = scoped(node, kind, &scope, input).await?;
    save(node, kind, Value::Object(fields), Op::Create, None).await
}

pub async fn patch(
    node: &Node,
    kind: Kind,
    key: &str,
    scope: Option<Scope>,
    input: Input,
) -> Result<Value, ApiError> {
    let parent = lookup::parent(node, &scope).await?;
    let existing = lookup::find(node, kind, key, parent)
        .await?
        .filter(|v| lookup::owned_by(v, parent))
        .ok_or(ApiError::NotFound)?;
    let mut fields = prepare(node, kind, input).await?;
    if let Some((field, id)) = parent {
        fields
            .entry(field.to_string())
            .or_insert_with(|| json!({ "id": id }));
    }
    let mut merged = merge(existing.clone(), fields);
    stamp(
        kind,
        &mut merged,
        lookup::id_of(&existing)?,
        Some(&existing),
    );
    save(node, kind, merged, Op::Update, by_key(kind, key)).await
}

pub async fn put(
    node: &Node,
    kind: Kind,
    key: &str,
    scope: Option<Scope>,
    input: Input,
) -> Result<Value, ApiError> {
    let (parent, mut fields) = scoped(node, kind, &scope, input).await?;
    let existing = lookup::find(node, kind, key, parent).await?;
    let id = match (&existing, Uuid::parse_str(key)) {
        (Some(entity), _) => lookup::id_of(entity)?,
        (None, Ok(id)) => id,
        (None, Err(_)) => Uuid::new_v4(),
    };
    // The key in the URL wins over the body, as in Kong's `upsert_by_<field>`.
    if let (Err(_), Some(field)) = (Uuid::parse_str(key), kind.endpoint_key()) {
        fields.insert(field.to_string(), Value::from(key));
    }
    let mut value = Value::Object(fields);
    stamp(kind, &mut value, id, existing.as_ref());
    save(node, kind, value, Op::Upsert, by_key(kind, key)).await
}

pub async fn delete(
    node: &Node,
    kind: Kind,
    key: &str,
    scope: Option<Scope>,
) -> Result<(), ApiError> {
    let parent = lookup::parent(node, &scope).await?;
    let existing = match lookup::find(node, kind, key, parent).await? {
        Some(v) if lookup::owned_by(&v, parent) => v,
        // Kong answers 204 for what is already gone, but 404 under a parent.
        _ if parent.is_some() => return Err(ApiError::NotFound),
        _ => return Ok(()),
    };
    match node.store.delete(kind, lookup::id_of(&existing)?).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(ApiError::write(e, Op::Delete, kind, by_key(kind, key))),
    }
    refresh(node).await;
    Ok(())
}

/// `/routes/{r}/service`: read or change the entity a foreign key points at. PUT on an entity
/// without one creates the target and associates it, as Kong does; DELETE is refused.
pub async fn foreign(
    node: &Node,
    (kind, key, field): (Kind, &str, &'static str),
    target: Kind,
    req: Request<'_>,
) -> Result<Response, ApiError> {
    let method = req.method.clone();
    if !matches!(
        method,
        Method::GET | Method::PATCH | Method::PUT | Method::DELETE
    ) {
        return Err(ApiError::MethodNotAllowed);
    }
    let entity = lookup::find(node, kind, key, None)
        .await?
        .ok_or(ApiError::NotFound)?;
    let pointed = entity[field]["id"].as_str().map(str::to_string);
    match (method, pointed) {
        (Method::GET, Some(id)) => crud::read(node, target, &id, None).await.map(ok),
        (Method::PATCH, Some(id)) => patch(node, target, &id, None, req.input()?).await.map(ok),
        (Method::PUT, Some(id)) => put(node, target, &id, None, req.input()?).await.map(ok),
        (Method::PUT, None) => {
            let id = Uuid::new_v4().to_string();
            let created = put(node, target, &id, None, req.input()?).await?;
            let link = Input {
                fields: Map::from_iter([(field.to_string(), json!({ "id": id }))]),
                form: false,
            };
            patch(node, kind, key, None, link).await?;
            Ok(ok(created))
        }
        (Method::DELETE, Some(_)) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound),
    }
}

/// Type form strings and resolve references given by name.
async fn prepare(node: &Node, kind: Kind, input: Input) -> Result<Map<String, Value>, ApiError> {
    let mut fields = input.fields;
    if input.form {
        schema::infer_form(kind, &mut fields);
    }
    lookup::resolve_refs(node, kind, &mut fields).await?;
    Ok(fields)
}

/// The input's fields under the URL's scope: a write under `/consumers/{c}/...` belongs to
/// that consumer, whatever the body says.
async fn scoped(
    node: &Node,
    kind: Kind,
    scope: &Option<Scope>,
    input: Input,
) -> Result<(lookup::Parent, Map<String, Value>), ApiError> {
    let parent = lookup::parent(node, scope).await?;
    let mut fields = prepare(node, kind, input).await?;
    if let Some((field, id)) = parent {
        fields.insert(field.to_string(), json!({ "id": id }));
    }
    Ok((parent, fields))
}

/// The id is the URL's; `created_at` survives an update; `updated_at` is now.
fn stamp(kind: Kind, value: &mut Value, id: Uuid, existing: Option<&Value>) {
    value["id"] = Value::String(id.to_string());
    if let Some(created) = existing.map(|e| &e["created_at"]) {
        value["created_at"] = created.clone();
    }
    if schema::fields(kind).iter().any(|f| f.name == "updated_at") {
        value["updated_at"] = Value::from(now_seconds());
    }
}

/// PATCH semantics: given fields replace stored ones, except records, which merge deeply.
pub fn merge(mut base: Value, patch: Map<String, Value>) -> Value {
    for (name, value) in patch {
        match (&mut base[name.as_str()], value) {
            (Value::Object(old), Value::Object(new)) if RECORDS.contains(&name.as_str()) => {
                merge_record(old, new)
            }
            (slot, value) => *slot = value,
        }
    }
    base
}

fn merge_record(base: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (name, value) in patch {
        match (base.get_mut(&name), value) {
            (Some(Value::Object(old)), Value::Object(new)) => merge_record(old, new),
            (_, value) => {
                base.insert(name, value);
            }
        }
    }
}

/// DB-less refusals name the field used when the URL gave a key rather than an id.
fn by_key(kind: Kind, key: &str) -> Option<&'static str> {
    Uuid::parse_str(key)
        .is_err()
        .then(|| kind.endpoint_key())
        .flatten()
}

/// Validate `value` and store it canonically (defaults applied), then refresh the node.
async fn save(
    node: &Node,
    kind: Kind,
    value: Value,
    op: Op,
    by: Option<&'static str>,
) -> Result<Value, ApiError> {
    let value = schema::canonical(kind, value)?;
    let saved = match op {
        Op::Create => node.store.insert(kind, value).await,
        _ => node.store.upsert(kind, value).await,
    };
    let saved = saved.map_err(|e| ApiError::write(e, op, kind, by))?;
    refresh(node).await;
    Ok(saved)
}

/// The write is done whatever happens here; a failed refresh is caught up by the next one.
async fn refresh(node: &Node) {
    if let Err(e) = node.refresh().await {
        tracing::warn!(error = %e, "could not refresh the configuration after an Admin API write");
    }
}
