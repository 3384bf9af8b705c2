//! The VPC: CIDR block and DNS settings (both flags are needed for Aurora and ECS endpoints).

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

use super::ec2_common::owned_items;
use super::lifecycle::Lifecycle;
use super::tagging;
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::fresh::settle;
use crate::aws::{api, found, gone_ok, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct Vpc;

/// Usable once available; gone once EC2 no longer knows it.
const LIFECYCLE: Lifecycle = Lifecycle::ready_when("the VPC", &["available"]);

#[async_trait]
impl Driver for Vpc {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let ec2 = &cx.aws.ec2;
        let found = ec2
            .describe_vpcs()
            .filters(ec2_tags::owner_filter(&cx.stack))
            .send()
            .await
            .map_err(api("ec2:DescribeVpcs"))?;
        let mut out = Vec::new();
        for (logical, id, mut attrs, vpc) in owned_items(&cx.stack, found.vpcs()) {
            attrs.insert("cidr_block".into(), s(vpc.cidr_block().unwrap_or_default()));
            for (key, name) in [
                (
                    "enable_dns_hostnames",
                    aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
                ),
                (
                    "enable_dns_support",
                    aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
                ),
            ] {
                let value = ec2
                    .describe_vpc_attribute()
                    .vpc_id(id)
                    .attribute(name)
                    .send()
                    .await
                    .map_err(api("ec2:DescribeVpcAttribute"))?;
                let flag = value
                    .enable_dns_hostnames()
                    .or(value.enable_dns_support())
                    .and_then(|v| v.value())
                    .unwrap_or(false);
                attrs.insert(key.into(), Attr::Bool(flag));
            }
            out.push((
                logical,
                Observed {
                    kind: ResourceKind::Vpc,
                    attrs,
                },
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .ec2
            .create_vpc()
            .cidr_block(want.str("cidr_block")?)
            .tag_specifications(ec2_tags::spec(ResourceType::Vpc, want))
            .send()
            .await
            .map_err(api("ec2:CreateVpc"))?;
        let id = created
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| AwsError::Unexpected {
                operation: "ec2:CreateVpc",
                message: format!("{logical}: no VPC id in the answer"),
            })?
            .to_string();
        cx.aws.fresh.record(&id, ResourceKind::Vpc);
        let mut have = want.clone();
        have.insert("id".into(), s(&id));
        let changed = [
            "enable_dns_support".to_string(),
            "enable_dns_hostnames".to_string(),
        ];
        settle(cx, || self.update(cx, logical, &have, want, &changed)).await
    }

    async fn update(
        &self,
        cx: &Cx,
        _logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let id = have.str("id")?;
        // AWS takes one attribute per call.
        for key in changed {
            let flag = AttributeBooleanValue::builder()
                .value(want.bool(key)?)
                .build();
            let call = cx.aws.ec2.modify_vpc_attribute().vpc_id(id);
            let call = match key.as_str() {
                "enable_dns_support" => call.enable_dns_support(flag),
                "enable_dns_hostnames" => call.enable_dns_hostnames(flag),
                "tags" => continue,
                other => {
                    return Err(AwsError::Model(format!(
                        "vpc: `{other}` cannot change in place"
                    )))
                }
            };
            call.send().await.map_err(api("ec2:ModifyVpcAttribute"))?;
        }
        if changed.iter().any(|c| c == "tags") {
            tagging::retag(&tagging::Ec2, cx, id, have, want).await?;
        }
        let mut out = want.clone();
        out.insert("id".into(), s(id));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .ec2
            .delete_vpc()
            .vpc_id(have.str("id")?)
            .send()
            .await
            .map_err(api("ec2:DeleteVpc"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx.aws.ec2.describe_vpcs().vpc_ids(have.str("id")?);
        let answer = found(call.send().await.map_err(api("ec2:DescribeVpcs")))?;
        let first = answer.as_ref().and_then(|a| a.vpcs().first());
        Ok(LIFECYCLE.progress(goal, first.and_then(|x| x.state()).map(|s| s.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn vpc_states() {
        let states = [Some("pending"), Some("available"), None];
        let ready = states.map(|state| shown(&LIFECYCLE, Goal::Ready, state));
        assert_eq!(ready, ["pending", "done", "absent"]);
    }
}
