//! Finding PostgreSQL's programs, and asking whether a server accepts connections.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::user::which;

/// Paths of the PostgreSQL programs the harness runs.
#[derive(Debug, Clone)]
pub(super) struct PgTools {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
    pub psql: PathBuf,
    pub pg_isready: PathBuf,
}

impl PgTools {
    pub fn find() -> anyhow::Result<Self> {
        let bin_dir = newest_bin_dir(Path::new("/usr/lib/postgresql"));
        let dir = bin_dir.as_deref();
        Ok(Self {
            initdb: find_tool(dir, "initdb")?,
            postgres: find_tool(dir, "postgres")?,
            psql: find_tool(dir, "psql")?,
            pg_isready: find_tool(dir, "pg_isready")?,
        })
    }

    /// `pg_isready` exits 0 only once the server accepts connections (an open port alone may
    /// still answer "the database system is starting up").
    pub fn is_ready(&self, port: u16) -> anyhow::Result<bool> {
        let status = Command::new(&self.pg_isready)
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-t",
                "2",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running pg_isready")?;
        Ok(status.success())
    }
}

/// The `bin` dir of the highest numeric version under `root` that has a `postgres` binary.
pub(super) fn newest_bin_dir(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = version_key(&entry.file_name().to_string_lossy())?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// "15" -> [15], "9.6" -> [9, 6]; anything else is not a version directory.
pub(super) fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// `name` in PostgreSQL's versioned bin dir when there is one, else on PATH.
fn find_tool(bin_dir: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    bin_dir
        .map(|dir| dir.join(name))
        .filter(|p| p.is_file())
        .or_else(|| which(name))
        .with_context(|| format!("PostgreSQL's `{name}` not found (run scripts/setup)"))
}
