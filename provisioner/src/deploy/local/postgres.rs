//! PostgreSQL, the local stand-in for the Aurora writer: initialised once under the plane's
//! directory, started on `[local] postgres_port`, with the gateway's role and database made to
//! match the task definition's secret. Its programs run through tokio, never blocking the runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tokio::io::AsyncWriteExt;

use super::procs::{self, run};
use super::LocalPlane;
use crate::deploy::DeployError;

impl LocalPlane {
    /// PostgreSQL's directory, chosen when it is first made and remembered (`pg-location`), so
    /// every later run finds the same data: inside the plane's directory, unless we are root and
    /// the `postgres` user it then runs as cannot reach that (a checkout under /root): then
    /// under /var/lib/provision (never a temporary directory that a reboot clears).
    pub(super) fn pg_dir(&self) -> PathBuf {
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

    pub(super) async fn postgres_running(&self) -> bool {
        let data = self.pg_dir().join("data");
        if !data.join("postmaster.pid").exists() {
            return false;
        }
        let Ok(bin) = pg_bin() else {
            return false;
        };
        // `pg_ctl status` checks the postmaster's pid properly (exit 0: running).
        let mut status = as_postgres(bin.join("pg_ctl"));
        status
            .arg("status")
            .arg("-D")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        tokio::process::Command::from(status)
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Initialises PostgreSQL's data directory when it has none, and starts the server on
    /// `[local] postgres_port` (again, when it runs on another port).
    pub(super) async fn start_postgres(&self) -> Result<(), DeployError> {
        let bin = pg_bin()?;
        let (pg, data) = (self.pg_dir(), self.pg_dir().join("data"));
        if !data.join("PG_VERSION").exists() {
            self.init_postgres(&bin, &pg).await?;
        }
        if self.postgres_running().await {
            // The postmaster's pid file names its port on line 4.
            let port = fs::read_to_string(data.join("postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().nth(3).and_then(|l| l.trim().parse::<u16>().ok()));
            if port == Some(self.ports.postgres_port) {
                return Ok(());
            }
            // `[local] postgres_port` changed: start it again on the new port.
            self.stop_postgres().await;
        }
        let socket_dir = pg.display().to_string();
        if socket_dir.contains('\'') {
            return Err(DeployError::user(format!(
                "{socket_dir}: PostgreSQL's directory may not contain a single quote"
            )));
        }
        // pg_ctl hands these to a shell: the directory is quoted.
        let options = format!(
            "-p {} -k '{socket_dir}' -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700",
            self.ports.postgres_port,
        );
        let mut start = as_postgres(bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(pg.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(start, "pg_ctl start")
            .await
            .map_err(|e| DeployError::PostgresStart {
                source: Box::new(e),
                log_tail: procs::tail(&pg.join("server.log"), 10),
            })
    }

    /// A fresh data directory in `pg`, reachable by PostgreSQL's user only, and where it is
    /// remembered.
    async fn init_postgres(&self, bin: &Path, pg: &Path) -> Result<(), DeployError> {
        let _ = fs::remove_dir_all(pg);
        fs::create_dir_all(pg).map_err(DeployError::io(pg))?;
        // Only PostgreSQL's user may reach its socket (local connections are trusted).
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(pg, fs::Permissions::from_mode(0o700)).map_err(DeployError::io(pg))?;
        chown_to_postgres(pg).await?;
        let record = self.path("pg-location");
        fs::write(&record, format!("{}\n", pg.display())).map_err(DeployError::io(&record))?;
        // Local socket connections (ours) are trusted; TCP ones (the gateways') need the
        // password, as with Aurora.
        let mut initdb = as_postgres(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(pg.join("data"))
            .args(["-U", "postgres", "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]);
        run(initdb, "initdb").await
    }

    /// Creates the gateway's role and database when absent and sets the role's password; the
    /// password travels on psql's standard input, never on a command line.
    pub(super) async fn ensure_database(
        &self,
        user: &str,
        db: &str,
        password: &str,
    ) -> Result<(), DeployError> {
        for (what, name) in [("user", user), ("database", db)] {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(DeployError::user(format!(
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
        let mut child = tokio::process::Command::new(pg_bin()?.join("psql"))
            .arg("-h")
            .arg(self.pg_dir())
            .args(["-p", &self.ports.postgres_port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-q"])
            .args(["-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(DeployError::process("psql"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(sql.as_bytes())
                .await
                .map_err(DeployError::process("psql"))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(DeployError::process("psql"))?;
        if !out.status.success() {
            return Err(DeployError::DatabaseSetup {
                user: user.to_string(),
                db: db.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }

    /// Stops PostgreSQL (fast shutdown); true when it was running.
    pub(super) async fn stop_postgres(&self) -> bool {
        if !self.postgres_running().await {
            return false;
        }
        let Ok(bin) = pg_bin() else {
            return false;
        };
        let mut stop = as_postgres(bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.pg_dir().join("data"))
            .args(["-m", "fast", "-w", "stop"]);
        let _ = run(stop, "pg_ctl stop").await;
        true
    }
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
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| DeployError::Prerequisite {
            message: "no PostgreSQL server under /usr/lib/postgresql: run scripts/setup".into(),
        })
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

async fn chown_to_postgres(dir: &Path) -> Result<(), DeployError> {
    if is_root() {
        let mut chown = Command::new("chown");
        chown.arg("-R").arg("postgres:postgres").arg(dir);
        run(chown, "chown").await?;
    }
    Ok(())
}
