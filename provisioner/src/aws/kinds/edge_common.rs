//! Shapes shared by the edge kinds: ELBv2 tags (read in batches, written as a diff), the owned load
//! balancers, and the partition and account held in an ARN.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer, Tag};

use crate::aws::attrs::{owned_logical, tags_attr, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::resource::Attr;

/// DescribeTags takes at most this many ARNs per call.
const DESCRIBE_TAGS_BATCH: usize = 20;

/// ELBv2 tags of `want` (ownership included), for a create call.
pub fn elb_tags(want: &Attrs) -> Vec<Tag> {
    want.tag_pairs()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Tags of each ARN, as key/value pairs.
pub async fn describe_elb_tags(
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
            let pairs = description
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().into())))
                .collect();
            out.insert(arn.to_string(), pairs);
        }
    }
    Ok(out)
}

/// The logical name and `tags` attribute of an ELBv2 resource whose tags name `stack` as owner.
pub fn owned(stack: &str, pairs: &[(String, String)]) -> Option<(String, Attr)> {
    let borrowed = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let logical = owned_logical(stack, borrowed())?;
    Some((logical, tags_attr(borrowed())))
}

/// Brings the tags of ELBv2 resource `arn` from `have` to `want`.
pub async fn elb_retag(cx: &Cx, arn: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let old = have.tag_pairs();
    let new = want.tag_pairs();
    let stale: Vec<String> = old
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
        .map(|(k, _)| k.clone())
        .collect();
    if !stale.is_empty() {
        cx.aws
            .elbv2
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(api("elbv2:RemoveTags"))?;
    }
    let fresh: Vec<Tag> = new
        .iter()
        .filter(|pair| !old.contains(pair))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !fresh.is_empty() {
        cx.aws
            .elbv2
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(fresh))
            .send()
            .await
            .map_err(api("elbv2:AddTags"))?;
    }
    Ok(())
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
    let arns: Vec<String> = all
        .iter()
        .filter_map(|lb| lb.load_balancer_arn().map(str::to_string))
        .collect();
    let tags = describe_elb_tags(cx, &arns).await?;
    Ok(all
        .into_iter()
        .filter_map(|lb| {
            let pairs = tags.get(lb.load_balancer_arn()?)?;
            let (logical, tags) = owned(&cx.stack, pairs)?;
            Some((logical, tags, lb))
        })
        .collect())
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
    let pairs = || {
        tags.into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    };
    let logical = owned_logical(&cx.stack, pairs())?;
    Some((logical, tags_attr(pairs())))
}

/// `want`'s tags as API Gateway takes them.
pub fn apigw_tags(want: &Attrs) -> HashMap<String, String> {
    want.tag_pairs().into_iter().collect()
}

/// Brings the tags of API Gateway resource `arn` from `have` to `want`.
pub async fn apigw_retag(cx: &Cx, arn: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let old = have.tag_pairs();
    let new = want.tag_pairs();
    let stale: Vec<String> = old
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
        .map(|(k, _)| k.clone())
        .collect();
    if !stale.is_empty() {
        cx.aws
            .apigw
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(api("apigateway:UntagResource"))?;
    }
    let fresh: HashMap<String, String> = new.into_iter().filter(|p| !old.contains(p)).collect();
    if !fresh.is_empty() {
        cx.aws
            .apigw
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(fresh))
            .send()
            .await
            .map_err(api("apigateway:TagResource"))?;
    }
    Ok(())
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

/// An error for an answer that lacks what the driver needs.
pub fn missing(operation: &'static str, logical: &str, what: &str) -> AwsError {
    AwsError::Unexpected {
        operation,
        message: format!("{logical}: no {what} in the answer"),
    }
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
