//! Shared fixtures: the prod stack, small graphs, and "what AWS would report" for a graph.

use std::collections::BTreeMap;
use std::path::Path;

use crate::core::resource::{is_enum_like, Attr, AttrRef, Resource, ResourceKind};
use crate::core::{desired, Graph, Observed};
use crate::Stack;

pub fn prod() -> Stack {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks/prod.toml");
    match crate::load_file(&path) {
        Ok(stack) => stack,
        Err(e) => panic!("stacks/prod.toml must load: {e}"),
    }
}

pub fn prod_graph() -> Graph {
    desired(&prod())
}

pub fn resource(kind: ResourceKind, logical: &str, attrs: Vec<(&str, Attr)>) -> Resource {
    let attrs: BTreeMap<String, Attr> = attrs.into_iter().map(|(k, v)| (k.into(), v)).collect();
    let mut depends_on: Vec<String> = attrs
        .values()
        .flat_map(Attr::refs)
        .map(|r| r.logical.clone())
        .collect();
    depends_on.sort();
    depends_on.dedup();
    Resource {
        kind,
        logical: logical.into(),
        attrs,
        depends_on,
    }
}

pub fn reference(logical: &str, attr: &str) -> Attr {
    Attr::Ref(AttrRef {
        logical: logical.into(),
        attr: attr.into(),
    })
}

/// What AWS would report once `graph` is applied: ids and ARNs filled in, references resolved,
/// enum-like strings upper-cased, whole floats as integers, AWS's own tags added and secrets
/// absent, so that a correct diff still finds nothing to do.
pub fn observe(graph: &Graph) -> BTreeMap<String, Observed> {
    graph
        .resources
        .values()
        .map(|res| {
            let mut attrs: BTreeMap<String, Attr> = res
                .attrs
                .iter()
                .filter(|(_, v)| !matches!(v, Attr::Secret(_)))
                .map(|(k, v)| (k.clone(), as_aws(graph, k, v)))
                .collect();
            attrs.insert("id".into(), Attr::Str(format!("id-{}", res.logical)));
            attrs.insert("arn".into(), Attr::Str(format!("arn-{}", res.logical)));
            let observed = Observed {
                kind: res.kind,
                attrs,
            };
            (res.logical.clone(), observed)
        })
        .collect()
}

fn as_aws(graph: &Graph, key: &str, value: &Attr) -> Attr {
    match value {
        Attr::Ref(r) => fake_value(graph, r),
        Attr::Str(s) if is_enum_like(key) => Attr::Str(s.to_ascii_uppercase()),
        Attr::Float(f) if f.fract() == 0.0 => Attr::Int(*f as i64),
        Attr::List(items) => Attr::List(items.iter().map(|v| as_aws(graph, key, v)).collect()),
        Attr::Map(map) => {
            let mut map: BTreeMap<String, Attr> = map
                .iter()
                .map(|(k, v)| (k.clone(), as_aws(graph, k, v)))
                .collect();
            if key == "tags" {
                map.insert(
                    "aws:cloudformation:stack-name".into(),
                    Attr::Str("x".into()),
                );
            }
            Attr::Map(map)
        }
        other => other.clone(),
    }
}

/// The value a reference resolves to: the target's own attribute when it has one, else a fake.
pub fn fake_value(graph: &Graph, r: &AttrRef) -> Attr {
    match graph.get(&r.logical).and_then(|t| t.attrs.get(&r.attr)) {
        Some(value) if !matches!(value, Attr::Ref(_)) => value.clone(),
        _ if r.attr == "id" || r.attr == "arn" => Attr::Str(format!("{}-{}", r.attr, r.logical)),
        _ => Attr::Str(format!("{}.{}", r.logical, r.attr)),
    }
}
