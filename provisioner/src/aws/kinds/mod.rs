//! One driver per resource kind, behind one trait: observe, create, update, delete, poll.
//!
//! A driver speaks [`Attrs`] in the shape `core::desired` builds for its kind (same keys), plus
//! what AWS computes (`id`, `arn`, endpoints) for others to reference. `observe` finds resources
//! through their ownership tags (or, for kinds without tags, a name or description that carries
//! the stack), so no state file is needed. Every driver file holds one kind.
//!
//! The parts every driver is built from: `tagging` (one `TagApi` per service in
//! `tag_services`, one `retag`, `owned`, and `claim`, the adopt-or-refuse check behind
//! `AwsError::NotOurs`), `lifecycle` (a kind's status strings as a table, read by `poll`), and
//! `crate::aws::{found, gone_ok}` for describes and deletes that may answer "not found". The
//! per-kind facts the pure core needs (order, dependencies, what forces a replacement, ...) are a
//! row in `core::kinds::SPECS`; adding a kind is a driver file here, a row in [`driver`]'s table,
//! and that row.

use async_trait::async_trait;

use super::attrs::Attrs;
use super::clients::Cx;
use super::error::AwsError;
use crate::core::{Observed, Resource, ResourceKind};
use subnet_group::SubnetGroup;

mod api_domain_name;
mod aurora_cluster;
mod aurora_instance;
mod cache_subnet_group;
mod data_common;
mod db_subnet_group;
mod dns_record;
mod ec2_common;
mod ec2_tags;
mod ecs_cluster;
mod ecs_common;
mod ecs_service;
mod edge_common;
mod elastic_ip;
mod health_check;
mod http_api;
mod iam_role;
mod internet_gateway;
mod lambda_permission;
mod lifecycle;
mod listener;
mod load_balancer;
mod log_group;
mod nat_gateway;
mod replication_group;
mod route_table;
mod scalable_target;
mod scaling_policy;
mod secret;
mod security_group;
mod security_group_rule;
mod subnet;
mod subnet_group;
mod tag_services;
mod tagging;
mod target_group;
mod task_definition;
mod vpc;

/// What a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Usable by what depends on it (available, active, in sync, steady).
    Ready,
    /// Fully gone, so what it depended on can be deleted.
    Gone,
}

/// One poll's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Reached the goal; for `Ready`, the freshest observed attributes (endpoints filled in).
    Done(Option<Attrs>),
    /// Not yet; the status AWS reports, for the progress display.
    Pending(String),
    /// Will never reach the goal (e.g. a deployment rolled back); the reason.
    Failed(String),
}

/// How one kind is read, created, changed and removed.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Every resource of this kind that belongs to `cx.stack`, keyed by logical name, in the shape
    /// of desired attributes (plus `tags` with the ownership tags, and computed ids). `desired`
    /// holds this stack's wanted resources of this kind, for kinds found by name rather than tag.
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError>;

    /// Creates the resource from desired attributes whose references are resolved; returns the
    /// observed attributes (at least what others reference: `id`, `arn`, names).
    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError>;

    /// Changes in place the attributes named in `changed`; `have` is the observed form (ids).
    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError>;

    /// Deletes it; a resource already gone is success.
    async fn delete(&self, cx: &Cx, logical: &str, have: &Attrs) -> Result<(), AwsError>;

    /// One look at whether `have` reached `goal`. Kinds that are ready at once keep the default.
    async fn poll(&self, _cx: &Cx, _have: &Attrs, _goal: Goal) -> Result<Progress, AwsError> {
        Ok(Progress::Done(None))
    }
}

/// The driver of `kind`.
/// The awsvpc network of the gateway service, for one-off tasks run beside it (deploy).
pub use ecs_service::network as service_network;
/// The active revisions of a task definition family, for the deploy that retires old ones.
pub use task_definition::active_revisions;

pub fn driver(kind: ResourceKind) -> &'static dyn Driver {
    use ResourceKind as K;
    match kind {
        K::Vpc => &vpc::Vpc,
        K::Subnet => &subnet::Subnet,
        K::InternetGateway => &internet_gateway::InternetGateway,
        K::ElasticIp => &elastic_ip::ElasticIp,
        K::NatGateway => &nat_gateway::NatGateway,
        K::RouteTable => &route_table::RouteTable,
        K::SecurityGroup => &security_group::SecurityGroup,
        K::SecurityGroupRule => &security_group_rule::SecurityGroupRule,
        K::Secret => &secret::Secret,
        K::DbSubnetGroup => &SubnetGroup(db_subnet_group::RdsGroups),
        K::AuroraCluster => &aurora_cluster::AuroraCluster,
        K::AuroraInstance => &aurora_instance::AuroraInstance,
        K::CacheSubnetGroup => &SubnetGroup(cache_subnet_group::CacheGroups),
        K::ReplicationGroup => &replication_group::ReplicationGroup,
        K::EcsCluster => &ecs_cluster::EcsCluster,
        K::IamRole => &iam_role::IamRole,
        K::LogGroup => &log_group::LogGroup,
        K::TaskDefinition => &task_definition::TaskDefinition,
        K::LoadBalancer => &load_balancer::LoadBalancer,
        K::TargetGroup => &target_group::TargetGroup,
        K::Listener => &listener::Listener,
        K::EcsService => &ecs_service::EcsService,
        K::ScalableTarget => &scalable_target::ScalableTarget,
        K::ScalingPolicy => &scaling_policy::ScalingPolicy,
        K::HealthCheck => &health_check::HealthCheck,
        K::DnsRecord => &dns_record::DnsRecord,
        K::HttpApi => &http_api::HttpApi,
        K::ApiDomainName => &api_domain_name::ApiDomainName,
        K::LambdaPermission => &lambda_permission::LambdaPermission,
    }
}
