//! The whole configuration as plain data: every entity of every kind. This is what a
//! declarative file holds, what a database loads into, and what a snapshot is compiled from.

use crate::entities::{
    Acl, Consumer, Entity, FieldErrors, KeyAuthCredential, Kind, Plugin, Route, Service, Target,
    Upstream,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub services: Vec<Service>,
    pub routes: Vec<Route>,
    pub consumers: Vec<Consumer>,
    pub keyauth_credentials: Vec<KeyAuthCredential>,
    pub acls: Vec<Acl>,
    pub plugins: Vec<Plugin>,
    pub upstreams: Vec<Upstream>,
    pub targets: Vec<Target>,
}

impl Config {
    /// The entities of one kind as JSON values, in stored order.
    pub fn values(&self, kind: Kind) -> Vec<Value> {
        fn all<E: Entity>(items: &[E]) -> Vec<Value> {
            items
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect()
        }
        match kind {
            Kind::Service => all(&self.services),
            Kind::Route => all(&self.routes),
            Kind::Consumer => all(&self.consumers),
            Kind::KeyAuth => all(&self.keyauth_credentials),
            Kind::Acl => all(&self.acls),
            Kind::Plugin => all(&self.plugins),
            Kind::Upstream => all(&self.upstreams),
            Kind::Target => all(&self.targets),
        }
    }

    /// Add one entity of the given kind from its JSON form (validated).
    pub fn push_value(&mut self, kind: Kind, value: Value) -> Result<Uuid, FieldErrors> {
        fn push<E: Entity>(list: &mut Vec<E>, value: Value) -> Result<Uuid, FieldErrors> {
            let entity: E = crate::entities::parse(value)?;
            let id = entity.id();
            list.push(entity);
            Ok(id)
        }
        match kind {
            Kind::Service => push(&mut self.services, value),
            Kind::Route => push(&mut self.routes, value),
            Kind::Consumer => push(&mut self.consumers, value),
            Kind::KeyAuth => push(&mut self.keyauth_credentials, value),
            Kind::Acl => push(&mut self.acls, value),
            Kind::Plugin => push(&mut self.plugins, value),
            Kind::Upstream => push(&mut self.upstreams, value),
            Kind::Target => push(&mut self.targets, value),
        }
    }

    pub fn len(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Service => self.services.len(),
            Kind::Route => self.routes.len(),
            Kind::Consumer => self.consumers.len(),
            Kind::KeyAuth => self.keyauth_credentials.len(),
            Kind::Acl => self.acls.len(),
            Kind::Plugin => self.plugins.len(),
            Kind::Upstream => self.upstreams.len(),
            Kind::Target => self.targets.len(),
        }
    }
}

impl Config {
    /// Append already-canonical entities (rows of our own database, as JSON text) without
    /// re-validating them; decoding text straight into the types skips an intermediate tree.
    pub fn extend_raw<S: AsRef<str>>(
        &mut self,
        kind: Kind,
        values: impl Iterator<Item = S>,
    ) -> Result<(), serde_json::Error> {
        fn extend<E: Entity, S: AsRef<str>>(
            list: &mut Vec<E>,
            values: impl Iterator<Item = S>,
        ) -> Result<(), serde_json::Error> {
            for v in values {
                list.push(serde_json::from_str(v.as_ref())?);
            }
            Ok(())
        }
        match kind {
            Kind::Service => extend(&mut self.services, values),
            Kind::Route => extend(&mut self.routes, values),
            Kind::Consumer => extend(&mut self.consumers, values),
            Kind::KeyAuth => extend(&mut self.keyauth_credentials, values),
            Kind::Acl => extend(&mut self.acls, values),
            Kind::Plugin => extend(&mut self.plugins, values),
            Kind::Upstream => extend(&mut self.upstreams, values),
            Kind::Target => extend(&mut self.targets, values),
        }
    }
}
