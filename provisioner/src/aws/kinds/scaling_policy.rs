//! Target tracking on one predefined ECS metric (average CPU): keeps the metric near a value.
//!
//! Scaling policies take no tags: a policy is ours when it scales a service in the stack's cluster
//! and its name starts with the stack's name.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension,
    ScalingPolicy as AwsPolicy, ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};

use super::scalable_target::in_stack_cluster;
use super::Driver;
use crate::aws::attrs::{s, synthetic_tags, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct ScalingPolicy;

/// The only dimension a policy on an ECS service scales.
const DIMENSION: &str = "ecs:service:DesiredCount";

async fn policies(cx: &Cx) -> Result<Vec<AwsPolicy>, AwsError> {
    let all: Vec<AwsPolicy> = cx
        .aws
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("application-autoscaling:DescribeScalingPolicies"))?;
    Ok(all
        .into_iter()
        .filter(|p| {
            in_stack_cluster(&cx.stack, p.resource_id()) && p.policy_name().starts_with(&cx.stack)
        })
        .collect())
}

fn attrs_of(policy: &AwsPolicy) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), s(policy.policy_name()));
    attrs.insert("resource_id".into(), s(policy.resource_id()));
    attrs.insert("arn".into(), s(policy.policy_arn()));
    if let Some(config) = policy.target_tracking_scaling_policy_configuration() {
        attrs.insert("target_value".into(), Attr::Float(config.target_value()));
        if let Some(metric) = config.predefined_metric_specification() {
            let metric = metric.predefined_metric_type().as_str();
            attrs.insert("metric".into(), s(metric));
        }
    }
    attrs
}

async fn put(cx: &Cx, logical: &str, want: &Attrs) -> Result<String, AwsError> {
    let bad = |e: aws_smithy_types::error::operation::BuildError| {
        AwsError::Model(format!("{logical}: {e}"))
    };
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::from(want.str("metric")?))
        .build()
        .map_err(bad)?;
    let config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(want.float("target_value")?)
        .predefined_metric_specification(metric)
        .build()
        .map_err(bad)?;
    let answer = cx
        .aws
        .autoscaling
        .put_scaling_policy()
        .policy_name(want.str("name")?)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(want.str("resource_id")?)
        .scalable_dimension(ScalableDimension::from(DIMENSION))
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config)
        .send()
        .await
        .map_err(api("application-autoscaling:PutScalingPolicy"))?;
    Ok(answer.policy_arn().to_string())
}

#[async_trait]
impl Driver for ScalingPolicy {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for policy in policies(cx).await? {
            let name = policy.policy_name();
            let logical = desired
                .iter()
                .find(|r| r.attrs.opt_str("name") == Some(name))
                .map(|r| r.logical.clone())
                .unwrap_or_else(|| format!("scaling.policy:{name}"));
            let mut attrs = attrs_of(&policy);
            attrs.insert("tags".into(), synthetic_tags(&cx.stack, &logical));
            let kind = ResourceKind::ScalingPolicy;
            out.push((logical, Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let arn = put(cx, logical, want).await?;
        let mut have = want.clone();
        have.insert("arn".into(), s(arn));
        Ok(have)
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        _have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        if let Some(other) = changed
            .iter()
            .find(|c| !matches!(c.as_str(), "metric" | "target_value"))
        {
            return Err(not_in_place(logical, "scaling policy", other));
        }
        // PutScalingPolicy on an existing name replaces its configuration.
        self.create(cx, logical, want).await
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let (name, id) = (have.str("name")?, have.str("resource_id")?);
        // Deleting an unknown policy is a ValidationException: look first.
        let present = policies(cx)
            .await?
            .iter()
            .any(|p| p.policy_name() == name && p.resource_id() == id);
        if !present {
            return Ok(());
        }
        let result = cx
            .aws
            .autoscaling
            .delete_scaling_policy()
            .policy_name(name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::from(DIMENSION))
            .send()
            .await
            .map_err(api("application-autoscaling:DeleteScalingPolicy"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_policy_reads_its_target_tracking() {
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(60.0)
            .predefined_metric_specification(
                PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let policy = AwsPolicy::builder()
            .policy_arn("arn:policy")
            .policy_name("demo-cpu")
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/demo/gateway")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .target_tracking_scaling_policy_configuration(config)
            .build()
            .unwrap();
        let attrs = attrs_of(&policy);
        assert_eq!(attrs["target_value"], Attr::Float(60.0));
        assert_eq!(attrs["metric"], s("ECSServiceAverageCPUUtilization"));
        assert_eq!(attrs["resource_id"], s("service/demo/gateway"));
    }
}
