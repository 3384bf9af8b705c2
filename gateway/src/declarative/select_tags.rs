//! `config sync` scoped by decK's select tags (`_info.select_tags`): only the database
//! entities that carry all of them take part in the diff; the others are neither updated nor
//! deleted, as with decK. Every entity of the file carries them (see [`super::info`]).
//!
//! Decisions where decK leaves it to Kong's errors, or where we are stricter:
//! - References in the file resolve to entities of the file only (decK without
//!   `default_lookup_tags`), so nothing the file creates points outside the selection.
//! - A file entity that would collide with an entity outside the selection (same id, unique
//!   field such as a consumer's username or a credential's key, or what the store keeps
//!   unique together, such as a plugin in its scope) is an error naming the file entity and
//!   its line: sync neither takes the other over nor lets the database refuse the write.
//! - Deleting an entity that an unselected one still needs (a service that its routes use)
//!   is an error too; unselected children that Kong cascades (credentials, ACLs, plugins,
//!   targets) go with their parent, as with decK.

use super::diff::{diff, diff_where, id_of, label, Change};
use super::{DeclarativeError, Loaded, Problem};
use crate::config::Config;
use crate::entities::Kind;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// What `gateway config sync` changes to make the database match `loaded`: everything
/// without select tags (a full sync), else only the entities that carry them all.
pub fn plan(current: &Config, loaded: &Loaded) -> Result<Vec<Change>, DeclarativeError> {
    let tags = &loaded.select_tags;
    if tags.is_empty() {
        return Ok(diff(current, &loaded.config));
    }
    let (changes, remap) = diff_where(current, &loaded.config, |_, v| selected(v, tags));
    let outside = Outside::of(current, tags);
    let mut problems = clashes(&changes, &remap, &outside, loaded);
    problems.extend(blocked_deletes(&changes, &outside, loaded));
    if problems.is_empty() {
        return Ok(changes);
    }
    problems.sort_by_key(|p| (p.line, p.column));
    for p in &mut problems {
        p.message = loaded.secrets.redact(&p.message);
    }
    Err(DeclarativeError {
        origin: loaded.origin.clone(),
        problems,
    })
}

/// The line `config sync` prints first when select tags scope it.
pub fn scope_line(select_tags: &[String]) -> Option<String> {
    (!select_tags.is_empty()).then(|| {
        format!(
            "Select tags: {} (entities without all of them are neither updated nor deleted)",
            select_tags.join(", ")
        )
    })
}

/// Whether an entity's canonical JSON carries every one of `tags`.
fn selected(value: &Value, tags: &[String]) -> bool {
    let have = value.get("tags").and_then(Value::as_array);
    tags.iter()
        .all(|t| have.is_some_and(|h| h.iter().any(|v| v.as_str() == Some(t))))
}

/// The current entities outside the selection, indexed for the checks.
#[derive(Default)]
struct Outside {
    /// (kind, what, value) of every [`unique_keys`] → the entity holding it.
    keys: HashMap<(Kind, &'static str, String), Value>,
    /// (parent kind, parent id) → the entities that keep the parent from being deleted.
    blockers: HashMap<(Kind, Uuid), Vec<(Kind, Value)>>,
}

impl Outside {
    fn of(current: &Config, tags: &[String]) -> Outside {
        let mut outside = Outside::default();
        for kind in Kind::ALL {
            for value in current.values(kind) {
                if !selected(&value, tags) {
                    outside.add(kind, value);
                }
            }
        }
        outside
    }

    fn add(&mut self, kind: Kind, value: Value) {
        for (what, key) in unique_keys(kind, &value) {
            self.keys.insert((kind, what, key), value.clone());
        }
        for (field, parent) in kind.foreign_keys() {
            if let Some(id) = reference(&value, field).filter(|_| !kind.cascades_from(*parent)) {
                let blockers = self.blockers.entry((*parent, id)).or_default();
                blockers.push((kind, value.clone()));
            }
        }
    }

    /// The first unique value `value` shares with an entity outside: what, and that entity.
    fn clash(&self, kind: Kind, value: &Value) -> Option<(&'static str, &Value)> {
        unique_keys(kind, value)
            .into_iter()
            .find_map(|(what, key)| Some((what, self.keys.get(&(kind, what, key))?)))
    }
}

/// What the store keeps unique for an entity: its id, its unique fields, and what is unique
/// together (a target in its upstream, a group in its consumer, a plugin in its scope).
fn unique_keys(kind: Kind, value: &Value) -> Vec<(&'static str, String)> {
    let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
    let scope = |fields: &[&str]| {
        let ids = fields
            .iter()
            .map(|f| reference(value, f).unwrap_or_default());
        ids.map(|id| id.to_string()).collect::<Vec<_>>().join("/")
    };
    let mut keys = vec![("id", id_of(value).to_string())];
    keys.extend(
        kind.unique_fields()
            .iter()
            .filter_map(|f| Some((*f, text(f)?))),
    );
    keys.extend(match kind {
        Kind::Target => text("target").map(|t| ("target", format!("{}/{t}", scope(&["upstream"])))),
        Kind::Acl => text("group").map(|g| ("group", format!("{}/{g}", scope(&["consumer"])))),
        Kind::Plugin => text("name").map(|n| {
            let within = scope(&["service", "route", "consumer"]);
            ("scope", format!("{n}@{within}"))
        }),
        _ => None,
    });
    keys
}

/// The id an entity's reference `field` points at.
fn reference(value: &Value, field: &str) -> Option<Uuid> {
    let id = value.get(field)?.get("id")?.as_str()?;
    id.parse().ok()
}

/// Creates and updates that would collide with an entity outside the selection, reported at
/// the file entity.
fn clashes(
    changes: &[Change],
    remap: &HashMap<Uuid, Uuid>,
    outside: &Outside,
    loaded: &Loaded,
) -> Vec<Problem> {
    // An update carries the current id; the file knows the entity by the id it gave it.
    let file_id: HashMap<Uuid, Uuid> = remap.iter().map(|(file, db)| (*db, *file)).collect();
    let mut problems = Vec::new();
    for change in changes {
        let (kind, value) = match change {
            Change::Create { kind, value, .. } => (*kind, value),
            Change::Update { kind, after, .. } => (*kind, after),
            Change::Delete { .. } => continue,
        };
        let Some((what, other)) = outside.clash(kind, value) else {
            continue;
        };
        let id = id_of(value);
        let id = file_id.get(&id).copied().unwrap_or(id);
        let message = clash_message(kind, value, what, other, loaded);
        problems.push(match loaded.places.get(&(kind, id)) {
            Some((at, path)) => Problem::at(*at, path.clone(), message),
            None => Problem::whole(message),
        });
    }
    problems
}

fn clash_message(kind: Kind, value: &Value, what: &str, other: &Value, loaded: &Loaded) -> String {
    let name = kind.singular();
    let shown = |field: &str| value.get(field).and_then(Value::as_str).unwrap_or_default();
    let same = match (kind, what) {
        (_, "id") => "id".to_string(),
        (Kind::KeyAuth, "key") => "key".to_string(),
        (Kind::Target, _) => format!("target '{}' in the same upstream", shown("target")),
        (Kind::Acl, _) => format!("group '{}' for the same consumer", shown("group")),
        (Kind::Plugin, "scope") => format!(
            "plugin '{}' on the same service, route and consumer",
            shown("name")
        ),
        _ => format!("{what} '{}'", shown(what)),
    };
    format!(
        "{name} '{}' clashes with {name} {} in the database, which has the same {same} but not \
         all the select tags ({}): config sync neither takes over nor deletes entities without \
         them; add the select tags to that {name} (Admin API), or remove this one from the file",
        label(kind, value, &loaded.secrets),
        id_of(other),
        loaded.select_tags.join(", "),
    )
}

/// Deletes that the store would refuse because an entity outside the selection still uses
/// the deleted one (a route its service).
fn blocked_deletes(changes: &[Change], outside: &Outside, loaded: &Loaded) -> Vec<Problem> {
    let mut problems = Vec::new();
    for change in changes {
        let Change::Delete { kind, id, value } = change else {
            continue;
        };
        for (child, used_by) in outside.blockers.get(&(*kind, *id)).into_iter().flatten() {
            problems.push(Problem::whole(format!(
                "cannot delete {} '{}', which the file no longer lists: {} '{}' still uses it \
                 and lacks the select tags ({}), so config sync leaves it alone; delete or \
                 re-point that {} first, or keep the {} in the file",
                kind.singular(),
                label(*kind, value, &loaded.secrets),
                child.singular(),
                label(*child, used_by, &loaded.secrets),
                loaded.select_tags.join(", "),
                child.singular(),
                kind.singular(),
            )));
        }
    }
    problems
}
