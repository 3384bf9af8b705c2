//! Schema migrations against a real PostgreSQL: bootstrap, idempotence, nodes migrating at
//! once, and the `gateway migrations ...` commands with Kong's environment and exit codes.

#[allow(dead_code)]
#[path = "support/cli.rs"]
mod cli;

use gateway::store::migrations::{self, MigrationStatus};
use sqlx::{Connection, PgConnection, Row};

async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.expect("a connection");
    sqlx::query(sql)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn bootstrap_then_up_is_a_no_op() {
    let url = stack_tests::shared_postgres().fresh_database();
    let before = migrations::status(&url).await.expect("status");
    assert!(!before.bootstrapped());
    assert!(before.executed.is_empty());
    assert!(
        before.pending.iter().any(|p| p == "0001_core"),
        "{before:?}"
    );

    let applied = migrations::up(&url).await.expect("bootstrap");
    assert_eq!(applied, before.pending, "every pending migration, in order");
    let after = migrations::status(&url).await.expect("status");
    assert_eq!(
        after,
        MigrationStatus {
            executed: before.pending.clone(),
            pending: vec![],
        }
    );
    assert_eq!(count(&url, "SELECT version FROM config_version").await, 1);
    for table in [
        "services",
        "routes",
        "consumers",
        "keyauth_credentials",
        "plugins",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&url, &sql).await, 0, "{table} exists and is empty");
    }

    assert_eq!(
        migrations::up(&url).await.expect("up again"),
        Vec::<&str>::new()
    );
    assert_eq!(migrations::status(&url).await.expect("status"), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_migrating_at_once_apply_each_migration_once() {
    let url = stack_tests::shared_postgres().fresh_database();
    let pending = migrations::status(&url).await.expect("status").pending;
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { migrations::up(&url).await })
        })
        .collect();
    let mut applied: Vec<&str> = Vec::new();
    for run in runs {
        let names = run.await.expect("no panic").expect("every node succeeds");
        applied.extend(names);
    }
    applied.sort_unstable();
    let mut expected: Vec<&str> = pending.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(
        applied, expected,
        "each migration applied by exactly one node"
    );
    let recorded = count(&url, "SELECT count(*) FROM gateway_migrations").await;
    assert_eq!(recorded, pending.len() as i64);
    // A migration run twice would have bumped nothing twice, but it would have failed on
    // CREATE TABLE; the trigger functions must exist exactly once too.
    let functions = count(
        &url,
        "SELECT count(*) FROM pg_proc WHERE proname = 'gateway_config_changed'",
    )
    .await;
    assert_eq!(functions, 1);
}

#[test]
fn cli_bootstrap_up_and_status() {
    let url = stack_tests::shared_postgres().fresh_database();
    let env = cli::pg_env(&url);

    let run = cli::gateway(&["migrations", "status"], &env);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stdout.contains("needs bootstrapping"), "{run:?}");
    assert_eq!(cli::gateway(&["migrations", "list"], &env).code, Some(3));

    let run = cli::gateway(&["migrations", "bootstrap"], &env);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("migrated: 0001_core"), "{run:?}");
    assert!(run.stdout.contains("Database is up-to-date"), "{run:?}");

    let run = cli::gateway(&["migrations", "bootstrap"], &env);
    assert_eq!(
        (
            run.code,
            run.stdout.contains("Database already bootstrapped")
        ),
        (Some(0), true),
        "{run:?}"
    );
    let run = cli::gateway(&["migrations", "up"], &env);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (Some(0), "Database is already up-to-date"),
        "{run:?}"
    );
    let run = cli::gateway(&["migrations", "status"], &env);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("  0001_core") && run.stdout.contains("Database is up-to-date"),
        "{run:?}"
    );
    assert_eq!(cli::gateway(&["migrations", "finish"], &env).code, Some(0));
}

#[test]
fn cli_reports_pending_and_failed_migrations() {
    let pg = stack_tests::shared_postgres();
    let url = pg.fresh_database();
    let env = cli::pg_env(&url);
    assert_eq!(cli::gateway(&["migrations", "up"], &env).code, Some(0));
    // As if 0001_core were new to a database bootstrapped by an older release, though its
    // tables exist.
    let database = url.rsplit('/').next().expect("a database name");
    pg.psql(
        database,
        "UPDATE gateway_migrations SET name = '0000_base' WHERE name = '0001_core'",
    )
    .expect("rewrite history");

    let run = cli::gateway(&["migrations", "status"], &env);
    assert_eq!(run.code, Some(5), "{run:?}");
    assert!(
        run.stdout.contains("Pending migrations:\n  0001_core"),
        "{run:?}"
    );

    let run = cli::gateway(&["migrations", "up"], &env);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("migration 0001_core failed") && run.stderr.contains("already exists"),
        "{run:?}"
    );
    // The failed migration left nothing behind: still pending, schema untouched.
    assert_eq!(cli::gateway(&["migrations", "status"], &env).code, Some(5));
}

#[test]
fn cli_without_a_database() {
    let mut env = cli::pg_env("postgres://postgres@127.0.0.1:1/none");
    let run = cli::gateway(&["migrations", "up"], &env);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("cannot reach the database"), "{run:?}");

    env.push(("KONG_DATABASE", "off".into()));
    let run = cli::gateway(&["migrations", "status"], &env);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("KONG_DATABASE is off"), "{run:?}");
}
