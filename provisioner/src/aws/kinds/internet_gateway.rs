//! The internet gateway, attached to the stack's VPC (its `vpc_id` is the attachment).

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttachmentStatus, InternetGatewayAttachment, ResourceType};

use super::ec2_common::{created_id, describe_owned, entry, owned_items, seen, with_id};
use super::tagging;
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::fresh::settle;
use crate::aws::{api, found, gone_ok, not_in_place, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct InternetGateway;

#[async_trait]
impl Driver for InternetGateway {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let gateways: Vec<_> = describe_owned!(
            cx,
            describe_internet_gateways,
            filters,
            "ec2:DescribeInternetGateways"
        )?;
        let mut out = Vec::new();
        for (logical, _, mut attrs, gateway) in owned_items(&cx.stack, &gateways) {
            // An unattached gateway has no `vpc_id`, so the plan attaches it.
            if let Some(vpc) = attached_vpcs(gateway.attachments()).first() {
                attrs.insert("vpc_id".into(), s(*vpc));
            }
            out.push(entry(ResourceKind::InternetGateway, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(ec2_tags::spec(ResourceType::InternetGateway, want))
            .send()
            .await
            .map_err(api("ec2:CreateInternetGateway"))?;
        let id = created_id(
            cx,
            ResourceKind::InternetGateway,
            created
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id()),
            "ec2:CreateInternetGateway",
            logical,
        )?;
        // Tagged before attaching: if the attach fails, the next run finds it and attaches it.
        let vpc = want.str("vpc_id")?;
        settle(cx, || attach(cx, &id, vpc)).await?;
        Ok(with_id(want, &id))
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
                "vpc_id" => {
                    detach_all(cx, id).await?;
                    attach(cx, id, want.str("vpc_id")?).await?;
                }
                "tags" => tagging::retag(&tagging::Ec2, cx, id, have, want).await?,
                other => return Err(not_in_place(logical, "internet gateway", other)),
            }
        }
        Ok(with_id(want, id))
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("id")?;
        // AWS refuses to delete an attached gateway.
        gone_ok(detach_all(cx, id).await)?;
        let result = cx
            .aws
            .ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map_err(api("ec2:DeleteInternetGateway"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx
            .aws
            .ec2
            .describe_internet_gateways()
            .internet_gateway_ids(have.str("id")?);
        let answer = found(
            call.send()
                .await
                .map_err(api("ec2:DescribeInternetGateways")),
        )?;
        Ok(seen(
            goal,
            answer.is_some_and(|a| !a.internet_gateways().is_empty()),
        ))
    }
}

/// VPCs the gateway is attached to (or being attached to), from its attachments.
fn attached_vpcs(attachments: &[InternetGatewayAttachment]) -> Vec<&str> {
    attachments
        .iter()
        .filter(|a| {
            !matches!(
                a.state(),
                Some(AttachmentStatus::Detached | AttachmentStatus::Detaching)
            )
        })
        .filter_map(|a| a.vpc_id())
        .collect()
}

async fn attach(cx: &Cx, id: &str, vpc: &str) -> Result<(), AwsError> {
    cx.aws
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(api("ec2:AttachInternetGateway"))?;
    Ok(())
}

/// Detaches the gateway from every VPC it is attached to, as AWS reports them now.
async fn detach_all(cx: &Cx, id: &str) -> Result<(), AwsError> {
    let found = cx
        .aws
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
        .map_err(api("ec2:DescribeInternetGateways"))?;
    for gateway in found.internet_gateways() {
        for vpc in attached_vpcs(gateway.attachments()) {
            let result = cx
                .aws
                .ec2
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(api("ec2:DetachInternetGateway"));
            match result {
                Err(error) if error.code() == Some("Gateway.NotAttached") => {}
                other => gone_ok(other)?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_attachments_are_not_vpcs_of_the_gateway() {
        let attachment = |vpc: &str, state| {
            InternetGatewayAttachment::builder()
                .vpc_id(vpc)
                .state(state)
                .build()
        };
        let attachments = [
            attachment("vpc-1", AttachmentStatus::Attached),
            attachment("vpc-2", AttachmentStatus::Detaching),
            attachment("vpc-3", AttachmentStatus::Detached),
        ];
        assert_eq!(attached_vpcs(&attachments), ["vpc-1"]);
    }
}
