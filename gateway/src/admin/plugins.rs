//! Which plugin names the Admin API accepts and reports, and the plugin-specific checks a
//! plugin entity gets on top of its own validation: all read from the plugin table
//! ([`registry::PLUGINS`]), whose plugins also check their own `config`.

use crate::entities::FieldErrors;
use crate::plugins::registry;
use serde_json::{json, Map, Value};

/// Every plugin this build has, with its priority, highest priority first.
pub fn known() -> Vec<(&'static str, i32)> {
    let mut known: Vec<(&str, i32)> = registry::PLUGINS
        .iter()
        .map(|spec| (spec.name, spec.priority))
        .collect();
    known.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    known
}

pub fn is_known(name: &str) -> bool {
    registry::spec(name).is_some()
}

/// `GET /`'s `plugins.available_on_server`: name → priority and version.
pub fn available_on_server(version: &str) -> Value {
    let map: Map<String, Value> = known()
        .into_iter()
        .map(|(name, priority)| {
            (
                name.to_string(),
                json!({ "priority": priority, "version": version }),
            )
        })
        .collect();
    Value::Object(map)
}

/// Validate a plugin entity: its own rules (`entity_check`), a known name, and the plugin's
/// view of its `config`; every problem is reported together.
pub fn check(
    value: Value,
    entity_check: fn(Value) -> Result<Value, FieldErrors>,
) -> Result<Value, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = value["name"].as_str().unwrap_or_default().to_string();
    if !name.is_empty() && !is_known(&name) {
        errors.add(
            "name",
            format!("plugin '{name}' not enabled; add it to the 'plugins' configuration property"),
        );
    }
    let checked = entity_check(value);
    match &checked {
        Ok(entity) if errors.is_empty() && is_known(&name) => {
            if let Err(config_errors) =
                registry::build(&name, &entity["config"], &registry::BuildContext::default())
            {
                append(&mut errors, config_errors);
            }
        }
        Ok(_) => {}
        Err(entity_errors) => append(&mut errors, entity_errors.clone()),
    }
    errors.into_result()?;
    checked
}

fn append(into: &mut FieldErrors, from: FieldErrors) {
    for (field, message) in from.iter() {
        into.add(field, message);
    }
}
