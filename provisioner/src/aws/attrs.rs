//! Reading desired attributes in drivers, and building observed ones, without panics.

use std::collections::BTreeMap;

use super::error::AwsError;
use crate::core::resource::{Attr, LOGICAL_TAG, STACK_TAG};

/// Attributes of one resource: desired (references resolved) or observed.
pub type Attrs = BTreeMap<String, Attr>;

/// Typed access to an [`Attrs`]; a missing or mistyped attribute is a model error naming it.
pub trait AttrsExt {
    fn attr(&self, key: &str) -> Result<&Attr, AwsError>;
    fn str(&self, key: &str) -> Result<&str, AwsError>;
    fn opt_str(&self, key: &str) -> Option<&str>;
    fn int(&self, key: &str) -> Result<i64, AwsError>;
    fn opt_int(&self, key: &str) -> Option<i64>;
    fn float(&self, key: &str) -> Result<f64, AwsError>;
    fn bool(&self, key: &str) -> Result<bool, AwsError>;
    fn opt_bool(&self, key: &str) -> Option<bool>;
    /// A list of strings (an absent attribute is an empty list).
    fn strs(&self, key: &str) -> Result<Vec<String>, AwsError>;
    /// A map attribute as its own [`Attrs`] (absent: empty).
    fn map(&self, key: &str) -> Result<Attrs, AwsError>;
    /// The `tags` map as string pairs, ownership tags included.
    fn tag_pairs(&self) -> Vec<(String, String)>;
}

impl AttrsExt for Attrs {
    fn attr(&self, key: &str) -> Result<&Attr, AwsError> {
        self.get(key)
            .ok_or_else(|| AwsError::Model(format!("attribute `{key}` is missing")))
    }

    fn str(&self, key: &str) -> Result<&str, AwsError> {
        match self.attr(key)? {
            Attr::Str(text) => Ok(text),
            other => Err(mistyped(key, "a string", other)),
        }
    }

    fn opt_str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Attr::Str(text)) => Some(text),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Result<i64, AwsError> {
        match self.attr(key)? {
            Attr::Int(n) => Ok(*n),
            Attr::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
            other => Err(mistyped(key, "an integer", other)),
        }
    }

    fn opt_int(&self, key: &str) -> Option<i64> {
        self.int(key).ok()
    }

    fn float(&self, key: &str) -> Result<f64, AwsError> {
        match self.attr(key)? {
            Attr::Float(f) => Ok(*f),
            Attr::Int(n) => Ok(*n as f64),
            other => Err(mistyped(key, "a number", other)),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, AwsError> {
        match self.attr(key)? {
            Attr::Bool(b) => Ok(*b),
            other => Err(mistyped(key, "a boolean", other)),
        }
    }

    fn opt_bool(&self, key: &str) -> Option<bool> {
        self.bool(key).ok()
    }

    fn strs(&self, key: &str) -> Result<Vec<String>, AwsError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Attr::List(items)) => items
                .iter()
                .map(|item| match item {
                    Attr::Str(text) => Ok(text.clone()),
                    other => Err(mistyped(key, "a list of strings", other)),
                })
                .collect(),
            Some(other) => Err(mistyped(key, "a list", other)),
        }
    }

    fn map(&self, key: &str) -> Result<Attrs, AwsError> {
        match self.get(key) {
            None => Ok(Attrs::new()),
            Some(Attr::Map(map)) => Ok(map.clone()),
            Some(other) => Err(mistyped(key, "a map", other)),
        }
    }

    fn tag_pairs(&self) -> Vec<(String, String)> {
        match self.get("tags") {
            Some(Attr::Map(tags)) => tags
                .iter()
                .filter_map(|(k, v)| match v {
                    Attr::Str(text) => Some((k.clone(), text.clone())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn mistyped(key: &str, wanted: &str, got: &Attr) -> AwsError {
    AwsError::Model(format!("attribute `{key}` should be {wanted}, not {got:?}"))
}

/// The attribute that names a resource in AWS (`id`, else `arn`, else `name`) and its value.
pub fn handle(attrs: &Attrs) -> Option<(&'static str, &str)> {
    ["id", "arn", "name"]
        .into_iter()
        .find_map(|k| match attrs.get(k) {
            Some(Attr::Str(v)) => Some((k, v.as_str())),
            _ => None,
        })
}

/// A `tags` attribute from AWS's key/value pairs.
pub fn tags_attr<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Attr {
    Attr::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Attr::Str(v.to_string())))
            .collect(),
    )
}

/// The logical name in a tag set, when the set names `stack` as its owner.
pub fn owned_logical<'a>(
    stack: &str,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let mut owner = None;
    let mut logical = None;
    for (k, v) in pairs {
        if k == STACK_TAG {
            owner = Some(v);
        } else if k == LOGICAL_TAG {
            logical = Some(v.to_string());
        }
    }
    (owner == Some(stack)).then_some(logical).flatten()
}

/// Ownership tags for a kind that takes none (recorded elsewhere, e.g. in a description), so the
/// planner sees the same ownership as for tagged kinds.
pub fn synthetic_tags(stack: &str, logical: &str) -> Attr {
    tags_attr([(STACK_TAG, stack), (LOGICAL_TAG, logical)])
}

/// Short constructors for observed attributes.
pub fn s(value: impl Into<String>) -> Attr {
    Attr::Str(value.into())
}

pub fn strs<I, T>(items: I) -> Attr
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    Attr::List(items.into_iter().map(|t| Attr::Str(t.into())).collect())
}
