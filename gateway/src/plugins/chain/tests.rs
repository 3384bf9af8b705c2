use super::*;
use crate::entities::parse;
use serde_json::json;

fn compiled(value: serde_json::Value) -> Compiled {
    let plugin: Plugin = parse(value).expect("valid plugin");
    // Any handler will do: the chain only orders and selects instances.
    let handler = registry::build("request-termination", &json!({}), &Default::default()).unwrap();
    Compiled { plugin, handler }
}

fn names(chain: &Chain) -> Vec<&str> {
    chain.entries.iter().map(|e| e.name.as_str()).collect()
}

const ROUTE: &str = "6f4f2a36-8c54-4c1e-9b7e-6e0e5d8a1a01";
const SERVICE: &str = "2a1f7d0c-5b3e-4d6f-8a9b-0c1d2e3f4a5b";
const OTHER: &str = "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d";

#[test]
fn priorities_order_the_chain() {
    let all = [
        compiled(json!({"name": "request-transformer"})),
        compiled(json!({"name": "key-auth"})),
        compiled(json!({"name": "rate-limiting"})),
        compiled(json!({"name": "prometheus"})),
    ];
    let chain = Chain::resolve(&all, None, None);
    assert_eq!(
        names(&chain),
        [
            "key-auth",
            "rate-limiting",
            "request-transformer",
            "prometheus"
        ]
    );
}

#[test]
fn ordering_runs_request_transformer_before_key_auth() {
    let all = [
        compiled(json!({"name": "key-auth"})),
        compiled(json!({"name": "rate-limiting"})),
        compiled(
            json!({"name": "request-transformer", "ordering": {"before": {"access": ["key-auth"]}}}),
        ),
    ];
    let chain = Chain::resolve(&all, None, None);
    assert_eq!(
        names(&chain),
        ["request-transformer", "key-auth", "rate-limiting"]
    );
    // `after` expresses the same from the other side.
    let all = [
        compiled(
            json!({"name": "key-auth", "ordering": {"after": {"access": ["request-transformer"]}}}),
        ),
        compiled(json!({"name": "request-transformer"})),
    ];
    assert_eq!(
        names(&Chain::resolve(&all, None, None)),
        ["request-transformer", "key-auth"]
    );
}

#[test]
fn a_cycle_falls_back_to_priorities() {
    let all = [
        compiled(
            json!({"name": "key-auth", "ordering": {"after": {"access": ["request-transformer"]}}}),
        ),
        compiled(
            json!({"name": "request-transformer", "ordering": {"after": {"access": ["key-auth"]}}}),
        ),
    ];
    assert_eq!(
        names(&Chain::resolve(&all, None, None)),
        ["key-auth", "request-transformer"]
    );
}

#[test]
fn most_specific_scope_wins_and_others_do_not_apply() {
    let all = [
        compiled(json!({"name": "rate-limiting", "config": {"minute": 1}})),
        compiled(
            json!({"name": "rate-limiting", "service": {"id": SERVICE}, "config": {"minute": 2}}),
        ),
        compiled(json!({"name": "rate-limiting", "route": {"id": ROUTE}, "config": {"minute": 3}})),
        compiled(json!({"name": "key-auth", "route": {"id": OTHER}})),
        compiled(json!({"name": "cors", "enabled": false})),
    ];
    let route = Uuid::parse_str(ROUTE).ok();
    let service = Uuid::parse_str(SERVICE).ok();
    let chain = Chain::resolve(&all, route, service);
    assert_eq!(names(&chain), ["rate-limiting"]);
    assert_eq!(
        chain.entries[0].plugin_id_for(None).unwrap(),
        all[2].plugin.id,
        "route scope beats service and global"
    );
    let chain = Chain::resolve(&all, None, service);
    assert_eq!(
        chain.entries[0].plugin_id_for(None).unwrap(),
        all[1].plugin.id,
        "service scope beats global"
    );
    let chain = Chain::resolve(&all, None, None);
    assert_eq!(
        chain.entries[0].plugin_id_for(None).unwrap(),
        all[0].plugin.id
    );
}

const ALICE: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const BOB: &str = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";

#[test]
fn consumer_scoped_instances_apply_once_the_consumer_is_known() {
    let all = [
        compiled(json!({"name": "rate-limiting", "config": {"minute": 10}})),
        compiled(
            json!({"name": "rate-limiting", "consumer": {"id": ALICE}, "config": {"minute": 1000}}),
        ),
        compiled(json!({"name": "request-termination", "consumer": {"id": BOB}})),
        compiled(json!({"name": "key-auth", "route": {"id": ROUTE}, "service": {"id": SERVICE}})),
        compiled(json!({"name": "key-auth", "consumer": {"id": BOB}})),
    ];
    let route = Uuid::parse_str(ROUTE).ok();
    let service = Uuid::parse_str(SERVICE).ok();
    let alice = Uuid::parse_str(ALICE).ok();
    let bob = Uuid::parse_str(BOB).ok();
    let chain = Chain::resolve(&all, route, service);
    assert_eq!(
        names(&chain),
        ["key-auth", "rate-limiting", "request-termination"]
    );
    let rl = &chain.entries[1];
    assert_eq!(
        rl.plugin_id_for(None),
        Some(all[0].plugin.id),
        "global before a consumer is known"
    );
    assert_eq!(
        rl.plugin_id_for(alice),
        Some(all[1].plugin.id),
        "consumer beats global"
    );
    assert_eq!(rl.plugin_id_for(bob), Some(all[0].plugin.id));
    let termination = &chain.entries[2];
    assert!(
        termination.handler_for(None).is_none(),
        "applies to bob only"
    );
    assert!(termination.handler_for(alice).is_none());
    assert_eq!(termination.plugin_id_for(bob), Some(all[2].plugin.id));
    let auth = &chain.entries[0];
    assert_eq!(
        auth.plugin_id_for(bob),
        Some(all[3].plugin.id),
        "route+service beats consumer alone"
    );
}

#[test]
fn the_chain_knows_when_a_body_is_needed() {
    let all = [compiled(json!({"name": "request-termination"}))];
    assert!(!Chain::resolve(&all, None, None).needs_body);
}

#[test]
fn each_phase_holds_only_the_plugins_that_act_in_it() {
    let all = [
        compiled(json!({"name": "prometheus"})),
        compiled(json!({"name": "response-transformer"})),
        compiled(json!({"name": "rate-limiting"})),
        compiled(json!({"name": "key-auth"})),
    ];
    let chain = Chain::resolve(&all, None, None);
    let in_phase =
        |phase| -> Vec<&str> { chain.phase(phase).iter().map(|e| e.name.as_str()).collect() };
    assert_eq!(in_phase(Phase::Access), ["key-auth", "rate-limiting"]);
    assert_eq!(
        in_phase(Phase::ResponseHeaders),
        ["rate-limiting", "response-transformer"]
    );
    assert_eq!(in_phase(Phase::ResponseBody), ["response-transformer"]);
    assert_eq!(in_phase(Phase::Log), ["prometheus"]);
}

#[test]
fn the_plugin_table_is_in_priority_order_with_unique_names() {
    let table = registry::PLUGINS;
    assert!(table.windows(2).all(|w| w[0].priority > w[1].priority));
    for spec in table {
        assert!(std::ptr::eq(registry::spec(spec.name).unwrap(), spec));
        assert!(!spec.phases.is_empty(), "{} acts somewhere", spec.name);
    }
}
