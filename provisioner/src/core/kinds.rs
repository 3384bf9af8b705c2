//! One row of facts per resource kind (order, dependencies, what forces a replacement, what AWS
//! computes or fills in, typical create time), so adding a kind is one row here plus its driver.

use super::resource::{Attr, ResourceKind};

/// Which attribute changes cannot be made in place (the resource is destroyed and created).
#[derive(Debug, Clone, Copy)]
pub enum Replace {
    /// These attributes.
    Fields(&'static [&'static str]),
    /// Every attribute but `tags` (an immutable revision, e.g. a task definition).
    AllButTags,
}

/// A value AWS fills in when we send none, as a constant.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

impl DefaultValue {
    pub fn attr(self) -> Attr {
        match self {
            DefaultValue::Bool(b) => Attr::Bool(b),
            DefaultValue::Int(i) => Attr::Int(i),
            DefaultValue::Str(s) => Attr::Str(s.to_string()),
        }
    }
}

/// Everything the pure core knows about one kind.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    pub kind: ResourceKind,
    /// Kinds a resource of this kind may depend on (directly). Deleting observed resources that
    /// are in no desired graph (leftovers, `destroy`) follows this in reverse.
    pub depends_on: &'static [ResourceKind],
    pub replace: Replace,
    /// Created before the old one is deleted on a replacement (the name does not collide and
    /// dependents keep working meanwhile); other kinds are deleted, then created.
    pub create_before_destroy: bool,
    /// Attributes AWS computes (besides `id` and `arn`): never diffed.
    pub computed: &'static [&'static str],
    /// Attributes AWS takes on create but never reports back: never diffed.
    pub write_only: &'static [&'static str],
    /// Values AWS fills in when we send none; equal to absent when diffing.
    pub defaults: &'static [(&'static str, DefaultValue)],
    /// Typical seconds AWS takes to create one, mid-range of public apply logs (aws-facts.md).
    pub typical_create_seconds: f64,
    /// Takes tags; the others carry ownership in their name or description.
    pub taggable: bool,
    /// Attributes another resource takes over once one of the given kind depends on this one
    /// (a scalable target scaling a service's task count): sent on create, never diffed after;
    /// a value that moved shows in the plan as a note.
    pub yields: &'static [(&'static str, ResourceKind)],
    /// Seconds after its create during which EC2 may still answer `NotFound` for a new one (its
    /// reads are eventually consistent); such answers are retried within the window.
    pub not_found_window: f64,
    /// Longest wait, in seconds, for one to become ready or gone before giving up.
    pub wait_timeout_seconds: u64,
}

// `not_found_window`: EC2 kinds only; a minute or two, as terraform-provider-aws retries these
// NotFound answers for a bounded time after create (hashicorp/terraform-provider-aws #5529,
// #20454, #21628); NAT gateways, route tables and security groups are the slowest to be seen.

/// The common case, for rows to start from.
const BASE: KindSpec = KindSpec {
    kind: ResourceKind::Vpc,
    depends_on: &[],
    replace: Replace::Fields(&[]),
    create_before_destroy: false,
    computed: &[],
    write_only: &[],
    defaults: &[],
    typical_create_seconds: 1.0,
    taggable: true,
    yields: &[],
    not_found_window: 0.0,
    wait_timeout_seconds: 300,
};

use DefaultValue::{Bool, Int, Str};
use Replace::Fields;
use ResourceKind::*;

/// Every kind, in an order where each kind comes after the kinds it may depend on.
pub const SPECS: [KindSpec; 29] = [
    KindSpec {
        kind: Vpc,
        replace: Fields(&["cidr_block"]),
        defaults: &[("instance_tenancy", Str("default"))],
        typical_create_seconds: 10.0,
        not_found_window: 60.0,
        ..BASE
    },
    KindSpec {
        kind: InternetGateway,
        depends_on: &[Vpc],
        not_found_window: 60.0,
        ..BASE
    },
    KindSpec {
        kind: Subnet,
        depends_on: &[Vpc],
        replace: Fields(&["cidr_block", "availability_zone", "vpc_id"]),
        defaults: &[("map_public_ip_on_launch", Bool(false))],
        typical_create_seconds: 8.0,
        not_found_window: 60.0,
        ..BASE
    },
    KindSpec {
        kind: ElasticIp,
        computed: &["public_ip"],
        not_found_window: 60.0,
        ..BASE
    },
    KindSpec {
        kind: NatGateway,
        depends_on: &[Subnet, ElasticIp, InternetGateway],
        replace: Fields(&["subnet_id", "allocation_id"]),
        computed: &["state"],
        typical_create_seconds: 105.0,
        not_found_window: 120.0,
        // Public apply logs show 1.5-2 minutes to create and about as long to delete.
        wait_timeout_seconds: 600,
        ..BASE
    },
    KindSpec {
        kind: RouteTable,
        depends_on: &[Vpc, InternetGateway, NatGateway, Subnet],
        replace: Fields(&["vpc_id"]),
        not_found_window: 120.0,
        ..BASE
    },
    KindSpec {
        kind: SecurityGroup,
        depends_on: &[Vpc],
        replace: Fields(&["name", "description", "vpc_id"]),
        typical_create_seconds: 5.0,
        not_found_window: 120.0,
        ..BASE
    },
    KindSpec {
        kind: SecurityGroupRule,
        depends_on: &[SecurityGroup],
        replace: Fields(&[
            "group_id",
            "direction",
            "protocol",
            "from_port",
            "to_port",
            "source_group_id",
            "cidr",
        ]),
        taggable: false,
        ..BASE
    },
    KindSpec {
        kind: Secret,
        replace: Fields(&["name"]),
        write_only: &["generate_length", "exclude_punctuation", "value"],
        ..BASE
    },
    KindSpec {
        kind: DbSubnetGroup,
        depends_on: &[Subnet],
        replace: Fields(&["name"]),
        ..BASE
    },
    KindSpec {
        kind: AuroraCluster,
        depends_on: &[DbSubnetGroup, SecurityGroup, Secret],
        replace: Fields(&[
            "cluster_identifier",
            "engine",
            "database_name",
            "master_username",
        ]),
        computed: &["endpoint", "reader_endpoint", "status"],
        write_only: &["master_password", "final_snapshot_identifier"],
        defaults: &[("port", Int(5432))],
        typical_create_seconds: 60.0,
        wait_timeout_seconds: 45 * 60,
        ..BASE
    },
    KindSpec {
        kind: AuroraInstance,
        depends_on: &[AuroraCluster],
        replace: Fields(&["identifier", "cluster_identifier", "engine"]),
        computed: &["endpoint", "status"],
        typical_create_seconds: 720.0,
        wait_timeout_seconds: 45 * 60,
        ..BASE
    },
    KindSpec {
        kind: CacheSubnetGroup,
        depends_on: &[Subnet],
        replace: Fields(&["name"]),
        ..BASE
    },
    KindSpec {
        kind: ReplicationGroup,
        depends_on: &[CacheSubnetGroup, SecurityGroup],
        replace: Fields(&["replication_group_id", "engine", "subnet_group_name"]),
        computed: &["primary_endpoint", "status"],
        defaults: &[("port", Int(6379))],
        typical_create_seconds: 300.0,
        wait_timeout_seconds: 30 * 60,
        ..BASE
    },
    KindSpec {
        kind: EcsCluster,
        replace: Fields(&["name"]),
        ..BASE
    },
    KindSpec {
        kind: IamRole,
        depends_on: &[Secret],
        replace: Fields(&["name", "path"]),
        ..BASE
    },
    KindSpec {
        kind: LogGroup,
        replace: Fields(&["name"]),
        ..BASE
    },
    KindSpec {
        kind: TaskDefinition,
        depends_on: &[IamRole, LogGroup, AuroraCluster, ReplicationGroup, Secret],
        // A revision is immutable: any change registers a new one.
        replace: Replace::AllButTags,
        create_before_destroy: true,
        computed: &["revision"],
        ..BASE
    },
    KindSpec {
        kind: LoadBalancer,
        depends_on: &[Subnet, SecurityGroup, InternetGateway],
        replace: Fields(&["name", "type", "scheme"]),
        computed: &["dns_name", "canonical_hosted_zone_id", "state"],
        typical_create_seconds: 155.0,
        // Provisioning an NLB takes 2-3 minutes; allow for a slow region.
        wait_timeout_seconds: 15 * 60,
        ..BASE
    },
    KindSpec {
        kind: TargetGroup,
        depends_on: &[Vpc],
        replace: Fields(&["name", "port", "protocol", "target_type", "vpc_id"]),
        typical_create_seconds: 0.0,
        ..BASE
    },
    KindSpec {
        kind: Listener,
        depends_on: &[LoadBalancer, TargetGroup],
        replace: Fields(&["load_balancer_arn"]),
        typical_create_seconds: 0.0,
        ..BASE
    },
    KindSpec {
        kind: EcsService,
        depends_on: &[
            EcsCluster,
            TaskDefinition,
            TargetGroup,
            Listener,
            Subnet,
            SecurityGroup,
            AuroraInstance,
            ReplicationGroup,
        ],
        replace: Fields(&["name", "cluster", "launch_type"]),
        defaults: &[("platform_version", Str("LATEST"))],
        // Includes its steady state behind the NLB (30 s x 5).
        typical_create_seconds: 151.0,
        // Autoscaling moves the task count under load; `up` must not move it back.
        yields: &[("desired_count", ScalableTarget)],
        // A deployment behind a load balancer waits for health checks (30 s x 5 by default) per task.
        wait_timeout_seconds: 20 * 60,
        ..BASE
    },
    KindSpec {
        kind: ScalableTarget,
        depends_on: &[EcsService],
        replace: Fields(&["resource_id", "scalable_dimension"]),
        taggable: false,
        ..BASE
    },
    KindSpec {
        kind: ScalingPolicy,
        depends_on: &[ScalableTarget],
        replace: Fields(&["name", "resource_id"]),
        taggable: false,
        ..BASE
    },
    KindSpec {
        kind: HealthCheck,
        depends_on: &[LoadBalancer],
        replace: Fields(&["request_interval", "type"]),
        defaults: &[("failure_threshold", Int(3))],
        typical_create_seconds: 5.0,
        ..BASE
    },
    KindSpec {
        kind: HttpApi,
        replace: Fields(&["protocol_type"]),
        computed: &["api_endpoint"],
        typical_create_seconds: 5.0,
        ..BASE
    },
    KindSpec {
        kind: LambdaPermission,
        depends_on: &[HttpApi],
        replace: Fields(&["function", "principal", "source_arn", "statement_id"]),
        taggable: false,
        ..BASE
    },
    KindSpec {
        kind: ApiDomainName,
        depends_on: &[HttpApi],
        replace: Fields(&["domain_name"]),
        computed: &["regional_domain_name", "regional_hosted_zone_id"],
        typical_create_seconds: 5.0,
        ..BASE
    },
    KindSpec {
        kind: DnsRecord,
        depends_on: &[LoadBalancer, HealthCheck, ApiDomainName, EcsService],
        replace: Fields(&["zone", "name", "type", "set_identifier"]),
        typical_create_seconds: 45.0,
        taggable: false,
        ..BASE
    },
];

/// Row of each kind, by the kind's position in its enum; built (and checked: one row per kind,
/// each after the kinds it depends on) when compiling.
const ROW: [usize; SPECS.len()] = {
    let mut row = [usize::MAX; SPECS.len()];
    let mut i = 0;
    while i < SPECS.len() {
        let spec = &SPECS[i];
        assert!(row[spec.kind as usize] == usize::MAX, "a kind has two rows");
        let mut d = 0;
        while d < spec.depends_on.len() {
            let dep = spec.depends_on[d] as usize;
            assert!(
                row[dep] != usize::MAX,
                "a kind comes before what it depends on"
            );
            d += 1;
        }
        row[spec.kind as usize] = i;
        i += 1;
    }
    row
};

/// The row of `kind`.
pub fn spec(kind: ResourceKind) -> &'static KindSpec {
    &SPECS[ROW[kind as usize]]
}

/// Every kind in table order.
pub const ALL: [ResourceKind; SPECS.len()] = {
    let mut all = [ResourceKind::Vpc; SPECS.len()];
    let mut i = 0;
    while i < SPECS.len() {
        all[i] = SPECS[i].kind;
        i += 1;
    }
    all
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_found_by_its_kind() {
        for row in &SPECS {
            assert_eq!(spec(row.kind).kind, row.kind);
        }
        assert_eq!(ALL.len(), SPECS.len());
    }

    #[test]
    fn rows_answer_for_their_kind() {
        assert!(TaskDefinition.forces_replacement("image"));
        assert!(!TaskDefinition.forces_replacement("tags"));
        assert!(Subnet.forces_replacement("cidr_block"));
        assert!(AuroraCluster.is_computed("endpoint") && Vpc.is_computed("arn"));
        assert_eq!(
            Vpc.defaults(),
            [("instance_tenancy", Attr::Str("default".into()))]
        );
        assert!(Vpc.is_needed_by(DnsRecord) && !DnsRecord.is_needed_by(Vpc));
    }

    #[test]
    fn slow_kinds_wait_longer_than_the_default() {
        use std::time::Duration;
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(Vpc.wait_timeout(), minutes(5));
        assert_eq!(AuroraCluster.wait_timeout(), minutes(45));
        assert_eq!(AuroraInstance.wait_timeout(), minutes(45));
        assert_eq!(ReplicationGroup.wait_timeout(), minutes(30));
        assert_eq!(EcsService.wait_timeout(), minutes(20));
        assert_eq!(LoadBalancer.wait_timeout(), minutes(15));
        assert_eq!(NatGateway.wait_timeout(), minutes(10));
    }
}
