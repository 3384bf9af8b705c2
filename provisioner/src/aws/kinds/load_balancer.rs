//! The network load balancer in front of the gateway tasks: public subnets, security groups, and
//! the DNS name and hosted zone that the Route53 alias and health check point at.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer as Lb, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};

use super::edge_common::{self as common, dns_name};
use super::lifecycle::{with_fresh, Lifecycle};
use super::tagging;
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct LoadBalancer;

/// Provisioning until active; `failed` is final.
const LIFECYCLE: Lifecycle = Lifecycle {
    failed: &["failed"],
    ..Lifecycle::ready_when("the load balancer", &["active"])
};

/// The observed form of a described load balancer (`tags` supplied by the caller).
fn attrs_of(lb: &Lb, tags: Attr) -> Attrs {
    let subnets = lb.availability_zones().iter().filter_map(|z| z.subnet_id());
    let mut attrs = Attrs::new();
    attrs.insert(
        "name".into(),
        s(lb.load_balancer_name().unwrap_or_default()),
    );
    attrs.insert(
        "type".into(),
        s(lb.r#type().map(|t| t.as_str()).unwrap_or_default()),
    );
    attrs.insert(
        "scheme".into(),
        s(lb.scheme().map(|t| t.as_str()).unwrap_or_default()),
    );
    attrs.insert("subnet_ids".into(), strs(subnets));
    attrs.insert("security_group_ids".into(), strs(lb.security_groups()));
    attrs.insert("arn".into(), s(lb.load_balancer_arn().unwrap_or_default()));
    // DNS ignores case; one spelling keeps the alias and health check that copy it diff-free.
    attrs.insert(
        "dns_name".into(),
        s(dns_name(lb.dns_name().unwrap_or_default())),
    );
    attrs.insert(
        "canonical_hosted_zone_id".into(),
        s(lb.canonical_hosted_zone_id().unwrap_or_default()),
    );
    let state = lb.state().and_then(|st| st.code()).map(|c| c.as_str());
    attrs.insert("state".into(), s(state.unwrap_or("unknown")));
    attrs.insert("tags".into(), tags);
    attrs
}

/// One load balancer by ARN; `None` when it is gone.
async fn describe(cx: &Cx, arn: &str) -> Result<Option<Lb>, AwsError> {
    let answer = cx
        .aws
        .elbv2
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .map_err(api("elbv2:DescribeLoadBalancers"));
    Ok(found(answer)?.and_then(|a| a.load_balancers().first().cloned()))
}

/// A load balancer of that name already exists: ours (a run that died after creating it) is
/// adopted, anyone else's is an error.
async fn adopt(cx: &Cx, logical: &str, name: &str) -> Result<Attrs, AwsError> {
    let found = common::owned_load_balancers(cx).await?;
    match found
        .into_iter()
        .find(|(l, _, lb)| l == logical && lb.load_balancer_name() == Some(name))
    {
        Some((_, tags, lb)) => Ok(attrs_of(&lb, tags)),
        None => Err(tagging::not_ours(cx, "load balancer", name)),
    }
}

#[async_trait]
impl Driver for LoadBalancer {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let owned = common::owned_load_balancers(cx).await?;
        Ok(owned
            .into_iter()
            .map(|(logical, tags, lb)| {
                let attrs = attrs_of(&lb, tags);
                let kind = ResourceKind::LoadBalancer;
                (logical, Observed { kind, attrs })
            })
            .collect())
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let created = cx
            .aws
            .elbv2
            .create_load_balancer()
            .name(name)
            .r#type(LoadBalancerTypeEnum::from(want.str("type")?))
            .scheme(LoadBalancerSchemeEnum::from(want.str("scheme")?))
            .set_subnets(Some(want.strs("subnet_ids")?))
            .set_security_groups(Some(want.strs("security_group_ids")?))
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("elbv2:CreateLoadBalancer"));
        let created = match created {
            Err(error) if error.code() == Some("DuplicateLoadBalancerName") => {
                return adopt(cx, logical, name).await;
            }
            other => other?,
        };
        let lb = created
            .load_balancers()
            .first()
            .ok_or_else(|| missing("elbv2:CreateLoadBalancer", logical, "load balancer"))?;
        let mut have = attrs_of(lb, want.attr("tags")?.clone());
        // The answer may order or omit what was sent; report what was asked, AWS's ids on top.
        for key in ["subnet_ids", "security_group_ids"] {
            have.insert(key.into(), want.attr(key)?.clone());
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
        let arn = have.str("arn")?;
        let elbv2 = &cx.aws.elbv2;
        for key in changed {
            match key.as_str() {
                "subnet_ids" => {
                    elbv2
                        .set_subnets()
                        .load_balancer_arn(arn)
                        .set_subnets(Some(want.strs(key)?))
                        .send()
                        .await
                        .map_err(api("elbv2:SetSubnets"))?;
                }
                "security_group_ids" => {
                    elbv2
                        .set_security_groups()
                        .load_balancer_arn(arn)
                        .set_security_groups(Some(want.strs(key)?))
                        .send()
                        .await
                        .map_err(api("elbv2:SetSecurityGroups"))?;
                }
                "tags" => tagging::retag(&tagging::Elb, cx, arn, have, want).await?,
                other => return Err(not_in_place(logical, "load balancer", other)),
            }
        }
        let mut out = have.clone();
        out.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .elbv2
            .delete_load_balancer()
            .load_balancer_arn(have.str("arn")?)
            .send()
            .await
            .map_err(api("elbv2:DeleteLoadBalancer"));
        gone_ok(result)
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let found = describe(cx, have.str("arn")?).await?;
        let state = found.as_ref().and_then(|lb| lb.state());
        Ok(
            match LIFECYCLE.progress(goal, state.and_then(|st| st.code()).map(|c| c.as_str())) {
                Progress::Failed(_) => {
                    let reason = state
                        .and_then(|st| st.reason())
                        .unwrap_or("no reason given");
                    Progress::Failed(format!("load balancer failed: {reason}"))
                }
                progress => with_fresh(progress, goal, || {
                    let tags = have.get("tags").cloned();
                    Some(attrs_of(
                        found.as_ref()?,
                        tags.unwrap_or(Attr::Map(Default::default())),
                    ))
                }),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn load_balancer_states() {
        assert_eq!(
            shown(&LIFECYCLE, Goal::Ready, Some("provisioning")),
            "provisioning"
        );
        let failed = shown(&LIFECYCLE, Goal::Ready, Some("failed"));
        assert_eq!(failed, "failed: the load balancer is `failed`");
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, None), "absent");
    }
}
