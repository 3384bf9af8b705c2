//! Kong's env vault: a string whose whole value is `{vault://env/NAME}` becomes the value of
//! the environment variable NAME (upper-cased, `-` as `_`, as Kong maps it) when a file is
//! read; `{vault://env/NAME/KEY}` takes the string KEY of the JSON object the variable holds.
//! No other vault exists here. Resolved values are remembered so reports can hide them.

use super::yaml::{Body, Node};
use super::Problem;
use serde_json::Value;

/// Looks an environment variable up. Injectable, so tests never touch the process
/// environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment; a variable that is not valid UTF-8 counts as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// What hidden values are shown as (the marker `config sync` already used for key-auth keys).
pub const HIDDEN: &str = "[redacted]";

/// The values vault references resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Remember a value; an empty one hides nothing.
    fn add(&mut self, value: &str) {
        if !value.is_empty() && !self.0.iter().any(|s| s == value) {
            self.0.push(value.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `value` is one of them, or a list or object holding one.
    pub fn hides(&self, value: &Value) -> bool {
        match value {
            Value::String(s) => self.0.contains(s),
            Value::Array(items) => items.iter().any(|v| self.hides(v)),
            Value::Object(map) => map.values().any(|v| self.hides(v)),
            _ => false,
        }
    }

    /// `text` with every one of them replaced by [`HIDDEN`], longest first.
    pub fn redact(&self, text: &str) -> String {
        let mut secrets: Vec<&String> = self.0.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
            .into_iter()
            .fold(text.to_string(), |text, s| text.replace(s.as_str(), HIDDEN))
    }
}

/// Replace every reference under `node` (at `path`, empty for the root) by its value.
/// Problems point at the reference and never show a value.
pub fn resolve(
    node: &mut Node,
    path: &str,
    env: Env<'_>,
    secrets: &mut Secrets,
    problems: &mut Vec<Problem>,
) {
    match &mut node.body {
        Body::Scalar(Value::String(text)) => {
            let Some(reference) = reference(text) else {
                return;
            };
            match lookup(reference, env) {
                Ok(value) => {
                    secrets.add(&value);
                    *text = value;
                }
                Err(message) => problems.push(Problem::at(node.at, path, message)),
            }
        }
        Body::Scalar(_) => {}
        Body::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve(item, &format!("{path}[{i}]"), env, secrets, problems);
            }
        }
        Body::Map(entries) => {
            for entry in entries {
                let child = match path {
                    "" => entry.key.clone(),
                    _ => format!("{path}.{}", entry.key),
                };
                resolve(&mut entry.value, &child, env, secrets, problems);
            }
        }
    }
}

/// What is between `{vault://` and `}`, when that is the whole text (Kong's test).
fn reference(text: &str) -> Option<&str> {
    text.strip_prefix("{vault://")?.strip_suffix('}')
}

/// The value a reference (`env/NAME` or `env/NAME/KEY`) names.
fn lookup(reference: &str, env: Env<'_>) -> Result<String, String> {
    let Some(rest) = reference.strip_prefix("env/") else {
        let vault = reference.split('/').next().unwrap_or_default();
        return Err(format!(
            "the '{vault}' vault is not supported: only the env vault is ({{vault://env/NAME}})"
        ));
    };
    if rest.contains(['?', '#']) {
        return Err("env vault references take no query or version: {vault://env/NAME}".into());
    }
    let (name, key) = match rest.split_once('/') {
        Some((name, key)) => (name, Some(key)),
        None => (rest, None),
    };
    if name.is_empty() || key.is_some_and(|k| k.is_empty() || k.contains('/')) {
        return Err("expected {vault://env/NAME} or {vault://env/NAME/KEY}".into());
    }
    let var = variable(name);
    let value = env(&var).ok_or_else(|| format!("environment variable {var} is not set"))?;
    match key {
        None => Ok(value),
        Some(key) => json_key(&value, key, &var),
    }
}

/// Kong's mapping from a reference to a variable: `gateway-admin-key` → `GATEWAY_ADMIN_KEY`.
pub fn variable(name: &str) -> String {
    name.replace('-', "_").to_ascii_uppercase()
}

/// The string `key` of the JSON object in variable `var`.
fn json_key(value: &str, key: &str, var: &str) -> Result<String, String> {
    let Ok(Value::Object(mut object)) = serde_json::from_str(value) else {
        return Err(format!(
            "environment variable {var} does not hold a JSON object, so it has no key '{key}'"
        ));
    };
    match object.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!(
            "key '{key}' of environment variable {var} is not a string"
        )),
        None => Err(format!("environment variable {var} has no key '{key}'")),
    }
}
