//! Stack variations change the graph's shape, and every shape stays acyclic.

use super::fixtures::prod;
use crate::core::resource::{Attr, ResourceKind as K};
use crate::core::{desired, Graph};
use crate::stack::{Nat, Stack};

fn count(graph: &Graph, kind: K) -> usize {
    graph.resources.values().filter(|r| r.kind == kind).count()
}

type Edit = fn(&mut Stack);

#[test]
fn stack_variations_shape_the_graph() {
    // (what, edit, NAT gateways, subnets, DNS records, HTTP APIs)
    let cases: &[(&str, Edit, usize, usize, usize, usize)] = &[
        ("prod", |_| {}, 2, 4, 2, 1),
        ("single nat", |s| s.network.nat = Nat::Single, 1, 4, 2, 1),
        ("no nat", |s| s.network.nat = Nat::None, 0, 4, 2, 1),
        ("three zones", |s| s.network.az_count = 3, 3, 6, 2, 1),
        ("no fallback", |s| s.fallback = None, 2, 4, 1, 0),
        ("no dns", |s| s.dns = None, 2, 4, 0, 1),
    ];
    for (what, edit, nats, subnets, records, apis) in cases {
        let mut stack = prod();
        edit(&mut stack);
        let graph = desired(&stack);
        assert!(graph.topo_order().is_ok(), "{what}: cycle");
        assert_eq!(count(&graph, K::NatGateway), *nats, "{what}: NAT gateways");
        assert_eq!(count(&graph, K::Subnet), *subnets, "{what}: subnets");
        assert_eq!(count(&graph, K::DnsRecord), *records, "{what}: DNS records");
        assert_eq!(count(&graph, K::HttpApi), *apis, "{what}: HTTP APIs");
    }
}

#[test]
fn single_nat_serves_every_private_zone_and_no_nat_means_no_default_route() {
    let mut stack = prod();
    stack.network.nat = Nat::Single;
    let graph = desired(&stack);
    let deps = &graph.get("route_table.private.b").expect("rt").depends_on;
    assert!(deps.contains(&"nat.a".to_string()), "{deps:?}");
    stack.network.nat = Nat::None;
    let graph = desired(&stack);
    let routes = &graph.get("route_table.private.a").expect("rt").attrs["routes"];
    assert_eq!(routes, &Attr::List(vec![]));
}

#[test]
fn without_a_fallback_the_record_is_a_plain_alias() {
    let mut stack = prod();
    stack.fallback = None;
    let graph = desired(&stack);
    let record = graph.get("dns.primary").expect("record");
    assert!(!record.attrs.contains_key("failover"));
    assert!(!record.attrs.contains_key("set_identifier"));
}
