//! Kong's entity model: services, routes, consumers, key-auth credentials, ACL groups, plugins,
//! upstreams and targets, with Kong's field names, defaults and validation rules.
//!
//! Each entity is plain data (`serde`), and `validate()` reports every problem at once as
//! [`FieldErrors`], the shape Kong's Admin API answers with. [`Kind`] describes what the generic
//! machinery (Admin API, stores, declarative files) needs to know about each entity type.

mod acl;
mod coerce;
mod consumer;
mod errors;
mod plugin;
mod route;
mod service;
mod upstream;

pub use acl::Acl;
pub use consumer::{Consumer, KeyAuthCredential};
pub use errors::FieldErrors;
pub use plugin::Plugin;
pub use route::{Route, RoutePath};
pub use service::Service;
pub use upstream::{Healthchecks, Target, Upstream};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A foreign key as Kong renders it: `{"id": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub id: Uuid,
}

/// Every entity type the gateway stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Service,
    Route,
    Consumer,
    KeyAuth,
    Acl,
    Plugin,
    Upstream,
    Target,
}

impl Kind {
    /// All kinds, parents before children (the order to insert; reverse it to delete).
    pub const ALL: [Kind; 8] = [
        Kind::Service,
        Kind::Route,
        Kind::Consumer,
        Kind::KeyAuth,
        Kind::Acl,
        Kind::Upstream,
        Kind::Target,
        Kind::Plugin,
    ];

    /// Table name in PostgreSQL and key in a declarative file.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Service => "services",
            Kind::Route => "routes",
            Kind::Consumer => "consumers",
            Kind::KeyAuth => "keyauth_credentials",
            Kind::Acl => "acls",
            Kind::Plugin => "plugins",
            Kind::Upstream => "upstreams",
            Kind::Target => "targets",
        }
    }

    /// The Admin API collection path segment.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::KeyAuth => "key-auths",
            other => other.table(),
        }
    }

    /// Kong's `name` for schema errors and singular references (`service`, `route`, ...).
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Route => "route",
            Kind::Consumer => "consumer",
            Kind::KeyAuth => "keyauth_credential",
            Kind::Acl => "acl",
            Kind::Plugin => "plugin",
            Kind::Upstream => "upstream",
            Kind::Target => "target",
        }
    }

    /// The field that may stand in for the id in a URL (`/services/{name}`).
    pub fn endpoint_key(self) -> Option<&'static str> {
        match self {
            Kind::Service | Kind::Route | Kind::Upstream => Some("name"),
            Kind::Consumer => Some("username"),
            Kind::KeyAuth => Some("key"),
            // Only unique within its consumer: `/consumers/{c}/acls/{group}`.
            Kind::Acl => Some("group"),
            Kind::Plugin => Some("instance_name"),
            Kind::Target => Some("target"),
        }
    }

    /// Fields whose values are unique across all entities of this kind.
    pub fn unique_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Service | Kind::Route | Kind::Upstream => &["name"],
            Kind::Consumer => &["username", "custom_id"],
            Kind::KeyAuth => &["key"],
            Kind::Plugin => &["instance_name"],
            // (consumer, group) and (upstream, target) are unique only together.
            Kind::Acl | Kind::Target => &[],
        }
    }

    /// Foreign keys: the field holding a [`Reference`] and the kind it points at.
    pub fn foreign_keys(self) -> &'static [(&'static str, Kind)] {
        match self {
            Kind::Route => &[("service", Kind::Service)],
            Kind::KeyAuth | Kind::Acl => &[("consumer", Kind::Consumer)],
            Kind::Plugin => &[
                ("service", Kind::Service),
                ("route", Kind::Route),
                ("consumer", Kind::Consumer),
            ],
            Kind::Target => &[("upstream", Kind::Upstream)],
            Kind::Service | Kind::Consumer | Kind::Upstream => &[],
        }
    }

    /// What happens to children when a parent goes: Kong cascades credentials, plugins and
    /// targets, but refuses to delete a service that routes still use.
    pub fn cascades_from(self, parent: Kind) -> bool {
        !(self == Kind::Route && parent == Kind::Service)
    }

    pub fn from_endpoint(segment: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.endpoint() == segment)
    }

    pub fn from_table(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.table() == name)
    }
}

/// Seconds since the Unix epoch, as Kong stamps `created_at` and `updated_at`.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Kong's rule for names of services, routes and upstreams.
pub(crate) fn check_name(errors: &mut FieldErrors, field: &str, name: Option<&str>) {
    if let Some(name) = name {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~'));
        if !ok {
            errors.add(
                field,
                "invalid value '".to_string()
                    + name
                    + "': it must only contain alphanumeric and '., -, _, ~' characters",
            );
        }
    }
}

/// Kong's rule for a tag: non-empty, printable, no commas or slashes.
pub(crate) fn valid_tag(tag: &str) -> bool {
    !(tag.is_empty() || tag.contains([',', '/']) || tag.chars().any(char::is_control))
}

/// Tags: each one valid by [`valid_tag`].
pub(crate) fn check_tags(errors: &mut FieldErrors, tags: &Option<Vec<String>>) {
    for (i, tag) in tags.iter().flatten().enumerate() {
        if !valid_tag(tag) {
            errors.add(
                &format!("tags.{}", i + 1),
                "invalid tag: must be printable and must not contain ',' or '/'",
            );
        }
    }
}

/// What the generic machinery needs from each entity type.
pub trait Entity:
    Serialize + serde::de::DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    const KIND: Kind;
    fn id(&self) -> Uuid;
    /// Normalise (expand shorthands, lower-case hosts, generate keys) and check every field.
    fn validate(&mut self) -> Result<(), FieldErrors>;
}

macro_rules! entity {
    ($ty:ty, $kind:expr) => {
        impl Entity for $ty {
            const KIND: Kind = $kind;
            fn id(&self) -> Uuid {
                self.id
            }
            fn validate(&mut self) -> Result<(), FieldErrors> {
                <$ty>::validate(self)
            }
        }
    };
}
entity!(Service, Kind::Service);
entity!(Route, Kind::Route);
entity!(Consumer, Kind::Consumer);
entity!(KeyAuthCredential, Kind::KeyAuth);
entity!(Acl, Kind::Acl);
entity!(Plugin, Kind::Plugin);
entity!(Upstream, Kind::Upstream);
entity!(Target, Kind::Target);

/// Build an entity from JSON input (Admin API body, declarative file, database row), apply
/// defaults, normalise and validate it. Type errors name the field that holds them.
pub fn parse<E: Entity>(value: serde_json::Value) -> Result<E, FieldErrors> {
    let mut entity: E = serde_path_to_error::deserialize(value).map_err(|err| {
        let mut errors = FieldErrors::default();
        let path = err.path().to_string();
        let message = err.inner().to_string();
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or(rest);
            // serde's path already ends with the rejected key.
            let field = if path == "." { name.to_string() } else { path };
            errors.add(&field, "unknown field");
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            errors.add(
                rest.split('`').next().unwrap_or(rest),
                "required field missing",
            );
        } else {
            let message = message.split(" at line").next().unwrap_or(&message);
            let message = if message.starts_with("invalid type") {
                describe_expected(message)
            } else {
                message.to_string()
            };
            let field = if path == "." {
                "@entity".to_string()
            } else {
                path
            };
            errors.add(&field, message);
        }
        errors
    })?;
    entity.validate()?;
    Ok(entity)
}

/// serde's `invalid type: string "x", expected u16` becomes Kong's `expected an integer`.
fn describe_expected(message: &str) -> String {
    let expected = message.rsplit("expected ").next().unwrap_or("");
    let kong = match expected {
        e if e.starts_with('u') || e.starts_with('i') => "expected an integer",
        e if e.starts_with('f') => "expected a number",
        "a boolean" => "expected a boolean",
        e if e.contains("string") => "expected a string",
        e if e.contains("sequence") => "expected an array",
        e if e.contains("map") || e.starts_with("struct") => "expected a record",
        _ => return message.to_string(),
    };
    kong.to_string()
}
