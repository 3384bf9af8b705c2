//! Field-level validation errors, collected rather than returned at the first problem.

use serde_json::{Map, Value};

/// Problems found in one entity, keyed by field path (`port`, `paths.1`, `config.minute`).
/// The key `@entity` holds errors about the entity as a whole, as Kong does.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors {
    entries: Vec<(String, String)>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.entries.push((field.to_string(), message.into()));
    }

    /// A problem with the entity as a whole rather than one field.
    pub fn entity(&mut self, message: impl Into<String>) {
        self.add("@entity", message);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }

    /// `Ok(())` when nothing was found.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Prefix every field with `prefix.` (used for nested entities).
    pub fn nest(self, prefix: &str) -> FieldErrors {
        FieldErrors {
            entries: self
                .entries
                .into_iter()
                .map(|(f, m)| (format!("{prefix}.{f}"), m))
                .collect(),
        }
    }

    /// Kong's summary line: `schema violation (port: ...)` or `2 schema violations (...)`.
    pub fn message(&self) -> String {
        let parts: Vec<String> = self.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        match parts.len() {
            1 => format!("schema violation ({})", parts[0]),
            n => format!("{n} schema violations ({})", parts.join("; ")),
        }
    }

    /// Kong's `fields` object: dotted paths become nested objects, `@entity` a list.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        for (field, message) in self.iter() {
            if field == "@entity" {
                let list = root
                    .entry("@entity")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(Value::String(message.to_string()));
                }
                continue;
            }
            let mut node = &mut root;
            let parts: Vec<&str> = field.split('.').collect();
            for part in &parts[..parts.len() - 1] {
                let next = node
                    .entry(part.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !next.is_object() {
                    *next = Value::Object(Map::new());
                }
                node = next.as_object_mut().expect("just made an object");
            }
            node.insert(
                parts[parts.len() - 1].to_string(),
                Value::String(message.to_string()),
            );
        }
        Value::Object(root)
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for FieldErrors {}
