//! The NLB's target group: TCP to the gateway tasks' IP addresses (Fargate's awsvpc mode needs
//! target type `ip`); the ECS service registers and deregisters the targets itself.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetGroup as Tg, TargetTypeEnum};

use super::edge_common as common;
use super::tagging;
use super::Driver;
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct TargetGroup;

fn attrs_of(tg: &Tg, tags: Attr) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), s(tg.target_group_name().unwrap_or_default()));
    attrs.insert(
        "protocol".into(),
        s(tg.protocol().map(|p| p.as_str()).unwrap_or_default()),
    );
    attrs.insert(
        "port".into(),
        Attr::Int(tg.port().unwrap_or_default().into()),
    );
    attrs.insert(
        "target_type".into(),
        s(tg.target_type().map(|t| t.as_str()).unwrap_or_default()),
    );
    attrs.insert("vpc_id".into(), s(tg.vpc_id().unwrap_or_default()));
    attrs.insert("arn".into(), s(tg.target_group_arn().unwrap_or_default()));
    attrs.insert("tags".into(), tags);
    attrs
}

/// Every target group owned by `cx.stack`, with its logical name and tags.
async fn owned(cx: &Cx) -> Result<Vec<(String, Attrs)>, AwsError> {
    let all: Vec<Tg> = cx
        .aws
        .elbv2
        .describe_target_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(api("elbv2:DescribeTargetGroups"))?;
    let owned = common::owned_by_tags(cx, all, Tg::target_group_arn).await?;
    let observed = owned
        .into_iter()
        .map(|(logical, tags, tg)| (logical, attrs_of(&tg, tags)));
    Ok(observed.collect())
}

#[async_trait]
impl Driver for TargetGroup {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let kind = ResourceKind::TargetGroup;
        Ok(owned(cx)
            .await?
            .into_iter()
            .map(|(logical, attrs)| (logical, Observed { kind, attrs }))
            .collect())
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let port = i32::try_from(want.int("port")?)
            .map_err(|_| AwsError::Model(format!("{logical}: port out of range")))?;
        let created = cx
            .aws
            .elbv2
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::from(want.str("protocol")?))
            .port(port)
            .target_type(TargetTypeEnum::from(want.str("target_type")?))
            .vpc_id(want.str("vpc_id")?)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("elbv2:CreateTargetGroup"));
        match created {
            Err(error) if error.code() == Some("DuplicateTargetGroupName") => {
                // Ours from a run that died after creating it is adopted; anyone else's is not.
                let mine = owned(cx).await?.into_iter().find(|(l, a)| {
                    l == logical && a.get("name") == Some(&Attr::Str(name.to_string()))
                });
                let refused = || tagging::not_ours(cx, "target group", name);
                mine.map(|(_, attrs)| attrs).ok_or_else(refused)
            }
            other => {
                let created = other?;
                let tg = created
                    .target_groups()
                    .first()
                    .ok_or_else(|| missing("elbv2:CreateTargetGroup", logical, "target group"))?;
                Ok(attrs_of(tg, want.attr("tags")?.clone()))
            }
        }
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        if let Some(other) = changed.iter().find(|c| *c != "tags") {
            return Err(not_in_place(logical, "target group", other));
        }
        let arn = have.str("arn")?;
        tagging::retag(&tagging::Elb, cx, arn, have, want).await?;
        let mut out = have.clone();
        out.insert("tags".into(), want.attr("tags")?.clone());
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        // A listener still forwarding here answers ResourceInUse, retried until it is gone.
        let result = cx
            .aws
            .elbv2
            .delete_target_group()
            .target_group_arn(have.str("arn")?)
            .send()
            .await
            .map_err(api("elbv2:DeleteTargetGroup"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_target_group_in_the_desired_shape() {
        let tg = Tg::builder()
            .target_group_name("demo-gw")
            .protocol(ProtocolEnum::Tcp)
            .port(8000)
            .target_type(TargetTypeEnum::Ip)
            .vpc_id("vpc-1")
            .target_group_arn("arn:tg")
            .build();
        let attrs = attrs_of(&tg, Attr::Map(Default::default()));
        assert_eq!(attrs["protocol"], s("TCP"));
        assert_eq!(attrs["port"], Attr::Int(8000));
        assert_eq!(attrs["target_type"], s("ip"));
        assert_eq!(attrs["arn"], s("arn:tg"));
    }
}
