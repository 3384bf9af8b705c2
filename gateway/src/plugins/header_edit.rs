//! Header, parameter and JSON edits as pure data (remove, rename, replace, add, append), shared by
//! request-transformer and response-transformer, plus the parsing of Kong's `name:value` lists.

use crate::entities::FieldErrors;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Edits in Kong's order, over names `N` (header names, parameter or JSON keys) and values `V`
/// (a ready value, or a template slot rendered per request).
#[derive(Debug, Clone)]
pub struct Edit<N, V> {
    pub remove: Vec<N>,
    pub rename: Vec<(N, N)>,
    /// Only names that are present.
    pub replace: Vec<(N, V)>,
    /// Only names that are absent.
    pub add: Vec<(N, V)>,
    /// One more value, whether or not the name is present.
    pub append: Vec<(N, V)>,
}

/// Header edits.
pub type HeaderEdit<V> = Edit<HeaderName, V>;

impl<N, V> Default for Edit<N, V> {
    fn default() -> Self {
        Edit {
            remove: Vec::new(),
            rename: Vec::new(),
            replace: Vec::new(),
            add: Vec::new(),
            append: Vec::new(),
        }
    }
}

impl<N, V> Edit<N, V> {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.replace.is_empty()
            && self.add.is_empty()
            && self.append.is_empty()
    }
}

impl<V> Edit<HeaderName, V> {
    /// Apply every edit; a value that `value` cannot turn into a header value is skipped.
    pub fn apply<'v>(
        &'v self,
        headers: &mut HeaderMap,
        value: impl Fn(&'v V) -> Option<HeaderValue>,
    ) {
        for name in &self.remove {
            headers.remove(name);
        }
        for (old, new) in &self.rename {
            // Every value moves, so a repeated header stays repeated.
            let values: Vec<HeaderValue> = headers.get_all(old).iter().cloned().collect();
            if values.is_empty() {
                continue;
            }
            headers.remove(old);
            headers.remove(new);
            for v in values {
                headers.append(new.clone(), v);
            }
        }
        for (name, v) in &self.replace {
            if headers.contains_key(name) {
                if let Some(v) = value(v) {
                    headers.insert(name.clone(), v);
                }
            }
        }
        for (name, v) in &self.add {
            if !headers.contains_key(name) {
                if let Some(v) = value(v) {
                    headers.insert(name.clone(), v);
                }
            }
        }
        for (name, v) in &self.append {
            if let Some(v) = value(v) {
                headers.append(name.clone(), v);
            }
        }
    }
}

impl<V> Edit<String, V> {
    /// Apply to a JSON object with Lua-table semantics: `replace` needs a truthy field, `add` a
    /// missing (or `false`) one; a value that `value` gives no JSON for is skipped.
    pub fn apply_json<'v>(
        &'v self,
        object: &mut Map<String, Value>,
        value: impl Fn(&'v V) -> Option<Value>,
    ) {
        for name in &self.remove {
            object.remove(name);
        }
        for (old, new) in &self.rename {
            if let Some(v) = object.remove(old) {
                object.insert(new.clone(), v);
            }
        }
        for (name, v) in &self.replace {
            if truthy(object, name) {
                if let Some(v) = value(v) {
                    object.insert(name.clone(), v);
                }
            }
        }
        for (name, v) in &self.add {
            if !truthy(object, name) {
                if let Some(v) = value(v) {
                    object.insert(name.clone(), v);
                }
            }
        }
        for (name, v) in &self.append {
            if let Some(v) = value(v) {
                let current = object.remove(name);
                object.insert(name.clone(), append_value(current, v));
            }
        }
    }
}

// === `name:value` entries ===

/// Kong's split of a `name:value` entry (`^([^:]+):*(.-)$`): the name ends at the first colon,
/// and every colon right after it is dropped. None for an entry that does not match.
pub fn split_pair(entry: &str) -> Option<(&str, &str)> {
    let (name, value) = entry.split_once(':')?;
    (!name.is_empty()).then(|| (name, value.trim_start_matches(':')))
}

/// The name part of a `remove` entry (which needs no colon).
pub fn name_of(entry: &str) -> &str {
    entry.split(':').next().unwrap_or(entry)
}

/// Kong's `validate_header_name`: letters, digits, `-` and `_`.
pub fn header_name(name: &str) -> Option<HeaderName> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(allowed) {
        return None;
    }
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).ok()
}

/// The message for an invalid header name, as Kong words it.
pub fn bad_header(name: &str) -> String {
    format!("'{name}' is not a valid header")
}

/// A `name:value` entry, or Kong's `invalid value` error at `field`.
pub fn pair<'e>(
    entry: &'e str,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<(&'e str, &'e str)> {
    let found = split_pair(entry);
    if found.is_none() {
        errors.add(field, format!("invalid value: {entry}"));
    }
    found
}

/// Kong's header entries under one operation, into `edit`: `remove` takes names, `rename`
/// `old:new`, the others `name:value`, where an empty value does nothing. `keep` says whether the
/// operation may touch a header at all; `value` makes what the edit stores from a value and its
/// whole entry, or says what is wrong with it. Every error is added at the entry's field.
pub fn header_entries<V>(
    op: &str,
    entries: &[String],
    edit: &mut HeaderEdit<V>,
    errors: &mut FieldErrors,
    keep: impl Fn(&str, &HeaderName) -> bool,
    mut value: impl FnMut(&str, &str) -> Result<V, String>,
) {
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("config.{op}.headers.{}", i + 1);
        if op == "remove" {
            match header_name(name_of(entry)) {
                Some(name) if keep(op, &name) => edit.remove.push(name),
                Some(_) => {}
                None => errors.add(&field, bad_header(name_of(entry))),
            }
            continue;
        }
        let Some((name, raw)) = pair(entry, &field, errors) else {
            continue;
        };
        let Some(header) = header_name(name) else {
            errors.add(&field, bad_header(name));
            continue;
        };
        if op == "rename" {
            match header_name(raw) {
                Some(new) if keep(op, &header) => edit.rename.push((header, new)),
                Some(_) => {}
                None => errors.add(&field, bad_header(raw)),
            }
            continue;
        }
        // Kong skips an entry without a value.
        if raw.is_empty() || !keep(op, &header) {
            continue;
        }
        match (value(raw, entry), op) {
            (Ok(v), "replace") => edit.replace.push((header, v)),
            (Ok(v), "add") => edit.add.push((header, v)),
            (Ok(v), _) => edit.append.push((header, v)),
            (Err(message), _) => errors.add(&field, message),
        }
    }
}

// === config parsing ===

/// Deserialize a plugin config, reporting the failing field as `config.<path>`.
pub fn parse_config<T: DeserializeOwned>(config: &Value) -> Result<T, FieldErrors> {
    serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let mut errors = FieldErrors::default();
        let message = message.split(" at line").next().unwrap_or(&message);
        let field = if path == "." {
            "config".to_string()
        } else {
            format!("config.{path}")
        };
        let message = if message.starts_with("unknown field `") {
            "unknown field"
        } else {
            message
        };
        errors.add(&field, message);
        errors
    })
}

/// A list that Kong may also write as `null`.
pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

// === JSON values (Lua table semantics) ===

/// Lua truthiness of a table field: absent and `false` are false; JSON `null` is a value.
pub fn truthy(object: &Map<String, Value>, name: &str) -> bool {
    !matches!(object.get(name), None | Some(Value::Bool(false)))
}

/// Kong's `append_value`: a string becomes a list of two, a list grows, anything else is
/// replaced by a list of one.
pub fn append_value(current: Option<Value>, value: Value) -> Value {
    match current {
        Some(Value::String(s)) => Value::Array(vec![Value::String(s), value]),
        Some(Value::Array(mut items)) => {
            items.push(value);
            Value::Array(items)
        }
        _ => Value::Array(vec![value]),
    }
}

#[cfg(test)]
mod tests;
