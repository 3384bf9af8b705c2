//! The gateway's ECS service on Fargate: awsvpc networking, behind the NLB's target group, with the
//! deployment circuit breaker; ready once its deployment has settled.

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentRolloutState, LaunchType, LoadBalancer, NetworkConfiguration, Service, ServiceField,
};

use super::lifecycle::Lifecycle;
use super::tagging::{self, claim, pairs};
use super::{ecs_common, Driver, Goal, Progress};
use crate::aws::attrs::{s, strs, Attrs, AttrsExt};
use crate::aws::{api, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct EcsService;

/// Active services roll out (see `rollout`); a deleted one stays listed as inactive a while.
const LIFECYCLE: Lifecycle = Lifecycle {
    gone: &["INACTIVE"],
    ..Lifecycle::ready_when("the service", &["ACTIVE"])
};

/// Attributes UpdateService changes in place (tags go through TagResource).
const UPDATABLE: &[&str] = &[
    "desired_count",
    "task_definition",
    "subnet_ids",
    "security_group_ids",
    "assign_public_ip",
    "load_balancer",
    "deployment_circuit_breaker",
];

fn count(logical: &str, want: &Attrs) -> Result<i32, AwsError> {
    let n = want.int("desired_count")?;
    i32::try_from(n).map_err(|_| AwsError::Model(format!("{logical}: desired_count {n}")))
}

/// The awsvpc network of a service (or a one-off task beside it) from its attributes.
pub fn network(logical: &str, want: &Attrs) -> Result<NetworkConfiguration, AwsError> {
    let public = if want.opt_bool("assign_public_ip").unwrap_or(false) {
        AssignPublicIp::Enabled
    } else {
        AssignPublicIp::Disabled
    };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(want.strs("subnet_ids")?))
        .set_security_groups(Some(want.strs("security_group_ids")?))
        .assign_public_ip(public)
        .build()
        .map_err(|e| AwsError::Model(format!("{logical}: {e}")))?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn load_balancers(logical: &str, want: &Attrs) -> Result<Vec<LoadBalancer>, AwsError> {
    let lb = want.map("load_balancer")?;
    if lb.is_empty() {
        return Ok(Vec::new());
    }
    let port = lb.int("container_port")?;
    let port = i32::try_from(port)
        .map_err(|_| AwsError::Model(format!("{logical}: container_port {port}")))?;
    Ok(vec![LoadBalancer::builder()
        .target_group_arn(lb.str("target_group_arn")?)
        .container_name(lb.str("container_name")?)
        .container_port(port)
        .build()])
}

fn deployment(want: &Attrs) -> Result<Option<DeploymentConfiguration>, AwsError> {
    let breaker = want.map("deployment_circuit_breaker")?;
    if breaker.is_empty() {
        return Ok(None);
    }
    let breaker = DeploymentCircuitBreaker::builder()
        .enable(breaker.opt_bool("enable").unwrap_or(false))
        .rollback(breaker.opt_bool("rollback").unwrap_or(false))
        .build();
    Ok(Some(
        DeploymentConfiguration::builder()
            .deployment_circuit_breaker(breaker)
            .build(),
    ))
}

/// A described service in the desired shape, plus `arn` and `status`.
fn attrs_of(service: &Service, tags: Attr) -> Attrs {
    let mut attrs = Attrs::new();
    let text = |v: Option<&str>| s(v.unwrap_or_default());
    attrs.insert("name".into(), text(service.service_name()));
    attrs.insert("arn".into(), text(service.service_arn()));
    attrs.insert("cluster".into(), text(service.cluster_arn()));
    attrs.insert("task_definition".into(), text(service.task_definition()));
    attrs.insert(
        "desired_count".into(),
        Attr::Int(service.desired_count().into()),
    );
    if let Some(launch) = service.launch_type() {
        attrs.insert("launch_type".into(), s(launch.as_str()));
    }
    if let Some(vpc) = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
    {
        attrs.insert("subnet_ids".into(), strs(vpc.subnets().iter().cloned()));
        let groups = vpc.security_groups().iter().cloned();
        attrs.insert("security_group_ids".into(), strs(groups));
        let public = vpc.assign_public_ip() == Some(&AssignPublicIp::Enabled);
        attrs.insert("assign_public_ip".into(), Attr::Bool(public));
    }
    if let Some(lb) = service.load_balancers().first() {
        let mut map = Attrs::new();
        map.insert("target_group_arn".into(), text(lb.target_group_arn()));
        map.insert("container_name".into(), text(lb.container_name()));
        if let Some(port) = lb.container_port() {
            map.insert("container_port".into(), Attr::Int(port.into()));
        }
        attrs.insert("load_balancer".into(), Attr::Map(map));
    }
    if let Some(breaker) = service
        .deployment_configuration()
        .and_then(|d| d.deployment_circuit_breaker())
    {
        let map = [
            ("enable".to_string(), Attr::Bool(breaker.enable())),
            ("rollback".to_string(), Attr::Bool(breaker.rollback())),
        ];
        attrs.insert("deployment_circuit_breaker".into(), Attr::Map(map.into()));
    }
    if let Some(version) = service.platform_version() {
        attrs.insert("platform_version".into(), s(version));
    }
    attrs.insert("status".into(), text(service.status()));
    attrs.insert("tags".into(), tags);
    attrs
}

/// Services of `cluster` by name or ARN (at most 10 per call), with tags.
async fn describe(cx: &Cx, cluster: &str, services: &[String]) -> Result<Vec<Service>, AwsError> {
    let found = cx
        .aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(services.to_vec()))
        .include(ServiceField::Tags)
        .send()
        .await
        .map_err(api("ecs:DescribeServices"));
    let found = crate::aws::found(found)?;
    Ok(found.map(|f| f.services().to_vec()).unwrap_or_default())
}

async fn describe_one(cx: &Cx, cluster: &str, service: &str) -> Result<Option<Service>, AwsError> {
    let found = describe(cx, cluster, &[service.to_string()]).await?;
    Ok(found.into_iter().next())
}

/// Whether the service's deployments have settled: one deployment, its
/// rollout completed (or, where the rollout state is not reported, as many tasks running as
/// desired). A rollout the circuit breaker failed is a failure even after the rollback completes.
fn rollout(service: &Service) -> Progress {
    let deployments = service.deployments();
    if let Some(failed) = deployments
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
    {
        let reason = failed.rollout_state_reason().unwrap_or("rollout failed");
        return Progress::Failed(format!("deployment rolled back: {reason}"));
    }
    let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
    let Some(primary) = primary else {
        return Progress::Pending("no primary deployment".into());
    };
    // An update's new deployment runs the new task definition at once, and a rolled-back one
    // shows up above as FAILED, so the definition itself is not compared (moto also leaves the
    // old one on its deployment).
    match primary.rollout_state() {
        Some(DeploymentRolloutState::Completed) if deployments.len() == 1 => {}
        Some(state) => return Progress::Pending(format!("rollout {}", state.as_str())),
        None if deployments.len() == 1 && service.running_count() == service.desired_count() => {}
        None => {
            return Progress::Pending(format!(
                "{} of {} tasks running",
                service.running_count(),
                service.desired_count()
            ))
        }
    }
    Progress::Done(None)
}

#[async_trait]
impl Driver for EcsService {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for (_, _, cluster) in ecs_common::owned_clusters(cx).await? {
            let Some(cluster) = cluster.cluster_arn() else {
                continue;
            };
            let arns: Vec<String> = cx
                .aws
                .ecs
                .list_services()
                .cluster(cluster)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(api("ecs:ListServices"))?;
            for batch in arns.chunks(10) {
                for service in describe(cx, cluster, batch).await? {
                    if service.status() != Some("ACTIVE") {
                        continue;
                    }
                    if let Some((logical, tags)) =
                        tagging::owned(&cx.stack, &tagging::pairs(service.tags()))
                    {
                        let attrs = attrs_of(&service, tags);
                        let kind = ResourceKind::EcsService;
                        out.push((logical, Observed { kind, attrs }));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let (cluster, name) = (want.str("cluster")?, want.str("name")?);
        if let Some(existing) = describe_one(cx, cluster, name).await? {
            // A run that died after CreateService: adopt the service only when it is ours.
            if existing.status() == Some("ACTIVE") {
                let tags = claim(cx, "ECS service", name, logical, &pairs(existing.tags()))?;
                return Ok(attrs_of(&existing, tags));
            }
        }
        let created = cx
            .aws
            .ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(want.str("task_definition")?)
            .desired_count(count(logical, want)?)
            .launch_type(LaunchType::from(want.str("launch_type")?))
            .network_configuration(network(logical, want)?)
            .set_load_balancers(Some(load_balancers(logical, want)?))
            .set_deployment_configuration(deployment(want)?)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(tagging::tags_of(want)))
            .send()
            .await
            .map_err(api("ecs:CreateService"))?;
        let service = created.service().ok_or_else(|| AwsError::Unexpected {
            operation: "ecs:CreateService",
            message: format!("{logical}: no service in the answer"),
        })?;
        let arn = service.service_arn().unwrap_or_default().to_string();
        let mut have = want.clone();
        have.insert("arn".into(), s(&arn));
        // Converge when the new service does not report the breaker asked for (AWS answers with
        // it; moto drops it on create and keeps it on update).
        let wanted = deployment(want)?.and_then(|d| d.deployment_circuit_breaker().cloned());
        let reported = service
            .deployment_configuration()
            .and_then(|d| d.deployment_circuit_breaker());
        if wanted.is_some() && wanted.as_ref() != reported {
            let changed = ["deployment_circuit_breaker".to_string()];
            return self.update(cx, logical, &have, want, &changed).await;
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
        if let Some(other) = changed
            .iter()
            .find(|c| *c != "tags" && !UPDATABLE.contains(&c.as_str()))
        {
            return Err(not_in_place(logical, "ecs service", other));
        }
        let has = |key: &str| changed.iter().any(|c| c == key);
        if changed.iter().any(|c| UPDATABLE.contains(&c.as_str())) {
            let mut call = cx
                .aws
                .ecs
                .update_service()
                .cluster(have.str("cluster")?)
                .service(arn);
            if has("desired_count") {
                call = call.desired_count(count(logical, want)?);
            }
            if has("task_definition") {
                call = call.task_definition(want.str("task_definition")?);
            }
            if has("subnet_ids") || has("security_group_ids") || has("assign_public_ip") {
                call = call.network_configuration(network(logical, want)?);
            }
            if has("load_balancer") {
                call = call.set_load_balancers(Some(load_balancers(logical, want)?));
            }
            if has("deployment_circuit_breaker") {
                call = call.set_deployment_configuration(deployment(want)?);
            }
            call.send().await.map_err(api("ecs:UpdateService"))?;
        }
        if has("tags") {
            tagging::retag(&tagging::Ecs, cx, arn, have, want).await?;
        }
        let mut out = want.clone();
        out.insert("arn".into(), s(arn));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let (cluster, arn) = (have.str("cluster")?, have.str("arn")?);
        let gone = |e: &AwsError| e.is_not_found() || e.code() == Some("ServiceNotActiveException");
        // Scaling to zero first stops the tasks in an orderly way (drained from the NLB).
        let scaled = cx
            .aws
            .ecs
            .update_service()
            .cluster(cluster)
            .service(arn)
            .desired_count(0)
            .send()
            .await
            .map_err(api("ecs:UpdateService"));
        match scaled {
            Err(error) if gone(&error) => return Ok(()),
            other => other.map(|_| ())?,
        }
        let deleted = cx
            .aws
            .ecs
            .delete_service()
            .cluster(cluster)
            .service(arn)
            .force(true)
            .send()
            .await
            .map_err(api("ecs:DeleteService"));
        match deleted {
            Err(error) if gone(&error) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let found = describe_one(cx, have.str("cluster")?, have.str("arn")?).await?;
        let progress = LIFECYCLE.progress(goal, found.as_ref().and_then(|s| s.status()));
        Ok(match (progress, goal, found) {
            // Active is not enough: the deployment must have rolled out.
            (Progress::Done(_), Goal::Ready, Some(service)) => rollout(&service),
            (other, _, _) => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn service_statuses() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("DRAINING")), "DRAINING");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("INACTIVE")), "done");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("DRAINING")), "DRAINING");
    }
}
