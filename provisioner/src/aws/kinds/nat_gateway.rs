//! A public NAT gateway in a public subnet with an Elastic IP, for private subnets' egress.

use async_trait::async_trait;
use aws_sdk_ec2::types::{NatGatewayState, ResourceType};

use super::ec2_common::{created_id, describe_owned, entry, update_tags_only, with_id};
use super::lifecycle::{with_fresh, Lifecycle};
use super::tagging;
use super::{ec2_tags, Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct NatGateway;

/// Describe may not know a gateway created a moment ago, so absent is only pending; a deleted
/// one stays listed a while.
const LIFECYCLE: Lifecycle = Lifecycle {
    failed: &["failed"],
    gone: &["deleted"],
    ..Lifecycle::ready_when("the NAT gateway", &["available"])
};

#[async_trait]
impl Driver for NatGateway {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let gateways: Vec<_> =
            describe_owned!(cx, describe_nat_gateways, filter, "ec2:DescribeNatGateways")?;
        let mut out = Vec::new();
        for gateway in &gateways {
            // Deleted and failed gateways linger in describe answers for about an hour; they
            // route nothing, so the plan should make a new one rather than keep them.
            if matches!(
                gateway.state(),
                Some(
                    NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed
                )
            ) {
                continue;
            }
            let Some((logical, tags)) = tagging::owned(&cx.stack, &tagging::pairs(gateway.tags()))
            else {
                continue;
            };
            let mut attrs = attrs_of(gateway);
            attrs.insert("tags".into(), tags);
            out.push(entry(ResourceKind::NatGateway, logical, attrs));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .ec2
            .create_nat_gateway()
            .subnet_id(want.str("subnet_id")?)
            .allocation_id(want.str("allocation_id")?)
            .tag_specifications(ec2_tags::spec(ResourceType::Natgateway, want))
            .send()
            .await
            .map_err(api("ec2:CreateNatGateway"))?;
        let gateway = created.nat_gateway();
        let id = created_id(
            cx,
            ResourceKind::NatGateway,
            gateway.and_then(|g| g.nat_gateway_id()),
            "ec2:CreateNatGateway",
            logical,
        )?;
        let mut out = with_id(want, &id);
        if let Some(state) = gateway.and_then(|g| g.state()) {
            out.insert("state".into(), s(state.as_str()));
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
        let result = cx
            .aws
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(have.str("id")?)
            .send()
            .await
            .map_err(api("ec2:DeleteNatGateway"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let call = cx
            .aws
            .ec2
            .describe_nat_gateways()
            .nat_gateway_ids(have.str("id")?);
        let answer = found(call.send().await.map_err(api("ec2:DescribeNatGateways")))?;
        let gateway = answer.as_ref().and_then(|a| a.nat_gateways().first());
        let state = gateway.and_then(|g| g.state()).map(NatGatewayState::as_str);
        Ok(match LIFECYCLE.progress(goal, state) {
            Progress::Failed(_) => Progress::Failed(format!(
                "NAT gateway failed: {}",
                gateway
                    .and_then(|g| g.failure_message())
                    .unwrap_or("no reason given")
            )),
            progress => with_fresh(progress, goal, || {
                let mut fresh = have.clone();
                fresh.extend(gateway.map(attrs_of).unwrap_or_default());
                Some(fresh)
            }),
        })
    }
}

/// Observed attributes of a described gateway (without tags).
fn attrs_of(gateway: &aws_sdk_ec2::types::NatGateway) -> Attrs {
    let mut attrs = Attrs::new();
    if let Some(id) = gateway.nat_gateway_id() {
        attrs.insert("id".into(), s(id));
    }
    if let Some(subnet) = gateway.subnet_id() {
        attrs.insert("subnet_id".into(), s(subnet));
    }
    let allocation = gateway
        .nat_gateway_addresses()
        .iter()
        .find_map(|a| a.allocation_id());
    if let Some(allocation) = allocation {
        attrs.insert("allocation_id".into(), s(allocation));
    }
    if let Some(state) = gateway.state() {
        attrs.insert("state".into(), s(state.as_str()));
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn gateway_states() {
        // Not yet listed right after its creation: keep waiting.
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, None), "absent");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("deleted")), "done");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("deleting")), "deleting");
    }
}
