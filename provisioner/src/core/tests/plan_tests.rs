//! Plans against fake observations, normalisation, and the rendered text and JSON.

use std::collections::BTreeMap;

use super::fixtures::{observe, prod, prod_graph, reference, resource};
use crate::core::diff::normalise;
use crate::core::render::{render_json, render_text};
use crate::core::resource::{Attr, ResourceKind as K, STACK_TAG};
use crate::core::{desired, plan, Action, Change, Graph, Observed};

#[test]
fn plan_from_nothing_creates_everything() {
    let graph = prod_graph();
    let plan = plan(&graph, &BTreeMap::new()).unwrap();
    assert_eq!(plan.actions.len(), graph.len());
    assert!(plan.actions.iter().all(|a| a.action == Action::Create));
    assert_eq!(plan.summary(), (graph.len(), 0, 0));
}

#[test]
fn plan_against_what_aws_reports_after_apply_has_no_changes() {
    let graph = prod_graph();
    let plan = plan(&graph, &observe(&graph)).unwrap();
    let changed: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.action != Action::NoOp)
        .collect();
    assert!(changed.is_empty(), "perpetual diff: {changed:#?}");
    assert!(render_text(&plan).starts_with("No changes."));
}

/// A count the stack changes is applied, scalable target or not (its tag records the new one).
#[test]
fn a_new_desired_count_is_one_update_in_place() {
    let before = prod_graph();
    let mut stack = prod();
    stack.gateway.desired_count = 3;
    let plan = plan(&desired(&stack), &observe(&before)).unwrap();
    assert_eq!(plan.summary(), (0, 1, 0));
    let entry = plan.get("service.gateway").expect("service");
    let Action::Update { changes, .. } = &entry.action else {
        panic!("{entry:?}");
    };
    let count = Change {
        attr: "desired_count".into(),
        before: Some(Attr::Int(2)),
        after: Some(Attr::Int(3)),
        forces: false,
    };
    assert_eq!(changes[0], count);
    assert_eq!(changes[1].attr, "tags");
    assert_eq!(changes.len(), 2);
}

#[test]
fn a_changed_subnet_cidr_replaces_the_subnet_and_updates_what_points_at_it() {
    let graph = prod_graph();
    let mut observed = observe(&graph);
    let subnet = observed.get_mut("subnet.private.a").expect("subnet");
    subnet
        .attrs
        .insert("cidr_block".into(), Attr::Str("10.40.100.0/24".into()));
    let plan = plan(&graph, &observed).unwrap();
    match &plan.get("subnet.private.a").expect("subnet").action {
        Action::Replace { changes, forced_by } => {
            assert_eq!(forced_by, &vec!["cidr_block".to_string()]);
            assert_eq!(changes.len(), 1);
            assert!(changes[0].forces);
        }
        other => panic!("expected a replace, got {other:?}"),
    }
    // The new subnet's id is known only after apply: its users change with it.
    let route_table = &plan.get("route_table.private.a").expect("rt").action;
    assert!(
        matches!(route_table, Action::Update { .. }),
        "{route_table:?}"
    );
    assert_eq!(
        plan.get("subnet.private.b").expect("b").action,
        Action::NoOp
    );
}

#[test]
fn owned_leftovers_are_deleted_and_foreign_resources_left_alone() {
    let graph = prod_graph();
    let mut observed = observe(&graph);
    let tagged = |stack: &str| Observed {
        kind: K::SecurityGroup,
        attrs: [(
            "tags".to_string(),
            Attr::Map([(STACK_TAG.to_string(), Attr::Str(stack.into()))].into()),
        )]
        .into(),
    };
    observed.insert("sg.old".into(), tagged("weather-prod"));
    observed.insert("sg.theirs".into(), tagged("someone-else"));
    let plan = plan(&graph, &observed).unwrap();
    assert_eq!(plan.get("sg.old").expect("old").action, Action::Delete);
    assert!(plan.get("sg.theirs").is_none());
    assert_eq!(plan.summary(), (0, 0, 1));
}

#[test]
fn normalisation_removes_what_aws_reshapes() {
    let cases: Vec<(&str, Attr, Option<Attr>)> = vec![
        (
            "protocol",
            Attr::Str("TCP".into()),
            Some(Attr::Str("tcp".into())),
        ),
        (
            "name",
            Attr::Str("TCP".into()),
            Some(Attr::Str("TCP".into())),
        ),
        ("subnet_ids", Attr::List(vec![]), None),
        ("scaling", Attr::Map(BTreeMap::new()), None),
        ("max_capacity", Attr::Float(4.0), Some(Attr::Int(4))),
        ("min_capacity", Attr::Float(0.5), Some(Attr::Float(0.5))),
        (
            "tags",
            Attr::Map([("aws:x".to_string(), Attr::Str("y".into()))].into()),
            None,
        ),
    ];
    for (key, value, expected) in cases {
        assert_eq!(normalise(key, &value), expected, "{key}: {value:?}");
    }
}

/// A small world: the VPC is as desired, a subnet moved, a log group is new, a cluster's
/// setting changed, and an old bucket of ours is left over.
fn small_case() -> (Graph, BTreeMap<String, Observed>) {
    let mut graph = Graph::new("t");
    let cidr = |c: &str| Attr::Str(c.into());
    graph.insert(resource(
        K::Vpc,
        "vpc",
        vec![("cidr_block", cidr("10.0.0.0/16"))],
    ));
    let subnet = vec![
        ("cidr_block", cidr("10.0.0.0/24")),
        ("vpc_id", reference("vpc", "id")),
    ];
    graph.insert(resource(K::Subnet, "subnet.a", subnet));
    graph.insert(resource(
        K::LogGroup,
        "logs",
        vec![("name", cidr("/ecs/t"))],
    ));
    let password = Attr::Secret(None);
    let cluster = vec![
        ("backup_retention_period", Attr::Int(14)),
        ("master_password", password),
    ];
    graph.insert(resource(K::AuroraCluster, "db", cluster));
    let mut observed = observe(&graph);
    observed.remove("logs");
    let attr = |name: &str, key: &str, value: Attr| (name.to_string(), key.to_string(), value);
    for (name, key, value) in [
        attr("subnet.a", "cidr_block", cidr("10.0.1.0/24")),
        attr("db", "backup_retention_period", Attr::Int(7)),
    ] {
        observed
            .get_mut(&name)
            .expect("observed")
            .attrs
            .insert(key, value);
    }
    let old = Observed {
        kind: K::Secret,
        attrs: [
            ("name".to_string(), cidr("old")),
            ("value".to_string(), Attr::Secret(None)),
            (
                "tags".to_string(),
                Attr::Map([(STACK_TAG.to_string(), cidr("t"))].into()),
            ),
        ]
        .into(),
    };
    observed.insert("secret.old".into(), old);
    (graph, observed)
}

const SMALL_PLAN: &str = r#"Legend: + create, ~ update in place, -/+ replace (destroy then create), - destroy

  # db (AuroraCluster) will be updated in place
  ~ db {
      ~ backup_retention_period = 7 -> 14
    }

  # logs (LogGroup) will be created
  + logs {
      + name = "/ecs/t"
    }

  # subnet.a (Subnet) must be replaced
  -/+ subnet.a {
      ~ cidr_block = "10.0.1.0/24" -> "10.0.0.0/24" # forces replacement
    }

  # secret.old (Secret) will be destroyed
  - secret.old {
      - name = "old"
      - tags = { provisioner:stack = "t" }
      - value = (sensitive value)
    }

Plan: 2 to add, 1 to change, 2 to destroy.
"#;

#[test]
fn rendered_plan_text_snapshot() {
    let (graph, observed) = small_case();
    let text = render_text(&plan(&graph, &observed).unwrap());
    assert_eq!(text, SMALL_PLAN, "\n{text}");
}

#[test]
fn rendered_plan_json_names_actions_and_hides_secrets() {
    let (graph, observed) = small_case();
    let json = render_json(&plan(&graph, &observed).unwrap()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let actions = value["actions"].as_array().expect("actions");
    let names: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| {
            (
                a["logical"].as_str().unwrap(),
                a["action"]["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("db", "update"),
            ("logs", "create"),
            ("vpc", "no_op"),
            ("subnet.a", "replace"),
            ("secret.old", "delete")
        ]
    );
    assert_eq!(actions[3]["action"]["forced_by"][0], "cidr_block");
    assert!(json.contains(r#""type": "secret""#));
    assert!(
        !json.contains("value\": \"(sensitive"),
        "secrets carry no value at all"
    );
}

#[test]
fn fixed_at_creation_attributes_force_replacement() {
    type Edit = fn(&mut crate::Stack);
    let cases: &[(Edit, &str, &str)] = &[
        (
            |s| s.gateway.architecture = crate::stack::Architecture::X86_64,
            "task_def.gateway",
            "runtime_platform",
        ),
        (|s| s.gateway.memory = 2048, "task_def.gateway", "memory"),
        (
            |s| s.gateway.image = "gw:2".into(),
            "task_def.gateway",
            "containers",
        ),
        (
            |s| s.network.cidr = "10.41.0.0/16".into(),
            "vpc",
            "cidr_block",
        ),
        (
            |s| s.dns.as_mut().expect("dns").interval = 10,
            "health_check.gateway",
            "request_interval",
        ),
    ];
    let before = observe(&prod_graph());
    for (edit, logical, attr) in cases {
        let mut stack = prod();
        edit(&mut stack);
        let plan = plan(&desired(&stack), &before).unwrap();
        match &plan.get(logical).expect(logical).action {
            Action::Replace { forced_by, .. } => assert_eq!(forced_by, &vec![attr.to_string()]),
            other => panic!("{logical}/{attr}: expected a replace, got {other:?}"),
        }
    }
}

#[test]
fn in_place_attributes_update_without_replacing() {
    let mut stack = prod();
    stack.database.max_acu = 8.0;
    stack.cache.node_type = "cache.t4g.small".into();
    let plan = plan(&desired(&stack), &observe(&prod_graph())).unwrap();
    assert_eq!(plan.summary(), (0, 2, 0));
    for logical in ["aurora.cluster", "redis"] {
        let action = &plan.get(logical).expect(logical).action;
        assert!(
            matches!(action, Action::Update { .. }),
            "{logical}: {action:?}"
        );
    }
}
