//! The ElastiCache Redis replication group (cluster mode off): one primary, `num_cache_clusters
//! - 1` replicas, the shared rate-limit counters of every gateway task.
//!
//! DescribeReplicationGroups reports neither the subnet group nor the security groups: those are
//! read from the member clusters (DescribeCacheClusters), one list call for the whole observe.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types::{AutomaticFailoverStatus, CacheCluster, ReplicationGroup as Rg};

use super::data_common::{adoptable, may_be_ours, merged, nothing_to_delete};
use super::lifecycle::{with_fresh, Lifecycle, ABSENT};
use super::tagging::{self, owned, TagApi};
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};
use crate::wait::{self, Waited};

pub struct ReplicationGroup;

#[async_trait]
impl Driver for ReplicationGroup {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut pages = cx
            .aws
            .elasticache
            .describe_replication_groups()
            .into_paginator()
            .send();
        let mut groups = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("elasticache:DescribeReplicationGroups"))?;
            groups.extend(
                page.replication_groups()
                    .iter()
                    .filter(|g| {
                        // One being deleted is gone for the plan; `create` explains the wait.
                        g.status() != Some("deleting")
                            && may_be_ours(&cx.stack, g.replication_group_id().unwrap_or_default())
                    })
                    .cloned(),
            );
        }
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let placement = placements(cx).await?;
        let mut out = Vec::new();
        for group in &groups {
            if let Some((logical, attrs)) = owned_group(cx, group, &placement).await? {
                let kind = ResourceKind::ReplicationGroup;
                out.push((logical, Observed { kind, attrs }));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let id = want.str("replication_group_id")?;
        let failover = want.bool("automatic_failover")?;
        let created = cx
            .aws
            .elasticache
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description(format!("{logical} of stack {}", cx.stack))
            .engine(want.str("engine")?)
            .cache_node_type(want.str("node_type")?)
            .num_cache_clusters(int32(want, "num_cache_clusters")?)
            .automatic_failover_enabled(failover)
            // With failover the replicas are meant to survive a zone: Multi-AZ goes with it.
            .multi_az_enabled(failover)
            .cache_subnet_group_name(want.str("subnet_group_name")?)
            .set_security_group_ids(Some(want.strs("security_group_ids")?))
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("elasticache:CreateReplicationGroup"));
        let group = match created {
            Ok(made) => made
                .replication_group()
                .cloned()
                .ok_or_else(|| missing("elasticache:CreateReplicationGroup", logical, "group"))?,
            Err(error) if error.code() == Some("ReplicationGroupAlreadyExistsFault") => {
                adopt(cx, logical, id).await?
            }
            Err(error) => return Err(error),
        };
        // Placement is what was asked: the member clusters may not be listed yet.
        let mut have = group_attrs(&group);
        for key in ["subnet_group_name", "security_group_ids", "tags"] {
            have.insert(key.into(), want.attr(key)?.clone());
        }
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
        let id = have.str("replication_group_id")?;
        let has = |key: &str| changed.iter().any(|c| c == key);
        if let Some(other) = changed.iter().find(|c| !IN_PLACE.contains(&c.as_str())) {
            return Err(not_in_place(logical, "replication group", other));
        }
        let failover = want.bool("automatic_failover")?;
        // Failover must be off before the last replica goes, and replicas exist before it is on.
        if has("automatic_failover") && !failover {
            modify(cx, id, want, &["automatic_failover".to_string()]).await?;
            wait_available(cx, id).await?;
        }
        if has("num_cache_clusters") {
            resize(cx, id, int32(want, "num_cache_clusters")?).await?;
        }
        let rest: Vec<String> = changed
            .iter()
            .filter(|c| matches!(c.as_str(), "node_type" | "security_group_ids"))
            .chain(
                changed
                    .iter()
                    .filter(|c| *c == "automatic_failover" && failover),
            )
            .cloned()
            .collect();
        if !rest.is_empty() {
            wait_available(cx, id).await?;
            modify(cx, id, want, &rest).await?;
        }
        if has("tags") {
            tagging::retag(&tagging::ElastiCache, cx, have.str("arn")?, have, want).await?;
        }
        Ok(merged(have, want, changed))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("replication_group_id")?;
        if nothing_to_delete(describe(cx, id).await?.as_ref().map(|g| g.status())) {
            return Ok(());
        }
        // No final snapshot: the counters it holds are rebuilt by traffic within a window.
        let result = cx
            .aws
            .elasticache
            .delete_replication_group()
            .replication_group_id(id)
            .send()
            .await
            .map_err(api("elasticache:DeleteReplicationGroup"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let group = describe(cx, have.str("replication_group_id")?).await?;
        let progress = LIFECYCLE.progress(goal, group.as_ref().and_then(|g| g.status()));
        Ok(with_fresh(progress, goal, || {
            group.as_ref().map(group_attrs)
        }))
    }
}

/// Attributes `update` can change.
const IN_PLACE: &[&str] = &[
    "node_type",
    "num_cache_clusters",
    "automatic_failover",
    "security_group_ids",
    "tags",
];

/// One ModifyReplicationGroup call for the attributes in `keys`.
async fn modify(cx: &Cx, id: &str, want: &Attrs, keys: &[String]) -> Result<(), AwsError> {
    let mut call = cx
        .aws
        .elasticache
        .modify_replication_group()
        .replication_group_id(id)
        .apply_immediately(true);
    for key in keys {
        call = match key.as_str() {
            "node_type" => call.cache_node_type(want.str("node_type")?),
            "security_group_ids" => {
                call.set_security_group_ids(Some(want.strs("security_group_ids")?))
            }
            "automatic_failover" => {
                let on = want.bool("automatic_failover")?;
                call.automatic_failover_enabled(on).multi_az_enabled(on)
            }
            _ => call,
        };
    }
    call.send()
        .await
        .map_err(api("elasticache:ModifyReplicationGroup"))?;
    Ok(())
}

/// Brings the member count to `clusters` (a primary plus replicas), skipping what is done
/// already so that a retried update does not fail on its own earlier step.
async fn resize(cx: &Cx, id: &str, clusters: i32) -> Result<(), AwsError> {
    let group = wait_available(cx, id).await?;
    let now = i32::try_from(group.member_clusters().len()).unwrap_or(i32::MAX);
    let replicas = clusters - 1;
    if clusters > now {
        let call = cx.aws.elasticache.increase_replica_count();
        call.replication_group_id(id)
            .new_replica_count(replicas)
            .apply_immediately(true)
            .send()
            .await
            .map_err(api("elasticache:IncreaseReplicaCount"))?;
    } else if clusters < now {
        let call = cx.aws.elasticache.decrease_replica_count();
        call.replication_group_id(id)
            .new_replica_count(replicas)
            .apply_immediately(true)
            .send()
            .await
            .map_err(api("elasticache:DecreaseReplicaCount"))?;
    }
    Ok(())
}

/// Waits between two changes of one update (AWS takes one modification at a time).
async fn wait_available(cx: &Cx, id: &str) -> Result<Rg, AwsError> {
    let limit = ResourceKind::ReplicationGroup.wait_timeout();
    let last = std::sync::Mutex::new(String::new());
    let waited = wait::until(limit, Duration::from_secs(10), || async {
        let group = describe(cx, id)
            .await?
            .ok_or_else(|| missing("elasticache:DescribeReplicationGroups", id, "group"))?;
        let status = group.status().unwrap_or_default();
        if status == "available" {
            return Ok(Some(group));
        }
        *last.lock().unwrap_or_else(|p| p.into_inner()) = status.to_string();
        Ok(None)
    })
    .await;
    waited.map_err(|waited| match waited {
        Waited::Failed(error) => error,
        Waited::TimedOut(_) => AwsError::Timeout {
            seconds: limit.as_secs(),
            what: format!(
                "replication group {id} still `{}` between two changes",
                last.lock().unwrap_or_else(|p| p.into_inner())
            ),
        },
    })
}

fn int32(want: &Attrs, key: &str) -> Result<i32, AwsError> {
    i32::try_from(want.int(key)?)
        .map_err(|_| AwsError::Model(format!("attribute `{key}` is out of range")))
}

/// Available when ready; a failed create or a group that vanished will not come back.
const LIFECYCLE: Lifecycle = Lifecycle {
    failed: &["create-failed", ABSENT],
    ..Lifecycle::ready_when("the replication group", &["available"])
};

async fn describe(cx: &Cx, id: &str) -> Result<Option<Rg>, AwsError> {
    let answer = cx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .map_err(api("elasticache:DescribeReplicationGroups"));
    Ok(found(answer)?.and_then(|a| a.replication_groups().first().cloned()))
}

/// The id is taken: ours (a create whose answer was lost) is adopted; one being deleted must
/// finish first; anyone else's is an error.
async fn adopt(cx: &Cx, logical: &str, id: &str) -> Result<Rg, AwsError> {
    let group = describe(cx, id)
        .await?
        .ok_or_else(|| missing("elasticache:DescribeReplicationGroups", logical, "group"))?;
    let pairs = tagging::ElastiCache
        .list(cx, group.arn().unwrap_or_default())
        .await?;
    adoptable(
        cx,
        ("replication group", id, logical),
        &pairs,
        group.status(),
        "",
    )?;
    Ok(group)
}

/// Subnet group and security groups of each replication group, from its member clusters.
type Placement = BTreeMap<String, (String, Vec<String>)>;

async fn placements(cx: &Cx) -> Result<Placement, AwsError> {
    let mut pages = cx
        .aws
        .elasticache
        .describe_cache_clusters()
        .into_paginator()
        .send();
    let mut out = Placement::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api("elasticache:DescribeCacheClusters"))?;
        for cluster in page.cache_clusters() {
            if let Some(group) = cluster.replication_group_id() {
                out.entry(group.to_string())
                    .or_insert_with(|| placement(cluster));
            }
        }
    }
    Ok(out)
}

fn placement(cluster: &CacheCluster) -> (String, Vec<String>) {
    let mut groups: Vec<String> = cluster
        .security_groups()
        .iter()
        .filter_map(|g| g.security_group_id().map(str::to_string))
        .collect();
    groups.sort_unstable();
    let subnet_group = cluster.cache_subnet_group_name().unwrap_or_default();
    (subnet_group.to_string(), groups)
}

async fn owned_group(
    cx: &Cx,
    group: &Rg,
    placement: &Placement,
) -> Result<Option<(String, Attrs)>, AwsError> {
    let (Some(id), Some(arn)) = (group.replication_group_id(), group.arn()) else {
        return Ok(None);
    };
    let Some((logical, tags)) = owned(&cx.stack, &tagging::ElastiCache.list(cx, arn).await?) else {
        return Ok(None);
    };
    let mut attrs = group_attrs(group);
    attrs.insert("tags".into(), tags);
    // AWS lists the members of every group; when none is listed (an emulator), the two are left
    // out rather than guessed, and the plan shows them as changing.
    if let Some((subnet_group, security_groups)) = placement.get(id) {
        attrs.insert("subnet_group_name".into(), s(subnet_group));
        attrs.insert("security_group_ids".into(), strs(security_groups));
    }
    Ok(Some((logical, attrs)))
}

/// What DescribeReplicationGroups itself tells: everything but placement and tags.
fn group_attrs(group: &Rg) -> Attrs {
    let failover = matches!(
        group.automatic_failover(),
        Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling)
    );
    let members = i64::try_from(group.member_clusters().len()).unwrap_or(i64::MAX);
    let text = |v: Option<&str>| s(v.unwrap_or_default());
    let mut attrs = Attrs::from([
        (
            "replication_group_id".to_string(),
            text(group.replication_group_id()),
        ),
        ("id".to_string(), text(group.replication_group_id())),
        ("arn".to_string(), text(group.arn())),
        ("engine".to_string(), text(group.engine())),
        ("node_type".to_string(), text(group.cache_node_type())),
        ("num_cache_clusters".to_string(), Attr::Int(members)),
        ("automatic_failover".to_string(), Attr::Bool(failover)),
        ("status".to_string(), text(group.status())),
    ]);
    let primary = group
        .node_groups()
        .first()
        .and_then(|node_group| node_group.primary_endpoint());
    if let Some(endpoint) = primary {
        if let Some(host) = endpoint.address() {
            attrs.insert("primary_endpoint".into(), s(host));
        }
        if let Some(port) = endpoint.port() {
            attrs.insert("port".into(), Attr::Int(i64::from(port)));
        }
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn group_statuses() {
        let failed = shown(&LIFECYCLE, Goal::Ready, Some("create-failed"));
        assert_eq!(failed, "failed: the replication group is `create-failed`");
        assert_eq!(
            shown(&LIFECYCLE, Goal::Ready, Some("modifying")),
            "modifying"
        );
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("deleting")), "deleting");
    }
}
