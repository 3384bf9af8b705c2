//! `provision`: stands up the gateway stack on AWS: validate, plan, up, destroy, output, status,
//! unlock. The work is in the library (`commands`, `engine`, `aws`, `core`); this is the CLI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use provisioner::commands::{self, destroy::DestroyOptions, plan::PlanOptions, up::UpOptions};
use provisioner::commands::{CommandError, Session};
use provisioner::{LoadError, Stack};

/// Infrastructure as code for the gateway stack (VPC, Aurora, ElastiCache, ECS, NLB, Route53).
#[derive(Parser)]
#[command(name = "provision", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a stack file against the model and AWS's documented limits, reporting every problem.
    Validate(Target),
    /// Show what `up` would change (exit 0; with --detailed-exitcode: 0 none, 1 error, 2 changes).
    Plan {
        #[command(flatten)]
        target: Target,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// Save the plan; `up --plan FILE` applies exactly it, or refuses when the stack changed.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        detailed_exitcode: bool,
        #[arg(long)]
        no_color: bool,
    },
    /// Create or converge the stack (asks first unless --auto-approve).
    Up {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        auto_approve: bool,
        /// Apply this saved plan (from `plan --out`), refused if the stack changed since.
        #[arg(long = "plan", value_name = "FILE")]
        plan_file: Option<PathBuf>,
        /// Resources worked on at once.
        #[arg(long, default_value_t = 10)]
        parallelism: usize,
        /// Benchmarking: after each create, wait its kind's typical AWS creation time times FACTOR.
        #[arg(long, value_name = "FACTOR", hide = true)]
        simulate_latency: Option<f64>,
        #[arg(long)]
        no_color: bool,
        /// Allow a plan that replaces or deletes the Aurora database (its data goes with it).
        #[arg(long)]
        replace_database: bool,
    },
    /// Take the stack down, dependents first (asks first unless --auto-approve).
    Destroy {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        auto_approve: bool,
        /// Delete the database without a final snapshot, and secrets without a recovery window.
        #[arg(long)]
        delete_data: bool,
    },
    /// Print the stack's endpoints (load balancer, DNS name, database, cache, fallback).
    Output {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        json: bool,
    },
    /// Show the service's tasks, the load balancer's targets and which side DNS serves.
    Status(Target),
    /// Break a stack's lock left by a run that died (the id is in the refusal message).
    Unlock {
        #[command(flatten)]
        target: Target,
        lock_id: String,
    },
}

/// Which stack file to read.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// Stack name: reads stacks/NAME.toml (found from the current directory upwards).
    #[arg(long)]
    stack: Option<String>,
    /// A stack file anywhere.
    #[arg(long)]
    file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    };
    if let Command::Validate(target) = &command {
        return validate(target);
    }
    let target = match &command {
        Command::Validate(t) | Command::Status(t) => t,
        Command::Plan { target, .. }
        | Command::Up { target, .. }
        | Command::Destroy { target, .. }
        | Command::Output { target, .. }
        | Command::Unlock { target, .. } => target,
    };
    let stack = match load(target) {
        Ok(stack) => stack,
        Err(code) => return code,
    };
    let result = commands::block_on(async move {
        let session = Session::open(stack).await?;
        run(&session, command).await
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("provision: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(session: &Session, command: Command) -> Result<u8, CommandError> {
    match command {
        Command::Validate(_) => Ok(0),
        Command::Plan {
            json,
            out,
            detailed_exitcode,
            no_color,
            ..
        } => {
            let options = PlanOptions {
                json,
                out,
                detailed_exitcode,
                no_color,
            };
            commands::plan::run(session, &options).await
        }
        Command::Up {
            auto_approve,
            plan_file,
            parallelism,
            simulate_latency,
            no_color,
            replace_database,
            ..
        } => {
            let options = UpOptions {
                auto_approve,
                plan_file,
                parallelism: Some(parallelism),
                simulate: simulate_latency,
                no_color,
                replace_database,
            };
            commands::up::run(session, &options).await
        }
        Command::Destroy {
            auto_approve,
            delete_data,
            ..
        } => {
            let options = DestroyOptions {
                auto_approve,
                delete_data,
            };
            commands::destroy::run(session, &options).await
        }
        Command::Output { json, .. } => commands::output::run(session, json).await,
        Command::Status(_) => commands::status::run(session).await,
        Command::Unlock { lock_id, .. } => {
            provisioner::engine::lock::unlock(&session.cx, &lock_id).await?;
            println!("unlocked stack `{}`", session.cx.stack);
            Ok(0)
        }
    }
}

/// The stack of `target`, or the exit code after printing every problem.
fn load(target: &Target) -> Result<Stack, ExitCode> {
    let loaded = match (&target.stack, &target.file) {
        (_, Some(file)) => provisioner::load_file(file),
        (Some(name), None) => match workspace_root() {
            Some(root) => provisioner::load_stack(&root, name),
            None => {
                eprintln!("provision: no stacks/ directory here or in any parent directory");
                return Err(ExitCode::FAILURE);
            }
        },
        (None, None) => unreachable!("clap requires --stack or --file"),
    };
    loaded.map_err(|e| {
        report(e);
        ExitCode::FAILURE
    })
}

fn validate(target: &Target) -> ExitCode {
    match load(target) {
        Ok(stack) => {
            println!("ok: stack `{}` in {}", stack.name_prefix, stack.region);
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn report(error: LoadError) {
    match error {
        LoadError::Invalid(invalid) => {
            for line in invalid.lines() {
                eprintln!("{line}");
            }
            let count = invalid.problems.len();
            eprintln!(
                "provision: {}: {count} problem{}",
                invalid.file,
                if count == 1 { "" } else { "s" }
            );
        }
        other => eprintln!("provision: {other}"),
    }
}

/// The nearest directory, from the current one upwards, holding `stacks/`.
fn workspace_root() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|dir| dir.join("stacks").is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
