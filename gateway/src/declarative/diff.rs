//! `gateway config sync`: what must change for a store to match a file (decK's diff), how
//! that reads to a person, and applying it in an order the store accepts.

use super::ids;
use super::vault::{Secrets, HIDDEN};
use crate::config::Config;
use crate::entities::{now_seconds, Kind};
use crate::store::{BatchOp, Store, StoreError};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// One entity to create, update or delete. Values are the entities' canonical JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Create {
        kind: Kind,
        id: Uuid,
        value: Value,
    },
    Update {
        kind: Kind,
        id: Uuid,
        before: Value,
        after: Value,
    },
    Delete {
        kind: Kind,
        id: Uuid,
        value: Value,
    },
}

/// What turns `current` into `desired`: creates and updates with parents first, then deletes
/// with children first, so a route can move to a new service before its old one goes.
/// Entities match by id; an entity whose id the file did not state also matches a current
/// one with the same natural key (name, username, key, ...; the same content when it has
/// none), whose id it then takes, and references to it follow. `created_at`/`updated_at`
/// never count as differences.
pub fn diff(current: &Config, desired: &Config) -> Vec<Change> {
    diff_where(current, desired, |_, _| true).0
}

/// [`diff`] against the current entities that `selected` accepts, the others ignored as if
/// absent; also the desired ids that took over a current entity's id (desired → current).
pub(super) fn diff_where(
    current: &Config,
    desired: &Config,
    selected: impl Fn(Kind, &Value) -> bool,
) -> (Vec<Change>, HashMap<Uuid, Uuid>) {
    let current = |kind: Kind| -> Vec<Value> {
        let mut values = current.values(kind);
        values.retain(|v| selected(kind, v));
        values
    };
    let mut matcher = Matcher::default();
    let mut changes = Vec::new();
    for kind in Kind::ALL {
        changes.extend(matcher.upserts(kind, &current(kind), desired.values(kind)));
    }
    for kind in Kind::ALL.into_iter().rev() {
        for value in current(kind) {
            let id = id_of(&value);
            if !matcher.matched.contains(&id) {
                changes.push(Change::Delete { kind, id, value });
            }
        }
    }
    (changes, matcher.remap)
}

/// Pairs desired entities with current ones, kind by kind, parents first.
#[derive(Default)]
struct Matcher {
    /// Desired id → the current id it adopted.
    remap: HashMap<Uuid, Uuid>,
    /// Current ids that a desired entity matched.
    matched: HashSet<Uuid>,
}

impl Matcher {
    fn upserts(&mut self, kind: Kind, existing: &[Value], wanted: Vec<Value>) -> Vec<Change> {
        let by_id: HashMap<Uuid, &Value> = existing.iter().map(|v| (id_of(v), v)).collect();
        let by_identity: HashMap<String, &Value> = existing
            .iter()
            .map(|v| (ids::identity(kind, v), v))
            .collect();
        // A current entity that some desired one names by id is not up for adoption.
        let claimed: HashSet<Uuid> = wanted.iter().map(id_of).collect();
        let mut changes = Vec::new();
        for mut want in wanted {
            // Judged before remapping: the id was derived from the file's own references.
            let derived = id_of(&want) == ids::derive(kind, &want);
            remap_references(kind, &mut want, &self.remap);
            let id = id_of(&want);
            let have = by_id.get(&id).copied().or_else(|| {
                let same = *by_identity.get(&ids::identity(kind, &want))?;
                let free = !claimed.contains(&id_of(same)) && !self.matched.contains(&id_of(same));
                (derived && free).then_some(same)
            });
            match have {
                Some(have) => changes.extend(self.update(kind, have, want)),
                None => changes.push(Change::Create {
                    kind,
                    id,
                    value: want,
                }),
            }
        }
        changes
    }

    /// `want` takes over `have`'s id (and `created_at`); an update if anything else differs.
    fn update(&mut self, kind: Kind, have: &Value, mut want: Value) -> Option<Change> {
        let have_id = id_of(have);
        self.matched.insert(have_id);
        let id = id_of(&want);
        if have_id != id {
            self.remap.insert(id, have_id);
            want["id"] = json!(have_id);
        }
        if without_stamps(have) == without_stamps(&want) {
            return None;
        }
        if let Some(created) = have.get("created_at") {
            want["created_at"] = created.clone();
        }
        Some(Change::Update {
            kind,
            id: have_id,
            before: have.clone(),
            after: want,
        })
    }
}

pub(super) fn id_of(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

fn remap_references(kind: Kind, value: &mut Value, remap: &HashMap<Uuid, Uuid>) {
    for (field, _) in kind.foreign_keys() {
        let target = value.get(*field).and_then(|r| r.get("id")).map(id_of_str);
        if let Some(new) = target.and_then(|id| remap.get(&id)) {
            value[*field] = json!({ "id": new });
        }
    }
}

fn id_of_str(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

fn without_stamps(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        map.remove("created_at");
        map.remove("updated_at");
    }
    value
}

/// decK-style report: one line per change, then a summary. Key-auth keys, secret-looking
/// fields and anything holding one of `hidden` (what vault references resolved to) show as
/// [`HIDDEN`], on both sides of a change.
pub fn render(changes: &[Change], hidden: &Secrets) -> String {
    let mut out = String::new();
    let (mut created, mut updated, mut deleted) = (0, 0, 0);
    for change in changes {
        // What is done, to which entity (as it will be), and for an update what changes.
        let (verb, kind, value, fields) = match change {
            Change::Create { kind, value, .. } => {
                created += 1;
                ("creating", kind, value, String::new())
            }
            Change::Update {
                kind,
                before,
                after,
                ..
            } => {
                updated += 1;
                let fields = field_changes(*kind, "", before, after, hidden).join(", ");
                ("updating", kind, after, format!(" {{{fields}}}"))
            }
            Change::Delete { kind, value, .. } => {
                deleted += 1;
                ("deleting", kind, value, String::new())
            }
        };
        let label = label(*kind, value, hidden);
        out.push_str(&format!("{verb} {} {label}{fields}\n", kind.singular()));
    }
    out.push_str(&format!(
        "Summary: Created: {created}, Updated: {updated}, Deleted: {deleted}\n"
    ));
    out
}

/// How a person recognises the entity: its name, else its id (never a credential's key, nor
/// a name that came from a vault).
pub(super) fn label(kind: Kind, value: &Value, hidden: &Secrets) -> String {
    let text = |field: &str| {
        let v = value.get(field).filter(|v| !hidden.hides(v))?;
        v.as_str().map(str::to_string)
    };
    let id = || text("id").unwrap_or_default();
    match kind {
        Kind::Service | Kind::Route | Kind::Upstream => text("name").unwrap_or_else(id),
        Kind::Consumer => text("username")
            .or_else(|| text("custom_id"))
            .unwrap_or_else(id),
        Kind::Target => text("target").unwrap_or_else(id),
        Kind::Acl => text("group").unwrap_or_else(id),
        Kind::Plugin => match (text("instance_name"), text("name")) {
            (Some(instance), _) => instance,
            (None, Some(name)) => format!("{name} ({})", id()),
            (None, None) => id(),
        },
        Kind::KeyAuth => id(),
    }
}

/// `"strip_path": true -> false` for every leaf that differs, objects walked into
/// (`"config.minute": 5 -> 10`); secrets shown as [`HIDDEN`].
fn field_changes(
    kind: Kind,
    prefix: &str,
    before: &Value,
    after: &Value,
    hidden: &Secrets,
) -> Vec<String> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
    let mut out = Vec::new();
    for key in keys {
        if prefix.is_empty() && matches!(key.as_str(), "id" | "created_at" | "updated_at") {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let (old, new) = (
            b.get(key).unwrap_or(&Value::Null),
            a.get(key).unwrap_or(&Value::Null),
        );
        if old == new {
            continue;
        }
        if old.is_object() && new.is_object() {
            out.extend(field_changes(kind, &path, old, new, hidden));
        } else if secret(kind, &path) || hidden.hides(old) || hidden.hides(new) {
            out.push(format!("\"{path}\": {HIDDEN} -> {HIDDEN}"));
        } else {
            out.push(format!("\"{path}\": {old} -> {new}"));
        }
    }
    out
}

fn secret(kind: Kind, path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    (kind == Kind::KeyAuth && path == "key")
        || last.contains("password")
        || last.contains("secret")
        || last == "aws_key"
}

/// Apply changes in the order [`diff`] gives them. Creates get real timestamps; updates keep
/// `created_at` and refresh `updated_at`; a delete of something a parent's cascade already
/// removed is not an error.
pub async fn apply(store: &Store, changes: &[Change]) -> Result<(), StoreError> {
    let now = now_seconds();
    let ops = changes
        .iter()
        .map(|change| match change {
            Change::Create { kind, value, .. } => {
                let mut value = value.clone();
                stamp(&mut value, "created_at", now, true);
                stamp(&mut value, "updated_at", now, false);
                BatchOp::Upsert(*kind, value)
            }
            Change::Update { kind, after, .. } => {
                let mut value = after.clone();
                stamp(&mut value, "updated_at", now, false);
                BatchOp::Upsert(*kind, value)
            }
            Change::Delete { kind, id, .. } => BatchOp::Delete(*kind, *id),
        })
        .collect();
    // One transaction: a sync that fails half way leaves the database as it was.
    store.apply_batch(ops).await
}

/// Set a timestamp field the entity has: always, or (`only_unset`) when the file gave none.
fn stamp(value: &mut Value, field: &str, now: i64, only_unset: bool) {
    let Some(current) = value.get(field) else {
        return;
    };
    if !only_unset || current.as_i64() == Some(super::build::UNSTAMPED) {
        value[field] = json!(now);
    }
}
