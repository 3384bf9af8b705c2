//! `provision`: stands up the gateway stack on AWS. Only its command-line surface exists so far;
//! plan / up / destroy arrive with the provisioner issue.

use clap::{Parser, Subcommand};

/// Infrastructure as code for the gateway stack (VPC, Aurora, ElastiCache, ECS, NLB, Route53).
#[derive(Parser)]
#[command(name = "provision", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Show what `up` would change.
    Plan {
        #[arg(long)]
        stack: String,
    },
    /// Create or converge the stack, then deploy the gateway.
    Up {
        #[arg(long)]
        stack: String,
    },
    /// Take the stack down.
    Destroy {
        #[arg(long)]
        stack: String,
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
        }
        Some(Command::Plan { stack } | Command::Up { stack } | Command::Destroy { stack }) => {
            eprintln!(
                "provision: stack '{stack}': not implemented yet (see the provisioner issue)"
            );
            std::process::exit(1);
        }
    }
}
