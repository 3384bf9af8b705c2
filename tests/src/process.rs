//! One server process owned by a test: spawned with its output in a log file, stopped gracefully,
//! and watched by a tiny shell watchdog that cleans up even if the test process dies without
//! running `Drop` (statics such as the shared PostgreSQL, a SIGKILLed test binary).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a server gets to shut down after its stop signal before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// Waits for EOF on stdin (the test process is gone, or dropped our end), then stops the server
/// and removes its directory. `read` is a builtin, so no extra process holds the pipe.
const WATCHDOG: &str = r#"
trap '' INT HUP TERM
while read -r _; do :; done
kill -s "$2" "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -s KILL "$1" 2>/dev/null
[ -n "$3" ] && rm -rf "$3"
"#;

/// A running server process and its watchdog.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
    stop_signal: &'static str,
    log: PathBuf,
}

impl ServerProcess {
    /// Spawns `cmd` in its own process group (a Ctrl-C on the test run must not skip cleanup),
    /// appending its output to `log`. If this process dies, the watchdog sends `stop_signal` and
    /// removes `cleanup_dir`.
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        log: &Path,
        stop_signal: &'static str,
        cleanup_dir: &Path,
    ) -> anyhow::Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening log {}", log.display()))?;
        let err = out.try_clone().context("duplicating log handle")?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {name}: {cmd:?}"))?;
        let mut server = Self {
            name: name.to_owned(),
            child,
            watchdog: None,
            stop_signal,
            log: log.to_owned(),
        };
        server.watchdog = Some(spawn_watchdog(server.pid(), stop_signal, cleanup_dir)?);
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the server has already exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `lines` lines of the server's log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// Sends the stop signal, waits up to [`GRACE`], then kills. Returns how the server ended.
    pub fn stop(mut self) -> anyhow::Result<ExitStatus> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> anyhow::Result<ExitStatus> {
        // Disarm the watchdog first: closing its stdin would make it signal the server (or, once
        // the pid is reused, a stranger).
        if let Some((mut watchdog, stdin)) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
            drop(stdin);
        }
        if let Some(status) = self.exited() {
            return Ok(status);
        }
        if let Err(e) = send_signal(self.pid(), self.stop_signal) {
            // It may have exited between the check above and the signal.
            return self.exited().ok_or(e);
        }
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child
            .kill()
            .with_context(|| format!("killing {}", self.name))?;
        self.child
            .wait()
            .with_context(|| format!("reaping {}", self.name))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("stack-tests: stopping {}: {e:#}", self.name);
        }
    }
}

fn spawn_watchdog(
    pid: u32,
    signal: &str,
    cleanup_dir: &Path,
) -> anyhow::Result<(Child, ChildStdin)> {
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("stack-tests-watchdog")
        .arg(pid.to_string())
        .arg(signal)
        .arg(cleanup_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("spawning watchdog shell")?;
    let stdin = watchdog
        .stdin
        .take()
        .context("watchdog has no stdin pipe")?;
    Ok((watchdog, stdin))
}

/// `kill -s SIGNAL pid` through the shell builtin (std can only SIGKILL, and `unsafe` is out).
pub fn send_signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("sh")
        .args(["-c", r#"kill -s "$1" "$2""#, "sh", signal, &pid.to_string()])
        .status()
        .context("running kill")?;
    anyhow::ensure!(status.success(), "kill -s {signal} {pid} failed: {status}");
    Ok(())
}

/// The last `lines` lines of a file (at most its last 64 KiB), or a note that it can't be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
