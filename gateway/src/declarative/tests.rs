use super::*;
use crate::entities::Kind;
use serde_json::json;
use uuid::Uuid;

fn example_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kong.yaml")
}

fn example() -> Config {
    parse_file(&example_path()).unwrap_or_else(|e| panic!("example must parse:\n{e}"))
}

fn parse(text: &str) -> Config {
    parse_str(text, "test.yaml").unwrap_or_else(|e| panic!("must parse:\n{e}"))
}

fn errors(text: &str) -> String {
    match parse_str(text, "test.yaml") {
        Ok(config) => panic!("expected errors, parsed {config:?}"),
        Err(e) => e.to_string(),
    }
}

/// Lists sorted by id, so configs built in different orders compare equal.
fn sorted(mut c: Config) -> Config {
    c.services.sort_by_key(|e| e.id);
    c.routes.sort_by_key(|e| e.id);
    c.consumers.sort_by_key(|e| e.id);
    c.keyauth_credentials.sort_by_key(|e| e.id);
    c.acls.sort_by_key(|e| e.id);
    c.plugins.sort_by_key(|e| e.id);
    c.upstreams.sort_by_key(|e| e.id);
    c.targets.sort_by_key(|e| e.id);
    c
}

// === parsing ===

#[test]
fn example_file_nests_children_under_their_parents() {
    let c = example();
    let counts: Vec<usize> = Kind::ALL.iter().map(|k| c.count(*k)).collect();
    // services, routes, consumers, keyauth, acls, upstreams, targets, plugins
    assert_eq!(counts, vec![1, 2, 1, 1, 0, 1, 2, 2]);
    let weather = &c.services[0];
    assert_eq!(weather.host, "weather-backend.internal");
    assert_eq!(weather.path.as_deref(), Some("/v1"));
    assert!(c
        .routes
        .iter()
        .all(|r| r.service.map(|s| s.id) == Some(weather.id)));
    let forecast = c
        .routes
        .iter()
        .find(|r| r.name.as_deref() == Some("forecast"))
        .unwrap();
    assert_eq!(
        forecast.paths.as_deref().unwrap(),
        ["~/forecast/(?<apikey>[^/]+)/(?<location>[^/]+)$"]
    );
    let transformer = c
        .plugins
        .iter()
        .find(|p| p.name == "request-transformer")
        .unwrap();
    assert_eq!(transformer.route.map(|r| r.id), Some(forecast.id));
    assert_eq!(
        transformer.service, None,
        "a plugin nested in a route is scoped to it alone"
    );
    let key_auth = c.plugins.iter().find(|p| p.name == "key-auth").unwrap();
    assert_eq!(key_auth.service.map(|s| s.id), Some(weather.id));
    assert_eq!(
        c.keyauth_credentials[0].consumer.map(|r| r.id),
        Some(c.consumers[0].id)
    );
    let upstream = c.upstreams[0].id;
    assert!(c
        .targets
        .iter()
        .all(|t| t.upstream.map(|u| u.id) == Some(upstream)));
    assert_eq!(c.targets[1].weight, 50);
}

const NESTED: &str = r#"
_format_version: "3.0"
_transform: true
_workspace: default
services:
  - name: weather
    host: backend
    routes:
      - name: r1
        paths: [/a]
        plugins:
          - name: rate-limiting
            config: {minute: 5}
consumers:
  - username: alice
    keyauth_credentials:
      - key: k1
upstreams:
  - name: backend
    id: 6d5b3a3e-1f0e-4c59-9a4e-7e3c1b2a9f10
    targets:
      - target: 10.0.0.1:80
"#;

const FLAT: &str = r#"
_format_version: "2.1"
plugins:
  - name: rate-limiting
    route: {id: r1}
    config: {minute: 5}
routes:
  - name: r1
    service: weather
    paths: [/a]
targets:
  - target: 10.0.0.1:80
    upstream: 6d5b3a3e-1f0e-4c59-9a4e-7e3c1b2a9f10
keyauth_credentials:
  - key: k1
    consumer: alice
services:
  - name: weather
    host: backend
consumers:
  - username: alice
upstreams:
  - name: backend
    id: 6d5b3a3e-1f0e-4c59-9a4e-7e3c1b2a9f10
"#;

#[test]
fn flat_form_with_references_by_name_or_id_equals_nested_form() {
    let nested = parse(NESTED);
    let flat = parse(FLAT);
    assert_eq!(nested.len(), 7);
    assert_eq!(sorted(nested), sorted(flat));
}

#[test]
fn formats_before_3_0_mark_regex_paths_as_kong_does() {
    let text = "_format_version: \"2.1\"\nroutes:\n  - paths: [/plain/path-1.0_~x, /users/\\d+$, \"~/already\"]\n";
    let c = parse(text);
    assert_eq!(
        c.routes[0].paths.as_deref().unwrap(),
        ["/plain/path-1.0_~x", "~/users/\\d+$", "~/already"]
    );
    let modern = parse(&text.replace("2.1", "3.0"));
    assert_eq!(
        modern.routes[0].paths.as_deref().unwrap()[1],
        "/users/\\d+$",
        "3.0 files say regex with ~ themselves"
    );
}

#[test]
fn json_documents_parse_like_yaml() {
    let text = r#"{
	"_format_version": "3.0",
	"services": [{"name": "weather", "host": "backend",
	              "routes": [{"name": "r1", "paths": ["/a"]}]}]
}"#;
    let c = parse(text);
    assert_eq!(c.routes[0].service.map(|s| s.id), Some(c.services[0].id));
}

#[test]
fn yaml_anchors_and_merge_keys_are_expanded() {
    let c = parse(
        "_format_version: \"3.0\"\nservices:\n  - &base\n    name: a\n    host: h\n    retries: 2\n  - <<: *base\n    name: b\n",
    );
    assert_eq!(c.services[1].name.as_deref(), Some("b"));
    assert_eq!(
        (c.services[1].host.as_str(), c.services[1].retries),
        ("h", 2)
    );
}

#[test]
fn scalars_follow_the_yaml_core_schema() {
    let root =
        yaml::parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: yes\ng: 0x1F\nh: !!str 2\n").unwrap();
    assert_eq!(
        root.to_json(),
        json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "yes", "g": 31, "h": "2"})
    );
}

// === errors ===

#[test]
fn each_problem_names_file_line_column_and_path() {
    let cases: &[(&str, &str)] = &[
        (
            "services: []\n",
            "test.yaml:1:1: _format_version: required field missing",
        ),
        (
            "_format_version: 4.0\n",
            "test.yaml:1:18: _format_version: expected one of",
        ),
        (
            "_format_version: \"3.0\"\nservices: [\n  {name: a\n",
            "test.yaml:4:1: while parsing a flow mapping",
        ),
        (
            "_format_version: \"3.0\"\ncertificates:\n  - cert: x\n",
            "test.yaml:2:1: certificates: Kong's 'certificates' entities are not supported",
        ),
        (
            "_format_version: \"3.0\"\nservicez: []\n",
            "test.yaml:2:1: servicez: unknown key 'servicez'",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    host: h\n    routes:\n      - paths: [/ok]\n      - name: r\n        paths:\n          - /fine\n          - bad\n",
            "test.yaml:10:13: services[0].routes[1].paths[1]: should start with: / (fixed path) or ~/ (regex path)",
        ),
        (
            "_format_version: \"3.0\"\nroutes:\n  - name: r\n    paths: [/a]\n    service: nope\n",
            "test.yaml:5:5: routes[0].service: invalid reference 'nope': no service with this name or id in the file",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    host: h\n  - name: a\n    host: h2\n",
            "test.yaml:5:5: services[1].name: name 'a' is already used at line 3 (services[0])",
        ),
        (
            "_format_version: \"3.0\"\nconsumers:\n  - username: a\n    keyauth_credentials: [{key: k}]\n  - username: b\n    keyauth_credentials:\n      - key: k\n",
            "test.yaml:7:9: consumers[1].keyauth_credentials[0].key: this key is already used at line 4 (consumers[0].keyauth_credentials[0])",
        ),
        (
            "_format_version: \"3.0\"\nconsumers:\n  - id: 0e0d3f1c-55a1-4a57-b6a4-3c3c0d4c1a11\n    username: a\n  - id: 0e0d3f1c-55a1-4a57-b6a4-3c3c0d4c1a11\n    username: b\n",
            "test.yaml:5:5: consumers[1].id: id '0e0d3f1c-55a1-4a57-b6a4-3c3c0d4c1a11' is already used at line 3 (consumers[0])",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    host: h\n    colour: blue\n",
            "test.yaml:5:5: services[0].colour: unknown field",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    port: 80\n",
            "test.yaml:3:5: services[0].host: required field missing",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    host: h\n    routes:\n      - paths: [/a]\n        service: a\n",
            "test.yaml:7:9: services[0].routes[0].service: must not be set here: it is the enclosing service",
        ),
        (
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    name: b\n",
            "test.yaml:4:5: duplicate key 'name' (first at line 3)",
        ),
        (
            "_format_version: \"3.0\"\nconsumers:\n  - username: a\n    keyauth_credentials:\n      - ttl: 10\n",
            "test.yaml:5:9: consumers[0].keyauth_credentials[0].key: required field missing",
        ),
        (
            "_format_version: \"3.0\"\nroutes:\n  - name: r\n    protocols: [http]\n",
            "test.yaml:3:5: routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths'",
        ),
        (
            "_format_version: \"3.0\"\nconsumers:\n  - username: a\n    acls: [{group: x}, {group: x}]\n",
            "test.yaml:4:25: consumers[0].acls[1].group: the consumer is already in this group at line 4 (consumers[0].acls[0])",
        ),
        (
            "_format_version: \"3.0\"\nupstreams:\n  - name: u\n    targets: [{target: a}, {target: 'a:8000'}]\n",
            "test.yaml:4:29: upstreams[0].targets[1].target: the same target is already in this upstream at line 4",
        ),
    ];
    for (text, expected) in cases {
        let shown = errors(text);
        assert!(
            shown.lines().any(|l| l.starts_with(expected)),
            "for\n{text}\nexpected a line starting with\n  {expected}\ngot\n  {shown}"
        );
    }
}

#[test]
fn all_problems_are_reported_at_once_in_line_order() {
    let text = "_format_version: \"3.0\"\nservices:\n  - name: a\n    port: 99999\n    host: h\n  - name: 'bad name'\n    host: h\n";
    let err = parse_str(text, "f.yaml").unwrap_err();
    let lines: Vec<Option<usize>> = err.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![Some(4), Some(6)], "{err}");
    assert_eq!(err.problems[1].path, "services[1].name");
}

#[test]
fn unreadable_file_names_the_file() {
    let err = parse_file(std::path::Path::new("/nonexistent/kong.yaml")).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("/nonexistent/kong.yaml: cannot read the file"));
}

#[test]
fn acls_nest_under_consumers_or_name_them_at_the_top_level() {
    let nested = parse(
        "_format_version: \"3.0\"\nconsumers:\n  - username: portal\n    acls:\n      - group: admin\n        tags: [ops]\n  - username: dev-1\n    acls: [{group: admin}]\n",
    );
    assert_eq!(nested.acls.len(), 2);
    let portal = nested.consumers[0].id;
    assert_eq!(nested.acls[0].consumer.map(|r| r.id), Some(portal));
    assert_eq!(nested.acls[0].group, "admin");
    assert_eq!(nested.acls[0].tags, Some(vec!["ops".to_string()]));
    assert_ne!(
        nested.acls[0].id, nested.acls[1].id,
        "the same group in two consumers is two memberships"
    );
    let flat = parse(
        "_format_version: \"3.0\"\nconsumers: [{username: portal}, {username: dev-1}]\nacls:\n  - consumer: portal\n    group: admin\n    tags: [ops]\n  - consumer: dev-1\n    group: admin\n",
    );
    assert_eq!(
        sorted(flat),
        sorted(nested.clone()),
        "ids follow consumer and group"
    );
    let exported = to_document(&nested);
    assert_eq!(exported["consumers"][0]["acls"][0]["group"], "admin");
    assert!(exported["consumers"][0]["acls"][0]
        .get("consumer")
        .is_none());
    assert!(exported.get("acls").is_none());
    let again = parse(&serde_json::to_string(&exported).unwrap());
    assert_eq!(sorted(again), sorted(nested));
    assert!(
        errors("_format_version: \"3.0\"\nacls: [{consumer: nobody, group: g}]\n")
            .contains("acls[0].consumer: invalid reference 'nobody'")
    );
}

// === ids ===

#[test]
fn ids_are_deterministic_and_follow_natural_keys() {
    let a = example();
    let b = example();
    assert_eq!(a, b, "parsing the same file twice gives the same config");
    for value in Kind::ALL.iter().flat_map(|k| a.values(*k)) {
        let id: Uuid = value["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(id.get_version_num(), 5, "{value}");
    }
    // The service's id depends on its name only, not on its other fields.
    let edited = parse(&NESTED.replace("host: backend", "host: elsewhere"));
    let original = parse(NESTED);
    assert_eq!(edited.services[0].id, original.services[0].id);
    let renamed = parse(&NESTED.replace("name: weather", "name: climate"));
    assert_ne!(renamed.services[0].id, original.services[0].id);
    // An explicit id is kept.
    assert_eq!(
        original.upstreams[0].id.to_string(),
        "6d5b3a3e-1f0e-4c59-9a4e-7e3c1b2a9f10"
    );
}

#[test]
fn unstated_timestamps_are_fixed_and_stated_ones_kept() {
    let c = parse("_format_version: \"3.0\"\nconsumers:\n  - username: a\n  - username: b\n    created_at: 1700000000\n");
    assert_eq!(c.consumers[0].created_at, build::UNSTAMPED);
    assert_eq!(c.consumers[1].created_at, 1_700_000_000);
}

// === export ===

#[test]
fn export_round_trips_and_nests_like_kong() {
    let original = example();
    let doc = to_document(&original);
    assert_eq!(doc["_format_version"], "3.0");
    let service = &doc["services"][0];
    assert_eq!(service["name"], "weather");
    assert!(service["routes"][0].get("service").is_none());
    assert_eq!(service["plugins"][0]["name"], "key-auth");
    let forecast = service["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "forecast")
        .unwrap();
    assert_eq!(forecast["plugins"][0]["name"], "request-transformer");
    assert_eq!(
        doc["consumers"][0]["keyauth_credentials"][0]["key"],
        "alice-secret-key-0123456789abcdef"
    );
    assert_eq!(doc["upstreams"][0]["targets"].as_array().unwrap().len(), 2);
    assert!(doc.get("routes").is_none() && doc.get("plugins").is_none());
    let again = parse(&serde_json::to_string_pretty(&doc).unwrap());
    assert_eq!(sorted(again), sorted(original));
}

#[test]
fn export_writes_loose_references_by_name() {
    let c = parse(
        "_format_version: \"3.0\"\nservices: [{name: s, host: h}]\nconsumers: [{username: alice}]\nplugins:\n  - name: rate-limiting\n    service: s\n    consumer: alice\n  - name: prometheus\n",
    );
    let doc = to_document(&c);
    let plugins = doc["plugins"].as_array().unwrap();
    assert_eq!(
        plugins.len(),
        2,
        "multi-scope and global plugins stay top-level"
    );
    assert_eq!(plugins[0]["service"], "s");
    assert_eq!(plugins[0]["consumer"], "alice");
    assert_eq!(sorted(parse(&doc.to_string())), sorted(c));
}

// === diff ===

/// The same config with every id replaced by a fresh random one (as a database created by
/// the Admin API would hold it).
fn with_fresh_ids(config: &Config) -> Config {
    let mut text = serde_json::to_string(config).unwrap();
    for kind in Kind::ALL {
        for value in config.values(kind) {
            let id = value["id"].as_str().unwrap().to_string();
            text = text.replace(&id, &Uuid::new_v4().to_string());
        }
    }
    serde_json::from_str(&text).unwrap()
}

fn kinds(changes: &[Change]) -> Vec<(&'static str, Kind)> {
    changes
        .iter()
        .map(|c| match c {
            Change::Create { kind, .. } => ("create", *kind),
            Change::Update { kind, .. } => ("update", *kind),
            Change::Delete { kind, .. } => ("delete", *kind),
        })
        .collect()
}

#[test]
fn diff_of_equal_configs_is_empty_even_with_other_timestamps() {
    let a = example();
    let mut b = a.clone();
    b.services[0].created_at = 42;
    b.routes[0].updated_at = 43;
    assert_eq!(diff(&a, &b), vec![]);
    assert_eq!(
        render(&[], &Secrets::default()),
        "Summary: Created: 0, Updated: 0, Deleted: 0\n"
    );
}

/// The kinds of `changes`, in their order.
fn kind_order(changes: &[Change]) -> Vec<Kind> {
    kinds(changes).into_iter().map(|(_, k)| k).collect()
}

/// One entry per entity of `config`, kind by kind in the order `kinds` lists them.
fn one_per_entity(config: &Config, kinds: impl Iterator<Item = Kind>) -> Vec<Kind> {
    kinds
        .flat_map(|kind| std::iter::repeat_n(kind, config.count(kind)))
        .collect()
}

#[test]
fn diff_creates_parents_first_and_deletes_children_first() {
    let c = example();
    let creates = diff(&Config::default(), &c);
    assert!(kinds(&creates).iter().all(|(op, _)| *op == "create"));
    let parents_first = one_per_entity(&c, Kind::ALL.into_iter());
    assert_eq!(kind_order(&creates), parents_first);
    let deletes = diff(&c, &Config::default());
    let text = render(&deletes, &Secrets::default());
    assert!(text.contains("deleting consumer alice\n"), "{text}");
    assert!(
        text.ends_with("Summary: Created: 0, Updated: 0, Deleted: 10\n"),
        "{text}"
    );
    let children_first = one_per_entity(&c, Kind::ALL.into_iter().rev());
    assert_eq!(kind_order(&deletes), children_first);
}

#[test]
fn diff_reports_updated_fields() {
    let current = example();
    let desired = parse_str(
        &std::fs::read_to_string(example_path())
            .unwrap()
            .replace("strip_path: false", "strip_path: true")
            .replace("retries: 3", "retries: 4"),
        "kong.yaml",
    )
    .unwrap();
    let changes = diff(&current, &desired);
    assert_eq!(
        kinds(&changes),
        vec![("update", Kind::Service), ("update", Kind::Route)]
    );
    assert_eq!(
        render(&changes, &Secrets::default()),
        "updating service weather {\"retries\": 3 -> 4}\n\
         updating route forecast {\"strip_path\": false -> true}\n\
         Summary: Created: 0, Updated: 2, Deleted: 0\n"
    );
}

#[test]
fn diff_matches_by_natural_key_when_the_file_states_no_ids() {
    let desired = example();
    let current = with_fresh_ids(&desired);
    assert_eq!(
        diff(&current, &desired),
        vec![],
        "same names, other ids: nothing to do"
    );

    // A change to a child keeps the current ids, including the remapped parent reference.
    let mut edited = desired.clone();
    edited.targets[0].weight = 1;
    let changes = diff(&current, &edited);
    let [Change::Update {
        kind: Kind::Target,
        id,
        after,
        ..
    }] = changes.as_slice()
    else {
        panic!("expected one target update, got {changes:?}");
    };
    assert_eq!(*id, current.targets[0].id);
    assert_eq!(after["upstream"]["id"], json!(current.upstreams[0].id));
    assert_eq!(after["id"], json!(current.targets[0].id));
}

#[test]
fn diff_honours_explicit_ids_over_names() {
    let current = parse("_format_version: \"3.0\"\nservices: [{name: s, host: h}]\n");
    let desired = parse(
        "_format_version: \"3.0\"\nservices: [{name: s, host: h, id: 11111111-2222-4333-8444-555555555555}]\n",
    );
    let changes = diff(&current, &desired);
    assert_eq!(
        kinds(&changes),
        vec![("create", Kind::Service), ("delete", Kind::Service)]
    );
}

#[test]
fn diff_moves_a_route_to_a_renamed_service_before_deleting_the_old_one() {
    let current = with_fresh_ids(&parse(
        "_format_version: \"3.0\"\nservices:\n  - name: old\n    host: h\n    routes: [{name: r, paths: [/a]}]\n",
    ));
    let desired = parse(
        "_format_version: \"3.0\"\nservices:\n  - name: new\n    host: h\n    routes: [{name: r, paths: [/a]}]\n",
    );
    let changes = diff(&current, &desired);
    assert_eq!(
        kinds(&changes),
        vec![
            ("create", Kind::Service),
            ("update", Kind::Route),
            ("delete", Kind::Service)
        ]
    );
    let text = render(&changes, &Secrets::default());
    assert!(
        text.starts_with("creating service new\nupdating route r {\"service.id\": "),
        "{text}"
    );
}

#[test]
fn render_redacts_credential_keys() {
    let current = example();
    let mut desired = current.clone();
    desired.keyauth_credentials[0].key = "rotated".into();
    let text = render(&diff(&current, &desired), &Secrets::default());
    assert!(text.contains("\"key\": [redacted] -> [redacted]"), "{text}");
    assert!(
        !text.contains("rotated") && !text.contains("alice-secret"),
        "{text}"
    );
}

#[test]
fn diff_matches_unnamed_entities_by_content() {
    let text = "_format_version: \"3.0\"\nservices:\n  - host: h\n    routes: [{paths: [/a]}]\n";
    let desired = parse(text);
    let current = with_fresh_ids(&desired);
    assert_eq!(diff(&current, &desired), vec![]);
    let edited = parse(&text.replace("/a", "/b"));
    let changes = diff(&current, &edited);
    assert_eq!(
        kinds(&changes),
        vec![("create", Kind::Route), ("delete", Kind::Route)],
        "an unnamed route that changed is a new route"
    );
}
