//! `provision`: stands up the gateway stack on AWS. `validate` works today; plan / up / destroy
//! arrive with the rest of the provisioner issue.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use provisioner::LoadError;

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
    /// Show what `up` would change.
    Plan(Target),
    /// Create or converge the stack, then deploy the gateway.
    Up(Target),
    /// Take the stack down.
    Destroy(Target),
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
    match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
        Some(Command::Validate(target)) => validate(&target),
        Some(Command::Plan(target) | Command::Up(target) | Command::Destroy(target)) => {
            let name = target.stack.unwrap_or_else(|| "(file)".to_string());
            eprintln!("provision: stack '{name}': not implemented yet (see the provisioner issue)");
            ExitCode::FAILURE
        }
    }
}

fn validate(target: &Target) -> ExitCode {
    let loaded = match (&target.stack, &target.file) {
        (_, Some(file)) => provisioner::load_file(file),
        (Some(name), None) => match workspace_root() {
            Some(root) => provisioner::load_stack(&root, name),
            None => {
                eprintln!("provision: no stacks/ directory here or in any parent directory");
                return ExitCode::FAILURE;
            }
        },
        (None, None) => unreachable!("clap requires --stack or --file"),
    };
    match loaded {
        Ok(stack) => {
            println!("ok: stack `{}` in {}", stack.name_prefix, stack.region);
            ExitCode::SUCCESS
        }
        Err(LoadError::Invalid(invalid)) => {
            for line in invalid.lines() {
                eprintln!("{line}");
            }
            let count = invalid.problems.len();
            eprintln!(
                "provision: {}: {count} problem{}",
                invalid.file,
                if count == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Err(other) => {
            eprintln!("provision: {other}");
            ExitCode::FAILURE
        }
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
