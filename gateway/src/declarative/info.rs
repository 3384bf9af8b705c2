//! decK's top-level `_info` block. `select_tags` are added to the `tags` of every entity in
//! the file (and scope `config sync`, see [`super::select_tags`]); `defaults` and
//! `default_lookup_tags` change what a file means, so they are accepted only when empty.

use super::document::Entry;
use super::yaml::{Body, Node};
use super::Problem;
use crate::entities::valid_tag;
use serde_json::Value;

/// The top-level key.
pub const KEY: &str = "_info";

/// decK's keys that we do not implement: ignoring them would change the configuration.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "defaults",
        "decK's '_info.defaults' is not supported by this gateway: state the values on each entity",
    ),
    (
        "default_lookup_tags",
        "decK's '_info.default_lookup_tags' is not supported by this gateway: references \
         resolve to entities in this file only",
    ),
];

/// `_info.select_tags`, without duplicates; empty without `_info` (or with an empty list).
/// Problems point at the offending key or tag.
pub fn select_tags(root: &Node, problems: &mut Vec<Problem>) -> Vec<String> {
    let Some(info) = root.entry(KEY) else {
        return Vec::new();
    };
    let entries = match &info.value.body {
        Body::Map(entries) => entries.as_slice(),
        Body::Scalar(Value::Null) => &[],
        _ => {
            problems.push(Problem::at(info.value.at, KEY, "expected a record"));
            return Vec::new();
        }
    };
    let mut tags = Vec::new();
    for entry in entries {
        let path = format!("{KEY}.{}", entry.key);
        match entry.key.as_str() {
            "select_tags" => tags = tag_list(&entry.value, &path, problems),
            key => {
                if let Some(message) = unsupported(key, &entry.value) {
                    problems.push(Problem::at(entry.at, path, message));
                }
            }
        }
    }
    tags
}

/// Why `key` (with `value`) is not accepted, if it is not.
fn unsupported(key: &str, value: &Node) -> Option<String> {
    match UNSUPPORTED.iter().find(|(k, _)| *k == key) {
        Some(_) if empty(value) => None,
        Some((_, message)) => Some(message.to_string()),
        None => Some(format!("unknown key '{key}'")),
    }
}

fn empty(node: &Node) -> bool {
    match &node.body {
        Body::Map(entries) => entries.is_empty(),
        Body::Seq(items) => items.is_empty(),
        Body::Scalar(value) => value.is_null(),
    }
}

/// A list of valid tags; a problem for anything else.
fn tag_list(node: &Node, path: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let items = match &node.body {
        Body::Seq(items) => items.as_slice(),
        Body::Scalar(Value::Null) => &[],
        _ => {
            problems.push(Problem::at(node.at, path, "expected an array of tags"));
            return Vec::new();
        }
    };
    let mut tags: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match &item.body {
            Body::Scalar(Value::String(tag)) if valid_tag(tag) => {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
            _ => problems.push(Problem::at(
                item.at,
                format!("{path}[{i}]"),
                "invalid tag: expected a non-empty printable string without ',' or '/'",
            )),
        }
    }
    tags
}

/// Add every select tag an entity does not state to its `tags` (stated ones first).
pub fn add_tags(entries: &mut [Entry<'_>], select_tags: &[String]) {
    if select_tags.is_empty() {
        return;
    }
    for entry in entries {
        let mut tags = match entry.fields.remove("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(Value::Object(map)) if map.is_empty() => Vec::new(),
            Some(single @ Value::String(_)) => vec![single],
            // Not a list of tags: leave it for validation to report.
            Some(other) => {
                entry.fields.insert("tags".into(), other);
                continue;
            }
        };
        for tag in select_tags {
            if !tags.iter().any(|t| t.as_str() == Some(tag)) {
                tags.push(Value::String(tag.clone()));
            }
        }
        entry.fields.insert("tags".into(), Value::Array(tags));
    }
}
