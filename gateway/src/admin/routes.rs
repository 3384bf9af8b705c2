//! Which entity endpoint a path names, derived from the [`Kind`] table the way Kong's
//! `kong/api/endpoints.lua` generates its routes: a collection and an entity path per kind, and
//! for each foreign key a nested collection, a nested entity and the parent-of-entity path.

use crate::entities::Kind;

/// A parent named in the URL: `/services/{key}/routes` has parent `services`, `key`, and the
/// child's field `service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub parent: Kind,
    pub key: String,
    pub field: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/routes`, `/services/{s}/routes`
    Collection { kind: Kind, scope: Option<Scope> },
    /// `/routes/{r}`, `/services/{s}/routes/{r}`
    Entity {
        kind: Kind,
        key: String,
        scope: Option<Scope>,
    },
    /// `/routes/{r}/service`: the entity a foreign key points at.
    Foreign {
        kind: Kind,
        key: String,
        field: &'static str,
        target: Kind,
    },
}

/// Kinds with their own top-level paths. Kong turns `/targets` off: targets are only reached
/// through their upstream.
pub fn top_level(kind: Kind) -> bool {
    kind != Kind::Target
}

/// The path segment of a kind nested under its parent (`/consumers/{c}/key-auth`).
pub fn nested_name(kind: Kind) -> &'static str {
    match kind {
        Kind::KeyAuth => "key-auth",
        other => other.endpoint(),
    }
}

fn collection(segment: &str) -> Option<Kind> {
    Kind::from_endpoint(segment).filter(|k| top_level(*k))
}

/// The child kind nested under `parent` as `segment`, and its foreign key field.
fn child(parent: Kind, segment: &str) -> Option<(Kind, &'static str)> {
    Kind::ALL.into_iter().find_map(|kind| {
        let (field, _) = kind
            .foreign_keys()
            .iter()
            .find(|(_, target)| *target == parent)?;
        (nested_name(kind) == segment).then_some((kind, *field))
    })
}

/// Resolve decoded path segments; `None` is a 404.
pub fn resolve(segments: &[&str]) -> Option<Endpoint> {
    let scope = |parent: Kind, key: &str, field| {
        Some(Scope {
            parent,
            key: key.to_string(),
            field,
        })
    };
    match *segments {
        [name] => Some(Endpoint::Collection {
            kind: collection(name)?,
            scope: None,
        }),
        [name, key] => Some(Endpoint::Entity {
            kind: collection(name)?,
            key: key.to_string(),
            scope: None,
        }),
        [name, key, sub] => {
            let kind = collection(name)?;
            if let Some((child, field)) = child(kind, sub) {
                return Some(Endpoint::Collection {
                    kind: child,
                    scope: scope(kind, key, field),
                });
            }
            let (field, target) = kind.foreign_keys().iter().find(|(f, _)| *f == sub)?;
            Some(Endpoint::Foreign {
                kind,
                key: key.to_string(),
                field,
                target: *target,
            })
        }
        [name, key, sub, sub_key] => {
            let kind = collection(name)?;
            let (child, field) = child(kind, sub)?;
            Some(Endpoint::Entity {
                kind: child,
                key: sub_key.to_string(),
                scope: scope(kind, key, field),
            })
        }
        _ => None,
    }
}

/// Split a request path into percent-decoded segments; trailing and doubled slashes are
/// ignored, as Kong resolves `/services/` like `/services`.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}
