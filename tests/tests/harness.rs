//! Tests of the harness itself, against real PostgreSQL and Redis servers.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use stack_tests::bins::{profile_dir, profile_dir_of_test_exe};
use stack_tests::redis::ping;
use stack_tests::{cargo_bin, free_port, shared_postgres, wait_for_port, TempPostgres, TempRedis};

/// `psql URL -c SQL` with the client from PATH or PostgreSQL's bin dir, as a user would run it.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let psql = stack_tests::user::which("psql").unwrap_or_else(|| "psql".into());
    let out = Command::new(psql)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "3")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn postgres_answers_select_1() {
    let pg = TempPostgres::start().expect("start postgres");
    assert_eq!(
        pg.url(),
        format!("postgres://postgres@127.0.0.1:{}/test", pg.port())
    );
    assert_eq!(psql(&pg.url(), "select 1"), Ok("1".to_owned()));
    assert_eq!(
        psql(&pg.url(), "select current_database()"),
        Ok("test".to_owned())
    );
}

#[test]
fn postgres_stops_and_starts_again_with_its_data() {
    let mut pg = TempPostgres::start().expect("start postgres");
    psql(
        &pg.url(),
        "create table t (v int); insert into t values (42)",
    )
    .expect("write");
    let port = pg.port();

    pg.stop();
    assert!(!pg.is_running());
    assert!(
        psql(&pg.url(), "select 1").is_err(),
        "stopped server still answers"
    );
    assert!(!wait_for_port(port, Duration::from_millis(200)));

    pg.start_again().expect("start again");
    assert_eq!(pg.port(), port);
    assert_eq!(psql(&pg.url(), "select v from t"), Ok("42".to_owned()));
}

#[test]
fn postgres_drop_stops_server_and_removes_files() {
    let pg = TempPostgres::start().expect("start postgres");
    let (port, dir) = (pg.port(), pg.dir().to_path_buf());
    assert!(dir.join("data").join("PG_VERSION").is_file());
    drop(pg);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(!wait_for_port(port, Duration::from_millis(200)));
}

#[test]
fn shared_postgres_hands_out_separate_databases() {
    let pg = shared_postgres();
    assert!(
        std::ptr::eq(pg, shared_postgres()),
        "one server per process"
    );
    let (a, b) = (pg.fresh_database(), pg.fresh_database());
    assert_ne!(a, b);
    psql(&a, "create table only_in_a (v int)").expect("create in a");
    assert_eq!(
        psql(&a, "select count(*) from only_in_a"),
        Ok("0".to_owned())
    );
    assert!(
        psql(&b, "select count(*) from only_in_a").is_err(),
        "databases share tables"
    );
}

#[test]
fn redis_answers_ping_stops_and_starts_again() {
    let mut redis = TempRedis::start().expect("start redis");
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    ping(port).expect("PING");

    redis.stop();
    assert!(ping(port).is_err(), "stopped redis still answers");

    redis.start_again().expect("start again");
    ping(port).expect("PING after restart");
    drop(redis);
    assert!(!wait_for_port(port, Duration::from_millis(200)));
}

#[test]
fn free_ports_are_distinct_and_bindable() {
    let ports: Vec<u16> = (0..20).map(|_| free_port()).collect();
    let mut unique = ports.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ports.len(), "{ports:?}");
    for port in ports {
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("bind free port");
    }
}

#[test]
fn wait_for_port_sees_listeners_and_times_out_without() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let open = listener.local_addr().expect("addr").port();
    assert!(wait_for_port(open, Duration::from_secs(1)));

    let closed = free_port();
    let started = Instant::now();
    assert!(!wait_for_port(closed, Duration::from_millis(300)));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn cargo_bin_looks_next_to_the_test_executable() {
    let cases = [
        ("/x/target/debug/deps/harness-abc", Some("/x/target/debug")),
        (
            "/x/target/release/deps/harness-abc",
            Some("/x/target/release"),
        ),
        ("/usr/bin/harness", None),
    ];
    for (exe, want) in cases {
        assert_eq!(
            profile_dir_of_test_exe(Path::new(exe)),
            want.map(Into::into),
            "{exe}"
        );
    }
    let exe = std::env::current_exe().expect("current exe");
    assert_eq!(Some(profile_dir()), profile_dir_of_test_exe(&exe));
}

#[test]
#[should_panic(expected = "cargo build")]
fn cargo_bin_explains_a_missing_binary() {
    cargo_bin("no-such-binary-in-this-workspace");
}
