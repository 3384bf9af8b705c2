//! The service's task count as an Application Auto Scaling target (min and max tasks).
//!
//! Ownership lies in the resource id: `service/<cluster>/<service>`, and the stack's cluster is
//! named after the stack. Tags are sent and read back where the service supports them.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    ScalableDimension, ScalableTarget as AwsTarget, ServiceNamespace,
};

use super::tagging::{owned, retag, AutoScaling, Pairs, TagApi};
use super::Driver;
use crate::aws::attrs::{s, synthetic_tags, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct ScalableTarget;

/// Whether an ECS resource id (`service/<cluster>/<service>`) is in the stack's cluster.
pub fn in_stack_cluster(stack: &str, resource_id: &str) -> bool {
    resource_id
        .strip_prefix("service/")
        .and_then(|rest| rest.strip_prefix(stack))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The stack's ECS scalable targets.
async fn targets(cx: &Cx) -> Result<Vec<AwsTarget>, AwsError> {
    let all: Vec<AwsTarget> = cx
        .aws
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("application-autoscaling:DescribeScalableTargets"))?;
    Ok(all
        .into_iter()
        .filter(|t| in_stack_cluster(&cx.stack, t.resource_id()))
        .collect())
}

/// The target's tags; `None` when they cannot be read (tags are informational here, ownership
/// comes from the resource id), throttling excepted.
async fn tags_of(cx: &Cx, target: &AwsTarget) -> Result<Option<Pairs>, AwsError> {
    let Some(arn) = target.scalable_target_arn() else {
        return Ok(None);
    };
    match AutoScaling.list(cx, arn).await {
        Ok(pairs) => Ok(Some(pairs)),
        Err(error) if error.is_throttling() => Err(error),
        Err(_) => Ok(None),
    }
}

async fn observed(
    cx: &Cx,
    target: &AwsTarget,
    desired: &[&Resource],
) -> Result<(String, Attrs), AwsError> {
    let id = target.resource_id();
    let pairs = tags_of(cx, target).await?.unwrap_or_default();
    let owner = owned(&cx.stack, &pairs);
    let logical = desired
        .iter()
        .find(|r| r.attrs.opt_str("resource_id") == Some(id))
        .map(|r| r.logical.clone())
        .or_else(|| owner.as_ref().map(|(logical, _)| logical.clone()))
        .unwrap_or_else(|| format!("scaling.target:{id}"));
    let tags = match owner {
        Some((_, tags)) => tags,
        None => synthetic_tags(&cx.stack, &logical),
    };
    let mut attrs = Attrs::new();
    attrs.insert("resource_id".into(), s(id));
    let dimension = target.scalable_dimension().as_str();
    attrs.insert("scalable_dimension".into(), s(dimension));
    attrs.insert(
        "min_capacity".into(),
        Attr::Int(target.min_capacity().into()),
    );
    attrs.insert(
        "max_capacity".into(),
        Attr::Int(target.max_capacity().into()),
    );
    if let Some(arn) = target.scalable_target_arn() {
        attrs.insert("arn".into(), s(arn));
    }
    attrs.insert("tags".into(), tags);
    Ok((logical, attrs))
}

fn capacity(logical: &str, want: &Attrs, key: &str) -> Result<i32, AwsError> {
    let n = want.int(key)?;
    i32::try_from(n).map_err(|_| AwsError::Model(format!("{logical}: {key} {n} is out of range")))
}

/// Registers (or re-registers: the same call updates) the target with the wanted capacities.
async fn register(
    cx: &Cx,
    logical: &str,
    want: &Attrs,
    tagged: bool,
) -> Result<Option<String>, AwsError> {
    let mut call = cx
        .aws
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(want.str("resource_id")?)
        .scalable_dimension(ScalableDimension::from(want.str("scalable_dimension")?))
        .min_capacity(capacity(logical, want, "min_capacity")?)
        .max_capacity(capacity(logical, want, "max_capacity")?);
    if tagged {
        for (k, v) in want.tag_pairs() {
            call = call.tags(k, v);
        }
    }
    let answer = call
        .send()
        .await
        .map_err(api("application-autoscaling:RegisterScalableTarget"))?;
    Ok(answer.scalable_target_arn().map(str::to_string))
}

#[async_trait]
impl Driver for ScalableTarget {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for target in targets(cx).await? {
            let (logical, attrs) = observed(cx, &target, desired).await?;
            let kind = ResourceKind::ScalableTarget;
            out.push((logical, Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let arn = register(cx, logical, want, true).await?;
        let mut have = want.clone();
        if let Some(arn) = arn {
            have.insert("arn".into(), s(arn));
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
        for key in changed {
            if !matches!(key.as_str(), "min_capacity" | "max_capacity" | "tags") {
                return Err(not_in_place(logical, "scalable target", key));
            }
        }
        if changed.iter().any(|c| c != "tags") {
            register(cx, logical, want, false).await?;
        }
        if changed.iter().any(|c| c == "tags") {
            retag(&AutoScaling, cx, have.str("arn")?, have, want).await?;
        }
        let mut out = want.clone();
        if let Some(arn) = have.get("arn") {
            out.insert("arn".into(), arn.clone());
        }
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let id = have.str("resource_id")?;
        let dimension = have.str("scalable_dimension")?;
        // Deregistering an unknown target is a ValidationException: look first.
        let present = targets(cx)
            .await?
            .iter()
            .any(|t| t.resource_id() == id && t.scalable_dimension().as_str() == dimension);
        if !present {
            return Ok(());
        }
        let result = cx
            .aws
            .autoscaling
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::from(dimension))
            .send()
            .await
            .map_err(api("application-autoscaling:DeregisterScalableTarget"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_services_of_the_stack_cluster_are_ours() {
        assert!(in_stack_cluster("demo", "service/demo/gateway"));
        assert!(!in_stack_cluster("demo", "service/demo-2/gateway"));
        assert!(!in_stack_cluster("demo", "table/demo"));
    }
}
