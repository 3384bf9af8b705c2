//! Running the built `gateway` binary the way an operator does: `KONG_*` environment only
//! (whatever the test runner's environment holds is removed first), output captured.

use std::process::{Command, Output};

/// The outcome of one `gateway ...` run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A `gateway` command with only the given `KONG_*` variables set.
pub fn command(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(stack_tests::cargo_bin("gateway"));
    cmd.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("KONG_") || key == "GATEWAY_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("KONG_LOG_LEVEL", "warn");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd
}

/// Run `gateway args...` to completion.
pub fn gateway(args: &[&str], env: &[(&str, String)]) -> Run {
    let output: Output = command(args, env)
        .output()
        .unwrap_or_else(|e| panic!("running gateway {args:?}: {e}"));
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `KONG_PG_*` for a database URL of the test server (`postgres://postgres@127.0.0.1:PORT/DB`).
pub fn pg_env(url: &str) -> Vec<(&'static str, String)> {
    let rest = url
        .strip_prefix("postgres://postgres@127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected test database URL {url}"));
    let (port, database) = rest.split_once('/').expect("a database in the URL");
    vec![
        ("KONG_DATABASE", "postgres".to_string()),
        ("KONG_PG_HOST", "127.0.0.1".to_string()),
        ("KONG_PG_PORT", port.to_string()),
        ("KONG_PG_USER", "postgres".to_string()),
        ("KONG_PG_DATABASE", database.to_string()),
    ]
}
