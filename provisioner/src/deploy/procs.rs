//! Long-running processes of the local data plane: started detached (their own process group,
//! output to a log file, pid in a file) so they outlive `provision`, found again through the pid
//! file by the next run, and stopped gently (SIGTERM, then SIGKILL after a grace period).

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
pub fn stop(pid_file: &Path, grace: Duration) -> bool {
    let Some(pid) = running(pid_file) else {
        let _ = fs::remove_file(pid_file);
        return false;
    };
    signal(pid, "TERM");
    let since = Instant::now();
    while alive(pid) && since.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        signal(pid, "KILL");
        while alive(pid) && since.elapsed() < grace + Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = fs::remove_file(pid_file);
    true
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
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

    #[test]
    fn spawned_process_is_found_and_stopped() {
        let dir = std::env::temp_dir().join(format!("procs-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (pid_file, log) = (dir.join("sleep.pid"), dir.join("sleep.log"));
        let pid = spawn(Command::new("sleep").arg("30"), &pid_file, &log).unwrap();
        assert_eq!(running(&pid_file), Some(pid));
        assert!(stop(&pid_file, Duration::from_secs(5)));
        // Our own child lingers as a zombie until reaped: it counts as stopped.
        assert_eq!(running(&pid_file), None);
        assert!(!pid_file.exists());
        assert!(!stop(&pid_file, Duration::from_secs(1)));
        // A live pid with another start time is somebody else's process.
        let me = std::process::id();
        fs::write(&pid_file, format!("{me} 1\n")).unwrap();
        assert_eq!(running(&pid_file), None);
        fs::write(&pid_file, format!("{me} {}\n", start_time(me).unwrap())).unwrap();
        assert_eq!(running(&pid_file), Some(me));
        fs::remove_dir_all(&dir).unwrap();
    }
}
