//! Ordering, cycles and the critical path.

use super::fixtures::{prod_graph, reference, resource};
use crate::core::resource::{Attr, ResourceKind as K};
use crate::core::{Graph, GraphError, Resource};

fn chain() -> Graph {
    let mut graph = Graph::new("t");
    graph.insert(resource(K::Vpc, "vpc", vec![]));
    graph.insert(resource(
        K::Subnet,
        "subnet",
        vec![("vpc_id", reference("vpc", "id"))],
    ));
    graph.insert(resource(
        K::SecurityGroup,
        "sg",
        vec![("vpc_id", reference("vpc", "id"))],
    ));
    graph
}

#[test]
fn creation_order_puts_dependencies_first_and_destroy_reverses_it() {
    let graph = chain();
    assert_eq!(graph.topo_order().unwrap(), vec!["vpc", "sg", "subnet"]);
    assert_eq!(graph.destroy_order().unwrap(), vec!["subnet", "sg", "vpc"]);
}

#[test]
fn cycles_and_missing_dependencies_are_errors() {
    let mut graph = chain();
    graph.insert(resource(
        K::Vpc,
        "vpc",
        vec![("x", reference("subnet", "id"))],
    ));
    match graph.topo_order() {
        Err(GraphError::Cycle { involved }) => assert_eq!(involved, vec!["subnet", "vpc"]),
        other => panic!("expected a cycle, got {other:?}"),
    }
    let mut graph = chain();
    graph.insert(resource(
        K::Subnet,
        "subnet",
        vec![("v", reference("nope", "id"))],
    ));
    assert_eq!(
        graph.topo_order(),
        Err(GraphError::MissingDependency {
            from: "subnet".into(),
            missing: "nope".into()
        })
    );
}

fn seconds(res: &Resource) -> f64 {
    res.kind.typical_create_seconds()
}

#[test]
fn critical_path_of_prod_runs_through_aurora_to_dns() {
    let path = prod_graph().critical_path(&seconds).unwrap();
    assert_eq!(
        path.path,
        vec![
            "vpc",
            "subnet.private.a",
            "db_subnet_group",
            "aurora.cluster",
            "aurora.writer",
            "service.gateway",
            "dns.primary"
        ]
    );
    assert_eq!(path.total, 10.0 + 8.0 + 1.0 + 60.0 + 720.0 + 151.0 + 45.0);
}

#[test]
fn critical_path_follows_the_heaviest_branch() {
    let mut graph = chain();
    graph.insert(resource(
        K::NatGateway,
        "nat",
        vec![("s", reference("subnet", "id"))],
    ));
    let weights = |r: &Resource| match r.attrs.get("w") {
        Some(Attr::Float(w)) => *w,
        _ => seconds(r),
    };
    let path = graph.critical_path(&weights).unwrap();
    assert_eq!(path.path, vec!["vpc", "subnet", "nat"]);
    assert_eq!(path.total, 123.0);
    assert_eq!(Graph::new("e").critical_path(&weights).unwrap().total, 0.0);
}

#[test]
fn kind_table_covers_every_edge_of_the_desired_graphs() {
    for graph in [prod_graph()] {
        for res in graph.resources.values() {
            for dep in &res.depends_on {
                let dep_kind = graph.resources[dep].kind;
                assert!(
                    dep_kind.is_needed_by(res.kind),
                    "{} ({:?}) depends on {dep} ({dep_kind:?}), missing from may_depend_on",
                    res.logical,
                    res.kind
                );
            }
        }
    }
}

#[test]
fn all_kinds_come_after_what_they_may_depend_on() {
    for (index, kind) in K::ALL.iter().enumerate() {
        for dep in kind.may_depend_on() {
            let at = K::ALL.iter().position(|k| k == dep).unwrap();
            assert!(at < index, "{kind:?} is listed before {dep:?}");
        }
    }
    assert!(!K::Vpc.is_needed_by(K::Vpc));
    assert!(K::Vpc.is_needed_by(K::DnsRecord));
}
