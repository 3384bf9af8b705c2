//! A serde `Deserializer` over the spanned TOML tree that keeps going after a problem.
//!
//! Each problem is recorded in the [`Collector`] with its span, then decoding continues with a
//! stand-in (zero, empty string, first enum variant) so one run reports every problem. Unknown
//! keys are reported and skipped; every field a struct declares but the file lacks is handed to
//! serde as an absent node, which becomes `None` for an `Option`, an empty map or list, and a
//! "missing key" problem otherwise. So the model must not rely on `#[serde(default)]` for scalars.

use std::fmt;
use std::ops::Range;

use serde::de;
use toml::de::DeValue;
use toml::Spanned;

use super::collector::Collector;
use super::suggest::unknown_key_message;
use crate::env::interpolate;
use crate::secrets::{looks_like_secret, refusal};

/// Maps whose keys may name secrets: their values are references, checked by the rules.
const SECRET_REFERENCE_MAPS: &[&str] = &["gateway.secrets"];

/// A decoding error; `reported` once it is in the collector, so callers up the tree stay quiet.
#[derive(Debug)]
pub struct DeError {
    message: String,
    reported: bool,
}

impl DeError {
    pub(super) fn reported() -> Self {
        Self {
            message: String::new(),
            reported: true,
        }
    }

    pub(super) fn is_reported(&self) -> bool {
        self.reported
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            reported: false,
        }
    }
}

/// One value of the tree (or a field the file lacks) at a dotted path.
pub struct Node<'a, 'i> {
    pub(super) value: Option<&'a Spanned<DeValue<'i>>>,
    pub(super) path: String,
    /// Where to point when the value is absent: the key of the enclosing table.
    anchor: Range<usize>,
    /// An enclosing table is already reported missing or wrong: stay silent about absences.
    quiet: bool,
    ctx: &'a Collector<'a>,
}

// === impl Node ===

impl<'a, 'i> Node<'a, 'i> {
    pub fn root(value: &'a Spanned<DeValue<'i>>, ctx: &'a Collector<'a>) -> Self {
        Self {
            value: Some(value),
            path: String::new(),
            anchor: 0..0,
            quiet: false,
            ctx,
        }
    }

    pub(super) fn child(
        &self,
        key: &str,
        value: Option<&'a Spanned<DeValue<'i>>>,
        anchor: Range<usize>,
    ) -> Self {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        Self {
            value,
            path,
            anchor,
            quiet: self.quiet,
            ctx: self.ctx,
        }
    }

    pub(super) fn ctx(&self) -> &'a Collector<'a> {
        self.ctx
    }

    pub(super) fn span(&self) -> Range<usize> {
        self.value.map_or_else(|| self.anchor.clone(), |v| v.span())
    }

    pub(super) fn fail(&self, message: String) {
        self.ctx.report(&self.path, self.span(), message);
    }

    pub(super) fn fail_type(&self, expected: &str) {
        if let Some(value) = self.value {
            self.fail(format!(
                "expected {expected}, found {}",
                describe(value.get_ref())
            ));
        }
    }

    pub(super) fn fail_missing(&self) {
        if !self.quiet {
            let key = self.path.rsplit('.').next().unwrap_or_default();
            self.fail(format!("missing required key `{key}`"));
        }
    }

    /// Reports a visitor's own error at this path, once.
    pub(super) fn settle<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|err| {
            if !err.reported {
                self.fail(err.message);
            }
            DeError::reported()
        })
    }

    pub(super) fn integer(&self, min: i128, max: i128) -> i128 {
        match self.value.map(Spanned::get_ref) {
            Some(DeValue::Integer(int)) => match i128::from_str_radix(int.as_str(), int.radix()) {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.fail(format!("{int} is out of range: expected {min} to {max}"));
                    0
                }
            },
            Some(_) => {
                self.fail_type("an integer");
                0
            }
            None => {
                self.fail_missing();
                0
            }
        }
    }

    pub(super) fn string(&self) -> String {
        match self.value.map(Spanned::get_ref) {
            Some(DeValue::String(text)) => interpolate(text, self.ctx.env).unwrap_or_else(|err| {
                self.fail(err.to_string());
                text.to_string()
            }),
            Some(_) => {
                self.fail_type("a string");
                String::new()
            }
            None => {
                self.fail_missing();
                String::new()
            }
        }
    }

    /// The present entries a struct knows, reporting (and dropping) the others.
    fn known_entries(&self, fields: &'static [&'static str]) -> Vec<(String, Node<'a, 'i>)> {
        let Some(DeValue::Table(table)) = self.value.map(Spanned::get_ref) else {
            return Vec::new();
        };
        let mut entries = Vec::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            let node = self.child(name, Some(value), key.span());
            if fields.contains(&name) {
                let is_table = matches!(value.get_ref(), DeValue::Table(_));
                let at = if is_table { key.span() } else { value.span() };
                self.ctx.remember(&node.path, key.span(), at);
                entries.push((name.to_string(), node));
            } else if looks_like_secret(name) {
                self.ctx.report(&node.path, key.span(), refusal(name));
            } else {
                self.ctx
                    .report(&node.path, key.span(), unknown_key_message(name, fields));
            }
        }
        entries
    }

    /// A struct's fields: those present, then an absent node for each field the file lacks.
    pub(super) fn struct_fields(
        mut self,
        fields: &'static [&'static str],
    ) -> Vec<(String, Node<'a, 'i>)> {
        match self.value.map(Spanned::get_ref) {
            Some(DeValue::Table(_)) => {}
            Some(_) => {
                self.fail_type("a table");
                self.quiet = true;
            }
            None => {
                if !self.quiet {
                    self.fail(format!("missing required table `[{}]`", self.path));
                }
                self.quiet = true;
            }
        }
        let mut entries = self.known_entries(fields);
        for field in fields {
            if !entries.iter().any(|(name, _)| name == field) {
                entries.push((
                    field.to_string(),
                    self.child(field, None, self.anchor.clone()),
                ));
            }
        }
        entries
    }

    /// A map's entries (tags, environment), refusing secret-looking keys.
    pub(super) fn map_entries(&self) -> Vec<(String, Node<'a, 'i>)> {
        let table = match self.value.map(Spanned::get_ref) {
            Some(DeValue::Table(table)) => table,
            Some(_) => {
                self.fail_type("a table");
                return Vec::new();
            }
            None => return Vec::new(),
        };
        let secrets_allowed = SECRET_REFERENCE_MAPS.contains(&self.path.as_str());
        let mut entries = Vec::new();
        for (key, value) in table.iter() {
            let node = self.child(key.get_ref(), Some(value), key.span());
            if !secrets_allowed && looks_like_secret(key.get_ref()) {
                self.ctx
                    .report(&node.path, key.span(), refusal(key.get_ref()));
                continue;
            }
            self.ctx.remember(&node.path, key.span(), value.span());
            entries.push((key.get_ref().to_string(), node));
        }
        entries
    }
}

pub(super) fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
