//! Stack files for tests: `stacks/local.toml` renamed (own name prefix and DNS zone, so tests run
//! side by side) and pointed at the test's LocalStack; either infrastructure only, or with the
//! deploy phase on ports of the test's own, or with the deploy phase on ECS (no `[local]`).

use crate::bins::workspace_root;

/// Ports of a test's local data plane.
#[derive(Debug, Clone, Copy)]
pub struct LocalPorts {
    pub proxy: u16,
    pub admin: u16,
    pub postgres: u16,
    pub redis: u16,
    pub backend: u16,
}

impl LocalPorts {
    /// Free ports for every part, below the ephemeral range (32768-60999 on Linux): a port
    /// from it may be taken as the source port of some outgoing connection between now and the
    /// moment the server binds it.
    pub fn free() -> LocalPorts {
        LocalPorts {
            proxy: stable_free_port(),
            admin: stable_free_port(),
            postgres: stable_free_port(),
            redis: stable_free_port(),
            backend: stable_free_port(),
        }
    }
}

/// A loopback port in 20000..32000 that nothing listens on and this process never handed out.
fn stable_free_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Default::default);
    // Spread over the range by pid and time so parallel test processes rarely meet.
    let seed = std::process::id() as u64 * 7919
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()));
    for step in 0..12_000u64 {
        let port = 20_000 + ((seed + step * 7) % 12_000) as u16;
        let mut given = given.lock().unwrap_or_else(|p| p.into_inner());
        if given.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free loopback port in 20000..32000");
}

/// `stacks/local.toml` as stack `name` against `endpoint`.
fn renamed(name: &str, endpoint: &str) -> String {
    std::fs::read_to_string(workspace_root().join("stacks/local.toml"))
        .expect("stacks/local.toml")
        .replace(
            "name_prefix = \"gateway-local\"",
            &format!("name_prefix = \"{name}\""),
        )
        .replace("gateway.test", &format!("{name}.test"))
        .replace("${env:LOCALSTACK_URL:-http://127.0.0.1:4566}", endpoint)
}

/// `text` without the tables `drop` picks (by name, without brackets), each with its keys.
fn without_tables(text: &str, drop: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = drop(line.trim_matches(|c| c == '[' || c == ']'));
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The infrastructure alone: without `[gateway.config]` and `[local]`, `up` stops after the
/// resources converge.
pub fn infra_only(name: &str, endpoint: &str) -> String {
    let out = without_tables(&renamed(name, endpoint), |table| {
        table == "local" || table.starts_with("gateway.config")
    });
    assert!(
        !out.contains("[local]") && !out.contains("[gateway.config"),
        "infra_only left deploy settings:\n{out}"
    );
    out
}

/// The production deploy path behind `[endpoints]`: no `[local]`, so the migrations and the
/// configuration sync run as one-off ECS tasks of `image`, the configuration from `template`
/// (an absolute path). `with_config: false` gives the same stack's infrastructure alone.
pub fn on_ecs(
    name: &str,
    endpoint: &str,
    image: &str,
    template: &str,
    with_config: bool,
) -> String {
    let text = renamed(name, endpoint)
        .replace(
            "image = \"${env:GATEWAY_IMAGE:-gateway:dev}\"",
            &format!("image = \"{image}\""),
        )
        .replace(
            "template = \"../templates/gateway.yaml\"",
            &format!("template = \"{template}\""),
        );
    let out = without_tables(&text, |table| {
        table == "local" || (!with_config && table.starts_with("gateway.config"))
    });
    assert!(
        out.contains(&format!("image = \"{image}\"")) && !out.contains("[local]"),
        "on_ecs did not set the image or left [local]:\n{out}"
    );
    out
}

/// The whole stack with the deploy phase: the data plane on `ports`, the configuration from
/// `template` (an absolute path).
pub fn with_deploy(name: &str, endpoint: &str, ports: LocalPorts, template: &str) -> String {
    let text = renamed(name, endpoint);
    let edits = [
        (
            "template = \"../templates/gateway.yaml\"",
            format!("template = \"{template}\""),
        ),
        (
            "backend_url = \"http://127.0.0.1:18080\"",
            format!("backend_url = \"http://127.0.0.1:{}\"", ports.backend),
        ),
        ("proxy_port = 8000", format!("proxy_port = {}", ports.proxy)),
        ("admin_port = 8001", format!("admin_port = {}", ports.admin)),
        (
            "postgres_port = 15432",
            format!("postgres_port = {}", ports.postgres),
        ),
        (
            "redis_port = 16379",
            format!("redis_port = {}", ports.redis),
        ),
        (
            "backend_port = 18080",
            format!("backend_port = {}", ports.backend),
        ),
        (
            "url = \"http://127.0.0.1:18080/\"",
            format!("url = \"http://127.0.0.1:{}/\"", ports.backend),
        ),
    ];
    let mut text = text;
    for (from, to) in edits {
        assert!(text.contains(from), "stacks/local.toml has no `{from}`");
        text = text.replacen(from, &to, 1);
    }
    text
}

/// One test's stack file: a unique stack name, its text written into a scratch directory that
/// goes with it, and `provision` run on it.
pub struct StackFile {
    pub name: String,
    pub file: std::path::PathBuf,
    _dir: crate::scratch::ScratchDir,
}

impl StackFile {
    /// A stack named after `tag` (see [`crate::unique_stack`]), its text made from that name.
    pub fn new(tag: &str, text: impl FnOnce(&str) -> String) -> StackFile {
        let name = crate::unique_stack(tag);
        let dir = crate::scratch::ScratchDir::new("provision-test").expect("scratch dir");
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text(&name)).expect("write stack file");
        StackFile {
            name,
            file,
            _dir: dir,
        }
    }

    /// `provision ARGS... --file FILE` (see [`crate::cli::provision`]).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        crate::cli::provision(&self.file, args)
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run provision")
    }
}
