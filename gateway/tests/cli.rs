//! The `gateway` binary as an operator runs it: `config sync` against PostgreSQL (create,
//! no-op, edit, dry run; scoped by decK's select tags), `config parse` errors (also of
//! `KONG_DECLARATIVE_CONFIG_STRING` with `{vault://env/NAME}` references), `version`, and
//! `health` against a started node that SIGTERM stops cleanly.

#[path = "support/cli.rs"]
mod cli;

use gateway::config::Config;
use gateway::entities::Kind;
use gateway::store::{migrations, PgStore, Store};
use serde_json::json;
use stack_tests::process::ServerProcess;
use stack_tests::scratch::ScratchDir;
use stack_tests::{free_port, wait_for_port};
use std::path::Path;
use std::time::Duration;

const FILE: &str = r#"_format_version: "3.0"
services:
  - name: weather
    url: http://backend.internal:8080
    routes:
      - name: forecast
        paths: [/forecast]
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
  - username: bob
"#;

/// What is in the database now: (service names, route paths, consumer usernames).
async fn contents(url: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let store = Store::Postgres(PgStore::connect_lazy(url).expect("a pool"));
    let config = store.load().await.expect("load");
    let services = config
        .services
        .iter()
        .filter_map(|s| s.name.clone())
        .collect();
    let paths = config
        .routes
        .iter()
        .flat_map(|r| {
            serde_json::to_value(r).expect("json")["paths"]
                .clone()
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    let consumers = config
        .consumers
        .iter()
        .filter_map(|c| c.username.clone())
        .collect();
    (services, paths, consumers)
}

fn sync(file: &Path, env: &[(&str, String)], dry_run: bool) -> cli::Run {
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["config", "sync", file];
    if dry_run {
        args.push("--dry-run");
    }
    cli::gateway(&args, env)
}

#[tokio::test]
async fn config_sync_creates_then_converges_then_applies_edits() {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    let env = cli::pg_env(&url);
    let dir = ScratchDir::new("gateway-cli").expect("a scratch dir");
    let file = dir.path().join("kong.yaml");
    std::fs::write(&file, FILE).expect("write the file");

    let run = sync(&file, &env, false);
    assert_eq!(run.code, Some(0), "{run:?}");
    for line in [
        "creating service weather",
        "creating route forecast",
        "creating consumer alice",
        "creating consumer bob",
        "Summary: Created: 5, Updated: 0, Deleted: 0",
        "applied",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "{line:?} missing: {run:?}"
        );
    }
    let first = contents(&url).await;
    assert_eq!(
        first,
        (
            vec!["weather".into()],
            vec!["/forecast".into()],
            vec!["alice".into(), "bob".into()]
        )
    );

    let run = sync(&file, &env, false);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "Summary: Created: 0, Updated: 0, Deleted: 0\n"),
        "{run:?}"
    );

    let edited = FILE
        .replace("[/forecast]", "[/v2/forecast]")
        .replace("  - username: bob\n", "");
    std::fs::write(&file, edited).expect("edit the file");
    let expected = [
        r#"updating route forecast {"paths": ["/forecast"] -> ["/v2/forecast"]}"#,
        "deleting consumer bob",
        "Summary: Created: 0, Updated: 1, Deleted: 1",
    ];
    let dry = sync(&file, &env, true);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(dry.stdout.lines().collect::<Vec<_>>(), expected, "{dry:?}");
    assert_eq!(contents(&url).await, first, "a dry run changes nothing");

    let run = sync(&file, &env, false);
    assert_eq!(run.code, Some(0), "{run:?}");
    let mut applied = expected.to_vec();
    applied.push("applied");
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), applied, "{run:?}");
    assert_eq!(
        contents(&url).await,
        (
            vec!["weather".into()],
            vec!["/v2/forecast".into()],
            vec!["alice".into()]
        )
    );
    let run = sync(&file, &env, false);
    assert_eq!(
        run.stdout, "Summary: Created: 0, Updated: 0, Deleted: 0\n",
        "{run:?}"
    );
}

const SCOPED: &str = r#"_format_version: "3.0"
_info:
  select_tags: [gateway-config]
services:
  - name: weather
    url: http://backend.internal:8080
consumers:
  - username: ops
"#;

/// decK's select tags: a consumer and key that the developer portal made through the Admin
/// API (untagged) survive syncs of a file that does not list them, and a file consumer with
/// the same username is refused at its line.
#[tokio::test]
async fn config_sync_with_select_tags_leaves_untagged_consumers_alone() {
    let url = stack_tests::shared_postgres().fresh_database();
    migrations::up(&url).await.expect("migrations");
    let store = Store::Postgres(PgStore::connect_lazy(&url).expect("a pool"));
    let mut portal = Config::default();
    let alice = portal
        .push_value(Kind::Consumer, json!({ "username": "alice" }))
        .expect("a valid consumer");
    let key = json!({ "consumer": { "id": alice }, "key": "alice-key" });
    portal.push_value(Kind::KeyAuth, key).expect("a valid key");
    for kind in [Kind::Consumer, Kind::KeyAuth] {
        for value in portal.values(kind) {
            store.insert(kind, value).await.expect("insert");
        }
    }
    let env = cli::pg_env(&url);
    let dir = ScratchDir::new("gateway-cli").expect("a scratch dir");
    let file = dir.path().join("kong.yaml");
    std::fs::write(&file, SCOPED).expect("write the file");
    let scope = "Select tags: gateway-config (entities without all of them are neither updated \
                 nor deleted)";

    let run = sync(&file, &env, false);
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected = [
        scope,
        "creating service weather",
        "creating consumer ops",
        "Summary: Created: 2, Updated: 0, Deleted: 0",
        "applied",
    ];
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), expected, "{run:?}");
    let run = sync(&file, &env, false);
    assert_eq!(
        run.stdout,
        format!("{scope}\nSummary: Created: 0, Updated: 0, Deleted: 0\n"),
        "{run:?}"
    );
    let config = store.load().await.expect("load");
    let mut users: Vec<_> = config
        .consumers
        .iter()
        .filter_map(|c| c.username.clone())
        .collect();
    users.sort();
    assert_eq!(users, ["alice", "ops"]);
    assert_eq!(config.keyauth_credentials.len(), 1);
    assert_eq!(config.keyauth_credentials[0].key, "alice-key");
    assert_eq!(
        config
            .consumers
            .iter()
            .find(|c| c.id == alice)
            .unwrap()
            .tags,
        None
    );

    std::fs::write(&file, SCOPED.replace("username: ops", "username: alice")).expect("edit");
    let run = sync(&file, &env, false);
    assert_eq!(run.code, Some(1), "{run:?}");
    let at = format!(
        "{}:8:5: consumers[0]: consumer 'alice' clashes with consumer {alice} in the database",
        file.display()
    );
    assert!(run.stderr.contains(&at), "{at} missing: {run:?}");
    assert_eq!(store.load().await.expect("load"), config, "nothing changed");
}

#[test]
fn config_parse_points_at_the_bad_line() {
    let dir = ScratchDir::new("gateway-cli").expect("a scratch dir");
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, FILE).expect("write");
    let run = cli::gateway(&["config", "parse", good.to_str().expect("utf-8")], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");

    let bad = dir.path().join("bad.yaml");
    let text = "_format_version: \"3.0\"\nservices:\n  - name: weather\n    host: backend\n    port: not-a-port\n";
    std::fs::write(&bad, text).expect("write");
    let run = cli::gateway(&["config", "parse", bad.to_str().expect("utf-8")], &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let at = format!("{}:5:", bad.display());
    assert!(run.stderr.contains(&at), "{at} missing: {run:?}");
    assert!(run.stderr.contains("port"), "{run:?}");

    let missing = dir.path().join("absent.yaml");
    let run = cli::gateway(&["config", "parse", missing.to_str().expect("utf-8")], &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("cannot read the file"), "{run:?}");
}

#[test]
fn config_parse_reads_kong_declarative_config_string_and_env_vault_references() {
    let text = FILE.replace(
        "key: alice-key",
        "key: \"{vault://env/gateway-cli-alice-key}\"",
    );
    let string = |text: &str| ("KONG_DECLARATIVE_CONFIG_STRING", text.to_string());
    let secret = ("GATEWAY_CLI_ALICE_KEY", "cli-secret-value".to_string());
    let run = cli::gateway(&["config", "parse"], &[string(&text), secret]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "KONG_DECLARATIVE_CONFIG_STRING: ok (5 entities)\n"
    );

    let run = cli::gateway(&["config", "parse"], &[string(&text)]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let expected =
        "KONG_DECLARATIVE_CONFIG_STRING:11:14: consumers[0].keyauth_credentials[0].key: \
         environment variable GATEWAY_CLI_ALICE_KEY is not set";
    assert!(run.stderr.contains(expected), "{expected} missing: {run:?}");

    let run = cli::gateway(&["config", "parse"], &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("KONG_DECLARATIVE_CONFIG_STRING: not set and no FILE given"),
        "{run:?}"
    );
}

#[test]
fn version_prints_the_package_version() {
    let run = cli::gateway(&["version"], &[]);
    let expected = format!("gateway {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), expected.as_str()),
        "{run:?}"
    );
    assert_eq!(cli::gateway(&["--version"], &[]).code, Some(0));
    assert_eq!(cli::gateway(&["no-such-command"], &[]).code, Some(2));
}

#[test]
fn health_follows_a_started_node_and_sigterm_stops_it() {
    let dir = ScratchDir::new("gateway-cli").expect("a scratch dir");
    let (proxy, admin) = (free_port(), free_port());
    let file = dir.path().join("kong.yaml");
    std::fs::write(&file, FILE).expect("write");
    let env = vec![
        ("KONG_DATABASE", "off".to_string()),
        ("KONG_DECLARATIVE_CONFIG", file.display().to_string()),
        ("KONG_PROXY_LISTEN", format!("127.0.0.1:{proxy}")),
        ("KONG_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
        (
            "KONG_PREFIX",
            dir.path().join("prefix").display().to_string(),
        ),
    ];
    let run = cli::gateway(&["health"], &env);
    assert_eq!(run.code, Some(1), "nothing listens yet: {run:?}");
    assert!(run.stderr.contains("not running"), "{run:?}");

    let log = dir.path().join("gateway.log");
    let cmd = cli::command(&["start"], &env);
    let server = ServerProcess::spawn("gateway", cmd, &log, "TERM", dir.path()).expect("start");
    assert!(
        wait_for_port(admin, Duration::from_secs(20)),
        "admin port: {}",
        server.log_tail(20)
    );
    let run = cli::gateway(&["health"], &env);
    assert_eq!(run.code, Some(0), "{run:?}\n{}", server.log_tail(20));
    assert!(run.stdout.contains("gateway is healthy"), "{run:?}");
    let url = format!("http://127.0.0.1:{admin}");
    assert_eq!(cli::gateway(&["health", "--url", &url], &[]).code, Some(0));

    let status = server.stop().expect("stopped");
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean exit: {status}");
    assert_eq!(cli::gateway(&["health"], &env).code, Some(1));
}
