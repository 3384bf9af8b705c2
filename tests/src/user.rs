//! Who we run as, and how to hand a directory and a command to another system user.
//!
//! PostgreSQL refuses to run as root, and tests here often do: then its files go to the `postgres`
//! user (created by Debian's package) and its commands run through `setpriv`, which `exec`s, so the
//! pid we hold is the server's own and our signals reach it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// A system user's ids, read from /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// True when this process runs with effective uid 0. The owner of /proc/self is the effective uid
/// (std has no safe geteuid, and `unsafe` is forbidden in this workspace).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Looks `name` up in /etc/passwd.
pub fn system_user(name: &str) -> anyhow::Result<SystemUser> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    parse_passwd(&passwd, name).with_context(|| format!("no system user '{name}' in /etc/passwd"))
}

fn parse_passwd(passwd: &str, name: &str) -> Option<SystemUser> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let (_password, uid, gid) = (fields.next()?, fields.next()?, fields.next()?);
        Some(SystemUser {
            name: name.to_owned(),
            uid: uid.parse().ok()?,
            gid: gid.parse().ok()?,
        })
    })
}

/// Gives `dir` and everything below it to `user`.
pub fn chown_tree(dir: &Path, user: &SystemUser) -> anyhow::Result<()> {
    std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
        .with_context(|| format!("chown {} to {}", dir.display(), user.name))?;
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// A command for `program` that runs as `user` when given one, as ourselves otherwise.
pub fn command_as(user: Option<&SystemUser>, program: &Path) -> anyhow::Result<Command> {
    let Some(user) = user else {
        return Ok(Command::new(program));
    };
    let Some(setpriv) = which("setpriv").or_else(|| existing("/usr/bin/setpriv")) else {
        bail!(
            "need `setpriv` (util-linux) to run {} as {}",
            program.display(),
            user.name
        );
    };
    let mut cmd = Command::new(setpriv);
    cmd.arg(format!("--reuid={}", user.uid))
        .arg(format!("--regid={}", user.gid))
        .arg("--init-groups")
        .arg("--")
        .arg(program);
    Ok(cmd)
}

/// The first `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `path` if it is a file: a fallback for programs in sbin dirs that PATH may lack.
pub fn existing(path: &str) -> Option<PathBuf> {
    Some(PathBuf::from(path)).filter(|p| p.is_file())
}

#[cfg(test)]
mod tests;
