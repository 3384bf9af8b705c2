//! A [`Config`] as a Kong declarative document (`GET /config`, round trips): children nested
//! under their parent where Kong nests them, other references by name where one exists.

use crate::config::Config;
use crate::entities::{Kind, Plugin, Reference};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The whole configuration as a `_format_version: "3.0"` document.
pub fn to_document(config: &Config) -> Value {
    let export = Export { config };
    let c = config;
    let sections = [
        (
            "services",
            c.services.iter().map(|s| export.service(s.id)).collect(),
        ),
        ("routes", export.loose_routes()),
        (
            "consumers",
            c.consumers.iter().map(|e| export.consumer(e.id)).collect(),
        ),
        (
            "keyauth_credentials",
            export.loose(Kind::KeyAuth, Kind::Consumer, &c.keyauth_credentials, |k| {
                k.consumer
            }),
        ),
        (
            "acls",
            export.loose(Kind::Acl, Kind::Consumer, &c.acls, |a| a.consumer),
        ),
        (
            "upstreams",
            c.upstreams.iter().map(|u| export.upstream(u.id)).collect(),
        ),
        (
            "targets",
            export.loose(Kind::Target, Kind::Upstream, &c.targets, |t| t.upstream),
        ),
        ("plugins", export.loose_plugins()),
    ];
    let mut doc = Map::new();
    doc.insert("_format_version".into(), json!("3.0"));
    for (key, list) in sections {
        with(&mut doc, key, list);
    }
    Value::Object(doc)
}

struct Export<'a> {
    config: &'a Config,
}

impl Export<'_> {
    fn exists(&self, kind: Kind, id: Option<Uuid>) -> bool {
        id.is_some_and(|id| self.name_of(kind, id).is_some())
    }

    /// How a reference to the entity is written: its name (username) if it has one, else
    /// its id. `None` when no such entity exists.
    fn name_of(&self, kind: Kind, id: Uuid) -> Option<Value> {
        let c = self.config;
        let name = match kind {
            Kind::Service => c.services.iter().find(|e| e.id == id)?.name.as_ref(),
            Kind::Route => c.routes.iter().find(|e| e.id == id)?.name.as_ref(),
            Kind::Consumer => c.consumers.iter().find(|e| e.id == id)?.username.as_ref(),
            Kind::Upstream => Some(&c.upstreams.iter().find(|e| e.id == id)?.name),
            Kind::KeyAuth | Kind::Acl | Kind::Plugin | Kind::Target => return None,
        };
        Some(json!(name.cloned().unwrap_or_else(|| id.to_string())))
    }

    /// The one entity a plugin is nested under: plugins scoped to exactly one existing
    /// service, route or consumer.
    fn plugin_home(&self, plugin: &Plugin) -> Option<(Kind, Uuid)> {
        let scopes: Vec<(Kind, Uuid)> = [
            (Kind::Service, plugin.service),
            (Kind::Route, plugin.route),
            (Kind::Consumer, plugin.consumer),
        ]
        .into_iter()
        .filter_map(|(kind, r)| Some((kind, r?.id)))
        .collect();
        match scopes.as_slice() {
            [(kind, id)] if self.exists(*kind, Some(*id)) => Some((*kind, *id)),
            _ => None,
        }
    }

    /// An entity's fields without nulls; references by name, or dropped where the nesting
    /// says it (`keep_parents` false).
    fn entity<E: serde::Serialize>(&self, kind: Kind, entity: &E, keep_parents: bool) -> Value {
        let Ok(Value::Object(mut map)) = serde_json::to_value(entity) else {
            return Value::Null;
        };
        map.retain(|_, v| !v.is_null());
        for (field, target) in kind.foreign_keys() {
            let Some(id) = map.get(*field).and_then(|r| r["id"].as_str()?.parse().ok()) else {
                continue;
            };
            if !keep_parents && self.exists(*target, Some(id)) {
                map.remove(*field);
            } else if let Some(name) = self.name_of(*target, id) {
                map.insert(field.to_string(), name);
            }
        }
        Value::Object(map)
    }

    /// Entities whose parent is not in the config stay top-level, with their reference.
    fn loose<E: serde::Serialize>(
        &self,
        kind: Kind,
        parent: Kind,
        items: &[E],
        parent_of: impl Fn(&E) -> Option<Reference>,
    ) -> Vec<Value> {
        items
            .iter()
            .filter(|e| !self.exists(parent, parent_of(e).map(|r| r.id)))
            .map(|e| self.entity(kind, e, true))
            .collect()
    }

    fn loose_routes(&self) -> Vec<Value> {
        self.config
            .routes
            .iter()
            .filter(|r| !self.exists(Kind::Service, r.service.map(|s| s.id)))
            .map(|r| self.route(r.id, true))
            .collect()
    }

    fn loose_plugins(&self) -> Vec<Value> {
        self.config
            .plugins
            .iter()
            .filter(|p| self.plugin_home(p).is_none())
            .map(|p| self.entity(Kind::Plugin, p, true))
            .collect()
    }

    fn nested_plugins(&self, kind: Kind, id: Uuid) -> Vec<Value> {
        self.config
            .plugins
            .iter()
            .filter(|p| self.plugin_home(p) == Some((kind, id)))
            .map(|p| self.entity(Kind::Plugin, p, false))
            .collect()
    }

    fn service(&self, id: Uuid) -> Value {
        let c = self.config;
        let Some(service) = c.services.iter().find(|s| s.id == id) else {
            return Value::Null;
        };
        let routes = c
            .routes
            .iter()
            .filter(|r| r.service.is_some_and(|s| s.id == id))
            .map(|r| self.route(r.id, false))
            .collect();
        let mut value = self.entity(Kind::Service, service, false);
        nest(&mut value, "routes", routes);
        nest(
            &mut value,
            "plugins",
            self.nested_plugins(Kind::Service, id),
        );
        value
    }

    fn route(&self, id: Uuid, top_level: bool) -> Value {
        let Some(route) = self.config.routes.iter().find(|r| r.id == id) else {
            return Value::Null;
        };
        let mut value = self.entity(Kind::Route, route, top_level);
        nest(&mut value, "plugins", self.nested_plugins(Kind::Route, id));
        value
    }

    fn consumer(&self, id: Uuid) -> Value {
        let c = self.config;
        let Some(consumer) = c.consumers.iter().find(|e| e.id == id) else {
            return Value::Null;
        };
        let credentials = self.children(Kind::KeyAuth, &c.keyauth_credentials, id, |k| k.consumer);
        let acls = self.children(Kind::Acl, &c.acls, id, |a| a.consumer);
        let mut value = self.entity(Kind::Consumer, consumer, false);
        nest(&mut value, "keyauth_credentials", credentials);
        nest(&mut value, "acls", acls);
        nest(
            &mut value,
            "plugins",
            self.nested_plugins(Kind::Consumer, id),
        );
        value
    }

    fn upstream(&self, id: Uuid) -> Value {
        let c = self.config;
        let Some(upstream) = c.upstreams.iter().find(|e| e.id == id) else {
            return Value::Null;
        };
        let targets = self.children(Kind::Target, &c.targets, id, |t| t.upstream);
        let mut value = self.entity(Kind::Upstream, upstream, false);
        nest(&mut value, "targets", targets);
        value
    }

    /// The entities whose parent (`parent_of`) is `id`, rendered for nesting under it.
    fn children<E: serde::Serialize>(
        &self,
        kind: Kind,
        all: &[E],
        id: Uuid,
        parent_of: impl Fn(&E) -> Option<Reference>,
    ) -> Vec<Value> {
        all.iter()
            .filter(|e| parent_of(e).is_some_and(|r| r.id == id))
            .map(|e| self.entity(kind, e, false))
            .collect()
    }
}

/// Add a list under `key`, unless it is empty.
fn with(map: &mut Map<String, Value>, key: &str, list: Vec<Value>) {
    if !list.is_empty() {
        map.insert(key.to_string(), Value::Array(list));
    }
}

/// [`with`] on an entity's JSON object.
fn nest(value: &mut Value, key: &str, list: Vec<Value>) {
    if let Value::Object(map) = value {
        with(map, key, list);
    }
}
