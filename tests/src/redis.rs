//! A throwaway Redis server on a free port, without persistence (a restart starts empty).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::ports::free_port;
use crate::process::ServerProcess;
use crate::scratch::ScratchDir;
use crate::user::{existing, which};

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A Redis server owned by the test; `Drop` stops it and removes its directory.
#[derive(Debug)]
pub struct TempRedis {
    // Field order matters: the server stops before its directory is removed.
    server: Option<ServerProcess>,
    port: u16,
    program: PathBuf,
    dir: ScratchDir,
}

impl TempRedis {
    /// Starts `redis-server` on a free loopback port and waits until it answers PING.
    pub fn start() -> anyhow::Result<Self> {
        let program = which("redis-server")
            .or_else(|| existing("/usr/bin/redis-server"))
            .context("`redis-server` not found (run scripts/setup)")?;
        let mut redis = Self {
            server: None,
            port: free_port(),
            program,
            dir: ScratchDir::new("stack-tests-redis")?,
        };
        redis.start_again()?;
        Ok(redis)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server; its data is lost. No-op when stopped.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            if let Err(e) = server.stop() {
                eprintln!("stack-tests: stopping redis: {e:#}");
            }
        }
    }

    /// Starts an empty server again on the same port. No-op when it is running.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        if self.server.as_mut().is_some_and(|s| s.exited().is_none()) {
            return Ok(());
        }
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"]);
        cmd.args(["--save", "", "--appendonly", "no", "--daemonize", "no"]);
        cmd.arg("--dir")
            .arg(self.dir.path())
            .current_dir(self.dir.path());
        let log = self.dir.path().join("redis.log");
        let server = ServerProcess::spawn("redis", cmd, &log, "TERM", self.dir.path())?;
        self.server = Some(server);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let Some(server) = self.server.as_mut() else {
                bail!("redis is not running")
            };
            if let Some(status) = server.exited() {
                let log = server.log_tail(30);
                self.server = None;
                bail!("redis exited during startup ({status}); log:\n{log}");
            }
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "redis not ready after {READY_TIMEOUT:?}; log:\n{}",
                    server.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Sends `PING` over a raw RESP connection; Ok once the reply is `+PONG`.
pub fn ping(port: u16) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut reply = [0u8; 64];
    let n = stream.read(&mut reply)?;
    let reply = String::from_utf8_lossy(&reply[..n]);
    anyhow::ensure!(reply == "+PONG\r\n", "unexpected PING reply {reply:?}");
    Ok(())
}
