//! Redis (the local stand-in for the ElastiCache primary) and the stand-in backend: started
//! detached where they are not running on their `[local]` port, and waited for until they listen.

use std::process::Command;
use std::time::Duration;

use super::ports::{listening, port_free, wait_port};
use super::procs::{self, find_program};
use super::{LocalPlane, DRAIN};
use crate::deploy::DeployError;

/// How long a started Redis or backend may take to listen.
const LISTEN_WITHIN: Duration = Duration::from_secs(10);

impl LocalPlane {
    pub(super) async fn start_redis(&self) -> Result<(), DeployError> {
        let pid_file = self.path("redis.pid");
        if procs::running(&pid_file).is_some() {
            if listening(self.ports.redis_port).await {
                return Ok(());
            }
            // Running on a port the stack no longer names.
            procs::stop(&pid_file, DRAIN).await;
        }
        port_free(self.ports.redis_port, "local.redis_port").await?;
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
        .map_err(DeployError::process("starting redis-server"))?;
        if wait_port(self.ports.redis_port, LISTEN_WITHIN).await {
            return Ok(());
        }
        Err(DeployError::Timeout {
            message: format!(
                "redis-server did not listen on 127.0.0.1:{}: {}",
                self.ports.redis_port,
                procs::tail(&self.path("redis.log"), 5)
            ),
        })
    }

    pub(super) async fn start_backend(&self, port: u16) -> Result<(), DeployError> {
        let pid_file = self.path("backend.pid");
        if procs::running(&pid_file).is_some() {
            if listening(port).await {
                return Ok(());
            }
            procs::stop(&pid_file, DRAIN).await;
        }
        port_free(port, "local.backend_port").await?;
        let script = self.workspace.join("scripts/echo_backend.py");
        if !script.exists() {
            return Err(DeployError::Prerequisite {
                message: format!("the stand-in backend {} is missing", script.display()),
            });
        }
        procs::spawn(
            Command::new("python3").arg(&script).arg(port.to_string()),
            &pid_file,
            &self.path("backend.log"),
        )
        .map_err(DeployError::process("starting the backend"))?;
        if wait_port(port, LISTEN_WITHIN).await {
            return Ok(());
        }
        Err(DeployError::Timeout {
            message: format!(
                "the backend did not listen on 127.0.0.1:{port}: {}",
                procs::tail(&self.path("backend.log"), 5)
            ),
        })
    }
}
