//! Task definition revisions a deploy leaves behind. A deploy whose migrations failed, or that
//! was killed before the roll, registered a revision the service never ran, and the revision the
//! service did run stays active with nobody left to retire it: once the service runs a newer
//! revision (and before `destroy` deletes the newest) the older active ones are deregistered.

use super::{DeployContext, DeployError};
use crate::aws::kinds::active_revisions;
use crate::aws::{api, AttrsExt, Cx};

/// The stack's gateway task definition family, as the stack file makes it.
pub fn family(dc: &DeployContext<'_>) -> Option<String> {
    dc.graph
        .get("task_def.gateway")
        .and_then(|r| r.attrs.opt_str("family"))
        .map(str::to_string)
}

/// Deregisters the active revisions of exactly `family` older than `below` (else older than the
/// newest active one); returns their ARNs. Tasks still running an old revision keep running:
/// an inactive revision only starts no new ones.
pub async fn retire_older(
    cx: &Cx,
    family: &str,
    below: Option<i64>,
) -> Result<Vec<String>, DeployError> {
    let active = active_revisions(cx, family).await?;
    let Some(below) = below.or_else(|| active.iter().map(|(n, _)| *n).max()) else {
        return Ok(Vec::new());
    };
    let mut retired = Vec::new();
    for (_, arn) in active.into_iter().filter(|(n, _)| *n < below) {
        cx.aws
            .ecs
            .deregister_task_definition()
            .task_definition(&arn)
            .send()
            .await
            .map_err(api("ecs:DeregisterTaskDefinition"))?;
        retired.push(arn);
    }
    Ok(retired)
}
