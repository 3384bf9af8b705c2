//! Task definition revisions a deploy leaves behind. A deploy whose migrations failed, or that
//! was killed before the roll, registered a revision the service never ran, and the revision the
//! service did run stays active with nobody left to retire it: once the service runs a newer
//! revision (and before `destroy` deletes the newest) the older active ones are deregistered.

use aws_sdk_ecs::types::TaskDefinitionStatus;

use super::{DeployContext, DeployError};
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

/// (revision, ARN) of every active revision of exactly `family` (the listing matches by prefix).
async fn active_revisions(cx: &Cx, family: &str) -> Result<Vec<(i64, String)>, DeployError> {
    let arns: Vec<String> = cx
        .aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("ecs:ListTaskDefinitions"))?;
    Ok(arns
        .into_iter()
        .filter_map(|arn| revision_of(&arn, family).map(|n| (n, arn)))
        .collect())
}

/// The revision number of `arn` when it belongs to exactly `family`.
fn revision_of(arn: &str, family: &str) -> Option<i64> {
    let tail = arn.rsplit('/').next()?;
    let (name, revision) = tail.rsplit_once(':')?;
    (name == family).then(|| revision.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_of_exactly_the_family() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/app-gateway:7";
        assert_eq!(revision_of(arn, "app-gateway"), Some(7));
        assert_eq!(revision_of(arn, "app"), None);
        let longer = "arn:aws:ecs:us-east-1:1:task-definition/app-gateway-2:3";
        assert_eq!(revision_of(longer, "app-gateway"), None);
    }
}
