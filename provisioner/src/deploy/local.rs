//! The data plane of a LocalStack stack, run on this machine: LocalStack Community answers the
//! control-plane calls but cannot run containers, Aurora or Redis. So PostgreSQL (the "Aurora
//! writer"), Redis (the "ElastiCache primary"), a stand-in backend and the gateway processes (as
//! many as the service's desired count, each with the task definition's environment and its
//! secrets read from Secrets Manager) run here, under `.provision/<stack>/` of the workspace.
//! Ports come from the stack's `[local]` section; everything binds to 127.0.0.1.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::procs;
use super::DeployError;
use crate::stack::{Local, Stack};

/// How long a started gateway may take to answer its health check.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);
/// Longest a local one-off (migrations, config sync) may run.
const ONE_OFF_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a stopping gateway may drain.
const DRAIN: Duration = Duration::from_secs(10);

/// One stack's local data plane.
#[derive(Debug, Clone)]
pub struct LocalPlane {
    /// `.provision/<stack>/`: pid files, logs, PostgreSQL's data, the gateways' prefixes.
    pub dir: PathBuf,
    pub ports: Local,
    workspace: PathBuf,
    stack: String,
}

impl LocalPlane {
    /// The plane of `stack`, which must have `[local]` ports.
    pub fn for_stack(stack: &Stack) -> Result<LocalPlane, DeployError> {
        let ports = stack.local.clone().ok_or_else(|| {
            DeployError::Other(
                "a stack with [endpoints] runs its data plane on this machine and needs a \
                 [local] section (proxy_port, admin_port, postgres_port, redis_port)"
                    .into(),
            )
        })?;
        let workspace = workspace_of(stack);
        Ok(LocalPlane {
            dir: workspace.join(".provision").join(&stack.name_prefix),
            ports,
            workspace,
            stack: stack.name_prefix.clone(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Each process the plane should run for `count` gateways, and whether it runs.
    pub fn processes(&self, count: u32) -> Vec<(String, bool)> {
        let mut all = vec![
            ("postgres".to_string(), self.postgres_running()),
            (
                "redis".to_string(),
                procs::running(&self.path("redis.pid")).is_some(),
            ),
        ];
        if self.ports.backend_port.is_some() {
            let running = procs::running(&self.path("backend.pid")).is_some();
            all.push(("backend".to_string(), running));
        }
        for i in 0..count {
            let running = procs::running(&self.path(&format!("gateway-{i}.pid"))).is_some();
            all.push((format!("gateway-{i}"), running));
        }
        all
    }

    /// What is not running that should (for `plan`): empty when all is up.
    pub fn missing(&self, count: u32) -> Vec<String> {
        self.processes(count)
            .into_iter()
            .filter(|(_, running)| !running)
            .map(|(name, _)| name)
            .collect()
    }

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

    /// Starts PostgreSQL, Redis and the backend where they are not running, and makes the
    /// database user's password the one in Secrets Manager.
    pub async fn start_services(
        &self,
        db_user: &str,
        db_name: &str,
        db_password: &str,
    ) -> Result<(), DeployError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        self.start_postgres()?;
        self.ensure_database(db_user, db_name, db_password)?;
        self.start_redis()?;
        if let Some(port) = self.ports.backend_port {
            self.start_backend(port).await?;
        }
        Ok(())
    }

    // --- PostgreSQL ---------------------------------------------------------------------

    /// PostgreSQL's directory, chosen when it is first made and remembered (`pg-location`), so
    /// every later run finds the same data: inside the plane's directory, unless we are root and
    /// the `postgres` user it then runs as cannot reach that (a checkout under /root): then
    /// under /var/lib/provision (never a temporary directory that a reboot clears).
    fn pg_dir(&self) -> PathBuf {
        if let Ok(text) = fs::read_to_string(self.path("pg-location")) {
            if !text.trim().is_empty() {
                return PathBuf::from(text.trim());
            }
        }
        if is_root() && !reachable_by_others(&self.dir) {
            return Path::new("/var/lib/provision").join(&self.stack).join("pg");
        }
        self.path("pg")
    }

    fn postgres_running(&self) -> bool {
        let data = self.pg_dir().join("data");
        data.join("postmaster.pid").exists()
            && pg_bin().is_ok_and(|bin| {
                // `pg_ctl status` checks the postmaster's pid properly (exit 0: running).
                as_postgres(bin.join("pg_ctl"))
                    .arg("status")
                    .arg("-D")
                    .arg(&data)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
    }

    fn start_postgres(&self) -> Result<(), DeployError> {
        let bin = pg_bin()?;
        let (pg, data) = (self.pg_dir(), self.pg_dir().join("data"));
        if !data.join("PG_VERSION").exists() {
            let _ = fs::remove_dir_all(&pg);
            fs::create_dir_all(&pg).map_err(io(&pg))?;
            // Only PostgreSQL's user may reach its socket (local connections are trusted).
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&pg, fs::Permissions::from_mode(0o700)).map_err(io(&pg))?;
            chown_to_postgres(&pg)?;
            let record = self.path("pg-location");
            fs::write(&record, format!("{}\n", pg.display())).map_err(io(&record))?;
            // Local socket connections (ours) are trusted; TCP ones (the gateways') need the
            // password, as with Aurora.
            run(
                as_postgres(bin.join("initdb"))
                    .arg("-D")
                    .arg(&data)
                    .args(["-U", "postgres", "--auth-local=trust"])
                    .args(["--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]),
                "initdb",
            )?;
        }
        if self.postgres_running() {
            // The postmaster's pid file names its port on line 4.
            let port = fs::read_to_string(data.join("postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().nth(3).and_then(|l| l.trim().parse::<u16>().ok()));
            if port == Some(self.ports.postgres_port) {
                return Ok(());
            }
            // `[local] postgres_port` changed: start it again on the new port.
            self.stop_postgres();
        }
        let socket_dir = pg.display().to_string();
        if socket_dir.contains('\'') {
            return Err(DeployError::Other(format!(
                "{socket_dir}: PostgreSQL's directory may not contain a single quote"
            )));
        }
        // pg_ctl hands these to a shell: the directory is quoted.
        let options = format!(
            "-p {} -k '{socket_dir}' -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700",
            self.ports.postgres_port,
        );
        run(
            as_postgres(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(pg.join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]),
            "pg_ctl start",
        )
        .map_err(|e| {
            DeployError::Other(format!("{e}\n{}", procs::tail(&pg.join("server.log"), 10)))
        })?;
        Ok(())
    }

    /// Creates the gateway's role and database when absent and sets the role's password; the
    /// password travels on psql's standard input, never on a command line.
    fn ensure_database(&self, user: &str, db: &str, password: &str) -> Result<(), DeployError> {
        for (what, name) in [("user", user), ("database", db)] {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(DeployError::Other(format!(
                    "database {what} `{name}`: only letters, digits and `_` are supported locally"
                )));
            }
        }
        let quoted = password.replace('\'', "''");
        let sql = format!(
            "SELECT 'CREATE ROLE {user} LOGIN' WHERE NOT EXISTS \
               (SELECT FROM pg_roles WHERE rolname = '{user}') \\gexec\n\
             ALTER ROLE {user} LOGIN PASSWORD '{quoted}';\n\
             SELECT 'CREATE DATABASE {db} OWNER {user}' WHERE NOT EXISTS \
               (SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n"
        );
        let mut psql = Command::new(pg_bin()?.join("psql"));
        psql.arg("-h")
            .arg(self.pg_dir())
            .args(["-p", &self.ports.postgres_port.to_string()])
            .args([
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = psql
            .spawn()
            .map_err(|e| DeployError::Other(format!("psql: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin
                .write_all(sql.as_bytes())
                .map_err(|e| DeployError::Other(format!("psql: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| DeployError::Other(format!("psql: {e}")))?;
        if !out.status.success() {
            return Err(DeployError::Other(format!(
                "creating the database user `{user}` and database `{db}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    // --- Redis and the backend ------------------------------------------------------------

    fn start_redis(&self) -> Result<(), DeployError> {
        let pid_file = self.path("redis.pid");
        if procs::running(&pid_file).is_some() {
            if listening(self.ports.redis_port) {
                return Ok(());
            }
            // Running on a port the stack no longer names.
            procs::stop(&pid_file, DRAIN);
        }
        port_free(self.ports.redis_port, "local.redis_port")?;
        let redis = find_program("redis-server", &["/usr/bin", "/usr/sbin"])?;
        procs::spawn(
            Command::new(redis)
                .args(["--port", &self.ports.redis_port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&self.dir),
            &pid_file,
            &self.path("redis.log"),
        )
        .map_err(|e| DeployError::Other(format!("starting redis-server: {e}")))?;
        wait_port(self.ports.redis_port, Duration::from_secs(10)).map_err(|_| {
            DeployError::Other(format!(
                "redis-server did not listen on 127.0.0.1:{}: {}",
                self.ports.redis_port,
                procs::tail(&self.path("redis.log"), 5)
            ))
        })
    }

    async fn start_backend(&self, port: u16) -> Result<(), DeployError> {
        let pid_file = self.path("backend.pid");
        if procs::running(&pid_file).is_some() {
            if listening(port) {
                return Ok(());
            }
            procs::stop(&pid_file, DRAIN);
        }
        port_free(port, "local.backend_port")?;
        let script = self.workspace.join("scripts/echo_backend.py");
        if !script.exists() {
            return Err(DeployError::Other(format!(
                "the stand-in backend {} is missing",
                script.display()
            )));
        }
        procs::spawn(
            Command::new("python3").arg(&script).arg(port.to_string()),
            &pid_file,
            &self.path("backend.log"),
        )
        .map_err(|e| DeployError::Other(format!("starting the backend: {e}")))?;
        wait_port(port, Duration::from_secs(10)).map_err(|_| {
            DeployError::Other(format!(
                "the backend did not listen on 127.0.0.1:{port}: {}",
                procs::tail(&self.path("backend.log"), 5)
            ))
        })
    }

    // --- the gateway ------------------------------------------------------------------------

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
            .map_err(|e| DeployError::Other(format!("{what}: {e}")))?;
        let out = tokio::time::timeout(ONE_OFF_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| {
                DeployError::Other(format!(
                    "`{what}` did not finish within {} min and was stopped (a lock held by another \
                     session?); nothing after it ran",
                    ONE_OFF_TIMEOUT.as_secs() / 60
                ))
            })?
            .map_err(|e| DeployError::Other(format!("{what}: {e}")))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(DeployError::Other(format!(
                "`{what}` failed ({}):\n{}",
                out.status,
                text.trim_end()
            )))
        }
    }

    /// Brings the gateway processes to `envs` (one per instance): an instance whose environment
    /// or binary changed, or that is not running, is replaced, one at a time, each waited on
    /// until healthy; the first that does not become healthy stops the roll (the instances not
    /// yet replaced keep serving). Instances beyond the count are stopped. Returns one line per
    /// instance.
    pub async fn roll(
        &self,
        envs: &[BTreeMap<String, String>],
    ) -> Result<Vec<String>, DeployError> {
        let bin = gateway_bin()?;
        let mut lines = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            let name = format!("gateway-{i}");
            let (pid_file, print_file) = (
                self.path(&format!("{name}.pid")),
                self.path(&format!("{name}.fingerprint")),
            );
            let print = fingerprint(&bin, env);
            let same = fs::read_to_string(&print_file).ok().as_deref() == Some(print.as_str());
            if same && procs::running(&pid_file).is_some() {
                lines.push(format!("{name}: unchanged"));
                continue;
            }
            let replaced = procs::stop(&pid_file, DRAIN);
            for (key, field) in [
                ("KONG_PROXY_LISTEN", "local.proxy_port"),
                ("KONG_ADMIN_LISTEN", "local.admin_port"),
            ] {
                let port = env
                    .get(key)
                    .and_then(|l| l.rsplit(':').next())
                    .and_then(|p| p.parse().ok());
                if let Some(port) = port {
                    port_free(port, field)?;
                }
            }
            let prefix = self.path(&name);
            fs::create_dir_all(&prefix).map_err(io(&prefix))?;
            let log = self.path(&format!("{name}.log"));
            let started = Instant::now();
            procs::spawn(
                Command::new(&bin)
                    .arg("start")
                    .env_clear()
                    .envs(base_env())
                    .envs(env),
                &pid_file,
                &log,
            )
            .map_err(|e| DeployError::Other(format!("starting {name}: {e}")))?;
            let admin = env.get("KONG_ADMIN_LISTEN").cloned().unwrap_or_default();
            if let Err(why) = self.wait_healthy(&bin, &admin, &pid_file).await {
                procs::stop(&pid_file, DRAIN);
                let _ = fs::remove_file(&print_file);
                return Err(DeployError::Other(format!(
                    "{name} did not become healthy ({why}); the roll stopped here. Its log ({}):\n{}",
                    log.display(),
                    procs::tail(&log, 15)
                )));
            }
            fs::write(&print_file, &print).map_err(io(&print_file))?;
            let proxy = env.get("KONG_PROXY_LISTEN").cloned().unwrap_or_default();
            lines.push(format!(
                "{name}: {} (proxy http://{proxy}, healthy after {:.1}s)",
                if replaced { "replaced" } else { "started" },
                started.elapsed().as_secs_f64()
            ));
        }
        let mut extra = envs.len();
        loop {
            let pid_file = self.path(&format!("gateway-{extra}.pid"));
            if !pid_file.exists() {
                break;
            }
            procs::stop(&pid_file, DRAIN);
            let _ = fs::remove_file(self.path(&format!("gateway-{extra}.fingerprint")));
            lines.push(format!(
                "gateway-{extra}: stopped (beyond the desired count)"
            ));
            extra += 1;
        }
        Ok(lines)
    }

    /// Polls `gateway health` (the container's own health check) until it passes.
    async fn wait_healthy(&self, bin: &Path, admin: &str, pid_file: &Path) -> Result<(), String> {
        let url = format!("http://{admin}");
        let since = Instant::now();
        loop {
            if procs::running(pid_file).is_none() {
                return Err("the process exited".into());
            }
            let ok = Command::new(bin)
                .args(["health", "--url", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(());
            }
            if since.elapsed() > HEALTHY_WITHIN {
                return Err(format!(
                    "no healthy answer from {url} within {HEALTHY_WITHIN:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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

    /// Stops PostgreSQL (fast shutdown); true when it was running.
    fn stop_postgres(&self) -> bool {
        if !self.postgres_running() {
            return false;
        }
        let Ok(bin) = pg_bin() else {
            return false;
        };
        let data = self.pg_dir().join("data");
        let _ = run(
            as_postgres(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        );
        true
    }

    /// Stops everything; the database's files stay unless `delete_data`. Returns what stopped.
    pub fn stop_all(&self, delete_data: bool) -> Vec<String> {
        let mut stopped = Vec::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            let mut pid_files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pid"))
                .collect();
            pid_files.sort();
            for pid_file in pid_files {
                if procs::stop(&pid_file, DRAIN) {
                    let name = pid_file.file_stem().unwrap_or_default();
                    stopped.push(name.to_string_lossy().into_owned());
                }
            }
        }
        if self.stop_postgres() {
            stopped.push("postgres".into());
        }
        if delete_data {
            let pg = self.pg_dir();
            let _ = fs::remove_dir_all(&pg);
            if let Some(outside) = pg.parent().filter(|p| !p.starts_with(&self.dir)) {
                let _ = fs::remove_dir(outside);
            }
            let _ = fs::remove_dir_all(&self.dir);
        } else if let Ok(entries) = fs::read_dir(&self.dir) {
            // Only what the processes left: PostgreSQL's data and where it is stay.
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let ours = name.starts_with("gateway-")
                    || [".pid", ".log", ".fingerprint", ".rdb"]
                        .iter()
                        .any(|x| name.ends_with(x));
                if ours {
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        fs::remove_dir_all(&path)
                    } else {
                        fs::remove_file(&path)
                    };
                }
            }
        }
        stopped
    }
}

/// The workspace a stack belongs to: the nearest directory above the stack file (else above
/// the current directory) that holds `stacks/`; else the stack file's own directory.
fn workspace_of(stack: &Stack) -> PathBuf {
    let has_stacks = |d: &Path| d.join("stacks").is_dir();
    let from_stack = stack.dir.as_deref().and_then(|dir| {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        dir.ancestors()
            .find(|d| has_stacks(d))
            .map(Path::to_path_buf)
    });
    let from_cwd = || {
        std::env::current_dir().ok().and_then(|cwd| {
            cwd.ancestors()
                .find(|d| has_stacks(d))
                .map(Path::to_path_buf)
        })
    };
    from_stack
        .or_else(from_cwd)
        .or_else(|| stack.dir.clone())
        .unwrap_or_else(|| PathBuf::from("."))
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
    find_program("gateway", &[]).map_err(|_| {
        DeployError::Other(
            "no `gateway` binary: build it (cargo build -p gateway) or set GATEWAY_BIN".into(),
        )
    })
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

/// The newest PostgreSQL server's bin directory (Debian's layout).
fn pg_bin() -> Result<PathBuf, DeployError> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        DeployError::Other(
            "no PostgreSQL server under /usr/lib/postgresql: run scripts/setup".into(),
        )
    })
}

fn find_program(name: &str, extra: &[&str]) -> Result<PathBuf, DeployError> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(extra.iter().copied())
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| DeployError::Other(format!("`{name}` not found: run scripts/setup")))
}

fn is_root() -> bool {
    // The owner of our own /proc entry is our user id.
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// True when every existing directory on the way to `dir` lets other users through.
fn reachable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors()
        .filter_map(|d| fs::metadata(d).ok())
        .all(|m| m.permissions().mode() & 0o001 != 0)
}

/// PostgreSQL refuses to run as root: its programs then run as the `postgres` user.
fn as_postgres(program: PathBuf) -> Command {
    if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn chown_to_postgres(dir: &Path) -> Result<(), DeployError> {
    if is_root() {
        run(
            Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(dir),
            "chown",
        )?;
    }
    Ok(())
}

/// Runs a short command to completion; its output is in the error when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<(), DeployError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DeployError::Other(format!("{what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(DeployError::Other(format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Something accepts connections on `127.0.0.1:port`.
fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Refuses a port another program listens on, naming the stack field that chose it.
fn port_free(port: u16, field: &str) -> Result<(), DeployError> {
    if listening(port) {
        return Err(DeployError::Other(format!(
            "127.0.0.1:{port} ({field}) is in use by a program this stack did not start: stop it, \
             or choose another port in the stack file's [local] section"
        )));
    }
    Ok(())
}

fn wait_port(port: u16, within: Duration) -> Result<(), ()> {
    let since = Instant::now();
    while since.elapsed() < within {
        if listening(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DeployError + '_ {
    move |e| DeployError::Other(format!("{}: {e}", path.display()))
}
