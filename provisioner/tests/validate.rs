//! `provision validate` as a person runs it: exit codes and the lines it prints.

use std::path::Path;
use std::process::{Command, Output};

fn provision(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provision"))
        .args(args)
        .current_dir(dir)
        .env_remove("GATEWAY_TAG")
        .output()
        .expect("run provision")
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

#[test]
fn shipped_stacks_pass() {
    for name in ["prod", "staging", "local"] {
        // From a subdirectory too: stacks/ is found upwards.
        let out = provision(
            &["validate", "--stack", name],
            &workspace().join("provisioner"),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with("ok: stack `"), "{stdout}");
    }
}

#[test]
fn broken_file_lists_every_problem_sorted() {
    let dir = std::env::temp_dir().join(format!("provision-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prod = std::fs::read_to_string(workspace().join("stacks/prod.toml")).unwrap();
    let broken = prod
        .replace("interval = 30", "interval = 15")
        .replace("cpu = 512", "cpus = 512")
        .replace("az_count = 2", "az_count = \"two\"");
    let interval_line = 1 + broken
        .lines()
        .position(|l| l.starts_with("interval = 15"))
        .expect("prod.toml has a dns interval");
    let file = dir.join("broken.toml");
    std::fs::write(&file, broken).unwrap();
    let out = provision(&["validate", "--file", "broken.toml"], &dir);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(lines[0].starts_with("broken.toml:12:12: network.az_count: expected an integer"));
    assert!(lines[1].starts_with("broken.toml:26:2: gateway.cpu: missing required key"));
    assert!(lines[2].starts_with("broken.toml:28:1: gateway.cpus: unknown key `cpus`"));
    let interval = format!("broken.toml:{interval_line}:12: dns.interval: 15 s");
    assert!(lines[3].starts_with(&interval), "{stderr}");
    assert_eq!(lines[4], "provision: broken.toml: 4 problems");
}

#[test]
fn plan_against_an_unreachable_endpoint_fails_naming_the_call() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let text = std::fs::read_to_string(workspace().join("stacks/local.toml"))
        .expect("local.toml")
        .replace(
            "${env:LOCALSTACK_URL:-http://127.0.0.1:4566}",
            &format!("http://127.0.0.1:{port}"),
        );
    let dir = std::env::temp_dir().join(format!("provision-unreachable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("local.toml");
    std::fs::write(&file, text).expect("stack file");
    let started = std::time::Instant::now();
    let out = provision(&["plan", "--file", file.to_str().unwrap()], workspace());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("provision: "), "{stderr}");
    assert!(
        stderr.contains(":Describe") || stderr.contains(":List"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 90,
        "gave up after {:?}",
        started.elapsed()
    );
}

#[test]
fn help_lists_commands() {
    let help = provision(&["--help"], workspace());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in [
        "validate", "plan", "up", "destroy", "output", "status", "unlock",
    ] {
        assert!(
            text.contains(&format!("  {command} ")),
            "{command} missing from:\n{text}"
        );
    }
}
