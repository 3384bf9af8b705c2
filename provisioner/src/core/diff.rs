//! Desired against observed, attribute by attribute on a normalised form, into a [`Plan`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::graph::{Graph, GraphError};
use super::resource::{
    is_enum_like, is_set_like, set_tag, Attr, Resource, ResourceKind, STACK_TAG,
};

/// What the AWS layer read for one logical name (found through its ownership tags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    pub kind: ResourceKind,
    /// Attributes in the same shape as desired ones, `tags` included as a map.
    pub attrs: BTreeMap<String, Attr>,
}

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub attr: String,
    pub before: Option<Attr>,
    /// `None` when the attribute goes away; an unresolved [`Attr::Ref`] is known after apply.
    pub after: Option<Attr>,
    /// This change alone forces a replacement.
    pub forces: bool,
}

/// A value another resource owns (see [`super::kinds::KindSpec::yields`]) that moved away from the
/// stack's: shown for information, never changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub attr: String,
    /// What AWS reports now.
    pub current: Attr,
    /// What the stack sends on create.
    pub configured: Attr,
    /// The logical name of the resource that owns the value.
    pub owner: String,
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    Update {
        changes: Vec<Change>,
        /// Values another resource owns, as with [`Action::Noted`].
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<Note>,
    },
    Replace {
        changes: Vec<Change>,
        forced_by: Vec<String>,
    },
    Delete,
    NoOp,
    /// Nothing to do; values owned by another resource differ from the stack's (information).
    Noted {
        notes: Vec<Note>,
    },
}

/// One resource's entry in the plan; `attrs` are the desired ones (observed for a delete).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedAction {
    pub logical: String,
    pub kind: ResourceKind,
    pub action: Action,
    pub attrs: BTreeMap<String, Attr>,
}

/// Every resource's action: creates, updates and replaces in creation order, then deletes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub stack: String,
    pub actions: Vec<PlannedAction>,
}

// === impl Plan ===

impl Plan {
    /// `(to add, to change, to destroy)`, a replace counting as one add and one destroy.
    pub fn summary(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for entry in &self.actions {
            match entry.action {
                Action::Create => counts.0 += 1,
                Action::Update { .. } => counts.1 += 1,
                Action::Replace { .. } => {
                    counts.0 += 1;
                    counts.2 += 1;
                }
                Action::Delete => counts.2 += 1,
                Action::NoOp | Action::Noted { .. } => {}
            }
        }
        counts
    }

    pub fn has_changes(&self) -> bool {
        self.summary() != (0, 0, 0)
    }

    pub fn get(&self, logical: &str) -> Option<&PlannedAction> {
        self.actions.iter().find(|a| a.logical == logical)
    }
}

/// Plans `desired` against `observed` (keyed by logical name). Observed resources tagged for this
/// stack but no longer desired are deleted; untagged or foreign ones are left alone.
pub fn plan(desired: &Graph, observed: &BTreeMap<String, Observed>) -> Result<Plan, GraphError> {
    let mut actions = Vec::new();
    // Resources getting a new identity: references to them are known only after apply.
    let mut renewed: BTreeSet<&str> = BTreeSet::new();
    for name in desired.topo_order()? {
        let resource = &desired.resources[name];
        let action = match observed.get(name) {
            None => Action::Create,
            Some(seen) => {
                let owned = owned_attrs(desired, resource, seen);
                let changes = changes(resource, seen, observed, &renewed, &owned);
                classify(changes, notes(resource, seen, &owned))
            }
        };
        if matches!(action, Action::Create | Action::Replace { .. }) {
            renewed.insert(name);
        }
        actions.push(PlannedAction {
            logical: name.to_string(),
            kind: resource.kind,
            action,
            attrs: resource.attrs.clone(),
        });
    }
    for (name, seen) in observed {
        if !desired.resources.contains_key(name) && owned_by(seen, &desired.stack) {
            actions.push(PlannedAction {
                logical: name.clone(),
                kind: seen.kind,
                action: Action::Delete,
                attrs: seen.attrs.clone(),
            });
        }
    }
    Ok(Plan {
        stack: desired.stack.clone(),
        actions,
    })
}

/// Attributes of `resource` that another desired resource owns, with that owner's logical name;
/// not those whose value the stack changed since it last set it (its tag says which it set).
fn owned_attrs<'g>(
    desired: &'g Graph,
    resource: &Resource,
    seen: &Observed,
) -> Vec<(&'static str, &'g str)> {
    let owner_of = |kind: ResourceKind| {
        desired
            .resources
            .values()
            .find(|r| r.kind == kind && r.depends_on.contains(&resource.logical))
            .map(|r| r.logical.as_str())
    };
    resource
        .kind
        .spec()
        .yields
        .iter()
        .filter(|(attr, _)| !stack_changed(resource, seen, attr))
        .filter_map(|&(attr, kind)| owner_of(kind).map(|owner| (attr, owner)))
        .collect()
}

/// Whether the value the stack sets for `attr` differs from the one it set last (a resource
/// created before the tag existed has none: nothing to compare, nothing changed).
fn stack_changed(resource: &Resource, seen: &Observed, attr: &str) -> bool {
    let last = match seen.attrs.get("tags") {
        Some(Attr::Map(tags)) => tags.get(&set_tag(attr)),
        _ => None,
    };
    let now = resource.attrs.get(attr).and_then(Attr::tag_text);
    last.is_some_and(|last| last.tag_text() != now)
}

/// Owned attributes whose value AWS reports differently from the stack's.
fn notes(resource: &Resource, seen: &Observed, owned: &[(&str, &str)]) -> Vec<Note> {
    owned
        .iter()
        .filter_map(|&(attr, owner)| {
            let configured = resource.attrs.get(attr)?;
            let current = seen.attrs.get(attr)?;
            (normalise(attr, configured) != normalise(attr, current)).then(|| Note {
                attr: attr.to_string(),
                current: current.clone(),
                configured: configured.clone(),
                owner: owner.to_string(),
            })
        })
        .collect()
}

fn classify(changes: Vec<Change>, notes: Vec<Note>) -> Action {
    let forced_by: Vec<String> = changes
        .iter()
        .filter(|c| c.forces)
        .map(|c| c.attr.clone())
        .collect();
    match (changes.is_empty(), forced_by.is_empty()) {
        (true, _) if notes.is_empty() => Action::NoOp,
        (true, _) => Action::Noted { notes },
        (false, true) => Action::Update { changes, notes },
        (false, false) => Action::Replace { changes, forced_by },
    }
}

fn owned_by(seen: &Observed, stack: &str) -> bool {
    match seen.attrs.get("tags") {
        Some(Attr::Map(tags)) => tags.get(STACK_TAG) == Some(&Attr::Str(stack.to_string())),
        _ => false,
    }
}

/// Differences over the attributes we manage (desired keys); computed ones and those another
/// resource owns are never compared.
fn changes(
    resource: &Resource,
    seen: &Observed,
    observed: &BTreeMap<String, Observed>,
    renewed: &BTreeSet<&str>,
    owned: &[(&str, &str)],
) -> Vec<Change> {
    let kind = resource.kind;
    let defaults = kind.defaults();
    let mut out = Vec::new();
    for (key, want) in &resource.attrs {
        if kind.is_computed(key) || kind.write_only(key) || owned.iter().any(|(a, _)| a == key) {
            continue;
        }
        let default = defaults.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let want = resolve(want, observed, renewed);
        let norm_want = normalise_top(key, Some(&want), default);
        let norm_have = normalise_top(key, seen.attrs.get(key), default);
        if !matches(norm_want.as_ref(), norm_have.as_ref(), renewed) {
            out.push(Change {
                attr: key.clone(),
                before: seen.attrs.get(key).cloned(),
                after: norm_want.map(|_| want),
                forces: kind.forces_replacement(key),
            });
        }
    }
    out
}

/// Replaces references to resources that keep their identity with their observed values.
fn resolve(attr: &Attr, observed: &BTreeMap<String, Observed>, renewed: &BTreeSet<&str>) -> Attr {
    match attr {
        Attr::Ref(r) if !renewed.contains(r.logical.as_str()) => observed
            .get(&r.logical)
            .and_then(|o| o.attrs.get(&r.attr))
            .cloned()
            .unwrap_or_else(|| attr.clone()),
        Attr::List(items) => Attr::List(
            items
                .iter()
                .map(|a| resolve(a, observed, renewed))
                .collect(),
        ),
        Attr::Map(map) => Attr::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, observed, renewed)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Equality where a sensitive value always matches (AWS never returns it), a reference to a
/// renewed resource never matches, and any other unresolved reference matches (unknowable).
fn matches(want: Option<&Attr>, have: Option<&Attr>, renewed: &BTreeSet<&str>) -> bool {
    match (want, have) {
        (Some(Attr::Ref(r)), _) => !renewed.contains(r.logical.as_str()),
        (Some(Attr::Secret(_)), _) => true,
        (Some(Attr::List(a)), Some(Attr::List(b))) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| matches(Some(x), Some(y), renewed))
        }
        (Some(Attr::Map(a)), Some(Attr::Map(b))) => {
            a.len() == b.len() && a.iter().all(|(k, x)| matches(Some(x), b.get(k), renewed))
        }
        (a, b) => a == b,
    }
}

fn normalise_top(key: &str, value: Option<&Attr>, default: Option<&Attr>) -> Option<Attr> {
    let value = normalise(key, value?)?;
    match default.and_then(|d| normalise(key, d)) {
        Some(default) if default == value => None,
        _ => Some(value),
    }
}

/// The form AWS and we agree on: no empty lists or maps, whole floats as integers, enum-like
/// strings in lower case, AWS's own `aws:` tags dropped.
pub fn normalise(key: &str, value: &Attr) -> Option<Attr> {
    match value {
        Attr::Str(text) if is_enum_like(key) => Some(Attr::Str(text.to_ascii_lowercase())),
        Attr::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(Attr::Int(*f as i64)),
        Attr::List(items) if items.is_empty() => None,
        Attr::List(items) => {
            let mut items: Vec<Attr> = items
                .iter()
                .filter_map(|item| normalise(key, item))
                .collect();
            if is_set_like(key) {
                // Sorting by the JSON text gives one order for any mix of values.
                items.sort_by_cached_key(|item| serde_json::to_string(item).unwrap_or_default());
            }
            Some(Attr::List(items))
        }
        Attr::Map(map) => {
            let map: BTreeMap<String, Attr> = map
                .iter()
                .filter(|(k, _)| !(key == "tags" && k.starts_with("aws:")))
                .filter_map(|(k, v)| normalise(k, v).map(|v| (k.clone(), v)))
                .collect();
            (!map.is_empty()).then_some(Attr::Map(map))
        }
        other => Some(other.clone()),
    }
}
