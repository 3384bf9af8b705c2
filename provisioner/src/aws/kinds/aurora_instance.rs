//! The Aurora writer: a `db.serverless` instance inside the cluster (the cluster alone serves
//! nothing). Its data lives in the cluster, so deleting it takes no snapshot.

use async_trait::async_trait;
use aws_sdk_rds::types::DbInstance;

use super::data_common::{adoptable, merged, nothing_to_delete};
use super::lifecycle::{with_fresh, Lifecycle, ABSENT};
use super::tagging::{self, owned};
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, not_in_place, AwsError, Cx};
use crate::aws::{found, gone_ok, missing};
use crate::core::{Observed, Resource, ResourceKind};

pub struct AuroraInstance;

#[async_trait]
impl Driver for AuroraInstance {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut pages = cx.aws.rds.describe_db_instances().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("rds:DescribeDBInstances"))?;
            for instance in page.db_instances() {
                // One being deleted is gone for the plan; `create` explains the wait.
                if instance.db_instance_status() == Some("deleting") {
                    continue;
                }
                let Some((logical, tags)) = owned(&cx.stack, &tagging::pairs(instance.tag_list()))
                else {
                    continue;
                };
                if let Some(mut attrs) = instance_attrs(instance) {
                    attrs.insert("tags".into(), tags);
                    let kind = ResourceKind::AuroraInstance;
                    out.push((logical, Observed { kind, attrs }));
                }
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .rds
            .create_db_instance()
            .db_instance_identifier(want.str("identifier")?)
            .db_cluster_identifier(want.str("cluster_identifier")?)
            .engine(want.str("engine")?)
            .db_instance_class(want.str("instance_class")?)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("rds:CreateDBInstance"));
        let instance = match created {
            Ok(made) => made
                .db_instance()
                .cloned()
                .ok_or_else(|| missing("rds:CreateDBInstance", logical, "instance"))?,
            Err(error) if error.code() == Some("DBInstanceAlreadyExists") => {
                adopt(cx, logical, want).await?
            }
            Err(error) => return Err(error),
        };
        let mut have = instance_attrs(&instance)
            .ok_or_else(|| missing("rds:CreateDBInstance", logical, "instance identifier"))?;
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
        for key in changed {
            match key.as_str() {
                "instance_class" => {
                    cx.aws
                        .rds
                        .modify_db_instance()
                        .db_instance_identifier(have.str("identifier")?)
                        .db_instance_class(want.str(key)?)
                        .apply_immediately(true)
                        .send()
                        .await
                        .map_err(api("rds:ModifyDBInstance"))?;
                }
                "tags" => tagging::retag(&tagging::Rds, cx, have.str("arn")?, have, want).await?,
                other => return Err(not_in_place(logical, "Aurora instance", other)),
            }
        }
        Ok(merged(have, want, changed))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("identifier")?;
        let found = describe(cx, id).await?;
        if nothing_to_delete(found.as_ref().map(|i| i.db_instance_status())) {
            return Ok(());
        }
        let result = cx
            .aws
            .rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(api("rds:DeleteDBInstance"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let instance = describe(cx, have.str("identifier")?).await?;
        let status = instance.as_ref().and_then(|i| i.db_instance_status());
        let progress = LIFECYCLE.progress(goal, status);
        Ok(with_fresh(progress, goal, || {
            instance_attrs(instance.as_ref()?)
        }))
    }
}

/// Available when ready; failed in states it does not leave by itself.
const LIFECYCLE: Lifecycle = Lifecycle {
    failed: &[
        "failed",
        "incompatible-parameters",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "storage-full",
        ABSENT,
    ],
    ..Lifecycle::ready_when("the instance", &["available"])
};

async fn describe(cx: &Cx, id: &str) -> Result<Option<DbInstance>, AwsError> {
    let answer = cx
        .aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(api("rds:DescribeDBInstances"));
    Ok(found(answer)?.and_then(|a| a.db_instances().first().cloned()))
}

/// The identifier is taken: ours (a create whose answer was lost) is adopted; one being deleted
/// must finish first; anyone else's is an error.
async fn adopt(cx: &Cx, logical: &str, want: &Attrs) -> Result<DbInstance, AwsError> {
    let id = want.str("identifier")?;
    let instance = describe(cx, id)
        .await?
        .ok_or_else(|| missing("rds:DescribeDBInstances", logical, "instance"))?;
    let pairs = tagging::pairs(instance.tag_list());
    let status = instance.db_instance_status();
    adoptable(cx, ("Aurora instance", id, logical), &pairs, status, "")?;
    Ok(instance)
}

/// The observed form of an instance, `tags` aside.
fn instance_attrs(instance: &DbInstance) -> Option<Attrs> {
    let id = instance.db_instance_identifier()?;
    let text = |v: Option<&str>| s(v.unwrap_or_default());
    let mut attrs = Attrs::from([
        ("identifier".to_string(), s(id)),
        ("id".to_string(), s(id)),
        ("arn".to_string(), text(instance.db_instance_arn())),
        (
            "cluster_identifier".to_string(),
            text(instance.db_cluster_identifier()),
        ),
        ("engine".to_string(), text(instance.engine())),
        (
            "instance_class".to_string(),
            text(instance.db_instance_class()),
        ),
        ("status".to_string(), text(instance.db_instance_status())),
    ]);
    if let Some(host) = instance.endpoint().and_then(|e| e.address()) {
        attrs.insert("endpoint".into(), s(host));
    }
    Some(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn instance_statuses() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("creating")), "creating");
        let full = shown(&LIFECYCLE, Goal::Ready, Some("storage-full"));
        assert_eq!(full, "failed: the instance is `storage-full`");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, None), "done");
    }
}
