//! The stack's ECS clusters, which the cluster and service drivers both look up.

use aws_sdk_ecs::types::{Cluster, ClusterField};

use super::tagging::{owned, pairs};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;

/// Active clusters carrying `cx.stack`'s ownership tags, with their logical names and tags.
pub async fn owned_clusters(cx: &Cx) -> Result<Vec<(String, Attr, Cluster)>, AwsError> {
    let arns: Vec<String> = cx
        .aws
        .ecs
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("ecs:ListClusters"))?;
    let mut out = Vec::new();
    // DescribeClusters takes at most 100 clusters per call.
    for batch in arns.chunks(100) {
        let found = cx
            .aws
            .ecs
            .describe_clusters()
            .set_clusters(Some(batch.to_vec()))
            .include(ClusterField::Tags)
            .send()
            .await
            .map_err(api("ecs:DescribeClusters"))?;
        for cluster in found.clusters() {
            if cluster.status() != Some("ACTIVE") {
                continue;
            }
            if let Some((logical, tags)) = owned(&cx.stack, &pairs(cluster.tags())) {
                out.push((logical, tags, cluster.clone()));
            }
        }
    }
    Ok(out)
}
