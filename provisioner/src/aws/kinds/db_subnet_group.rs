//! The RDS DB subnet group: the private subnets Aurora places its instances in (the driver is
//! [`SubnetGroup`](super::subnet_group::SubnetGroup); these are RDS's calls for it).

use async_trait::async_trait;
use aws_sdk_rds::types::DbSubnetGroup;

use super::subnet_group::{Group, GroupApi, Request};
use super::tagging;
use crate::aws::attrs::Attrs;
use crate::aws::{api, AwsError, Cx};
use crate::core::ResourceKind;

pub struct RdsGroups;

fn group(found: &DbSubnetGroup) -> Group {
    let subnets = found.subnets().iter().filter_map(|s| s.subnet_identifier());
    Group {
        name: found.db_subnet_group_name().unwrap_or_default().to_string(),
        arn: found.db_subnet_group_arn().unwrap_or_default().to_string(),
        subnets: subnets.map(str::to_string).collect(),
    }
}

#[async_trait]
impl GroupApi for RdsGroups {
    const KIND: ResourceKind = ResourceKind::DbSubnetGroup;
    const WHAT: &'static str = "DB subnet group";
    const CREATE: &'static str = "rds:CreateDBSubnetGroup";
    fn tags(&self) -> &'static dyn tagging::TagApi {
        &tagging::Rds
    }

    async fn list(&self, cx: &Cx, name: Option<&str>) -> Result<Vec<Group>, AwsError> {
        let call = cx.aws.rds.describe_db_subnet_groups();
        let mut pages = call
            .set_db_subnet_group_name(name.map(str::to_string))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("rds:DescribeDBSubnetGroups"))?;
            out.extend(page.db_subnet_groups().iter().map(group));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, req: Request, want: &Attrs) -> Result<Option<Group>, AwsError> {
        let call = cx
            .aws
            .rds
            .create_db_subnet_group()
            .db_subnet_group_name(req.name);
        let call = call.db_subnet_group_description(req.description);
        let call = call
            .set_subnet_ids(Some(req.subnet_ids))
            .set_tags(Some(tagging::tags_of(want)));
        let made = call.send().await.map_err(api(Self::CREATE))?;
        Ok(made.db_subnet_group().map(group))
    }

    async fn modify(&self, cx: &Cx, name: &str, subnets: Vec<String>) -> Result<(), AwsError> {
        let call = cx
            .aws
            .rds
            .modify_db_subnet_group()
            .db_subnet_group_name(name);
        let result = call.set_subnet_ids(Some(subnets)).send().await;
        result.map(drop).map_err(api("rds:ModifyDBSubnetGroup"))
    }

    async fn delete(&self, cx: &Cx, name: &str) -> Result<(), AwsError> {
        let call = cx
            .aws
            .rds
            .delete_db_subnet_group()
            .db_subnet_group_name(name);
        call.send()
            .await
            .map(drop)
            .map_err(api("rds:DeleteDBSubnetGroup"))
    }
}
