//! Plugin instance: a named plugin with its config, scoped globally or to a service, route
//! and/or consumer. `ordering` (Kong Enterprise's field, absent from OSS) is accepted here.

use super::{check_tags, coerce, now_seconds, FieldErrors, Reference};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

const PROTOCOLS: &[&str] = &[
    "grpc", "grpcs", "http", "https", "tcp", "tls", "udp", "ws", "wss",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plugin {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub instance_name: Option<String>,
    #[serde(default)]
    pub service: Option<Reference>,
    #[serde(default)]
    pub route: Option<Reference>,
    #[serde(default)]
    pub consumer: Option<Reference>,
    #[serde(default = "empty_object")]
    pub config: Value,
    #[serde(default = "default_protocols", deserialize_with = "strings")]
    pub protocols: Vec<String>,
    #[serde(default = "yes", deserialize_with = "coerce::boolean")]
    pub enabled: bool,
    /// `{"before": {"access": ["key-auth"]}, "after": {...}}`: run this instance before (or
    /// after) the named plugins in the given phase, whatever their priorities.
    #[serde(default)]
    pub ordering: Option<Ordering>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
}

/// Dependencies on other plugins per phase, by plugin name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ordering {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub before: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub after: BTreeMap<String, Vec<String>>,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}
fn default_protocols() -> Vec<String> {
    vec!["grpc".into(), "grpcs".into(), "http".into(), "https".into()]
}
fn yes() -> bool {
    true
}
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(coerce::opt_strings(d)?.unwrap_or_default())
}

impl Plugin {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        if self.name.is_empty() {
            errors.add("name", "required field missing");
        }
        super::check_name(&mut errors, "instance_name", self.instance_name.as_deref());
        if self.config.is_null() {
            self.config = empty_object();
        }
        if !self.config.is_object() {
            errors.add("config", "expected a record");
        }
        for (i, p) in self.protocols.iter().enumerate() {
            if !PROTOCOLS.contains(&p.as_str()) {
                errors.add(
                    &format!("protocols.{}", i + 1),
                    format!("expected one of: {}", PROTOCOLS.join(", ")),
                );
            }
        }
        if let Some(ordering) = &self.ordering {
            for (dir, phases) in [("before", &ordering.before), ("after", &ordering.after)] {
                for phase in phases.keys() {
                    if phase != "access" {
                        errors.add(
                            &format!("ordering.{dir}.{phase}"),
                            "unknown phase: only 'access' may be ordered",
                        );
                    }
                }
            }
        }
        errors.into_result()
    }
}
