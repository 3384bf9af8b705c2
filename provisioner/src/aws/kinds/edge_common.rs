//! Shapes shared by the edge kinds: ELBv2 tags (read in batches, written as a diff), the owned load
//! balancers, and the partition and account held in an ARN.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;

use super::tagging::{map_pairs, owned, pairs};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;

/// DescribeTags takes at most this many ARNs per call.
const DESCRIBE_TAGS_BATCH: usize = 20;

/// Tags of each ARN, as key/value pairs.
async fn describe_elb_tags(
    cx: &Cx,
    arns: &[String],
) -> Result<BTreeMap<String, Vec<(String, String)>>, AwsError> {
    let mut out = BTreeMap::new();
    for batch in arns.chunks(DESCRIBE_TAGS_BATCH) {
        let found = cx
            .aws
            .elbv2
            .describe_tags()
            .set_resource_arns(Some(batch.to_vec()))
            .send()
            .await
            .map_err(api("elbv2:DescribeTags"))?;
        for description in found.tag_descriptions() {
            let Some(arn) = description.resource_arn() else {
                continue;
            };
            out.insert(arn.to_string(), pairs(description.tags()));
        }
    }
    Ok(out)
}

/// Every load balancer of the account and region owned by `cx.stack`, with its logical name and
/// `tags` attribute (ELBv2 cannot filter by tag, so all are read and their tags fetched in batches).
pub async fn owned_load_balancers(cx: &Cx) -> Result<Vec<(String, Attr, LoadBalancer)>, AwsError> {
    let all: Vec<LoadBalancer> = cx
        .aws
        .elbv2
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(api("elbv2:DescribeLoadBalancers"))?;
    owned_by_tags(cx, all, LoadBalancer::load_balancer_arn).await
}

/// The ELBv2 `items` whose tags name `cx.stack` as owner, each with its logical name and `tags`
/// attribute (ELBv2 cannot filter by tag, so the tags of all are fetched in batches).
pub async fn owned_by_tags<T>(
    cx: &Cx,
    items: Vec<T>,
    arn: impl Fn(&T) -> Option<&str>,
) -> Result<Vec<(String, Attr, T)>, AwsError> {
    let arns: Vec<String> = items
        .iter()
        .filter_map(|i| arn(i).map(str::to_string))
        .collect();
    let tags = describe_elb_tags(cx, &arns).await?;
    let owned_item = |item: T| {
        let (logical, tags) = owned(&cx.stack, tags.get(arn(&item)?)?)?;
        Some((logical, tags, item))
    };
    Ok(items.into_iter().filter_map(owned_item).collect())
}

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN API Gateway tags an API or domain name by: `path` is `/apis/<id>` or
/// `/domainnames/<name>`.
pub fn apigw_arn(cx: &Cx, path: &str) -> String {
    format!(
        "arn:{}:apigateway:{}::{path}",
        partition(&cx.region),
        cx.region
    )
}

/// The logical name and `tags` attribute of an API Gateway resource owned by `cx.stack`.
pub fn apigw_owned(cx: &Cx, tags: Option<&HashMap<String, String>>) -> Option<(String, Attr)> {
    owned(&cx.stack, &map_pairs(tags))
}

/// The partition and account of an ARN (`arn:aws:lambda:eu-west-1:123456789012:function:f`).
pub fn arn_partition_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    let partition = parts.next()?;
    let _service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    (!account.is_empty()).then_some((partition, account))
}

/// A DNS name as compared: no trailing dot (Route53 adds one), lower case (DNS ignores case).
pub fn dns_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        assert_eq!(
            arn_partition_account("arn:aws-cn:lambda:cn-north-1:123456789012:function:f"),
            Some(("aws-cn", "123456789012"))
        );
        assert_eq!(arn_partition_account("https://example.com"), None);
        assert_eq!(arn_partition_account("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn dns_names_compare_without_dot_or_case() {
        assert_eq!(
            dns_name("My-NLB-1.elb.amazonaws.com."),
            "my-nlb-1.elb.amazonaws.com"
        );
    }
}
