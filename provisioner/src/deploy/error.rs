//! What can go wrong deploying, one variant per case a caller (or an operator) tells apart; the
//! messages are the ones `provision` prints after `deploy: `.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use super::template::TemplateError;
use crate::aws::AwsError;

/// What went wrong deploying.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The stack file asks for something the deploy cannot do: fixed in the stack file.
    #[error("{message}")]
    User { message: String },
    /// The configuration template cannot be read.
    #[error("gateway.config.template: cannot read {}: {source}", path.display())]
    TemplateUnreadable { path: PathBuf, source: io::Error },
    /// Placeholders of the template that no value fills, one `file:line:col: message` each.
    #[error("{}", template_lines(path, problems))]
    Template {
        path: PathBuf,
        problems: Vec<TemplateError>,
    },
    /// The configuration still needs values that exist only once the apply finished.
    #[error("the configuration still has values known only after apply; run `provision up` again")]
    KnownAfterApply,
    /// A resource the deploy needs is not there after the apply.
    #[error("`{logical}` does not exist after the apply")]
    Missing { logical: String },
    /// ECS refused to start a one-off task, or did not say which task it started.
    #[error("{label}: {message}")]
    OneOffNotStarted { label: String, message: String },
    /// A one-off ECS task stopped without success; its output is in `log_group`.
    #[error(
        "{label} failed: exit code {exit_code}, {reason}; its output is in CloudWatch Logs group \
         {log_group} (task {task}). Nothing was rolled forward"
    )]
    OneOffFailed {
        label: String,
        exit_code: String,
        reason: String,
        log_group: String,
        task: String,
    },
    /// A local one-off (`gateway migrations ...`, `gateway config sync ...`) exited non-zero.
    #[error("`{what}` failed ({status}):\n{output}")]
    LocalOneOffFailed {
        what: String,
        status: ExitStatus,
        output: String,
    },
    /// Something did not happen within its time (a one-off task, a listener, ECS's answer).
    #[error("{message}")]
    Timeout { message: String },
    /// A port of the stack's `[local]` section is taken by a program the stack did not start.
    #[error(
        "127.0.0.1:{port} ({field}) is in use by a program this stack did not start: stop it, \
         or choose another port in the stack file's [local] section"
    )]
    PortInUse { port: u16, field: String },
    /// A program or file the local data plane needs is not on this machine.
    #[error("{message}")]
    Prerequisite { message: String },
    /// A local program could not be started or talked to.
    #[error("{what}: {source}")]
    Process { what: String, source: io::Error },
    /// A short local command (initdb, pg_ctl, psql, chown) ran and failed.
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: ExitStatus,
        output: String,
    },
    /// The gateway's database role or database could not be made.
    #[error("creating the database user `{user}` and database `{db}` failed: {stderr}")]
    DatabaseSetup {
        user: String,
        db: String,
        stderr: String,
    },
    /// PostgreSQL did not start; the end of its server log says why.
    #[error("{source}\n{log_tail}")]
    PostgresStart {
        source: Box<DeployError>,
        log_tail: String,
    },
    /// A file of the local data plane could not be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A gateway instance of the roll did not become healthy; the roll stopped there.
    #[error(
        "{name} did not become healthy ({why}); the roll stopped here. Its log ({}):\n{log_tail}",
        log.display()
    )]
    Unhealthy {
        name: String,
        why: String,
        log: PathBuf,
        log_tail: String,
    },
    /// A secret the task definition names could not be read as ECS would.
    #[error("{message}")]
    Secret { message: String },
    /// Everything was deployed, but the record of it could not be written.
    #[error(
        "the gateway runs the new configuration, but recording it failed ({source}); \
         `provision up` again repeats the deploy's steps and records it"
    )]
    Record { source: AwsError },
}

impl DeployError {
    pub(crate) fn user(message: impl Into<String>) -> DeployError {
        DeployError::User {
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path) -> impl Fn(io::Error) -> DeployError + '_ {
        move |source| DeployError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn process(what: impl Into<String>) -> impl FnOnce(io::Error) -> DeployError {
        let what = what.into();
        move |source| DeployError::Process { what, source }
    }
}

fn template_lines(path: &std::path::Path, problems: &[TemplateError]) -> String {
    problems
        .iter()
        .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The texts operators (and scripts) read after `provision: deploy: `: unchanged from the
    // strings these variants replaced.
    #[test]
    fn messages_read_as_before() {
        let port = DeployError::PortInUse {
            port: 8000,
            field: "local.proxy_port".into(),
        };
        assert_eq!(
            port.to_string(),
            "127.0.0.1:8000 (local.proxy_port) is in use by a program this stack did not start: \
             stop it, or choose another port in the stack file's [local] section"
        );
        let failed = DeployError::OneOffFailed {
            label: "migrations".into(),
            exit_code: "1".into(),
            reason: "Essential container in task exited".into(),
            log_group: "/ecs/gw".into(),
            task: "arn:task".into(),
        };
        assert_eq!(
            failed.to_string(),
            "migrations failed: exit code 1, Essential container in task exited; its output is in \
             CloudWatch Logs group /ecs/gw (task arn:task). Nothing was rolled forward"
        );
        let template = DeployError::Template {
            path: PathBuf::from("/t/gw.yaml"),
            problems: vec![
                TemplateError {
                    line: 4,
                    column: 3,
                    message: "unknown placeholder `${x}`".into(),
                },
                TemplateError {
                    line: 9,
                    column: 1,
                    message: "unclosed".into(),
                },
            ],
        };
        assert_eq!(
            template.to_string(),
            "/t/gw.yaml:4:3: unknown placeholder `${x}`\n/t/gw.yaml:9:1: unclosed"
        );
        let io = DeployError::io(std::path::Path::new("/x/y"))(io::Error::other("denied"));
        assert_eq!(io.to_string(), "/x/y: denied");
    }
}
