//! From collected entries to a [`Config`]: parents' ids handed to nested children, references
//! by name or id resolved, deterministic ids given, every entity validated by the entity
//! model, and uniqueness inside the file checked.

use super::document::{parent_field, Entry};
use super::ids;
use super::yaml::{Position, Segment};
use super::Problem;
use crate::config::Config;
use crate::entities::{self, FieldErrors, Kind};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Timestamp given to entities whose file states none: fixed, so parsing is deterministic
/// (`config sync` stamps real times when it writes).
pub const UNSTAMPED: i64 = 0;

/// The config, and the id each entry got (by its index in `entries`).
pub fn build(entries: &[Entry<'_>], problems: &mut Vec<Problem>) -> (Config, Vec<Option<Uuid>>) {
    let mut state = State {
        ids: vec![None; entries.len()],
        ..State::default()
    };
    // Kind::ALL lists parents first, so every reference points at an entity already seen.
    for kind in Kind::ALL {
        for (i, entry) in entries.iter().enumerate().filter(|(_, e)| e.kind == kind) {
            state.add(i, entry, entries, problems);
        }
    }
    (state.config, state.ids)
}

#[derive(Default)]
struct State {
    config: Config,
    /// The id of each entry, by its index, once known.
    ids: Vec<Option<Uuid>>,
    /// What a reference may name: (kind, name or username) → id.
    names: HashMap<(Kind, String), Uuid>,
    known: HashSet<(Kind, Uuid)>,
    /// Unique values seen so far: (kind, what, value) → where.
    seen: HashMap<(Kind, &'static str, String), (Position, String)>,
}

impl State {
    fn add(&mut self, i: usize, entry: &Entry<'_>, all: &[Entry<'_>], problems: &mut Vec<Problem>) {
        let kind = entry.kind;
        let mut value = Value::Object(entry.fields.clone());
        let mut resolved = self.link(entry, all, &mut value, problems);
        for field in ["created_at", "updated_at"] {
            if value.get(field).is_none_or(Value::is_null) && has_field(kind, field) {
                value[field] = json!(UNSTAMPED);
            }
        }
        if kind == Kind::KeyAuth && value.get("key").is_none_or(Value::is_null) {
            problems.push(Problem::at(
                entry.node.at,
                format!("{}.key", entry.path),
                "required field missing: a generated key would change every time the file is loaded",
            ));
            resolved = false;
        }
        let explicit = entry.fields.contains_key("id");
        match validated(kind, value.clone()) {
            Ok(mut parsed) => {
                let id = match explicit {
                    true => parse_id(&parsed).unwrap_or_default(),
                    false => ids::derive(kind, &parsed),
                };
                parsed["id"] = json!(id);
                self.register(i, kind, id, &value);
                if resolved && self.unique(entry, &parsed, explicit, problems) {
                    push(&mut self.config, kind, parsed, entry, problems);
                }
            }
            Err(errors) => {
                problems.extend(field_problems(entry, &errors));
                let id = parse_id(&value).unwrap_or_else(|| ids::derive(kind, &value));
                self.register(i, kind, id, &value);
            }
        }
    }

    /// Fill the enclosing parent's id and resolve references by name or id; false when one
    /// does not resolve (a problem is reported, and the entity is not kept).
    fn link(
        &self,
        entry: &Entry<'_>,
        all: &[Entry<'_>],
        value: &mut Value,
        problems: &mut Vec<Problem>,
    ) -> bool {
        let nested = entry
            .parent
            .and_then(|p| Some((parent_field(entry.kind, all[p].kind)?, self.ids[p]?)));
        if let Some((field, id)) = nested {
            value[field] = json!({ "id": id });
        }
        let mut ok = true;
        for (field, target) in entry.kind.foreign_keys() {
            if nested.is_some_and(|(f, _)| f == *field) {
                continue;
            }
            let Some(reference) = value.get(*field).filter(|v| !v.is_null()) else {
                continue;
            };
            match self.resolve(*target, reference) {
                Some(id) => value[*field] = json!({ "id": id }),
                None => {
                    let shown = reference.get("id").unwrap_or(reference);
                    let shown = shown
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| shown.to_string());
                    let at = entry.node.locate(&[Segment::Key(field.to_string())]);
                    problems.push(Problem::at(
                        at,
                        format!("{}.{field}", entry.path),
                        format!(
                            "invalid reference '{shown}': no {} with this {} or id in the file",
                            target.singular(),
                            reference_key(*target)
                        ),
                    ));
                    value[*field] = json!({ "id": Uuid::nil() });
                    ok = false;
                }
            }
        }
        ok
    }

    /// A reference is a name (username for consumers) or an id, alone or as `{id: ...}`.
    fn resolve(&self, kind: Kind, reference: &Value) -> Option<Uuid> {
        let text = reference.get("id").unwrap_or(reference).as_str()?;
        if let Some(id) = self.names.get(&(kind, text.to_string())) {
            return Some(*id);
        }
        let id = Uuid::parse_str(text).ok()?;
        self.known.contains(&(kind, id)).then_some(id)
    }

    fn register(&mut self, i: usize, kind: Kind, id: Uuid, value: &Value) {
        self.ids[i] = Some(id);
        self.known.insert((kind, id));
        if let Some(name) = value.get(reference_key(kind)).and_then(Value::as_str) {
            self.names.entry((kind, name.to_string())).or_insert(id);
        }
    }

    /// Report the first value this entity shares with an earlier one: unique fields, then
    /// its natural key where the store keeps that unique, then its id.
    fn unique(
        &mut self,
        entry: &Entry<'_>,
        parsed: &Value,
        explicit: bool,
        problems: &mut Vec<Problem>,
    ) -> bool {
        let kind = entry.kind;
        let mut keys: Vec<(&'static str, String)> = kind
            .unique_fields()
            .iter()
            .filter_map(|f| Some((*f, parsed.get(*f)?.as_str()?.to_string())))
            .collect();
        if matches!(kind, Kind::Target | Kind::Acl | Kind::Plugin) {
            let field = match kind {
                Kind::Target => "target",
                Kind::Acl => "group",
                _ => "name",
            };
            keys.extend(ids::natural_key(kind, parsed).map(|k| (field, k)));
        }
        keys.push(("id", parsed["id"].as_str().unwrap_or_default().to_string()));
        for (field, key) in keys {
            let here = entry.node.locate(&[Segment::Key(field.to_string())]);
            let slot = (kind, field, key.clone());
            if let Some((first, first_path)) = self.seen.get(&slot) {
                let message = duplicate_message(kind, field, &key, explicit, first, first_path);
                problems.push(Problem::at(
                    here,
                    format!("{}.{field}", entry.path),
                    message,
                ));
                return false;
            }
            self.seen.insert(slot, (entry.node.at, entry.path.clone()));
        }
        true
    }
}

fn duplicate_message(
    kind: Kind,
    field: &str,
    key: &str,
    explicit: bool,
    first: &Position,
    first_path: &str,
) -> String {
    let there = format!("line {} ({first_path})", first.line);
    match (kind, field) {
        (Kind::KeyAuth, "key") => format!("this key is already used at {there}"),
        (Kind::Target, "target") => {
            format!("the same target is already in this upstream at {there}")
        }
        (Kind::Acl, "group") => format!("the consumer is already in this group at {there}"),
        (Kind::Plugin, "name") => format!(
            "this plugin is already configured for the same service, route and consumer at {there}"
        ),
        (_, "id") if !explicit => format!("same content as the {} at {there}", kind.singular()),
        _ => format!("{field} '{key}' is already used at {there}"),
    }
}

/// The field a reference to `kind` may name instead of an id.
fn reference_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Consumer => "username",
        Kind::KeyAuth => "key",
        _ => "name",
    }
}

fn has_field(kind: Kind, field: &str) -> bool {
    !(matches!(kind, Kind::KeyAuth | Kind::Acl) && field == "updated_at")
}

fn parse_id(value: &Value) -> Option<Uuid> {
    value.get("id")?.as_str()?.parse().ok()
}

/// Validate with the entity model and return the canonical JSON form.
fn validated(kind: Kind, value: Value) -> Result<Value, FieldErrors> {
    fn canonical<E: entities::Entity>(value: Value) -> Result<Value, FieldErrors> {
        let entity: E = entities::parse(value)?;
        serde_json::to_value(entity).map_err(|e| {
            let mut errors = FieldErrors::default();
            errors.entity(format!("cannot be represented as JSON: {e}"));
            errors
        })
    }
    match kind {
        Kind::Service => canonical::<entities::Service>(value),
        Kind::Route => canonical::<entities::Route>(value),
        Kind::Consumer => canonical::<entities::Consumer>(value),
        Kind::KeyAuth => canonical::<entities::KeyAuthCredential>(value),
        Kind::Acl => canonical::<entities::Acl>(value),
        Kind::Plugin => canonical::<entities::Plugin>(value),
        Kind::Upstream => canonical::<entities::Upstream>(value),
        Kind::Target => canonical::<entities::Target>(value),
    }
}

/// Add an already validated entity (its canonical JSON) to the config.
fn push(
    config: &mut Config,
    kind: Kind,
    value: Value,
    entry: &Entry<'_>,
    problems: &mut Vec<Problem>,
) {
    fn to<E: entities::Entity>(list: &mut Vec<E>, value: Value) -> Result<(), serde_json::Error> {
        list.push(serde_json::from_value(value)?);
        Ok(())
    }
    let result = match kind {
        Kind::Service => to(&mut config.services, value),
        Kind::Route => to(&mut config.routes, value),
        Kind::Consumer => to(&mut config.consumers, value),
        Kind::KeyAuth => to(&mut config.keyauth_credentials, value),
        Kind::Acl => to(&mut config.acls, value),
        Kind::Plugin => to(&mut config.plugins, value),
        Kind::Upstream => to(&mut config.upstreams, value),
        Kind::Target => to(&mut config.targets, value),
    };
    if let Err(err) = result {
        problems.push(Problem::at(
            entry.node.at,
            entry.path.clone(),
            format!("internal error: {err}"),
        ));
    }
}

/// The entity model's field errors, with full document paths and the position of each field.
pub fn field_problems(entry: &Entry<'_>, errors: &FieldErrors) -> Vec<Problem> {
    errors
        .iter()
        .map(|(field, message)| {
            let segments = field_segments(field);
            let mut path = entry.path.clone();
            for segment in &segments {
                match segment {
                    Segment::Key(k) => path = format!("{path}.{k}"),
                    Segment::Index(i) => path = format!("{path}[{i}]"),
                }
            }
            Problem::at(entry.node.locate(&segments), path, message)
        })
        .collect()
}

/// `paths.1` (the entity model's 1-based lists) and `paths[0]` (serde's 0-based ones) both
/// become `[Key("paths"), Index(0)]`; `@entity` is the entity itself.
fn field_segments(field: &str) -> Vec<Segment> {
    if field == "@entity" {
        return Vec::new();
    }
    let mut segments = Vec::new();
    for part in field.split('.') {
        let mut pieces = part.split('[');
        let head = pieces.next().unwrap_or_default();
        match head.parse::<usize>() {
            Ok(n) if n >= 1 => segments.push(Segment::Index(n - 1)),
            _ if !head.is_empty() => segments.push(Segment::Key(head.to_string())),
            _ => {}
        }
        for piece in pieces {
            if let Ok(n) = piece.trim_end_matches(']').parse::<usize>() {
                segments.push(Segment::Index(n));
            }
        }
    }
    segments
}
