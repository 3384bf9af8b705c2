//! Values another resource owns: a scaled service's task count is noted, never changed.

use std::collections::BTreeMap;

use super::fixtures::{observe, prod_graph, resource};
use crate::core::render::render_text;
use crate::core::resource::{Attr, ResourceKind as K};
use crate::core::{plan, Action, Graph, Note, Observed};

const SERVICE: &str = "service.gateway";

/// The prod stack as AWS reports it once autoscaling moved the service to `tasks`.
fn scaled_to(tasks: i64) -> (Graph, BTreeMap<String, Observed>) {
    let graph = prod_graph();
    let mut observed = observe(&graph);
    let service = observed.get_mut(SERVICE).expect("service");
    service
        .attrs
        .insert("desired_count".into(), Attr::Int(tasks));
    (graph, observed)
}

#[test]
fn a_scaled_service_is_no_change_but_a_note() {
    let (graph, observed) = scaled_to(4);
    let plan = plan(&graph, &observed).unwrap();
    assert!(!plan.has_changes(), "{plan:#?}");
    let expected = Action::Noted {
        notes: vec![Note {
            attr: "desired_count".into(),
            current: Attr::Int(4),
            configured: Attr::Int(2),
            owner: "scaling.target".into(),
        }],
    };
    assert_eq!(plan.get(SERVICE).expect("service").action, expected);
}

const SCALED_TEXT: &str = "\
No changes. The stack matches its configuration.
Note: service.gateway.desired_count is 4 (the stack's 2 applies on create only), owned by scaling.target.
";

#[test]
fn rendered_note_snapshot() {
    let (graph, observed) = scaled_to(4);
    let text = render_text(&plan(&graph, &observed).unwrap());
    assert_eq!(text, SCALED_TEXT, "\n{text}");
}

#[test]
fn a_count_outside_a_new_range_says_where_aws_takes_it() {
    let (graph, mut observed) = scaled_to(9);
    // The stack's range was 2..10 when the service scaled out; it is 2..6 now.
    let target = observed.get_mut("scaling.target").expect("target");
    target.attrs.insert("max_capacity".into(), Attr::Int(10));
    let plan = plan(&graph, &observed).unwrap();
    assert_eq!(plan.summary(), (0, 1, 0), "the target's range changes");
    let text = render_text(&plan);
    assert!(
        text.contains(
            "Note: service.gateway.desired_count is 9 (the stack's 2 applies on create only), \
             owned by scaling.target. Outside 2..6: AWS moves it into that range when the \
             range is registered.\n\nPlan: 0 to add, 1 to change, 0 to destroy."
        ),
        "\n{text}"
    );
}

#[test]
fn without_a_scalable_target_the_count_is_diffed() {
    let service = resource(
        K::EcsService,
        SERVICE,
        vec![("desired_count", Attr::Int(2))],
    );
    let mut graph = Graph::new("t");
    graph.insert(service);
    let seen = Observed {
        kind: K::EcsService,
        attrs: BTreeMap::from([("desired_count".into(), Attr::Int(4))]),
    };
    let plan = plan(&graph, &BTreeMap::from([(SERVICE.to_string(), seen)])).unwrap();
    assert!(
        matches!(&plan.get(SERVICE).expect("service").action,
            Action::Update { changes, .. } if changes[0].attr == "desired_count"),
        "{plan:#?}"
    );
}

#[test]
fn a_service_from_before_the_tag_keeps_its_scaled_count() {
    let (graph, mut observed) = scaled_to(4);
    let service = observed.get_mut(SERVICE).expect("service");
    if let Some(Attr::Map(tags)) = service.attrs.get_mut("tags") {
        tags.remove("provisioner:set:desired_count");
    }
    let plan = plan(&graph, &observed).unwrap();
    let Action::Update { changes, .. } = &plan.get(SERVICE).expect("service").action else {
        panic!("{plan:#?}");
    };
    let changed: Vec<&str> = changes.iter().map(|c| c.attr.as_str()).collect();
    assert_eq!(changed, ["tags"], "the tag is added, the count left alone");
}

#[test]
fn a_scaled_service_with_another_change_keeps_its_count_and_note() {
    let (graph, mut observed) = scaled_to(4);
    let service = observed.get_mut(SERVICE).expect("service");
    service
        .attrs
        .insert("assign_public_ip".into(), Attr::Bool(true));
    let plan = plan(&graph, &observed).unwrap();
    let Action::Update { changes, notes } = &plan.get(SERVICE).expect("service").action else {
        panic!("{plan:#?}");
    };
    let changed: Vec<&str> = changes.iter().map(|c| c.attr.as_str()).collect();
    assert_eq!(changed, ["assign_public_ip"]);
    assert_eq!(notes[0].current, Attr::Int(4));
    let text = render_text(&plan);
    assert!(
        text.contains("Note: service.gateway.desired_count is 4 ("),
        "\n{text}"
    );
}
