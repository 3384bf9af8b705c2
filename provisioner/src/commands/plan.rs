//! `provision plan`: what `up` would change, as Terraform users read it, or JSON; can be saved.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::approve::colorize;
use super::{saved, CommandError, Session};
use crate::core::render::render_text;
use crate::core::Plan;
use crate::deploy::{textdiff, DeployPlan};

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
    let (observed, plan) = session.plan().await?;
    let deploy = crate::deploy::plan(&session.deploy(), &observed, &plan).await?;
    print(session, &plan, deploy.as_ref(), options)?;
    if let Some(path) = &options.out {
        saved::save(path, &session.stack.region, &plan, deploy.as_ref())
            .map_err(CommandError::Other)?;
        eprintln!(
            "Saved the plan to {}; apply exactly it with: provision up --plan {}",
            path.display(),
            path.display()
        );
    }
    let changes = plan.has_changes() || deploy.as_ref().is_some_and(DeployPlan::has_changes);
    Ok(match (options.detailed_exitcode, changes) {
        (true, true) => 2,
        _ => 0,
    })
}

/// The plan on stdout (the infrastructure's, then the deploy's), with an estimate of the stack's
/// monthly cost after it.
pub fn print(
    session: &Session,
    plan: &Plan,
    deploy: Option<&DeployPlan>,
    options: &PlanOptions,
) -> Result<(), CommandError> {
    if options.json {
        let mut value =
            serde_json::to_value(plan).map_err(|e| CommandError::Other(e.to_string()))?;
        if let (Some(deploy), Some(object)) = (deploy, value.as_object_mut()) {
            object.insert("deploy".into(), deploy_json(deploy));
        }
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| CommandError::Other(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    let color = !options.no_color
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    print!("{}", colorize(&render_text(plan), color));
    if let Some(deploy) = deploy {
        print!("{}", colorize(&deploy.render(), color));
    }
    let estimate = crate::cost::estimate(&session.stack);
    println!("\n{}", estimate.render());
    Ok(())
}

/// The deploy section of `plan --json`: the steps due and the configuration diff (credentials
/// hidden as in the text form).
fn deploy_json(deploy: &DeployPlan) -> serde_json::Value {
    serde_json::json!({
        "changes": deploy.has_changes(),
        "template": deploy.template.display().to_string(),
        "migrations": deploy.migrations,
        "config_diff": textdiff::render(&deploy.config_diff, ""),
        "not_running": deploy.not_running,
    })
}
