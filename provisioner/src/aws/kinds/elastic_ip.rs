//! An Elastic IP for a NAT gateway (`id` is the allocation id the NAT gateway takes).

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};

use super::ec2_common::{created_id, entry, owned_items, seen, update_tags_only, with_id};
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct ElasticIp;

#[async_trait]
impl Driver for ElasticIp {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let found = cx
            .aws
            .ec2
            .describe_addresses()
            .filters(ec2_tags::owner_filter(&cx.stack))
            .send()
            .await
            .map_err(api("ec2:DescribeAddresses"))?;
        let mut out = Vec::new();
        for (logical, _, mut attrs, address) in owned_items(&cx.stack, found.addresses()) {
            if let Some(domain) = address.domain() {
                attrs.insert("domain".into(), s(domain.as_str()));
            }
            if let Some(ip) = address.public_ip() {
                attrs.insert("public_ip".into(), s(ip));
            }
            out.push(entry(ResourceKind::ElasticIp, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let domain = want.opt_str("domain").unwrap_or("vpc");
        if domain != "vpc" {
            // EC2-Classic is retired: every address lives in a VPC.
            return Err(AwsError::Model(format!(
                "{logical}: elastic IP domain `{domain}` is not supported, only `vpc`"
            )));
        }
        let allocated = cx
            .aws
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(ec2_tags::spec(ResourceType::ElasticIp, want))
            .send()
            .await
            .map_err(api("ec2:AllocateAddress"))?;
        let id = created_id(
            cx,
            ResourceKind::ElasticIp,
            allocated.allocation_id(),
            "ec2:AllocateAddress",
            logical,
        )?;
        let mut out = with_id(want, &id);
        if let Some(ip) = allocated.public_ip() {
            out.insert("public_ip".into(), s(ip));
        }
        Ok(out)
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        update_tags_only(cx, logical, have, want, changed).await
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        // The engine deletes the NAT gateway (and waits for it to be gone) before its address.
        let result = cx
            .aws
            .ec2
            .release_address()
            .allocation_id(have.str("id")?)
            .send()
            .await
            .map_err(api("ec2:ReleaseAddress"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx
            .aws
            .ec2
            .describe_addresses()
            .allocation_ids(have.str("id")?);
        let answer = found(call.send().await.map_err(api("ec2:DescribeAddresses")))?;
        Ok(seen(
            goal,
            answer.is_some_and(|a| !a.addresses().is_empty()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_address_carries_every_tag() {
        let want = Attrs::from([(
            "tags".to_string(),
            crate::aws::attrs::synthetic_tags("demo", "eip.nat"),
        )]);
        let spec = ec2_tags::spec(ResourceType::ElasticIp, &want);
        assert_eq!(spec.resource_type(), Some(&ResourceType::ElasticIp));
        let keys: Vec<_> = spec.tags().iter().filter_map(|t| t.key()).collect();
        assert_eq!(
            keys,
            [
                crate::core::resource::LOGICAL_TAG,
                crate::core::resource::STACK_TAG
            ]
        );
    }
}
