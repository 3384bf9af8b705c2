//! The Aurora PostgreSQL Serverless v2 cluster (storage, endpoints, capacity range; the writer is
//! its own instance). The master password is read from its secret at create time only.
//!
//! Delete keeps the data unless `--delete-data`: a final snapshot named
//! `<cluster>-final-<unix seconds>` (a fixed name would collide on the second destroy).

use async_trait::async_trait;
use aws_sdk_rds::types::{DbCluster, ServerlessV2ScalingConfiguration};

use super::data_common::{adoptable, desired_attrs, merged, unix_seconds};
use super::lifecycle::{with_fresh, Lifecycle, ABSENT};
use super::tagging::{self, owned};
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, missing, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct AuroraCluster;

/// AWS's default idle time before a cluster with 0 ACU minimum pauses.
const DEFAULT_AUTO_PAUSE: i64 = 300;

#[async_trait]
impl Driver for AuroraCluster {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut pages = cx.aws.rds.describe_db_clusters().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("rds:DescribeDBClusters"))?;
            for cluster in page.db_clusters() {
                // A cluster being deleted is gone for the plan; `create` explains the wait.
                if cluster.status() == Some("deleting") {
                    continue;
                }
                let Some((logical, tags)) = owned(&cx.stack, &tagging::pairs(cluster.tag_list()))
                else {
                    continue;
                };
                let asked = desired_attrs(desired, &logical);
                if let Some(mut attrs) = cluster_attrs(cluster, asked) {
                    attrs.insert("tags".into(), tags);
                    let kind = ResourceKind::AuroraCluster;
                    out.push((logical, Observed { kind, attrs }));
                }
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let password = master_password(cx, logical, want.str("master_password")?).await?;
        let created = cx
            .aws
            .rds
            .create_db_cluster()
            .db_cluster_identifier(want.str("cluster_identifier")?)
            .engine(want.str("engine")?)
            .engine_version(want.str("engine_version")?)
            .database_name(want.str("database_name")?)
            .master_username(want.str("master_username")?)
            .master_user_password(password)
            .serverless_v2_scaling_configuration(scaling(want)?)
            .db_subnet_group_name(want.str("db_subnet_group_name")?)
            .set_vpc_security_group_ids(Some(want.strs("vpc_security_group_ids")?))
            .deletion_protection(want.bool("deletion_protection")?)
            .backup_retention_period(int32(want, "backup_retention_period")?)
            .storage_encrypted(want.bool("storage_encrypted")?)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("rds:CreateDBCluster"));
        let cluster = match created {
            Ok(made) => made
                .db_cluster()
                .cloned()
                .ok_or_else(|| missing("rds:CreateDBCluster", logical, "cluster"))?,
            Err(error) if error.code() == Some("DBClusterAlreadyExistsFault") => {
                adopt(cx, logical, want).await?
            }
            Err(error) => return Err(error),
        };
        let mut have = cluster_attrs(&cluster, Some(want))
            .ok_or_else(|| missing("rds:CreateDBCluster", logical, "cluster identifier"))?;
        have.insert("tags".into(), want.attr("tags")?.clone());
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
        let id = have.str("cluster_identifier")?;
        let mut call = cx
            .aws
            .rds
            .modify_db_cluster()
            .db_cluster_identifier(id)
            .apply_immediately(true);
        let mut modify = false;
        for key in changed {
            modify |= key != "tags";
            call = match key.as_str() {
                "engine_version" => {
                    let (old, new) = (have.str("engine_version")?, want.str("engine_version")?);
                    call.engine_version(new)
                        .allow_major_version_upgrade(major(old) != major(new))
                }
                "serverless_v2_scaling" => call.serverless_v2_scaling_configuration(scaling(want)?),
                "vpc_security_group_ids" => {
                    call.set_vpc_security_group_ids(Some(want.strs("vpc_security_group_ids")?))
                }
                "deletion_protection" => call.deletion_protection(want.bool(key)?),
                "backup_retention_period" => call.backup_retention_period(int32(want, key)?),
                "tags" => call,
                other => return Err(not_in_place(logical, other)),
            };
        }
        if modify {
            call.send().await.map_err(api("rds:ModifyDBCluster"))?;
        }
        if changed.iter().any(|c| c == "tags") {
            tagging::retag(&tagging::Rds, cx, have.str("arn")?, have, want).await?;
        }
        Ok(merged(have, want, changed))
    }

    async fn delete(&self, cx: &Cx, logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("cluster_identifier")?;
        let Some(cluster) = describe(cx, id).await? else {
            return Ok(());
        };
        if cluster.status() == Some("deleting") {
            return Ok(());
        }
        if cluster.deletion_protection() == Some(true) {
            return Err(protected(cx, logical, id));
        }
        let call = cx.aws.rds.delete_db_cluster().db_cluster_identifier(id);
        let call = if cx.delete_data {
            call.skip_final_snapshot(true)
        } else {
            call.final_db_snapshot_identifier(format!("{id}-final-{}", unix_seconds()))
        };
        let result = call.send().await.map_err(api("rds:DeleteDBCluster"));
        match result {
            // Turned on between our look and the delete.
            Err(AwsError::Api { code, message, .. })
                if code == "InvalidParameterCombination" && message.contains("protect") =>
            {
                Err(protected(cx, logical, id))
            }
            other => gone_ok(other),
        }
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let cluster = describe(cx, have.str("cluster_identifier")?).await?;
        let progress = LIFECYCLE.progress(goal, cluster.as_ref().and_then(|c| c.status()));
        Ok(with_fresh(progress, goal, || {
            cluster_attrs(cluster.as_ref()?, Some(have))
        }))
    }
}

/// Available when ready; failed in states it does not leave by itself.
const LIFECYCLE: Lifecycle = Lifecycle {
    failed: &[
        "failed",
        "inaccessible-encryption-credentials",
        "incompatible-parameters",
        "incompatible-restore",
        ABSENT,
    ],
    ..Lifecycle::ready_when("the cluster", &["available"])
};

fn not_in_place(logical: &str, attr: &str) -> AwsError {
    AwsError::Model(format!(
        "{logical}: `{attr}` of an Aurora cluster cannot change in place (ModifyDBCluster does not \
         take it); a new cluster restored from a snapshot is the only way, done by hand"
    ))
}

fn protected(cx: &Cx, logical: &str, id: &str) -> AwsError {
    AwsError::Failed(format!(
        "{logical}: Aurora cluster `{id}` has deletion protection on, so AWS refuses to delete it. \
         Set `deletion_protection = false` under [database] in the stack file of `{}`, run \
         `provision up` to turn it off, then run this again",
        cx.stack
    ))
}

/// The password is read from its secret here and goes nowhere else (no attr, log or error).
async fn master_password(cx: &Cx, logical: &str, arn: &str) -> Result<String, AwsError> {
    let found = cx
        .aws
        .secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(api("secretsmanager:GetSecretValue"))?;
    found
        .secret_string()
        .map(str::to_string)
        .ok_or_else(|| missing("secretsmanager:GetSecretValue", logical, "secret string"))
}

fn scaling(want: &Attrs) -> Result<ServerlessV2ScalingConfiguration, AwsError> {
    let range = want.map("serverless_v2_scaling")?;
    let pause = range
        .opt_int("seconds_until_auto_pause")
        .map(i32::try_from)
        .transpose()
        .map_err(|_| AwsError::Model("seconds_until_auto_pause is out of range".into()))?;
    Ok(ServerlessV2ScalingConfiguration::builder()
        .min_capacity(range.float("min_capacity")?)
        .max_capacity(range.float("max_capacity")?)
        .set_seconds_until_auto_pause(pause)
        .build())
}

fn int32(want: &Attrs, key: &str) -> Result<i32, AwsError> {
    i32::try_from(want.int(key)?)
        .map_err(|_| AwsError::Model(format!("attribute `{key}` is out of range")))
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The version to report: AWS's, except where it only differs from what was asked by a later
/// minor of the same major (AWS's automatic minor upgrades). Reporting those would plan a
/// downgrade that AWS refuses.
fn reported_version(asked: Option<&str>, actual: &str) -> String {
    let minor = |v: &str| v.split('.').nth(1).and_then(|m| m.parse::<u32>().ok());
    match asked {
        Some(asked)
            if major(asked) == major(actual)
                && matches!((minor(asked), minor(actual)), (Some(a), Some(b)) if b >= a) =>
        {
            asked.to_string()
        }
        _ => actual.to_string(),
    }
}

async fn describe(cx: &Cx, id: &str) -> Result<Option<DbCluster>, AwsError> {
    let answer = cx
        .aws
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(api("rds:DescribeDBClusters"));
    Ok(found(answer)?.and_then(|a| a.db_clusters().first().cloned()))
}

/// The identifier is taken: our cluster (a create whose answer was lost) is adopted as AWS has
/// it (the next plan shows any difference); one being deleted must finish first.
async fn adopt(cx: &Cx, logical: &str, want: &Attrs) -> Result<DbCluster, AwsError> {
    let id = want.str("cluster_identifier")?;
    let cluster = describe(cx, id)
        .await?
        .ok_or_else(|| missing("rds:DescribeDBClusters", logical, "cluster"))?;
    let pairs = tagging::pairs(cluster.tag_list());
    let what = ("Aurora cluster", id, logical);
    adoptable(cx, what, &pairs, cluster.status(), " (a few minutes)")?;
    Ok(cluster)
}

/// The observed form of a cluster, `tags` aside; `asked` (desired or created attributes) settles
/// the engine version and whether AWS's default auto-pause counts.
fn cluster_attrs(cluster: &DbCluster, asked: Option<&Attrs>) -> Option<Attrs> {
    let id = cluster.db_cluster_identifier()?;
    let version = reported_version(
        asked.and_then(|a| a.opt_str("engine_version")),
        cluster.engine_version().unwrap_or_default(),
    );
    let mut groups: Vec<&str> = cluster
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    groups.sort_unstable();
    let text = |v: Option<&str>| s(v.unwrap_or_default());
    let mut attrs = Attrs::from([
        ("cluster_identifier".to_string(), s(id)),
        ("id".to_string(), s(id)),
        ("arn".to_string(), text(cluster.db_cluster_arn())),
        ("engine".to_string(), text(cluster.engine())),
        ("engine_version".to_string(), s(version)),
        (
            "engine_version_actual".to_string(),
            text(cluster.engine_version()),
        ),
        ("database_name".to_string(), text(cluster.database_name())),
        (
            "master_username".to_string(),
            text(cluster.master_username()),
        ),
        (
            "db_subnet_group_name".to_string(),
            text(cluster.db_subnet_group()),
        ),
        ("vpc_security_group_ids".to_string(), strs(groups)),
        ("status".to_string(), text(cluster.status())),
    ]);
    let flags = [
        ("deletion_protection", cluster.deletion_protection()),
        ("storage_encrypted", cluster.storage_encrypted()),
    ];
    for (key, flag) in flags {
        attrs.insert(key.into(), Attr::Bool(flag.unwrap_or(false)));
    }
    let numbers = [
        ("backup_retention_period", cluster.backup_retention_period()),
        ("port", cluster.port()),
    ];
    for (key, number) in numbers {
        if let Some(n) = number {
            attrs.insert(key.into(), Attr::Int(i64::from(n)));
        }
    }
    // Endpoints appear once the cluster is available; absent until then.
    for (key, host) in [
        ("endpoint", cluster.endpoint()),
        ("reader_endpoint", cluster.reader_endpoint()),
    ] {
        if let Some(host) = host {
            attrs.insert(key.into(), s(host));
        }
    }
    if let Some(range) = cluster.serverless_v2_scaling_configuration() {
        attrs.insert("serverless_v2_scaling".into(), scaling_attr(range, asked));
    }
    Some(attrs)
}

fn scaling_attr(
    range: &aws_sdk_rds::types::ServerlessV2ScalingConfigurationInfo,
    asked: Option<&Attrs>,
) -> Attr {
    let min = range.min_capacity().unwrap_or_default();
    let mut out = Attrs::from([
        ("min_capacity".to_string(), Attr::Float(min)),
        (
            "max_capacity".to_string(),
            Attr::Float(range.max_capacity().unwrap_or_default()),
        ),
    ]);
    let asked_pause = asked
        .and_then(|a| a.map("serverless_v2_scaling").ok())
        .is_some_and(|m| m.contains_key("seconds_until_auto_pause"));
    // Auto-pause only means something with a 0 ACU minimum; AWS's default of 300 s, never asked
    // for, is left out so that it reads equal to a desired range without it.
    if let Some(pause) = range.seconds_until_auto_pause().map(i64::from) {
        if asked_pause || (min == 0.0 && pause != DEFAULT_AUTO_PAUSE) {
            out.insert("seconds_until_auto_pause".into(), Attr::Int(pause));
        }
    }
    Attr::Map(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn cluster_statuses() {
        let ready = |status| shown(&LIFECYCLE, Goal::Ready, status);
        assert_eq!(ready(Some("available")), "done");
        assert_eq!(ready(Some("backing-up")), "backing-up");
        assert_eq!(ready(None), "failed: the cluster is `absent`");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("deleting")), "deleting");
    }
}
