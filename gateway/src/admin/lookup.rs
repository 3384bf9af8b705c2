//! Finding entities named in URLs and bodies: by id or endpoint key, under a parent, and the
//! references a body gives by name (`"service": {"name": "x"}`), resolved to ids.

use super::error::ApiError;
use super::routes::Scope;
use crate::entities::{parse, Kind, Target};
use crate::node::Node;
use crate::store::ListQuery;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// A resolved parent: the child's foreign key field and the parent's id.
pub type Parent = Option<(&'static str, Uuid)>;

pub fn id_of(value: &Value) -> Result<Uuid, ApiError> {
    value["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::Internal(format!("stored entity without a valid id: {value}")))
}

/// The parent named in the URL must exist (404 otherwise).
pub async fn parent(node: &Node, scope: &Option<Scope>) -> Result<Parent, ApiError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    let found = node
        .store
        .get(scope.parent, &scope.key)
        .await
        .map_err(ApiError::read)?;
    let entity = found.ok_or(ApiError::NotFound)?;
    Ok(Some((scope.field, id_of(&entity)?)))
}

/// Does the entity belong to the parent named in the URL?
pub fn owned_by(value: &Value, parent: Parent) -> bool {
    match parent {
        Some((field, id)) => value[field]["id"].as_str() == Some(id.to_string().as_str()),
        None => true,
    }
}

/// An entity by id or endpoint key. Targets are named `host:port`, and ACLs by their group,
/// only within their parent (upstream, consumer): those keys are unique only there.
pub async fn find(
    node: &Node,
    kind: Kind,
    key: &str,
    parent: Parent,
) -> Result<Option<Value>, ApiError> {
    if matches!(kind, Kind::Target | Kind::Acl) && Uuid::parse_str(key).is_err() {
        return match parent {
            Some((field, id)) => find_child(node, kind, (field, id), key).await,
            None => Ok(None),
        };
    }
    node.store.get(kind, key).await.map_err(ApiError::read)
}

/// The child of `parent` whose endpoint key is `key`.
async fn find_child(
    node: &Node,
    kind: Kind,
    parent: (&'static str, Uuid),
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let field = kind.endpoint_key().unwrap_or("id");
    // `/targets/10.0.0.1` means port 8000, as a new target would be normalised.
    let normalised = match kind {
        Kind::Target => parse::<Target>(json!({ "target": key, "upstream": { "id": parent.1 } }))
            .map(|t| t.target)
            .unwrap_or_else(|_| key.to_string()),
        _ => key.to_string(),
    };
    let mut query = ListQuery {
        parent: Some(parent),
        size: 1000,
        ..ListQuery::default()
    };
    loop {
        let page = node
            .store
            .list(kind, &query)
            .await
            .map_err(ApiError::read)?;
        let hit = page.data.into_iter().find(|t| {
            let name = t[field].as_str();
            name == Some(key) || name == Some(normalised.as_str())
        });
        if hit.is_some() || page.offset.is_none() {
            return Ok(hit);
        }
        query.offset = page.offset;
    }
}

/// Replace references given by name (`{"name": "x"}`, `{"username": "x"}`) with `{"id": ...}`;
/// a name that matches nothing is Kong's foreign key violation. References given by id are
/// left to the store, which checks them.
pub async fn resolve_refs(
    node: &Node,
    kind: Kind,
    fields: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    for (field, target) in kind.foreign_keys() {
        let Some(Value::Object(reference)) = fields.get(*field) else {
            continue;
        };
        if reference.contains_key("id") {
            continue;
        }
        let named = reference.iter().find_map(|(k, v)| {
            let usable = Some(k.as_str()) == target.endpoint_key() || k == "name";
            Some((k.clone(), v.as_str()?.to_string())).filter(|_| usable)
        });
        let Some((name_field, name)) = named else {
            continue;
        };
        let found = node
            .store
            .get(*target, &name)
            .await
            .map_err(ApiError::read)?;
        let Some(entity) = found else {
            return Err(ApiError::ForeignKey {
                field: field.to_string(),
                table: target.table(),
                key: json!({ name_field: name }),
            });
        };
        fields.insert(field.to_string(), json!({ "id": id_of(&entity)? }));
    }
    Ok(())
}
