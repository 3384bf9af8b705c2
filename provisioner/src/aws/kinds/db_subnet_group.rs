//! The RDS DB subnet group: the private subnets Aurora places its instances in.

use async_trait::async_trait;
use aws_sdk_rds::types::DbSubnetGroup as Group;

use super::data_common::{
    differing, foreign, gone_is_ok, may_be_ours, missing, owned, rds_list_tags, rds_retag, rds_tags,
};
use super::Driver;
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct DbSubnetGroup;

#[async_trait]
impl Driver for DbSubnetGroup {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut pages = cx
            .aws
            .rds
            .describe_db_subnet_groups()
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("rds:DescribeDBSubnetGroups"))?;
            for group in page.db_subnet_groups() {
                let name = group.db_subnet_group_name().unwrap_or_default();
                if !may_be_ours(&cx.stack, name) {
                    continue;
                }
                if let Some((logical, attrs)) = owned_group(cx, group).await? {
                    let kind = ResourceKind::DbSubnetGroup;
                    out.push((logical, Observed { kind, attrs }));
                }
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let created = cx
            .aws
            .rds
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(description(cx, logical))
            .set_subnet_ids(Some(want.strs("subnet_ids")?))
            .set_tags(Some(rds_tags(want)))
            .send()
            .await
            .map_err(api("rds:CreateDBSubnetGroup"));
        let group = match created {
            Ok(made) => made
                .db_subnet_group()
                .cloned()
                .ok_or_else(|| missing("rds:CreateDBSubnetGroup", logical, "subnet group"))?,
            Err(error) if error.code() == Some("DBSubnetGroupAlreadyExists") => {
                let have = adopt(cx, logical, want).await?;
                let changed = differing(&have, want, &["subnet_ids", "tags"]);
                return self.update(cx, logical, &have, want, &changed).await;
            }
            Err(error) => return Err(error),
        };
        let mut have = want.clone();
        let arn = group.db_subnet_group_arn().unwrap_or_default();
        have.insert("arn".into(), s(arn));
        have.insert("id".into(), s(name));
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
        let name = have.str("name")?;
        for key in changed {
            match key.as_str() {
                "subnet_ids" => {
                    cx.aws
                        .rds
                        .modify_db_subnet_group()
                        .db_subnet_group_name(name)
                        .set_subnet_ids(Some(want.strs("subnet_ids")?))
                        .send()
                        .await
                        .map_err(api("rds:ModifyDBSubnetGroup"))?;
                }
                "tags" => rds_retag(cx, have.str("arn")?, have, want).await?,
                other => {
                    return Err(AwsError::Model(format!(
                        "{logical}: DB subnet group `{other}` cannot change in place"
                    )))
                }
            }
        }
        let mut out = want.clone();
        for key in ["arn", "id"] {
            if let Some(value) = have.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .rds
            .delete_db_subnet_group()
            .db_subnet_group_name(have.str("name")?)
            .send()
            .await
            .map_err(api("rds:DeleteDBSubnetGroup"));
        gone_is_ok(result)
    }
}

/// Ownership is recorded in tags; the description only helps a person in the console.
fn description(cx: &Cx, logical: &str) -> String {
    format!("{logical} of stack {} (managed by provision)", cx.stack)
}

/// The group's observed attributes when its tags say this stack owns it.
async fn owned_group(cx: &Cx, group: &Group) -> Result<Option<(String, Attrs)>, AwsError> {
    let (Some(name), Some(arn)) = (group.db_subnet_group_name(), group.db_subnet_group_arn())
    else {
        return Ok(None);
    };
    let pairs = rds_list_tags(cx, arn).await?;
    let Some((logical, tags)) = owned(&cx.stack, &pairs) else {
        return Ok(None);
    };
    let mut subnets: Vec<&str> = group
        .subnets()
        .iter()
        .filter_map(|subnet| subnet.subnet_identifier())
        .collect();
    subnets.sort_unstable();
    let attrs = Attrs::from([
        ("name".to_string(), s(name)),
        ("id".to_string(), s(name)),
        ("arn".to_string(), s(arn)),
        ("subnet_ids".to_string(), strs(subnets)),
        ("tags".to_string(), tags),
    ]);
    Ok(Some((logical, attrs)))
}

/// The name is taken: ours (a create whose answer was lost) is adopted, anyone else's is an error.
async fn adopt(cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
    let name = want.str("name")?;
    let found = cx
        .aws
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
        .map_err(api("rds:DescribeDBSubnetGroups"))?;
    for group in found.db_subnet_groups() {
        if let Some((owner, attrs)) = owned_group(cx, group).await? {
            if owner == logical {
                return Ok(attrs);
            }
        }
    }
    Err(foreign("DB subnet group", name, &cx.stack))
}
