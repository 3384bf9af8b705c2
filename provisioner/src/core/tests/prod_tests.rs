//! The desired graph of `stacks/prod.toml`: complete, acyclic, least-privilege, tagged.

use std::collections::BTreeSet;

use super::fixtures::prod_graph;
use crate::core::desired::{ADMIN_PORT, LISTENER_PORT, POSTGRES_PORT, PROXY_PORT, REDIS_PORT};
use crate::core::resource::{Attr, AttrRef, ResourceKind as K, LOGICAL_TAG, STACK_TAG};
use crate::core::Resource;

const ALL_KINDS: &[K] = &[
    K::Vpc,
    K::Subnet,
    K::InternetGateway,
    K::ElasticIp,
    K::NatGateway,
    K::RouteTable,
    K::SecurityGroup,
    K::SecurityGroupRule,
    K::Secret,
    K::DbSubnetGroup,
    K::AuroraCluster,
    K::AuroraInstance,
    K::CacheSubnetGroup,
    K::ReplicationGroup,
    K::EcsCluster,
    K::IamRole,
    K::LogGroup,
    K::TaskDefinition,
    K::LoadBalancer,
    K::TargetGroup,
    K::Listener,
    K::EcsService,
    K::ScalableTarget,
    K::ScalingPolicy,
    K::HealthCheck,
    K::DnsRecord,
    K::HttpApi,
    K::ApiDomainName,
    K::LambdaPermission,
];

fn int_attr(res: &Resource, key: &str) -> Option<i64> {
    match res.attrs.get(key) {
        Some(Attr::Int(n)) => Some(*n),
        _ => None,
    }
}

fn ref_to(res: &Resource, key: &str) -> Option<String> {
    match res.attrs.get(key) {
        Some(Attr::Ref(AttrRef { logical, .. })) => Some(logical.clone()),
        _ => None,
    }
}

#[test]
fn prod_graph_has_every_kind_and_is_acyclic() {
    let graph = prod_graph();
    let kinds: BTreeSet<K> = graph.resources.values().map(|r| r.kind).collect();
    let missing: Vec<_> = ALL_KINDS.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(missing.is_empty(), "missing kinds: {missing:?}");
    let order = graph.topo_order().expect("prod graph is acyclic");
    assert_eq!(order.len(), graph.len());
    for (position, name) in order.iter().enumerate() {
        for dep in &graph.resources[*name].depends_on {
            let dep_position = order.iter().position(|n| n == dep);
            assert!(
                dep_position < Some(position),
                "{dep} must come before {name}"
            );
        }
    }
    assert_eq!(graph.stack, "weather-prod");
}

#[test]
fn prod_graph_has_two_zones_of_distinct_subnets_and_a_nat_each() {
    let graph = prod_graph();
    let cidrs: Vec<(&str, &Attr)> = [
        "subnet.public.a",
        "subnet.public.b",
        "subnet.private.a",
        "subnet.private.b",
    ]
    .iter()
    .map(|name| (*name, &graph.get(name).expect(name).attrs["cidr_block"]))
    .collect();
    let expected = [
        "10.40.0.0/18",
        "10.40.64.0/18",
        "10.40.128.0/18",
        "10.40.192.0/18",
    ];
    for ((name, cidr), want) in cidrs.iter().zip(expected) {
        assert_eq!(*cidr, &Attr::Str(want.into()), "{name}");
    }
    assert!(graph.get("nat.a").is_some() && graph.get("nat.b").is_some());
    let private_b = &graph
        .get("route_table.private.b")
        .expect("route table")
        .depends_on;
    assert!(private_b.contains(&"nat.b".to_string()), "{private_b:?}");
}

#[test]
fn security_groups_open_only_the_needed_ports_and_never_the_admin_api() {
    let graph = prod_graph();
    let rules: Vec<&Resource> = graph
        .resources
        .values()
        .filter(|r| r.kind == K::SecurityGroupRule)
        .collect();
    let mut seen = BTreeSet::new();
    for rule in &rules {
        let (from, to) = (int_attr(rule, "from_port"), int_attr(rule, "to_port"));
        let (from, to) = (from.expect("from_port"), to.expect("to_port"));
        assert!(
            !(from..=to).contains(&ADMIN_PORT),
            "{} opens the Admin API",
            rule.logical
        );
        let group = ref_to(rule, "group_id").expect("group");
        let source = ref_to(rule, "source_group_id").unwrap_or_else(|| "internet".into());
        seen.insert((group, source, from, to));
    }
    let expected: BTreeSet<(String, String, i64, i64)> = [
        ("sg.nlb", "internet", LISTENER_PORT),
        ("sg.gateway", "sg.nlb", PROXY_PORT),
        ("sg.db", "sg.gateway", POSTGRES_PORT),
        ("sg.cache", "sg.gateway", REDIS_PORT),
    ]
    .into_iter()
    .map(|(g, s, p)| (g.to_string(), s.to_string(), p, p))
    .collect();
    assert_eq!(seen, expected);
    let target_group = graph.get("target_group.gateway").expect("target group");
    assert_eq!(int_attr(target_group, "port"), Some(PROXY_PORT));
}

#[test]
fn every_taggable_resource_carries_both_ownership_tags() {
    let graph = prod_graph();
    for res in graph.resources.values() {
        let tags = res.attrs.get("tags");
        if !res.kind.taggable() {
            assert!(tags.is_none(), "{} takes no tags", res.logical);
            continue;
        }
        let Some(Attr::Map(tags)) = tags else {
            panic!("{} has no tags", res.logical);
        };
        assert_eq!(tags.get(STACK_TAG), Some(&Attr::Str("weather-prod".into())));
        assert_eq!(tags.get(LOGICAL_TAG), Some(&Attr::Str(res.logical.clone())));
        assert_eq!(tags.get("project"), Some(&Attr::Str("weather-api".into())));
    }
}

#[test]
fn the_password_is_generated_and_only_referenced() {
    let graph = prod_graph();
    let secret = graph.get("secret.db_password").expect("secret");
    assert_eq!(secret.attrs["value"], Attr::Secret(None));
    let cluster = graph.get("aurora.cluster").expect("cluster");
    assert!(matches!(
        cluster.attrs["master_password"],
        Attr::Secret(Some(_))
    ));
    let task = graph.get("task_def.gateway").expect("task definition");
    let text = format!("{:?}", task.attrs);
    assert!(text.contains("KONG_PG_PASSWORD"), "{text}");
    assert!(
        text.contains(r#"logical: "secret.db_password", attr: "arn""#),
        "{text}"
    );
    assert!(text.contains(r#"Str("ARM64")"#) && text.contains(r#"Str("health")"#));
    let writer = graph.get("aurora.writer").expect("writer");
    assert_eq!(
        writer.attrs["instance_class"],
        Attr::Str("db.serverless".into())
    );
}

#[test]
fn the_execution_role_reads_every_secret_the_tasks_get() {
    let mut stack = super::fixtures::prod();
    let own = "arn:aws:secretsmanager:us-east-1:123456789012:secret:vendor-AbCdEf";
    let param = "arn:aws:ssm:us-east-1:123456789012:parameter/vendor/token";
    stack
        .gateway
        .secrets
        .insert("VENDOR_KEY".into(), format!("{own}:key::"));
    stack
        .gateway
        .secrets
        .insert("VENDOR_TOKEN".into(), param.into());
    let graph = crate::core::desired(&stack);
    let role = graph.get("iam.execution_role").expect("execution role");
    let Attr::List(arns) = &role.attrs["secret_read_arns"] else {
        panic!("secret_read_arns is a list");
    };
    assert!(arns.contains(&Attr::Str(own.into())), "{arns:?}");
    assert!(arns.contains(&Attr::Str(param.into())), "{arns:?}");
    let text = format!("{arns:?}");
    assert!(
        text.contains("secret.db_password") && text.contains("secret.admin_key"),
        "{text}"
    );
}

#[test]
fn failover_records_share_name_and_type_with_a_health_check_on_the_primary() {
    let graph = prod_graph();
    let primary = graph.get("dns.primary").expect("primary");
    let secondary = graph.get("dns.secondary").expect("secondary");
    for key in ["name", "type", "zone"] {
        assert_eq!(primary.attrs[key], secondary.attrs[key], "{key}");
    }
    assert_eq!(primary.attrs["failover"], Attr::Str("PRIMARY".into()));
    assert_eq!(secondary.attrs["failover"], Attr::Str("SECONDARY".into()));
    assert_eq!(
        ref_to(primary, "health_check_id").as_deref(),
        Some("health_check.gateway")
    );
    assert!(!secondary.attrs.contains_key("health_check_id"));
}
