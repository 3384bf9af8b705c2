//! ECS's shared shapes: tags on create, ownership read back, retagging, and the stack's clusters.

use aws_sdk_ecs::types::{Cluster, ClusterField, Tag};

use crate::aws::attrs::{owned_logical, tags_attr, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;

/// Every tag of `want` (ownership included) as ECS tags.
pub fn tags(want: &Attrs) -> Vec<Tag> {
    want.tag_pairs()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The logical name and `tags` attribute of an ECS resource owned by `stack`.
pub fn owned(stack: &str, tags: &[Tag]) -> Option<(String, Attr)> {
    let pairs = || {
        tags.iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))
    };
    let logical = owned_logical(stack, pairs())?;
    Some((logical, tags_attr(pairs())))
}

/// Brings the tags of the ECS resource `arn` from `have` to `want`.
pub async fn retag(cx: &Cx, arn: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let old = have.tag_pairs();
    let new = want.tag_pairs();
    let stale: Vec<String> = old
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
        .map(|(k, _)| k.clone())
        .collect();
    if !stale.is_empty() {
        cx.aws
            .ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(api("ecs:UntagResource"))?;
    }
    let fresh: Vec<Tag> = new
        .iter()
        .filter(|pair| !old.contains(pair))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !fresh.is_empty() {
        cx.aws
            .ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(fresh))
            .send()
            .await
            .map_err(api("ecs:TagResource"))?;
    }
    Ok(())
}

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
            if let Some((logical, tags)) = owned(&cx.stack, cluster.tags()) {
                out.push((logical, tags, cluster.clone()));
            }
        }
    }
    Ok(out)
}

/// The error for a name-keyed resource that exists but belongs to someone else.
pub fn not_ours(operation: &'static str, logical: &str, name: &str, stack: &str) -> AwsError {
    AwsError::Unexpected {
        operation,
        message: format!(
            "{logical}: `{name}` already exists and is not owned by stack `{stack}`; \
             rename it in the stack or remove it by hand"
        ),
    }
}
