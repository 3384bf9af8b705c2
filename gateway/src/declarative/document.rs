//! The shape of a declarative document: `_format_version` and the other top-level keys, and
//! nested children (`services[].routes[]`, ...) flattened into one list of entries, each
//! remembering its parent and where it was written.

use super::yaml::{Body, Node};
use super::Problem;
use crate::entities::Kind;
use serde_json::{Map, Value};

const FORMAT_VERSIONS: &[&str] = &["1.1", "2.1", "3.0"];

/// Top-level keys that carry no entities and that we accept without effect.
const IGNORED_KEYS: &[&str] = &["_transform", "_workspace", "_comment", "_ignore"];

/// Kong entity kinds (core and bundled plugins) this gateway does not implement: named so the
/// error says "not supported" rather than "unknown".
const UNSUPPORTED: &[&str] = &[
    "certificates",
    "ca_certificates",
    "snis",
    "vaults",
    "workspaces",
    "parameters",
    "keys",
    "key_sets",
    "filter_chains",
    "consumer_groups",
    "basicauth_credentials",
    "hmacauth_credentials",
    "jwt_secrets",
    "oauth2_credentials",
    "mtls_auth_credentials",
];

/// One entity as written in the file.
#[derive(Debug)]
pub struct Entry<'a> {
    pub kind: Kind,
    /// `services[0].routes[1]`.
    pub path: String,
    pub node: &'a Node,
    /// Its own fields, without nested children and `_comment`/`_ignore`.
    pub fields: Map<String, Value>,
    /// The index (in the collected list) of the entity it is nested in.
    pub parent: Option<usize>,
}

/// The kinds that may be nested in an entity of `kind`, under their table name.
pub fn nested_kinds(kind: Kind) -> &'static [Kind] {
    match kind {
        Kind::Service => &[Kind::Route, Kind::Plugin],
        Kind::Route => &[Kind::Plugin],
        Kind::Consumer => &[Kind::KeyAuth, Kind::Acl, Kind::Plugin],
        Kind::Upstream => &[Kind::Target],
        Kind::KeyAuth | Kind::Acl | Kind::Plugin | Kind::Target => &[],
    }
}

/// The field of `child` that refers to a `parent` it is nested in.
pub fn parent_field(child: Kind, parent: Kind) -> Option<&'static str> {
    child
        .foreign_keys()
        .iter()
        .find(|(_, k)| *k == parent)
        .map(|(field, _)| *field)
}

/// Walk the document; structural problems go to `problems`.
pub fn collect<'a>(root: &'a Node, problems: &mut Vec<Problem>) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let Some(entries) = root.entries() else {
        problems.push(Problem::at(
            root.at,
            "",
            "expected a mapping with '_format_version' at the top level",
        ));
        return out;
    };
    let version = check_format_version(root, problems);
    for entry in entries {
        let key = entry.key.as_str();
        // `_info` is read by [`super::info`].
        if key == "_format_version" || key == super::info::KEY || IGNORED_KEYS.contains(&key) {
            continue;
        }
        match Kind::from_table(key) {
            Some(kind) => collect_list(kind, &entry.value, key, None, &mut out, problems),
            None => problems.push(Problem::at(entry.at, key, unknown_key(key))),
        }
    }
    if matches!(version, Some("1.1" | "2.1")) {
        mark_legacy_regex_paths(&mut out);
    }
    out
}

/// Before 3.0, a route path was a regex whenever it held anything but plain path characters;
/// since 3.0 a regex says so with `~`. Kong converts older files on load, and so do we.
fn mark_legacy_regex_paths(entries: &mut [Entry<'_>]) {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-~/%".contains(c);
    for entry in entries.iter_mut().filter(|e| e.kind == Kind::Route) {
        let Some(Value::Array(paths)) = entry.fields.get_mut("paths") else {
            continue;
        };
        for path in paths.iter_mut() {
            if let Value::String(p) = path {
                if !p.starts_with('~') && !p.chars().all(plain) {
                    *p = format!("~{p}");
                }
            }
        }
    }
}

/// The declared format version, if it is one we read.
fn check_format_version<'a>(root: &'a Node, problems: &mut Vec<Problem>) -> Option<&'a str> {
    let Some(entry) = root.entry("_format_version") else {
        problems.push(Problem::at(
            root.at,
            "_format_version",
            "required field missing: declare the format, e.g. _format_version: \"3.0\"",
        ));
        return None;
    };
    match &entry.value.body {
        Body::Scalar(Value::String(v)) if FORMAT_VERSIONS.contains(&v.as_str()) => Some(v),
        _ => {
            problems.push(Problem::at(
                entry.value.at,
                "_format_version",
                "expected one of: \"1.1\", \"2.1\", \"3.0\" (as a string)",
            ));
            None
        }
    }
}

fn unknown_key(key: &str) -> String {
    if UNSUPPORTED.contains(&key) {
        format!("Kong's '{key}' entities are not supported by this gateway")
    } else {
        format!("unknown key '{key}'")
    }
}

/// A list of entities of one kind, at the top level or nested in `parent`.
fn collect_list<'a>(
    kind: Kind,
    list: &'a Node,
    path: &str,
    parent: Option<usize>,
    out: &mut Vec<Entry<'a>>,
    problems: &mut Vec<Problem>,
) {
    let items = match &list.body {
        Body::Seq(items) => items.as_slice(),
        // `routes:` with nothing after it: an empty list.
        Body::Scalar(Value::Null) => &[],
        _ => {
            problems.push(Problem::at(list.at, path, "expected an array"));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        if item.entries().is_none() {
            problems.push(Problem::at(item.at, item_path, "expected a record"));
            continue;
        }
        collect_entity(kind, item, item_path, parent, out, problems);
    }
}

/// One entity: its own fields, then its nested children (which refer back to it).
fn collect_entity<'a>(
    kind: Kind,
    node: &'a Node,
    path: String,
    parent: Option<usize>,
    out: &mut Vec<Entry<'a>>,
    problems: &mut Vec<Problem>,
) {
    let index = out.len();
    let parent_kind = parent.map(|p| out[p].kind);
    let own_parent_field = parent_kind.and_then(|p| parent_field(kind, p));
    let mut fields = Map::new();
    let mut children = Vec::new();
    for entry in node.entries().unwrap_or_default() {
        let key = entry.key.as_str();
        let child_path = format!("{path}.{key}");
        if key == "_comment" || key == "_ignore" {
            continue;
        }
        if let Some(child) = nested_kinds(kind).iter().find(|k| k.table() == key) {
            children.push((*child, &entry.value, child_path));
        } else if Some(key) == own_parent_field {
            let parent = parent_kind.map(Kind::singular).unwrap_or_default();
            problems.push(Problem::at(
                entry.at,
                child_path,
                format!("must not be set here: it is the enclosing {parent}"),
            ));
        } else if UNSUPPORTED.contains(&key) {
            problems.push(Problem::at(entry.at, child_path, unknown_key(key)));
        } else {
            fields.insert(key.to_string(), entry.value.to_json());
        }
    }
    out.push(Entry {
        kind,
        path,
        node,
        fields,
        parent,
    });
    for (child, list, child_path) in children {
        collect_list(child, list, &child_path, Some(index), out, problems);
    }
}
