//! The desired graph: every resource a [`Stack`] needs, with attributes, tags and dependencies.

mod data;
mod edge;
mod network;
mod service;

use std::collections::BTreeMap;

use super::graph::Graph;
use super::resource::{set_tag, Attr, AttrRef, Resource, ResourceKind, LOGICAL_TAG, STACK_TAG};
use crate::stack::Stack;

/// Kong's proxy port inside the task; the only port the NLB reaches.
pub const PROXY_PORT: i64 = 8000;
/// Kong's Admin API port: bound to loopback in the task and never opened in any security group.
pub const ADMIN_PORT: i64 = 8001;
/// The NLB's public listener port.
pub const LISTENER_PORT: i64 = 80;
pub const POSTGRES_PORT: i64 = 5432;
pub const REDIS_PORT: i64 = 6379;

/// Every resource of `stack`, owned by the stack named after its `name_prefix`.
pub fn desired(stack: &Stack) -> Graph {
    let mut graph = Builder::new(stack);
    let net = network::add(&mut graph);
    data::add(&mut graph, &net);
    service::add(&mut graph, &net);
    edge::add(&mut graph);
    graph.graph
}

/// Collects resources, deriving dependencies from references and adding ownership tags.
struct Builder<'a> {
    stack: &'a Stack,
    graph: Graph,
}

impl<'a> Builder<'a> {
    fn new(stack: &'a Stack) -> Self {
        Builder {
            stack,
            graph: Graph::new(stack.name_prefix.clone()),
        }
    }

    /// `name_prefix` + `suffix`, the AWS name of a resource.
    fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.stack.name_prefix)
    }

    /// Adds a resource; `after` names dependencies that no attribute references (ordering only).
    fn add(&mut self, kind: ResourceKind, logical: &str, attrs: Vec<(&str, Attr)>, after: &[&str]) {
        let mut attrs: BTreeMap<String, Attr> =
            attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let mut depends_on: Vec<String> = attrs
            .values()
            .flat_map(Attr::refs)
            .map(|r| r.logical.clone())
            .chain(after.iter().map(|s| s.to_string()))
            .filter(|dep| dep != logical)
            .collect();
        depends_on.sort();
        depends_on.dedup();
        if kind.taggable() {
            let mut tags = self.tags(logical);
            for (attr, _) in kind.spec().yields {
                if let (Attr::Map(tags), Some(value)) = (&mut tags, attrs.get(*attr)) {
                    let text = value.tag_text().unwrap_or_default();
                    tags.insert(set_tag(attr), s(text));
                }
            }
            attrs.insert("tags".into(), tags);
        }
        self.graph.insert(Resource {
            kind,
            logical: logical.to_string(),
            attrs,
            depends_on,
        });
    }

    /// The stack's own tags plus the two ownership tags.
    fn tags(&self, logical: &str) -> Attr {
        let mut tags: BTreeMap<String, Attr> = self
            .stack
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), s(v)))
            .collect();
        tags.insert(STACK_TAG.into(), s(&self.stack.name_prefix));
        tags.insert(LOGICAL_TAG.into(), s(logical));
        Attr::Map(tags)
    }
}

// Short constructors keep the resource tables readable.

fn s(value: impl Into<String>) -> Attr {
    Attr::Str(value.into())
}

fn int(value: impl Into<i64>) -> Attr {
    Attr::Int(value.into())
}

fn r(logical: &str, attr: &str) -> Attr {
    Attr::Ref(AttrRef {
        logical: logical.into(),
        attr: attr.into(),
    })
}

fn list(items: impl IntoIterator<Item = Attr>) -> Attr {
    Attr::List(items.into_iter().collect())
}

fn map(entries: Vec<(&str, Attr)>) -> Attr {
    Attr::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// The letter naming the `index`-th availability zone (`a`, `b`, ...).
fn az_letter(index: u32) -> char {
    char::from(b'a' + (index % 26) as u8)
}
