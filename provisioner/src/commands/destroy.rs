//! `provision destroy`: everything the stack owns, dependents first, after asking. The database
//! keeps a final snapshot unless `--delete-data`; deletion protection stops it before anything.

use std::collections::BTreeMap;

use super::{approve, CommandError, Session};
use crate::aws::AwsError;
use crate::core::render::render_text;
use crate::core::{Attr, Graph, Observed};
use crate::engine::schedule::Outcome;
use crate::engine::{self, lock, Options};

#[derive(Debug, Default, Clone)]
pub struct DestroyOptions {
    pub auto_approve: bool,
    /// Delete the database without a final snapshot and secrets without a recovery window.
    pub delete_data: bool,
}

pub async fn run(session: &Session, options: &DestroyOptions) -> Result<u8, CommandError> {
    let held = lock::acquire(&session.cx, "destroy").await?;
    let result = locked(session, options).await;
    if let Err(e) = held.release(&session.cx).await {
        eprintln!("provision: {e}");
    }
    result
}

async fn locked(session: &Session, options: &DestroyOptions) -> Result<u8, CommandError> {
    let observed = session.observe().await?;
    if observed.is_empty() {
        crate::deploy::teardown(&session.deploy(), options.delete_data).await?;
        println!(
            "Nothing to destroy: stack `{}` owns no resources.",
            session.cx.stack
        );
        return Ok(0);
    }
    refuse_protected(&observed)?;
    let plan = crate::core::plan(&Graph::new(session.cx.stack.clone()), &observed)
        .map_err(|e| CommandError::Other(e.to_string()))?;
    print!("{}", render_text(&plan));
    if observed.contains_key("aurora.cluster") {
        if options.delete_data {
            println!(
                "The database's data will be deleted WITHOUT a final snapshot (--delete-data)."
            );
        } else {
            println!("The database keeps a final snapshot (pass --delete-data to skip it).");
        }
    }
    if !options.auto_approve
        && !approve::confirm(&format!(
            "Do you really want to destroy all resources of stack `{}`?",
            session.cx.stack
        ))
    {
        eprintln!("Destroy cancelled.");
        return Ok(1);
    }
    let mut cx = session.cx.clone();
    cx.delete_data = options.delete_data;
    let doomed: Vec<_> = observed.into_iter().collect();
    let engine_options = Options {
        progress: session.progress.clone(),
        ..Options::default()
    };
    // The gateways stop before what they run on goes.
    crate::deploy::teardown(&session.deploy(), options.delete_data).await?;
    let outcome = engine::delete_all(&cx, &doomed, &engine_options).await;
    report(&outcome)
}

/// Nothing is deleted while a resource has deletion protection on.
fn refuse_protected(observed: &BTreeMap<String, Observed>) -> Result<(), CommandError> {
    let protected: Vec<&str> = observed
        .iter()
        .filter(|(_, o)| o.attrs.get("deletion_protection") == Some(&Attr::Bool(true)))
        .map(|(name, _)| name.as_str())
        .collect();
    if protected.is_empty() {
        return Ok(());
    }
    Err(CommandError::Other(format!(
        "deletion protection is on for {}: set `database.deletion_protection = false` in the \
         stack file and run `provision up` first; nothing was deleted",
        protected.join(", ")
    )))
}

/// The end of a destroy: what was destroyed, or each failure and the error `destroy` ends with.
fn report(outcome: &Outcome<AwsError>) -> Result<u8, CommandError> {
    if outcome.ok() {
        println!(
            "\nDestroy complete! Resources: {} destroyed.",
            outcome.done.len()
        );
        return Ok(0);
    }
    for (name, error) in &outcome.failed {
        eprintln!("error: {name}: {error}");
    }
    Err(CommandError::Other(format!(
        "destroy incomplete ({} destroyed, {} failed, {} not started); run it again",
        outcome.done.len(),
        outcome.failed.len(),
        outcome.skipped.len()
    )))
}
