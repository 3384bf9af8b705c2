//! The NLB's TCP listener, forwarding its port to the gateway's target group. Listeners take tags
//! in ELBv2, so ownership is read like any tagged kind, on the listeners of the stack's balancers.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Listener as Lst, ProtocolEnum,
};

use super::edge_common as common;
use super::tagging;
use super::Driver;
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct Listener;

fn attrs_of(listener: &Lst, tags: Attr) -> Attrs {
    let forward = listener
        .default_actions()
        .iter()
        .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
        .and_then(|a| a.target_group_arn());
    let mut attrs = Attrs::new();
    attrs.insert(
        "load_balancer_arn".into(),
        s(listener.load_balancer_arn().unwrap_or_default()),
    );
    attrs.insert(
        "protocol".into(),
        s(listener.protocol().map(|p| p.as_str()).unwrap_or_default()),
    );
    attrs.insert(
        "port".into(),
        Attr::Int(listener.port().unwrap_or_default().into()),
    );
    if let Some(target_group) = forward {
        attrs.insert("forward_to".into(), s(target_group));
    }
    attrs.insert("arn".into(), s(listener.listener_arn().unwrap_or_default()));
    attrs.insert("tags".into(), tags);
    attrs
}

/// Every listener owned by `cx.stack`, on the load balancers the stack owns.
async fn owned(cx: &Cx) -> Result<Vec<(String, Attrs)>, AwsError> {
    let mut listeners = Vec::new();
    for (_, _, lb) in common::owned_load_balancers(cx).await? {
        let Some(arn) = lb.load_balancer_arn() else {
            continue;
        };
        let found: Vec<Lst> = cx
            .aws
            .elbv2
            .describe_listeners()
            .load_balancer_arn(arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(api("elbv2:DescribeListeners"))?;
        listeners.extend(found);
    }
    let owned = common::owned_by_tags(cx, listeners, Lst::listener_arn).await?;
    let observed = owned
        .into_iter()
        .map(|(logical, tags, l)| (logical, attrs_of(&l, tags)));
    Ok(observed.collect())
}

fn forward(want: &Attrs) -> Result<Action, AwsError> {
    Ok(Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(want.str("forward_to")?)
        .build())
}

fn port(logical: &str, want: &Attrs) -> Result<i32, AwsError> {
    i32::try_from(want.int("port")?)
        .map_err(|_| AwsError::Model(format!("{logical}: port out of range")))
}

#[async_trait]
impl Driver for Listener {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let kind = ResourceKind::Listener;
        Ok(owned(cx)
            .await?
            .into_iter()
            .map(|(logical, attrs)| (logical, Observed { kind, attrs }))
            .collect())
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .elbv2
            .create_listener()
            .load_balancer_arn(want.str("load_balancer_arn")?)
            .protocol(ProtocolEnum::from(want.str("protocol")?))
            .port(port(logical, want)?)
            .default_actions(forward(want)?)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("elbv2:CreateListener"));
        match created {
            Err(error) if error.code() == Some("DuplicateListener") => {
                // The port is taken: ours from a run that died is adopted, anyone else's is not.
                owned(cx)
                    .await?
                    .into_iter()
                    .find(|(l, _)| l == logical)
                    .map(|(_, attrs)| attrs)
                    .ok_or_else(|| {
                        let port = want.opt_int("port").unwrap_or_default().to_string();
                        tagging::not_ours_hinted(cx, "listener on port", &port, "delete it")
                    })
            }
            other => {
                let created = other?;
                let listener = created
                    .listeners()
                    .first()
                    .ok_or_else(|| missing("elbv2:CreateListener", logical, "listener"))?;
                Ok(attrs_of(listener, want.attr("tags")?.clone()))
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
        let arn = have.str("arn")?;
        let mut modify = cx.aws.elbv2.modify_listener().listener_arn(arn);
        let mut modified = false;
        for key in changed {
            modify = match key.as_str() {
                "port" => modify.port(port(logical, want)?),
                "protocol" => modify.protocol(ProtocolEnum::from(want.str("protocol")?)),
                "forward_to" => modify.default_actions(forward(want)?),
                "tags" => continue,
                other => return Err(not_in_place(logical, "listener", other)),
            };
            modified = true;
        }
        if modified {
            modify.send().await.map_err(api("elbv2:ModifyListener"))?;
        }
        if changed.iter().any(|c| c == "tags") {
            tagging::retag(&tagging::Elb, cx, arn, have, want).await?;
        }
        let mut out = have.clone();
        out.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .elbv2
            .delete_listener()
            .listener_arn(have.str("arn")?)
            .send()
            .await
            .map_err(api("elbv2:DeleteListener"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_to_the_wanted_target_group_on_a_port_in_range() {
        let want = Attrs::from([
            ("forward_to".to_string(), s("arn:tg")),
            ("port".to_string(), Attr::Int(80)),
        ]);
        let action = forward(&want).unwrap();
        assert_eq!(action.r#type(), Some(&ActionTypeEnum::Forward));
        assert_eq!(action.target_group_arn(), Some("arn:tg"));
        assert_eq!(port("l", &want).unwrap(), 80);
        let huge = Attrs::from([("port".to_string(), Attr::Int(1 << 40))]);
        assert!(port("l", &huge).is_err());
    }
}
