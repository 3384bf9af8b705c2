//! The gateway on ECS Fargate: cluster, roles, logs, ARM64 task definition, NLB and the service.

use super::network::Net;
use super::{data, int, list, map, r, s, Builder, LISTENER_PORT, PROXY_PORT};
use crate::core::resource::{Attr, ResourceKind as K};
use crate::stack::Architecture;

pub fn add(b: &mut Builder, net: &Net) {
    b.add(
        K::EcsCluster,
        "ecs.cluster",
        vec![("name", s(b.name("")))],
        &[],
    );
    let trust = s("ecs-tasks.amazonaws.com");
    b.add(
        K::IamRole,
        "iam.execution_role",
        vec![
            ("name", s(b.name("-task-execution"))),
            ("assume_role_service", trust.clone()),
            (
                "managed_policies",
                list([s(
                    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                )]),
            ),
            // The execution role injects the secrets at container start, so it must read them.
            ("secret_read_arns", list(secret_arns(b))),
        ],
        &[],
    );
    b.add(
        K::IamRole,
        "iam.task_role",
        vec![("name", s(b.name("-task"))), ("assume_role_service", trust)],
        &[],
    );
    b.add(
        K::LogGroup,
        "logs.gateway",
        vec![
            ("name", s(format!("/ecs/{}", b.name("-gateway")))),
            ("retention_days", int(30)),
        ],
        &[],
    );
    task_definition(b);
    load_balancer(b, net);
    ecs_service(b, net);
}

/// The gateway container: Kong's environment, the DB password from Secrets Manager, and
/// `gateway health` as its health check.
fn container(b: &Builder) -> Attr {
    let gw = &b.stack.gateway;
    let mut environment: Vec<(String, Attr)> = gw
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), s(v)))
        .collect();
    environment.extend([
        ("KONG_DATABASE".to_string(), s("postgres")),
        ("KONG_PG_HOST".to_string(), r("aurora.cluster", "endpoint")),
        ("KONG_PG_USER".to_string(), s(data::DB_USER)),
        ("KONG_PG_DATABASE".to_string(), s(data::DB_NAME)),
        (
            "KONG_PROXY_LISTEN".to_string(),
            s(format!("0.0.0.0:{PROXY_PORT}")),
        ),
        (
            "KONG_ADMIN_LISTEN".to_string(),
            s(format!("127.0.0.1:{}", super::ADMIN_PORT)),
        ),
        (
            "GATEWAY_REDIS_HOST".to_string(),
            r("redis", "primary_endpoint"),
        ),
    ]);
    let mut secrets = vec![secret_entry(
        "KONG_PG_PASSWORD",
        Attr::Ref(data::secret_ref()),
    )];
    if gw.config.is_some() {
        secrets.push(secret_entry(
            crate::core::gateway_contract::ADMIN_KEY_ENV,
            r(data::ADMIN_KEY_SECRET, "arn"),
        ));
    }
    secrets.extend(
        gw.secrets
            .iter()
            .map(|(name, arn)| secret_entry(name, s(arn))),
    );
    map(vec![
        ("name", s("gateway")),
        ("image", s(&gw.image)),
        ("essential", Attr::Bool(true)),
        ("port_mappings", list([int(PROXY_PORT)])),
        ("environment", Attr::Map(environment.into_iter().collect())),
        ("secrets", list(secrets)),
        (
            "health_check",
            map(vec![(
                "command",
                list([s("CMD"), s("gateway"), s("health")]),
            )]),
        ),
        ("log_group", r("logs.gateway", "name")),
    ])
}

fn task_definition(b: &mut Builder) {
    let gw = &b.stack.gateway;
    let container = container(b);
    let arch = match gw.architecture {
        Architecture::Arm64 => "ARM64",
        Architecture::X86_64 => "X86_64",
    };
    b.add(
        K::TaskDefinition,
        "task_def.gateway",
        vec![
            ("family", s(b.name("-gateway"))),
            ("cpu", int(gw.cpu)),
            ("memory", int(gw.memory)),
            ("network_mode", s("awsvpc")),
            ("requires_compatibilities", list([s("FARGATE")])),
            (
                "runtime_platform",
                map(vec![
                    ("cpu_architecture", s(arch)),
                    ("operating_system_family", s("LINUX")),
                ]),
            ),
            ("execution_role_arn", r("iam.execution_role", "arn")),
            ("task_role_arn", r("iam.task_role", "arn")),
            ("containers", list([container])),
        ],
        &[],
    );
}

/// Every secret the tasks receive, which the execution role must be allowed to read: the
/// generated ones and the stack's own `[gateway.secrets]` (a Secrets Manager `valueFrom` with a
/// JSON key or version names its secret by the ARN's first seven fields).
fn secret_arns(b: &Builder) -> Vec<Attr> {
    let mut arns = vec![Attr::Ref(data::secret_ref())];
    if b.stack.gateway.config.is_some() {
        arns.push(r(data::ADMIN_KEY_SECRET, "arn"));
    }
    let mut own: Vec<String> = b
        .stack
        .gateway
        .secrets
        .values()
        .map(|value_from| match value_from.split(':').nth(2) {
            Some("secretsmanager") => value_from.split(':').take(7).collect::<Vec<_>>().join(":"),
            _ => value_from.clone(),
        })
        .collect();
    own.sort();
    own.dedup();
    arns.extend(own.into_iter().map(s));
    arns
}

fn secret_entry(name: &str, value_from: Attr) -> Attr {
    map(vec![("name", s(name)), ("value_from", value_from)])
}

fn load_balancer(b: &mut Builder, net: &Net) {
    let public = net.public_subnets.iter().map(|l| r(l, "id"));
    b.add(
        K::LoadBalancer,
        "nlb",
        vec![
            ("name", s(b.name("-nlb"))),
            ("type", s("network")),
            ("scheme", s("internet-facing")),
            ("subnet_ids", list(public)),
            ("security_group_ids", list([r("sg.nlb", "id")])),
        ],
        &[],
    );
    b.add(
        K::TargetGroup,
        "target_group.gateway",
        vec![
            ("name", s(b.name("-gw"))),
            ("protocol", s("TCP")),
            ("port", int(PROXY_PORT)),
            ("target_type", s("ip")),
            ("vpc_id", r("vpc", "id")),
        ],
        &[],
    );
    b.add(
        K::Listener,
        "listener.tcp",
        vec![
            ("load_balancer_arn", r("nlb", "arn")),
            ("protocol", s("TCP")),
            ("port", int(LISTENER_PORT)),
            ("forward_to", r("target_group.gateway", "arn")),
        ],
        &[],
    );
}

fn ecs_service(b: &mut Builder, net: &Net) {
    let private = net.private_subnets.iter().map(|l| r(l, "id"));
    let count = b.stack.gateway.desired_count;
    b.add(
        K::EcsService,
        "service.gateway",
        vec![
            ("name", s(b.name("-gateway"))),
            ("cluster", r("ecs.cluster", "arn")),
            ("task_definition", r("task_def.gateway", "arn")),
            ("desired_count", int(count)),
            ("launch_type", s("FARGATE")),
            ("subnet_ids", list(private)),
            ("security_group_ids", list([r("sg.gateway", "id")])),
            ("assign_public_ip", Attr::Bool(false)),
            (
                "load_balancer",
                map(vec![
                    ("target_group_arn", r("target_group.gateway", "arn")),
                    ("container_name", s("gateway")),
                    ("container_port", int(PROXY_PORT)),
                ]),
            ),
            (
                "deployment_circuit_breaker",
                map(vec![
                    ("enable", Attr::Bool(true)),
                    ("rollback", Attr::Bool(true)),
                ]),
            ),
        ],
        // Tasks start only once their database writer, cache and listener exist.
        &["aurora.writer", "redis", "listener.tcp"],
    );
    autoscaling(b);
}

/// Target tracking on average CPU between the stack's min and max task counts.
fn autoscaling(b: &mut Builder) {
    let scaling = &b.stack.gateway.autoscaling;
    let (min, max, target) = (scaling.min, scaling.max, scaling.cpu_target);
    let resource_id = s(format!("service/{}/{}", b.name(""), b.name("-gateway")));
    b.add(
        K::ScalableTarget,
        "scaling.target",
        vec![
            ("resource_id", resource_id.clone()),
            ("scalable_dimension", s("ecs:service:DesiredCount")),
            ("min_capacity", int(min)),
            ("max_capacity", int(max)),
        ],
        &["service.gateway"],
    );
    b.add(
        K::ScalingPolicy,
        "scaling.cpu",
        vec![
            ("name", s(b.name("-cpu"))),
            ("resource_id", resource_id),
            ("metric", s("ECSServiceAverageCPUUtilization")),
            ("target_value", int(target)),
        ],
        &["scaling.target"],
    );
}
