//! What each entity's fields are, derived from the entity types themselves (never written out by
//! hand): a minimal valid entity is parsed and serialized to find every field and its default,
//! and fields without a default are probed with values of each JSON type. `/schemas/{entity}`,
//! `/openapi.json` and form-argument inference all read these descriptions.

use super::form::coerce_scalars;
use super::plugins;
use crate::entities::{
    parse, Acl, Consumer, Entity, FieldErrors, KeyAuthCredential, Kind, Plugin, Route, Service,
    Target, Upstream,
};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use uuid::Uuid;

/// Fields holding records: PATCH merges into them, and form values inside them are coerced
/// (there is no per-field schema below this level yet).
pub const RECORDS: &[&str] = &["config", "healthchecks"];

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    /// Kong's type names: string, integer, number, boolean, array, record, foreign.
    pub ty: &'static str,
    pub default: Value,
    pub required: bool,
    /// Filled in by the gateway (`id`, timestamps, a generated `key`).
    pub auto: bool,
    pub unique: bool,
    pub reference: Option<Kind>,
}

/// The fields of one kind, in the entity's own order.
pub fn fields(kind: Kind) -> &'static [Field] {
    static ALL: OnceLock<Vec<(Kind, Vec<Field>)>> = OnceLock::new();
    let all = ALL.get_or_init(|| Kind::ALL.iter().map(|k| (*k, describe_kind(*k))).collect());
    all.iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, f)| f.as_slice())
        .unwrap_or(&[])
}

/// The smallest valid input of each kind (references point at a nil id).
fn minimal(kind: Kind) -> Value {
    let nil = Uuid::nil();
    match kind {
        Kind::Service => json!({ "host": "example.com" }),
        Kind::Route => json!({ "paths": ["/"] }),
        Kind::Consumer => json!({ "username": "someone" }),
        Kind::KeyAuth => json!({ "consumer": { "id": nil } }),
        Kind::Acl => json!({ "consumer": { "id": nil }, "group": "group" }),
        Kind::Plugin => json!({ "name": "key-auth" }),
        Kind::Upstream => json!({ "name": "upstream" }),
        Kind::Target => json!({ "target": "example.com", "upstream": { "id": nil } }),
    }
}

fn describe_kind(kind: Kind) -> Vec<Field> {
    let input = minimal(kind);
    match kind {
        Kind::Service => describe::<Service>(input),
        Kind::Route => describe::<Route>(input),
        Kind::Consumer => describe::<Consumer>(input),
        Kind::KeyAuth => describe::<KeyAuthCredential>(input),
        Kind::Acl => describe::<Acl>(input),
        Kind::Plugin => describe::<Plugin>(input),
        Kind::Upstream => describe::<Upstream>(input),
        Kind::Target => describe::<Target>(input),
    }
}

fn describe<E: Entity>(input: Value) -> Vec<Field> {
    let render = || {
        parse::<E>(input.clone())
            .ok()
            .and_then(|e| serde_json::to_value(e).ok())
    };
    let (Some(Value::Object(first)), Some(second)) = (render(), render()) else {
        tracing::error!(kind = E::KIND.table(), "minimal entity does not validate");
        return Vec::new();
    };
    first
        .into_iter()
        .map(|(name, default)| {
            let auto = matches!(name.as_str(), "id" | "created_at" | "updated_at")
                || second[&name] != default;
            let required = input.get(&name).is_some() && required_by::<E>(&input, &name);
            let reference = E::KIND
                .foreign_keys()
                .iter()
                .find(|(f, _)| *f == name)
                .map(|(_, k)| *k);
            let ty = type_of(&default).unwrap_or_else(|| probe::<E>(&input, &name));
            Field {
                unique: E::KIND.unique_fields().contains(&name.as_str()),
                default: if auto || required {
                    Value::Null
                } else {
                    default
                },
                ty: if reference.is_some() { "foreign" } else { ty },
                name,
                required,
                auto,
                reference,
            }
        })
        .collect()
}

/// Does leaving `name` out of a valid input make the entity report it missing?
fn required_by<E: Entity>(input: &Value, name: &str) -> bool {
    let mut without = input.clone();
    if let Some(map) = without.as_object_mut() {
        map.remove(name);
    }
    match parse::<E>(without) {
        Ok(_) => false,
        Err(errors) => errors
            .iter()
            .any(|(f, m)| f == name && m.contains("required")),
    }
}

fn type_of(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "record",
    })
}

/// The first JSON type the field accepts (type checks only, no validation).
fn probe<E: Entity>(input: &Value, name: &str) -> &'static str {
    let candidates = [
        (json!(["x"]), "array"),
        (json!("x"), "string"),
        (json!(1), "integer"),
        (json!(true), "boolean"),
        (json!({}), "record"),
        (json!({ "id": Uuid::nil() }), "foreign"),
    ];
    for (candidate, ty) in candidates {
        let mut value = input.clone();
        value[name] = candidate;
        if serde_json::from_value::<E>(value).is_ok() {
            return ty;
        }
    }
    "any"
}

/// Validate input of the given kind and render it canonically (defaults applied).
pub fn canonical(kind: Kind, value: Value) -> Result<Value, FieldErrors> {
    match kind {
        Kind::Service => check::<Service>(value),
        Kind::Route => check::<Route>(value),
        Kind::Consumer => check::<Consumer>(value),
        Kind::KeyAuth => check::<KeyAuthCredential>(value),
        Kind::Acl => check::<Acl>(value),
        Kind::Plugin => plugins::check(value, check::<Plugin>),
        Kind::Upstream => check::<Upstream>(value),
        Kind::Target => check::<Target>(value),
    }
}

fn check<E: Entity>(value: Value) -> Result<Value, FieldErrors> {
    let entity = parse::<E>(value)?;
    serde_json::to_value(entity).map_err(|e| {
        let mut errors = FieldErrors::default();
        errors.entity(e.to_string());
        errors
    })
}

/// Give form strings the types the schema declares, as Kong's argument inference does.
pub fn infer_form(kind: Kind, args: &mut Map<String, Value>) {
    let fields = fields(kind);
    for (name, value) in args.iter_mut() {
        let Some(field) = fields.iter().find(|f| &f.name == name) else {
            continue;
        };
        match (field.ty, &*value) {
            ("integer" | "number", Value::String(s)) => {
                if let Ok(n) = s.parse::<i64>() {
                    *value = Value::from(n);
                } else if let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
                {
                    *value = Value::Number(n);
                }
            }
            ("boolean", Value::String(s)) if s == "true" || s == "false" => {
                *value = Value::Bool(s == "true");
            }
            ("array", Value::String(_)) => *value = Value::Array(vec![value.take()]),
            ("record", _) if RECORDS.contains(&name.as_str()) => coerce_scalars(value),
            _ => {}
        }
    }
}

/// Kong's `/schemas/{entity}` shape: `{"fields": [{"name": {"type": "string", ...}}, ...]}`.
pub fn to_kong(kind: Kind) -> Value {
    let fields: Vec<Value> = fields(kind)
        .iter()
        .map(|f| {
            let mut d = json!({ "type": f.ty });
            for (flag, on) in [
                ("required", f.required),
                ("auto", f.auto),
                ("unique", f.unique),
            ] {
                if on {
                    d[flag] = Value::Bool(true);
                }
            }
            if !f.default.is_null() {
                d["default"] = f.default.clone();
            }
            if let Some(target) = f.reference {
                d["reference"] = Value::from(target.table());
            }
            json!({ f.name.as_str(): d })
        })
        .collect();
    json!({ "fields": fields })
}
