//! The `provision` binary run on a stack file as a person would (no colours, no AWS credentials
//! from the environment, no terminal to ask on), and its output read back.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::bins::cargo_bin;

/// `provision ARGS... --file FILE`, with the workspace's own `gateway` binary.
pub fn provision(file: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo_bin("provision"));
    cmd.args(args)
        .arg("--file")
        .arg(file)
        .env("NO_COLOR", "1")
        .env("GATEWAY_BIN", cargo_bin("gateway"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    cmd
}

/// Standard output, then standard error, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Panics with the whole output unless the run succeeded; returns the output's text.
#[track_caller]
pub fn assert_success(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
    text(out)
}
