//! LocalStack for tests: started once per test process through `localstack/start` (idempotent:
//! it installs on first use and reuses a healthy endpoint), or the endpoint in
//! `LOCALSTACK_ENDPOINT` when a LocalStack runs elsewhere.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::bins::workspace_root;

/// The endpoint of a healthy LocalStack; panics with the start script's output when none starts.
pub fn localstack() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let script = workspace_root().join("localstack/start");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} failed:\n{}\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        std::env::var("LOCALSTACK_ENDPOINT")
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|_| {
                let port = std::env::var("LOCALSTACK_PORT").unwrap_or_else(|_| "4566".into());
                format!("http://127.0.0.1:{port}")
            })
    })
}

/// A stack name no other test (or earlier run) uses: `t-<tag>-<base36 time and pid>`.
pub fn unique_stack(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut n = (nanos / 1000) ^ (u128::from(std::process::id()) << 40);
    let mut suffix = String::new();
    for _ in 0..6 {
        suffix.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    format!("t-{tag}-{suffix}")
}

/// One call to an endpoint of our LocalStack plugin (`/_localstack/provision/faults`,
/// `.../tasks`) with a JSON body (or none); the answer's body. Panics unless it answers 2xx.
pub fn plugin_call(method: &str, path: &str, body: &str) -> String {
    let url = format!("{}/_localstack/provision/{path}", localstack());
    let mut curl = Command::new("curl");
    curl.args(["-s", "-f", "--max-time", "10", "-X", method, &url]);
    if !body.is_empty() {
        curl.args(["-H", "content-type: application/json", "-d", body]);
    }
    let out = curl.output().expect("run curl");
    let answer = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{method} {url} refused: {answer}");
    answer
}
