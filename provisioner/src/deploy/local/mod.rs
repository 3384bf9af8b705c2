//! The data plane of a stack with `[local]`, run on this machine: LocalStack Community answers
//! the control-plane calls but cannot run a service's containers, Aurora or Redis. So PostgreSQL
//! (the "Aurora writer"), Redis (the "ElastiCache primary"), a stand-in backend and the gateway
//! processes (as many as the service's desired count, each with the task definition's
//! environment and its secrets read from Secrets Manager) run here, under `.provision/<stack>/`
//! of the workspace.
//! Ports come from the stack's `[local]` section; everything binds to 127.0.0.1.

mod gateways;
mod ports;
mod postgres;
pub mod procs;
mod services;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::plane::{DataPlane, Revision, TaskEnv};
use super::steps::{desired_count, print_indented};
use super::template::Value;
use super::{secrets, DeployContext, DeployError};
use crate::core::Observed;
use crate::stack::{Local, Stack};

pub use gateways::gateway_bin;

/// How long a stopping gateway may drain.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

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
            DeployError::user(
                "the data plane on this machine needs a [local] section (proxy_port, \
                 admin_port, postgres_port, redis_port)",
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
    pub async fn processes(&self, count: u32) -> Vec<(String, bool)> {
        let running = |name: &str| procs::running(&self.path(&format!("{name}.pid"))).is_some();
        let mut all = vec![
            ("postgres".to_string(), self.postgres_running().await),
            ("redis".to_string(), running("redis")),
        ];
        if self.ports.backend_port.is_some() {
            all.push(("backend".to_string(), running("backend")));
        }
        for i in 0..count {
            let name = format!("gateway-{i}");
            let up = running(&name);
            all.push((name, up));
        }
        all
    }

    /// What is not running that should (for `plan`): empty when all is up.
    pub async fn missing(&self, count: u32) -> Vec<String> {
        self.processes(count)
            .await
            .into_iter()
            .filter(|(_, running)| !running)
            .map(|(name, _)| name)
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
        fs::create_dir_all(&self.dir).map_err(DeployError::io(&self.dir))?;
        self.start_postgres().await?;
        self.ensure_database(db_user, db_name, db_password).await?;
        self.start_redis().await?;
        if let Some(port) = self.ports.backend_port {
            self.start_backend(port).await?;
        }
        Ok(())
    }

    /// Stops everything; the database's files stay unless `delete_data`. Returns what stopped.
    pub async fn stop_all(&self, delete_data: bool) -> Vec<String> {
        let mut stopped = Vec::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            let mut pid_files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pid"))
                .collect();
            pid_files.sort();
            for pid_file in pid_files {
                if procs::stop(&pid_file, DRAIN).await {
                    let name = pid_file.file_stem().unwrap_or_default();
                    stopped.push(name.to_string_lossy().into_owned());
                }
            }
        }
        if self.stop_postgres().await {
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

// === impl DataPlane ===

#[async_trait]
impl DataPlane for LocalPlane {
    fn endpoint_values(
        &self,
        _observed: &BTreeMap<String, Observed>,
    ) -> Vec<(&'static str, Value)> {
        vec![
            ("redis_host", Value::Known("127.0.0.1".into())),
            (
                "redis_port",
                Value::Known(self.ports.redis_port.to_string()),
            ),
            (
                "admin_port",
                Value::Known(self.ports.admin_port.to_string()),
            ),
        ]
    }

    /// The processes not running, and the running gateways whose environment (the current task
    /// definition's, secrets read again) or binary differs from what they started with. Best
    /// effort for the latter: when the secrets cannot be read (a destroyed stack's are scheduled
    /// for deletion), nothing is reported and `up` still compares for itself.
    async fn drift(
        &self,
        dc: &DeployContext<'_>,
        observed: &BTreeMap<String, Observed>,
    ) -> (Vec<String>, Vec<String>) {
        let count = desired_count(dc, observed);
        let missing = self.missing(count).await;
        let Some(task_def) = observed.get("task_def.gateway") else {
            return (missing, Vec::new());
        };
        let Ok(task_env) = secrets::container_env(dc, &task_def.attrs).await else {
            return (missing, Vec::new());
        };
        (missing, self.outdated(&self.gateway_envs(&task_env, count)))
    }

    async fn migrate(&self, rev: &Revision<'_>) -> Result<TaskEnv, DeployError> {
        let task_env = secrets::container_env(rev.dc, rev.task_def).await?;
        let env0 = self.gateway_env(&task_env, 0);
        let password = env0.get("KONG_PG_PASSWORD").ok_or_else(|| {
            DeployError::user("the task definition has no KONG_PG_PASSWORD secret")
        })?;
        let pg_user = env0.get("KONG_PG_USER").map_or("kong", String::as_str);
        let pg_db = env0.get("KONG_PG_DATABASE").map_or("kong", String::as_str);
        self.start_services(pg_user, pg_db, password).await?;
        println!(
            "  postgres 127.0.0.1:{}, redis 127.0.0.1:{}{} (in {})",
            self.ports.postgres_port,
            self.ports.redis_port,
            self.ports
                .backend_port
                .map(|p| format!(", backend http://127.0.0.1:{p}/"))
                .unwrap_or_default(),
            self.dir.display()
        );
        let out = self.one_off(&["migrations", "bootstrap"], &env0).await?;
        print_indented("migrations", &out);
        Ok(task_env)
    }

    async fn configure(&self, rev: &Revision<'_>, env: &TaskEnv) -> Result<(), DeployError> {
        let env0 = self.gateway_env(env, 0);
        let file = self.dir.join("gateway-config.yaml");
        fs::write(&file, rev.config).map_err(DeployError::io(&file))?;
        let file_arg = file.display().to_string();
        let out = self.one_off(&["config", "sync", &file_arg], &env0).await?;
        print_indented("configuration", &out);
        Ok(())
    }

    async fn roll(&self, dc: &DeployContext<'_>, task_env: &TaskEnv) -> Result<(), DeployError> {
        let observed = dc.observe().await?;
        let count = desired_count(dc, &observed);
        for line in self
            .roll_gateways(&self.gateway_envs(task_env, count))
            .await?
        {
            println!("  {line}");
        }
        Ok(())
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
