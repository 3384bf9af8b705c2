//! Saved plans (`plan --out FILE`, `up --plan FILE`): applied only if planning again now gives the
//! very same plan, so a plan made before someone else changed the stack is refused, never applied
//! on top (and a saved plan cannot be applied twice: the second time, its creates exist).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::Plan;
use crate::deploy::DeployPlan;

/// The file's content.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: u32,
    pub stack: String,
    pub region: String,
    /// The plan as `plan --json` prints it.
    pub plan: Value,
    /// What the deploy phase would do ([`DeployPlan::digest`]); absent without
    /// `[gateway.config]` (and in files saved before deploys existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<String>,
}

const FORMAT: u32 = 1;

pub fn save(
    path: &Path,
    region: &str,
    plan: &Plan,
    deploy: Option<&DeployPlan>,
) -> Result<(), String> {
    let saved = SavedPlan {
        format: FORMAT,
        stack: plan.stack.clone(),
        region: region.to_string(),
        plan: serde_json::to_value(plan).map_err(|e| e.to_string())?,
        deploy: deploy.map(DeployPlan::digest),
    };
    let text = serde_json::to_string_pretty(&saved).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn load(path: &Path) -> Result<SavedPlan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a saved plan: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if saved.format != FORMAT {
        return Err(format!(
            "{}: saved plan format {} (this provision reads {FORMAT})",
            path.display(),
            saved.format
        ));
    }
    Ok(saved)
}

/// Why `fresh` (and its deploy) is not the plan that was saved, or `None` when it is.
pub fn staleness(
    saved: &SavedPlan,
    region: &str,
    fresh: &Plan,
    deploy: Option<&DeployPlan>,
) -> Option<String> {
    if saved.deploy != deploy.map(DeployPlan::digest) {
        return Some(
            "what the deploy would do changed since the plan was saved (the configuration \
             template, its values, or the migrations due); plan again"
                .into(),
        );
    }
    if saved.stack != fresh.stack || saved.region != region {
        return Some(format!(
            "the saved plan is for stack `{}` in {}, not `{}` in {region}",
            saved.stack, saved.region, fresh.stack
        ));
    }
    let fresh = serde_json::to_value(fresh).ok()?;
    if fresh == saved.plan {
        return None;
    }
    let differing = first_difference(&saved.plan, &fresh);
    Some(format!(
        "the stack changed since the plan was saved (first difference: {differing}); plan again"
    ))
}

/// The logical name of the first resource whose planned action differs.
fn first_difference(saved: &Value, fresh: &Value) -> String {
    let actions = |v: &Value| {
        v.get("actions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (actions(saved), actions(fresh));
    for index in 0..a.len().max(b.len()) {
        if a.get(index) != b.get(index) {
            let pick = a.get(index).or(b.get(index));
            return pick
                .and_then(|x| x.get("logical"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
        }
    }
    "stack settings".into()
}
