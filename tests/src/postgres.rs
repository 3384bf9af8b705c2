//! A throwaway PostgreSQL server: `initdb` into a scratch dir, `postgres` on a free port with
//! durability off (tests don't need crash safety, they need speed), a database to use.
//!
//! As root (PostgreSQL refuses to run as root) the data belongs to, and the server runs as, the
//! `postgres` system user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::ServerProcess;
use crate::scratch::ScratchDir;
use crate::user::{chown_tree, command_as, is_root, system_user, SystemUser};

mod tools;
use tools::PgTools;

#[cfg(test)]
mod tests;

/// How long a fresh server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A PostgreSQL server owned by the test; `Drop` stops it and removes its files.
#[derive(Debug)]
pub struct TempPostgres {
    // Field order matters: the server stops before its directory is removed.
    server: Option<ServerProcess>,
    port: u16,
    database: String,
    tools: PgTools,
    owner: Option<SystemUser>,
    databases_made: AtomicU32,
    dir: ScratchDir,
}

impl TempPostgres {
    /// Initialises a cluster, starts it on a free port and creates database `test`.
    pub fn start() -> anyhow::Result<Self> {
        let tools = PgTools::find()?;
        let owner = if is_root() {
            Some(system_user("postgres")?)
        } else {
            None
        };
        let dir = ScratchDir::new("stack-tests-pg")?;
        std::fs::create_dir(dir.path().join("sock")).context("creating socket dir")?;
        if let Some(owner) = &owner {
            chown_tree(dir.path(), owner)?;
        }
        let mut pg = Self {
            server: None,
            port: free_port(),
            database: "test".to_owned(),
            tools,
            owner,
            databases_made: AtomicU32::new(0),
            dir,
        };
        pg.initdb()?;
        pg.start_again()?;
        pg.psql("postgres", "CREATE DATABASE test")?;
        Ok(pg)
    }

    /// `postgres://postgres@127.0.0.1:PORT/test`.
    pub fn url(&self) -> String {
        self.url_for(&self.database)
    }

    /// The URL of another database on this server.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The scratch directory (data in `data/`, log in `postgres.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// True while the server process is ours and alive.
    pub fn is_running(&mut self) -> bool {
        self.server.as_mut().is_some_and(|s| s.exited().is_none())
    }

    /// Stops the server (fast shutdown: connections are cut, data is kept). No-op when stopped.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            if let Err(e) = server.stop() {
                eprintln!("stack-tests: stopping postgres: {e:#}");
            }
        }
    }

    /// Starts the server again on the same port and data dir, and waits until it accepts
    /// connections. No-op when it is running.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let mut cmd = command_as(self.owner.as_ref(), &self.tools.postgres)?;
        cmd.arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(self.port.to_string());
        cmd.arg("-k").arg(self.dir.path().join("sock"));
        for setting in [
            "listen_addresses=127.0.0.1",
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "max_connections=300",
        ] {
            cmd.arg("-c").arg(setting);
        }
        cmd.current_dir(self.dir.path());
        let log = self.dir.path().join("postgres.log");
        let server = ServerProcess::spawn("postgres", cmd, &log, "INT", self.dir.path())?;
        self.server = Some(server);
        self.wait_ready()
    }

    /// A new, empty database with a unique name; returns its URL.
    pub fn create_database(&self) -> anyhow::Result<String> {
        let n = self.databases_made.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url_for(&name))
    }

    /// Like [`Self::create_database`], for tests: panics with the reason on failure.
    pub fn fresh_database(&self) -> String {
        self.create_database()
            .unwrap_or_else(|e| panic!("creating a test database: {e:#}"))
    }

    /// Makes `role` sign in with its password over TCP, as on Aurora (everyone else stays
    /// `trust`): a wrong password then fails as it would there.
    pub fn require_password(&self, role: &str) -> anyhow::Result<()> {
        let hba = self.data_dir().join("pg_hba.conf");
        let rest = std::fs::read_to_string(&hba).context("reading pg_hba.conf")?;
        let first = format!("host all {role} 127.0.0.1/32 scram-sha-256\n");
        std::fs::write(&hba, first + &rest).context("writing pg_hba.conf")?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        Ok(())
    }

    /// Runs `sql` with `psql` in `database`; returns its unaligned, tuples-only output.
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let output = Command::new(&self.tools.psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-U",
                "postgres",
                "-p",
                &self.port.to_string(),
                "-d",
                database,
                "-c",
                sql,
            ])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .context("running psql")?;
        if !output.status.success() {
            bail!(
                "psql {sql:?} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn initdb(&self) -> anyhow::Result<()> {
        let mut cmd = command_as(self.owner.as_ref(), &self.tools.initdb)?;
        cmd.arg("-D").arg(self.data_dir());
        // C locale: minimal machines have no other locales generated.
        cmd.args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        let output = cmd
            .current_dir(self.dir.path())
            .output()
            .context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let Some(server) = self.server.as_mut() else {
                bail!("postgres is not running")
            };
            if let Some(status) = server.exited() {
                let log = server.log_tail(30);
                self.server = None;
                bail!("postgres exited during startup ({status}); log:\n{log}");
            }
            if self.tools.is_ready(self.port)? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "postgres not ready after {READY_TIMEOUT:?}; log:\n{}",
                    server.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One server per test process, started on first use; take a [`TempPostgres::fresh_database`]
/// per test. It can't be stopped (tests that stop PostgreSQL start their own). The watchdog stops
/// it and removes its files when the test process exits.
pub fn shared_postgres() -> &'static TempPostgres {
    static SHARED: OnceLock<TempPostgres> = OnceLock::new();
    SHARED.get_or_init(|| {
        TempPostgres::start().unwrap_or_else(|e| panic!("starting shared postgres: {e:#}"))
    })
}
