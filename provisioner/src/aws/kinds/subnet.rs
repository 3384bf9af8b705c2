//! A subnet in one availability zone; public ones give launched interfaces a public IP.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

use super::ec2_common::{created_id, describe_owned, entry, owned_items, with_id};
use super::lifecycle::Lifecycle;
use super::tagging;
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::fresh::settle;
use crate::aws::{api, found, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct Subnet;

/// Usable once available; gone once EC2 no longer knows it.
const LIFECYCLE: Lifecycle = Lifecycle::ready_when("the subnet", &["available"]);

#[async_trait]
impl Driver for Subnet {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let subnets: Vec<_> =
            describe_owned!(cx, describe_subnets, filters, "ec2:DescribeSubnets")?;
        let mut out = Vec::new();
        for (logical, _, mut attrs, subnet) in owned_items(&cx.stack, &subnets) {
            attrs.insert("vpc_id".into(), s(subnet.vpc_id().unwrap_or_default()));
            attrs.insert(
                "cidr_block".into(),
                s(subnet.cidr_block().unwrap_or_default()),
            );
            attrs.insert(
                "availability_zone".into(),
                s(subnet.availability_zone().unwrap_or_default()),
            );
            attrs.insert(
                "map_public_ip_on_launch".into(),
                Attr::Bool(subnet.map_public_ip_on_launch().unwrap_or(false)),
            );
            out.push(entry(ResourceKind::Subnet, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let mut call = cx
            .aws
            .ec2
            .create_subnet()
            .vpc_id(want.str("vpc_id")?)
            .cidr_block(want.str("cidr_block")?)
            .tag_specifications(ec2_tags::spec(ResourceType::Subnet, want));
        if let Some(zone) = want.opt_str("availability_zone") {
            call = call.availability_zone(zone);
        }
        let created = call.send().await.map_err(api("ec2:CreateSubnet"))?;
        let id = created_id(
            cx,
            ResourceKind::Subnet,
            created.subnet().and_then(|s| s.subnet_id()),
            "ec2:CreateSubnet",
            logical,
        )?;
        let have = with_id(want, &id);
        if want.opt_bool("map_public_ip_on_launch") == Some(true) {
            let changed = ["map_public_ip_on_launch".to_string()];
            return settle(cx, || self.update(cx, logical, &have, want, &changed)).await;
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
        let id = have.str("id")?;
        for key in changed {
            match key.as_str() {
                "map_public_ip_on_launch" => {
                    let flag = AttributeBooleanValue::builder()
                        .value(want.opt_bool(key).unwrap_or(false))
                        .build();
                    cx.aws
                        .ec2
                        .modify_subnet_attribute()
                        .subnet_id(id)
                        .map_public_ip_on_launch(flag)
                        .send()
                        .await
                        .map_err(api("ec2:ModifySubnetAttribute"))?;
                }
                "tags" => tagging::retag(&tagging::Ec2, cx, id, have, want).await?,
                other => return Err(not_in_place(logical, "subnet", other)),
            }
        }
        Ok(with_id(want, id))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        // DependencyViolation while interfaces (NAT, NLB, tasks) go away is retried by the engine.
        let result = cx
            .aws
            .ec2
            .delete_subnet()
            .subnet_id(have.str("id")?)
            .send()
            .await
            .map_err(api("ec2:DeleteSubnet"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx.aws.ec2.describe_subnets().subnet_ids(have.str("id")?);
        let answer = found(call.send().await.map_err(api("ec2:DescribeSubnets")))?;
        let first = answer.as_ref().and_then(|a| a.subnets().first());
        Ok(LIFECYCLE.progress(goal, first.and_then(|x| x.state()).map(|s| s.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn subnet_states() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("pending")), "pending");
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("available")), "done");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, None), "done");
    }
}
