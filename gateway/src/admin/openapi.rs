//! `GET /openapi.json`: an OpenAPI 3 description of this Admin API, generated from the [`Kind`]
//! table and the derived entity schemas, with the same path rules the router applies
//! ([`routes::top_level`], [`routes::nested_name`]), so it cannot drift from what is served.

use super::routes::{nested_name, top_level};
use super::schema::{self, Field};
use crate::entities::Kind;
use serde_json::{json, Map, Value};

/// The node-level paths, each with its methods.
const STATIC: &[(&str, &[&str], &str)] = &[
    (
        "/",
        &["get"],
        "Node information (version, node id, plugins)",
    ),
    (
        "/status",
        &["get"],
        "Node status (database reachability, counters)",
    ),
    ("/endpoints", &["get"], "Every path this Admin API serves"),
    ("/openapi.json", &["get"], "This document"),
    (
        "/plugins/enabled",
        &["get"],
        "Plugin names this node accepts",
    ),
    ("/plugins/schema/{name}", &["get"], "A plugin's schema"),
    ("/schemas/plugins/{name}", &["get"], "A plugin's schema"),
    ("/schemas/{name}", &["get"], "An entity's schema"),
    (
        "/schemas/{name}/validate",
        &["post"],
        "Validate an entity without storing it",
    ),
];

pub fn document() -> Value {
    let mut paths = Map::new();
    for (path, methods, summary) in STATIC {
        let ops: Map<String, Value> = methods
            .iter()
            .map(|m| {
                (
                    m.to_string(),
                    json!({ "summary": summary, "responses": ok_response(None) }),
                )
            })
            .collect();
        paths.insert(path.to_string(), with_params(path, Value::Object(ops)));
    }
    for kind in Kind::ALL {
        entity_paths(kind, &mut paths);
    }
    let mut schemas: Map<String, Value> = Kind::ALL
        .iter()
        .map(|k| (component(*k), object_schema(schema::fields(*k))))
        .collect();
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "gateway Admin API (Kong-compatible)",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

/// Every path template served, sorted segment by segment (Kong's `GET /endpoints`).
pub fn endpoints() -> Vec<String> {
    let doc = document();
    let mut all: Vec<String> = doc["paths"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    all.sort_by_key(|p| p.replace('/', "\u{0}"));
    all
}

fn entity_paths(kind: Kind, paths: &mut Map<String, Value>) {
    let mut add = |path: String, ops: Value| {
        let ops = with_params(&path, ops);
        paths.insert(path, ops);
    };
    let param = format!("{{{}}}", kind.singular());
    if top_level(kind) {
        let base = format!("/{}", kind.endpoint());
        add(base.clone(), collection(kind, ""));
        add(format!("{base}/{param}"), entity(kind, ""));
        for (field, target) in kind.foreign_keys() {
            add(
                format!("{base}/{param}/{field}"),
                foreign(kind, field, *target),
            );
        }
    }
    for (_, parent) in kind.foreign_keys() {
        if !top_level(*parent) {
            continue;
        }
        let base = format!(
            "/{}/{{{}}}/{}",
            parent.endpoint(),
            parent.singular(),
            nested_name(kind)
        );
        let suffix = format!("-for-{}", parent.singular());
        add(base.clone(), collection(kind, &suffix));
        add(format!("{base}/{param}"), entity(kind, &suffix));
    }
}

fn collection(kind: Kind, suffix: &str) -> Value {
    let page = json!({
        "type": "object",
        "properties": {
            "data": { "type": "array", "items": reference(kind) },
            "next": { "type": "string", "nullable": true },
            "offset": { "type": "string" },
        },
    });
    let query = ["size", "offset", "tags"].map(|name| {
        json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } })
    });
    let name = kind.singular();
    json!({
        "get": {
            "operationId": format!("list-{name}{suffix}"),
            "parameters": query,
            "responses": ok_response(Some(page)),
        },
        "post": operation(kind, &format!("create-{name}{suffix}"), "201"),
    })
}

fn entity(kind: Kind, suffix: &str) -> Value {
    let name = format!("{}{suffix}", kind.singular());
    let mut operations = read_write(kind, &name);
    operations["delete"] = json!({
        "operationId": format!("delete-{name}"),
        "responses": { "204": { "description": "Deleted (or already absent)" } },
    });
    operations
}

/// `/routes/{r}/service` and the like: the entity a foreign key points at, never deleted there.
fn foreign(kind: Kind, field: &str, target: Kind) -> Value {
    read_write(target, &format!("{}-of-{}", field, kind.singular()))
}

/// GET, PUT and PATCH of one `kind` entity; `name` ends each operation id.
fn read_write(kind: Kind, name: &str) -> Value {
    json!({
        "get": {
            "operationId": format!("get-{name}"),
            "responses": ok_response(Some(reference(kind))),
        },
        "put": operation(kind, &format!("upsert-{name}"), "200"),
        "patch": operation(kind, &format!("update-{name}"), "200"),
    })
}

/// A write: JSON or form body of the kind, answered with the stored entity.
fn operation(kind: Kind, operation_id: &str, status: &str) -> Value {
    let body = reference(kind);
    let mut responses = json!({
        "400": error_response("Schema or foreign key violation"),
        "404": error_response("Not found"),
        "409": error_response("Unique violation"),
        "405": error_response("Not allowed (DB-less mode)"),
    });
    responses[status] = json!({
        "description": "The stored entity",
        "content": { "application/json": { "schema": body } },
    });
    json!({
        "operationId": operation_id,
        "requestBody": {
            "content": {
                "application/json": { "schema": body },
                "application/x-www-form-urlencoded": { "schema": body },
                "multipart/form-data": { "schema": body },
            },
        },
        "responses": responses,
    })
}

fn ok_response(schema: Option<Value>) -> Value {
    let schema = schema.unwrap_or_else(|| json!({ "type": "object" }));
    json!({ "200": { "description": "OK", "content": { "application/json": { "schema": schema } } } })
}

fn error_response(description: &str) -> Value {
    let schema = json!({ "$ref": "#/components/schemas/Error" });
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// Declare the `{placeholders}` of a path on every one of its operations.
fn with_params(path: &str, mut ops: Value) -> Value {
    let params: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !params.is_empty() {
        ops["parameters"] = Value::Array(params);
    }
    ops
}

fn reference(kind: Kind) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", component(kind)) })
}

/// `keyauth_credential` → `KeyauthCredential`.
fn component(kind: Kind) -> String {
    kind.singular()
        .split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn object_schema(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.clone(), property(f)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn property(field: &Field) -> Value {
    let mut p = match field.ty {
        "string" | "integer" | "number" | "boolean" => json!({ "type": field.ty }),
        "array" => json!({ "type": "array", "items": {} }),
        "foreign" => json!({
            "type": "object",
            "properties": { "id": { "type": "string", "format": "uuid" } },
            "nullable": true,
        }),
        "record" => json!({ "type": "object" }),
        _ => json!({}),
    };
    if field.name == "id" {
        p["format"] = json!("uuid");
    }
    if !field.default.is_null() {
        p["default"] = field.default.clone();
    }
    if field.default.is_null() && !field.required && !field.auto {
        p["nullable"] = json!(true);
    }
    p
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "message": { "type": "string" },
            "name": { "type": "string" },
            "code": { "type": "integer" },
            "fields": { "type": "object" },
        },
        "required": ["message"],
    })
}
