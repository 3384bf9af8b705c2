//! The ElastiCache subnet group: the private subnets Redis nodes are placed in (the driver is
//! [`SubnetGroup`](super::subnet_group::SubnetGroup); these are ElastiCache's calls for it).

use async_trait::async_trait;
use aws_sdk_elasticache::types::CacheSubnetGroup;

use super::subnet_group::{Group, GroupApi, Request};
use super::tagging;
use crate::aws::attrs::Attrs;
use crate::aws::{api, AwsError, Cx};
use crate::core::ResourceKind;

pub struct CacheGroups;

fn group(found: &CacheSubnetGroup) -> Group {
    let subnets = found.subnets().iter().filter_map(|s| s.subnet_identifier());
    Group {
        name: found
            .cache_subnet_group_name()
            .unwrap_or_default()
            .to_string(),
        arn: found.arn().unwrap_or_default().to_string(),
        subnets: subnets.map(str::to_string).collect(),
    }
}

#[async_trait]
impl GroupApi for CacheGroups {
    const KIND: ResourceKind = ResourceKind::CacheSubnetGroup;
    const WHAT: &'static str = "cache subnet group";
    const CREATE: &'static str = "elasticache:CreateCacheSubnetGroup";
    fn tags(&self) -> &'static dyn tagging::TagApi {
        &tagging::ElastiCache
    }

    async fn list(&self, cx: &Cx, name: Option<&str>) -> Result<Vec<Group>, AwsError> {
        let call = cx.aws.elasticache.describe_cache_subnet_groups();
        let call = call.set_cache_subnet_group_name(name.map(str::to_string));
        let mut pages = call.into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api("elasticache:DescribeCacheSubnetGroups"))?;
            out.extend(page.cache_subnet_groups().iter().map(group));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, req: Request, want: &Attrs) -> Result<Option<Group>, AwsError> {
        let call = cx.aws.elasticache.create_cache_subnet_group();
        let call = call.cache_subnet_group_name(req.name);
        let call = call.cache_subnet_group_description(req.description);
        let call = call
            .set_subnet_ids(Some(req.subnet_ids))
            .set_tags(Some(tagging::tags_of(want)));
        let made = call.send().await.map_err(api(Self::CREATE))?;
        Ok(made.cache_subnet_group().map(group))
    }

    async fn modify(&self, cx: &Cx, name: &str, subnets: Vec<String>) -> Result<(), AwsError> {
        let call = cx.aws.elasticache.modify_cache_subnet_group();
        let call = call
            .cache_subnet_group_name(name)
            .set_subnet_ids(Some(subnets));
        call.send()
            .await
            .map(drop)
            .map_err(api("elasticache:ModifyCacheSubnetGroup"))
    }

    async fn delete(&self, cx: &Cx, name: &str) -> Result<(), AwsError> {
        let call = cx.aws.elasticache.delete_cache_subnet_group();
        let result = call.cache_subnet_group_name(name).send().await;
        result
            .map(drop)
            .map_err(api("elasticache:DeleteCacheSubnetGroup"))
    }
}
