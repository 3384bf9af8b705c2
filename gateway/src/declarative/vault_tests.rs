//! Env vault references and `KONG_DECLARATIVE_CONFIG_STRING`, with an environment given as
//! a map (the process environment is never touched).

use super::*;
use std::collections::HashMap;

const CONSUMER: &str = r#"_format_version: "3.0"
consumers:
  - username: ops
    keyauth_credentials:
      - key: "{vault://env/gateway-admin-key}"
"#;

/// An environment holding exactly `vars`.
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<Loaded, DeclarativeError> {
    let mut all = vars.to_vec();
    all.push((CONFIG_STRING_VAR, text));
    load(None, &env_of(&all))
}

fn load_errors(text: &str, vars: &[(&str, &str)]) -> String {
    match load_text(text, vars) {
        Ok(loaded) => panic!("expected errors, parsed {:?}", loaded.config),
        Err(e) => e.to_string(),
    }
}

#[test]
fn env_reference_reads_the_kong_mapped_variable() {
    let loaded = load_text(CONSUMER, &[("GATEWAY_ADMIN_KEY", "s3cret")]).expect("parses");
    assert_eq!(loaded.config.keyauth_credentials[0].key, "s3cret");
    assert_eq!(loaded.origin, CONFIG_STRING_VAR);
    assert!(loaded.secrets.hides(&"s3cret".into()));
}

#[test]
fn env_reference_works_in_json_lists_and_plugin_config() {
    let text = r#"{"_format_version": "3.0", "services": [{"name": "s", "host": "h",
      "plugins": [{"name": "request-transformer",
        "config": {"add": {"headers": ["{vault://env/UPSTREAM_AUTH}"]}}}]}]}"#;
    let loaded = load_text(text, &[("UPSTREAM_AUTH", "x-token:abc")]).expect("parses");
    let config = serde_json::to_value(&loaded.config.plugins[0]).expect("json")["config"].clone();
    assert_eq!(config["add"]["headers"], serde_json::json!(["x-token:abc"]));
}

#[test]
fn missing_variable_is_an_error_at_the_reference() {
    let text = CONSUMER.replace("- username: ops", "- username: \"{vault://env/ops-name}\"");
    assert_eq!(
        load_errors(&text, &[]),
        "KONG_DECLARATIVE_CONFIG_STRING:3:15: consumers[0].username: environment variable \
         OPS_NAME is not set\n\
         KONG_DECLARATIVE_CONFIG_STRING:5:14: consumers[0].keyauth_credentials[0].key: \
         environment variable GATEWAY_ADMIN_KEY is not set"
    );
}

#[test]
fn a_failed_reference_is_reported_once_and_other_problems_still_are() {
    let text = "_format_version: \"3.0\"\nconsumers:\n  - username: \"{vault://env/who}\"\n  - username: \"{vault://env/who}\"\nservices:\n  - {host: h, port: x}\n";
    let errors = load_errors(text, &[]);
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 3, "{errors}");
    assert!(lines[0].ends_with(":3:15: consumers[0].username: environment variable WHO is not set"));
    assert!(lines[1].ends_with(":4:15: consumers[1].username: environment variable WHO is not set"));
    assert!(
        lines[2].contains(":6:") && lines[2].contains("services[0].port"),
        "{errors}"
    );
}

#[test]
fn other_vaults_and_other_forms_are_refused() {
    let text = "_format_version: \"3.0\"\nconsumers:\n  - username: \"{vault://aws/name}\"\n    custom_id: \"{vault://env/id?ttl=60}\"\n";
    let errors = load_errors(text, &[("ID", "1")]);
    assert!(
        errors.contains(
            ":3:15: consumers[0].username: the 'aws' vault is not supported: only the env vault is"
        ),
        "{errors}"
    );
    assert!(
        errors.contains(":4:16: consumers[0].custom_id: env vault references take no query"),
        "{errors}"
    );
}

#[test]
fn json_key_reads_one_field_of_the_variable() {
    let text = CONSUMER.replace("gateway-admin-key}", "keys/admin}");
    let json = r#"{"admin": "from-json", "n": 1}"#;
    let loaded = load_text(&text, &[("KEYS", json)]).expect("parses");
    assert_eq!(loaded.config.keyauth_credentials[0].key, "from-json");
    // (reference, value of KEYS, how the error ends)
    let refused = [
        (
            "keys/n",
            json,
            "key 'n' of environment variable KEYS is not a string",
        ),
        (
            "keys/admin",
            "plain",
            "KEYS does not hold a JSON object, so it has no key 'admin'",
        ),
    ];
    for (reference, keys, expected) in refused {
        let errors = load_errors(&text.replace("keys/admin", reference), &[("KEYS", keys)]);
        assert!(
            errors.ends_with(expected),
            "{reference} in {keys}: {errors}"
        );
    }
}

#[test]
fn only_whole_values_are_references_and_parse_str_resolves_none() {
    let text = CONSUMER.replace("\"{vault", "\"prefix {vault");
    let loaded = load_text(&text, &[("GATEWAY_ADMIN_KEY", "s3cret")]).expect("parses");
    assert_eq!(
        loaded.config.keyauth_credentials[0].key,
        "prefix {vault://env/gateway-admin-key}"
    );
    assert!(loaded.secrets.is_empty());
    let config = parse_str(CONSUMER, "config").expect("parses");
    assert_eq!(
        config.keyauth_credentials[0].key,
        "{vault://env/gateway-admin-key}"
    );
}

#[test]
fn messages_never_show_a_resolved_value() {
    let text = "_format_version: \"3.0\"\nconsumers:\n  - username: \"{vault://env/who}\"\n  - username: \"{vault://env/who}\"\n";
    let errors = load_errors(text, &[("WHO", "hidden-name")]);
    assert!(errors.contains("consumers[1]"), "{errors}");
    assert!(!errors.contains("hidden-name"), "{errors}");
}

#[test]
fn without_file_or_variable_the_error_says_so() {
    let error = load(None, &env_of(&[(CONFIG_STRING_VAR, "  \n")])).expect_err("no source");
    assert_eq!(
        error.to_string(),
        "KONG_DECLARATIVE_CONFIG_STRING: not set and no FILE given: pass a declarative \
         configuration file, or put the configuration's text in this variable"
    );
}

#[test]
fn a_file_wins_over_the_variable() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kong.yaml");
    let env = env_of(&[(CONFIG_STRING_VAR, "not: [valid")]);
    let loaded = load(Some(&path), &env).expect("the file is read");
    assert_eq!(loaded.origin, path.display().to_string());
}

#[test]
fn render_hides_vault_values_on_both_sides() {
    let before = "_format_version: \"3.0\"\nservices:\n  - name: s\n    host: h\n    plugins:\n      - name: request-transformer\n        config: {add: {headers: [\"{vault://env/auth}\"]}}\n";
    let after = format!("{before}consumers:\n  - username: \"{{vault://env/who}}\"\n");
    let old = load_text(before, &[("AUTH", "a:old")]).expect("parses");
    let new = load_text(&after, &[("AUTH", "a:new"), ("WHO", "svc-user")]).expect("parses");
    let text = render(&diff(&old.config, &new.config), &new.secrets);
    assert!(
        text.contains("\"config.add.headers\": [redacted] -> [redacted]"),
        "{text}"
    );
    let id = new.config.consumers[0].id;
    assert!(
        text.contains(&format!("creating consumer {id}\n")),
        "{text}"
    );
    assert!(
        !text.contains("a:old") && !text.contains("a:new") && !text.contains("svc-user"),
        "{text}"
    );
}
