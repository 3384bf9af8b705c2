//! `provision plan`: what `up` would change, as Terraform users read it, or JSON; can be saved.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::approve::colorize;
use super::{saved, CommandError, Session};
use crate::core::render::{render_json, render_text};
use crate::core::Plan;

#[derive(Debug, Default, Clone)]
pub struct PlanOptions {
    pub json: bool,
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0 none, 1 error), like `terraform plan -detailed-exitcode`.
    pub detailed_exitcode: bool,
    pub no_color: bool,
}

/// Plans, prints, saves when asked; returns the exit code.
pub async fn run(session: &Session, options: &PlanOptions) -> Result<u8, CommandError> {
    let (_, plan) = session.plan().await?;
    print(session, &plan, options)?;
    if let Some(path) = &options.out {
        saved::save(path, &session.stack.region, &plan).map_err(CommandError::Other)?;
        eprintln!(
            "Saved the plan to {}; apply exactly it with: provision up --plan {}",
            path.display(),
            path.display()
        );
    }
    Ok(match (options.detailed_exitcode, plan.has_changes()) {
        (true, true) => 2,
        _ => 0,
    })
}

/// The plan on stdout, with an estimate of the stack's monthly cost after it.
pub fn print(session: &Session, plan: &Plan, options: &PlanOptions) -> Result<(), CommandError> {
    if options.json {
        let text = render_json(plan).map_err(|e| CommandError::Other(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    let color = !options.no_color
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    print!("{}", colorize(&render_text(plan), color));
    let estimate = crate::cost::estimate(&session.stack);
    println!("\n{}", estimate.render());
    Ok(())
}
