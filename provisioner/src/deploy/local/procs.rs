//! Long-running processes of the local data plane: started detached (their own process group,
//! output to a log file, pid in a file) so they outlive `provision`, found again through the pid
//! file by the next run, and stopped gently (SIGTERM, then SIGKILL after a grace period).

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::deploy::DeployError;
use crate::wait;

/// How often a stopping process is looked at.
const POLL: Duration = Duration::from_millis(50);
/// How long a killed process may take to go.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// The pid in `pid_file` when that process still runs (a zombie or a vanished one does not). The
/// file also holds the process's start time, so a pid the system gave to another process since
/// (after a reboot, say) is not taken for ours.
pub fn running(pid_file: &Path) -> Option<u32> {
    let text = fs::read_to_string(pid_file).ok()?;
    let mut fields = text.split_whitespace();
    let pid: u32 = fields.next()?.parse().ok()?;
    let started = fields.next()?;
    (alive(pid) && start_time(pid).as_deref() == Some(started)).then_some(pid)
}

/// The start time of `pid` in clock ticks since boot (`/proc/<pid>/stat`, field 22).
fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name start at field 3 (the state).
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: `123 (name) S ...`.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Starts `cmd` detached, appending its output to `log_file`, and records its pid.
pub fn spawn(cmd: &mut Command, pid_file: &Path, log_file: &Path) -> io::Result<u32> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file)?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C meant for `provision` does not reach it.
        .process_group(0)
        .spawn()?;
    let pid = child.id();
    let started = start_time(pid).unwrap_or_default();
    fs::write(pid_file, format!("{pid} {started}\n"))?;
    Ok(pid)
}

/// Stops the process of `pid_file` (TERM, then KILL after `grace`) and removes the file; true
/// when something was running.
pub async fn stop(pid_file: &Path, grace: Duration) -> bool {
    let Some(pid) = running(pid_file) else {
        let _ = fs::remove_file(pid_file);
        return false;
    };
    signal(pid, "TERM").await;
    if !gone_within(pid, grace).await {
        signal(pid, "KILL").await;
        gone_within(pid, KILL_GRACE).await;
    }
    let _ = fs::remove_file(pid_file);
    true
}

/// Waits until `pid` is gone; false when it still runs after `within`.
async fn gone_within(pid: u32, within: Duration) -> bool {
    let gone = wait::until(within, POLL, || async move {
        Ok::<_, ()>((!alive(pid)).then_some(()))
    })
    .await;
    gone.is_ok()
}

async fn signal(pid: u32, name: &str) {
    let _ = tokio::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Runs a short command to completion without blocking the runtime; its output is in the
/// error when it fails.
pub async fn run(cmd: Command, what: &str) -> Result<(), DeployError> {
    let out = tokio::process::Command::from(cmd)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(DeployError::process(what))?;
    if out.status.success() {
        return Ok(());
    }
    Err(DeployError::Command {
        what: what.to_string(),
        status: out.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    })
}

/// `name` on PATH or in one of `extra`.
pub fn find_program(name: &str, extra: &[&str]) -> Result<PathBuf, DeployError> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(extra.iter().copied())
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| DeployError::Prerequisite {
            message: format!("`{name}` not found: run scripts/setup"),
        })
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spawned_process_is_found_and_stopped() {
        let dir = std::env::temp_dir().join(format!("procs-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (pid_file, log) = (dir.join("sleep.pid"), dir.join("sleep.log"));
        let pid = spawn(Command::new("sleep").arg("30"), &pid_file, &log).unwrap();
        assert_eq!(running(&pid_file), Some(pid));
        assert!(stop(&pid_file, Duration::from_secs(5)).await);
        // Our own child lingers as a zombie until reaped: it counts as stopped.
        assert_eq!(running(&pid_file), None);
        assert!(!pid_file.exists());
        assert!(!stop(&pid_file, Duration::from_secs(1)).await);
        // A live pid with another start time is somebody else's process.
        let me = std::process::id();
        fs::write(&pid_file, format!("{me} 1\n")).unwrap();
        assert_eq!(running(&pid_file), None);
        fs::write(&pid_file, format!("{me} {}\n", start_time(me).unwrap())).unwrap();
        assert_eq!(running(&pid_file), Some(me));
        fs::remove_dir_all(&dir).unwrap();
    }
}
