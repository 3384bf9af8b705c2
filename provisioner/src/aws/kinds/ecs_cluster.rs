//! The ECS cluster the gateway service runs in (Fargate needs no capacity of its own).

use async_trait::async_trait;
use aws_sdk_ecs::types::{Cluster, ClusterField};

use super::lifecycle::Lifecycle;
use super::tagging::{self, claim, pairs};
use super::{ecs_common, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct EcsCluster;

/// Usable once active, gone once no longer listed.
const LIFECYCLE: Lifecycle = Lifecycle::ready_when("the cluster", &["ACTIVE"]);

fn attrs_of(cluster: &Cluster, tags: Attr) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), s(cluster.cluster_name().unwrap_or_default()));
    attrs.insert("arn".into(), s(cluster.cluster_arn().unwrap_or_default()));
    attrs.insert("tags".into(), tags);
    attrs
}

/// The cluster named `name` with its tags, if it exists and is active.
async fn find(cx: &Cx, name: &str) -> Result<Option<Cluster>, AwsError> {
    let found = cx
        .aws
        .ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(api("ecs:DescribeClusters"))?;
    Ok(found
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE"))
        .cloned())
}

#[async_trait]
impl Driver for EcsCluster {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let clusters = ecs_common::owned_clusters(cx).await?;
        Ok(clusters
            .into_iter()
            .map(|(logical, tags, cluster)| {
                let attrs = attrs_of(&cluster, tags);
                let kind = ResourceKind::EcsCluster;
                (logical, Observed { kind, attrs })
            })
            .collect())
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        // CreateCluster answers with an existing cluster of that name: adopt only our own.
        if let Some(existing) = find(cx, name).await? {
            let tags = claim(cx, "ECS cluster", name, logical, &pairs(existing.tags()))?;
            return Ok(attrs_of(&existing, tags));
        }
        let created = cx
            .aws
            .ecs
            .create_cluster()
            .cluster_name(name)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("ecs:CreateCluster"))?;
        let arn = created
            .cluster()
            .and_then(|c| c.cluster_arn())
            .ok_or_else(|| AwsError::Unexpected {
                operation: "ecs:CreateCluster",
                message: format!("{logical}: no cluster ARN in the answer"),
            })?;
        let mut have = want.clone();
        have.insert("arn".into(), s(arn));
        Ok(have)
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let arn = have.str("arn")?;
        for key in changed {
            match key.as_str() {
                "tags" => tagging::retag(&tagging::Ecs, cx, arn, have, want).await?,
                other => return Err(not_in_place(logical, "ecs cluster", other)),
            }
        }
        let mut out = want.clone();
        out.insert("arn".into(), s(arn));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .ecs
            .delete_cluster()
            .cluster(have.str("arn")?)
            .send()
            .await
            .map_err(api("ecs:DeleteCluster"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        // `find` only answers with an active cluster.
        let status = find(cx, have.str("arn")?).await?.map(|_| "ACTIVE");
        Ok(LIFECYCLE.progress(goal, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn cluster_statuses() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("ACTIVE")), "done");
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, None), "absent");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("ACTIVE")), "ACTIVE");
    }
}
