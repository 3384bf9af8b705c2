//! The gateway processes of the local data plane: each instance's environment, one-off runs
//! (migrations, config sync), the one-at-a-time roll waited on until healthy, and the health
//! check Route53 would make through the NLB.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::port_free;
use super::procs::{self, find_program};
use super::{LocalPlane, DRAIN};
use crate::deploy::DeployError;
use crate::wait::{self, Waited};

/// How long a started gateway may take to answer its health check.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);
/// Longest a local one-off (migrations, config sync) may run.
const ONE_OFF_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How often a starting gateway's health is asked.
const HEALTH_POLL: Duration = Duration::from_millis(200);

impl LocalPlane {
    /// Running gateway instances that `roll` would replace for `envs`: their environment or
    /// binary changed since they started.
    pub fn outdated(&self, envs: &[BTreeMap<String, String>]) -> Vec<String> {
        let Ok(bin) = gateway_bin() else {
            return Vec::new();
        };
        envs.iter()
            .enumerate()
            .filter(|(i, env)| {
                let pid_file = self.path(&format!("gateway-{i}.pid"));
                let print_file = self.path(&format!("gateway-{i}.fingerprint"));
                procs::running(&pid_file).is_some()
                    && fs::read_to_string(print_file).ok() != Some(fingerprint(&bin, env))
            })
            .map(|(i, _)| format!("gateway-{i}"))
            .collect()
    }

    /// A task's environment as a process here sees it: the database and cache are local, the
    /// listeners are on loopback and the instance's own ports, the prefix is its own directory.
    pub fn gateway_env(
        &self,
        task_env: &BTreeMap<String, String>,
        instance: u32,
    ) -> BTreeMap<String, String> {
        let mut env = task_env.clone();
        let port = |base: u16| u32::from(base) + instance;
        for (key, value) in [
            ("KONG_PG_HOST", "127.0.0.1".to_string()),
            ("KONG_PG_PORT", self.ports.postgres_port.to_string()),
            (
                "KONG_PROXY_LISTEN",
                format!("127.0.0.1:{}", port(self.ports.proxy_port)),
            ),
            (
                "KONG_ADMIN_LISTEN",
                format!("127.0.0.1:{}", port(self.ports.admin_port)),
            ),
            ("KONG_STATUS_LISTEN", "off".to_string()),
            (
                "KONG_PREFIX",
                self.path(&format!("gateway-{instance}"))
                    .display()
                    .to_string(),
            ),
            ("GATEWAY_REDIS_HOST", "127.0.0.1".to_string()),
            ("GATEWAY_REDIS_PORT", self.ports.redis_port.to_string()),
        ] {
            env.insert(key.to_string(), value);
        }
        env
    }

    /// The environments of instances `0..count`.
    pub fn gateway_envs(
        &self,
        task_env: &BTreeMap<String, String>,
        count: u32,
    ) -> Vec<BTreeMap<String, String>> {
        (0..count).map(|i| self.gateway_env(task_env, i)).collect()
    }

    /// Runs a one-off `gateway ARGS...` (migrations, config sync) to completion, as ECS runs a
    /// one-off task; its output is returned, a non-zero exit is an error carrying it. It is
    /// killed after [`ONE_OFF_TIMEOUT`], or when `up` is interrupted (the future is dropped).
    pub async fn one_off(
        &self,
        args: &[&str],
        env: &BTreeMap<String, String>,
    ) -> Result<String, DeployError> {
        let what = format!("gateway {}", args.join(" "));
        let child = tokio::process::Command::new(gateway_bin()?)
            .args(args)
            .env_clear()
            .envs(base_env())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(DeployError::process(what.as_str()))?;
        let out = tokio::time::timeout(ONE_OFF_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| DeployError::Timeout {
                message: format!(
                    "`{what}` did not finish within {} min and was stopped (a lock held by another \
                     session?); nothing after it ran",
                    ONE_OFF_TIMEOUT.as_secs() / 60
                ),
            })?
            .map_err(DeployError::process(what.as_str()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            return Ok(text);
        }
        Err(DeployError::LocalOneOffFailed {
            what,
            status: out.status,
            output: text.trim_end().to_string(),
        })
    }

    /// Brings the gateway processes to `envs` (one per instance): an instance whose environment
    /// or binary changed, or that is not running, is replaced, one at a time, each waited on
    /// until healthy; the first that does not become healthy stops the roll (the instances not
    /// yet replaced keep serving). Instances beyond the count are stopped. Returns one line per
    /// instance.
    pub async fn roll_gateways(
        &self,
        envs: &[BTreeMap<String, String>],
    ) -> Result<Vec<String>, DeployError> {
        let bin = gateway_bin()?;
        let mut lines = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            lines.push(self.replace_instance(&bin, i, env).await?);
        }
        let mut extra = envs.len();
        loop {
            let pid_file = self.path(&format!("gateway-{extra}.pid"));
            if !pid_file.exists() {
                break;
            }
            procs::stop(&pid_file, DRAIN).await;
            let _ = fs::remove_file(self.path(&format!("gateway-{extra}.fingerprint")));
            lines.push(format!(
                "gateway-{extra}: stopped (beyond the desired count)"
            ));
            extra += 1;
        }
        Ok(lines)
    }

    /// Instance `i` running `env` on `bin`: left alone when it already does, else (re)started
    /// and waited on until healthy. Returns its line of the roll's report.
    async fn replace_instance(
        &self,
        bin: &Path,
        i: usize,
        env: &BTreeMap<String, String>,
    ) -> Result<String, DeployError> {
        let name = format!("gateway-{i}");
        let (pid_file, print_file) = (
            self.path(&format!("{name}.pid")),
            self.path(&format!("{name}.fingerprint")),
        );
        let print = fingerprint(bin, env);
        let same = fs::read_to_string(&print_file).ok().as_deref() == Some(print.as_str());
        if same && procs::running(&pid_file).is_some() {
            return Ok(format!("{name}: unchanged"));
        }
        let replaced = procs::stop(&pid_file, DRAIN).await;
        listeners_free(env).await?;
        let prefix = self.path(&name);
        fs::create_dir_all(&prefix).map_err(DeployError::io(&prefix))?;
        let log = self.path(&format!("{name}.log"));
        let started = Instant::now();
        procs::spawn(
            Command::new(bin)
                .arg("start")
                .env_clear()
                .envs(base_env())
                .envs(env),
            &pid_file,
            &log,
        )
        .map_err(DeployError::process(format!("starting {name}")))?;
        let admin = env.get("KONG_ADMIN_LISTEN").cloned().unwrap_or_default();
        if let Err(why) = wait_healthy(bin, &admin, &pid_file).await {
            procs::stop(&pid_file, DRAIN).await;
            let _ = fs::remove_file(&print_file);
            return Err(DeployError::Unhealthy {
                log_tail: procs::tail(&log, 15),
                name,
                why,
                log,
            });
        }
        fs::write(&print_file, &print).map_err(DeployError::io(&print_file))?;
        let proxy = env.get("KONG_PROXY_LISTEN").cloned().unwrap_or_default();
        Ok(format!(
            "{name}: {} (proxy http://{proxy}, healthy after {:.1}s)",
            if replaced { "replaced" } else { "started" },
            started.elapsed().as_secs_f64()
        ))
    }

    /// What Route53's health checker would see through the NLB, asked here (LocalStack stores
    /// health checks but never runs them): the status of `GET path` on the first gateway's
    /// proxy port, `None` when nothing answers within Route53's 4 seconds.
    pub async fn health_check(&self, path: &str) -> Option<u16> {
        let port = self.ports.proxy_port;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: provision-health-check\r\nConnection: close\r\n\r\n"
        );
        let exchange = async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()?;
            stream.write_all(request.as_bytes()).await.ok()?;
            let mut head = vec![0u8; 64];
            let n = stream.read(&mut head).await.ok()?;
            let line = String::from_utf8_lossy(&head[..n]).into_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        };
        tokio::time::timeout(Duration::from_secs(4), exchange)
            .await
            .ok()
            .flatten()
    }
}

/// The `gateway` binary: `$GATEWAY_BIN`, else the one beside this `provision` (one cargo
/// target directory builds both), else `gateway` on PATH.
pub fn gateway_bin() -> Result<PathBuf, DeployError> {
    if let Some(bin) = std::env::var_os("GATEWAY_BIN") {
        return Ok(PathBuf::from(bin));
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("gateway")))
        .filter(|p| p.is_file())
    {
        return Ok(beside);
    }
    find_program("gateway", &[]).map_err(|_| DeployError::Prerequisite {
        message: "no `gateway` binary: build it (cargo build -p gateway) or set GATEWAY_BIN".into(),
    })
}

/// Refuses to start an instance whose proxy or Admin API port another program holds.
async fn listeners_free(env: &BTreeMap<String, String>) -> Result<(), DeployError> {
    for (key, field) in [
        ("KONG_PROXY_LISTEN", "local.proxy_port"),
        ("KONG_ADMIN_LISTEN", "local.admin_port"),
    ] {
        let port = env
            .get(key)
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse().ok());
        if let Some(port) = port {
            port_free(port, field).await?;
        }
    }
    Ok(())
}

/// What a gateway process inherits from us besides its task environment: nothing secret, just
/// what a process needs to run.
fn base_env() -> Vec<(String, String)> {
    [
        "PATH",
        "HOME",
        "LANG",
        "TZ",
        "GATEWAY_LOG",
        "RUST_BACKTRACE",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
    .collect()
}

/// A fingerprint of what an instance runs: its environment and its binary (path, size, mtime).
fn fingerprint(bin: &Path, env: &BTreeMap<String, String>) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env.hash(&mut hasher);
    bin.hash(&mut hasher);
    if let Ok(meta) = fs::metadata(bin) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    format!("{:016x}\n", hasher.finish())
}

/// Polls `gateway health` (the container's own health check) until it passes; why not, when it
/// does not.
async fn wait_healthy(bin: &Path, admin: &str, pid_file: &Path) -> Result<(), String> {
    let url = format!("http://{admin}");
    let healthy = wait::until(HEALTHY_WITHIN, HEALTH_POLL, || {
        let url = url.as_str();
        async move {
            if procs::running(pid_file).is_none() {
                return Err("the process exited".to_string());
            }
            let ok = tokio::process::Command::new(bin)
                .args(["health", "--url", url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .is_ok_and(|s| s.success());
            Ok(ok.then_some(()))
        }
    })
    .await;
    match healthy {
        Ok(()) => Ok(()),
        Err(Waited::Failed(why)) => Err(why),
        Err(Waited::TimedOut(_)) => Err(format!(
            "no healthy answer from {url} within {HEALTHY_WITHIN:?}"
        )),
    }
}
