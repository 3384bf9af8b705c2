//! Service drivers (ECS cluster, IAM roles, log group, task definition, ECS service, auto scaling)
//! against LocalStack: create, observe equal to what was asked, update in place, delete.

use std::collections::BTreeMap;
use std::future::Future;

use provisioner::aws::{driver, Attrs, Cx, Goal, Progress};
use provisioner::core::diff::normalise;
use provisioner::core::resource::{LOGICAL_TAG, STACK_TAG};
use provisioner::core::{Attr, Resource, ResourceKind as K};
use stack_tests::{localstack, unique_stack};

const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

fn s(v: &str) -> Attr {
    Attr::Str(v.to_string())
}

fn list<const N: usize>(items: [Attr; N]) -> Attr {
    Attr::List(items.into())
}

fn map<const N: usize>(items: [(&str, Attr); N]) -> Attr {
    Attr::Map(items.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn attrs<const N: usize>(items: [(&str, Attr); N]) -> Attrs {
    items.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn tags(stack: &str, logical: &str) -> Attr {
    map([
        (STACK_TAG, s(stack)),
        (LOGICAL_TAG, s(logical)),
        ("environment", s("test")),
    ])
}

fn text(attrs: &Attrs, key: &str) -> String {
    match attrs.get(key) {
        Some(Attr::Str(v)) => v.clone(),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

async fn observed(cx: &Cx, kind: K) -> BTreeMap<String, Attrs> {
    observed_as(cx, kind, None).await
}

/// What the driver observes when the stack desires `want` under `logical` (kinds without tags are
/// recognised through the desired resources).
async fn observed_as(cx: &Cx, kind: K, desired: Option<(&str, &Attrs)>) -> BTreeMap<String, Attrs> {
    let desired: Vec<Resource> = desired
        .into_iter()
        .map(|(logical, attrs)| Resource {
            kind,
            logical: logical.to_string(),
            attrs: attrs.clone(),
            depends_on: Vec::new(),
        })
        .collect();
    let desired: Vec<&Resource> = desired.iter().collect();
    driver(kind)
        .observe(cx, &desired)
        .await
        .unwrap_or_else(|e| panic!("observe {kind:?}: {e}"))
        .into_iter()
        .map(|(name, seen)| (name, seen.attrs))
        .collect()
}

/// Every key asked for reads back equal after the planner's normalisation (a no-op plan).
fn assert_same(kind: K, want: &Attrs, have: &Attrs) {
    for (key, value) in want {
        assert_eq!(
            normalise(key, value),
            have.get(key).and_then(|h| normalise(key, h)),
            "{kind:?} `{key}` reads back differently; observed: {have:?}"
        );
    }
}

/// Creates, waits for Ready, observes it under `logical` and checks it reads back as asked.
async fn create(cx: &Cx, kind: K, logical: &str, want: &Attrs) -> Attrs {
    let made = driver(kind)
        .create(cx, logical, want)
        .await
        .unwrap_or_else(|e| panic!("create {logical}: {e}"));
    let seen = observed_as(cx, kind, Some((logical, want))).await;
    let have = seen
        .get(logical)
        .unwrap_or_else(|| panic!("{logical} not observed: {seen:?}"))
        .clone();
    assert_same(kind, want, &have);
    assert_eq!(have.get("arn"), made.get("arn"), "{logical} arn");
    have
}

/// Updates from what is observed now, checks it reads back as asked; returns the new observation.
async fn update(cx: &Cx, kind: K, logical: &str, want: &Attrs, changed: &[&str]) -> Attrs {
    let changed: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
    let desired = Some((logical, want));
    let have = observed_as(cx, kind, desired)
        .await
        .remove(logical)
        .expect("observed before update");
    driver(kind)
        .update(cx, logical, &have, want, &changed)
        .await
        .unwrap_or_else(|e| panic!("update {logical}: {e}"));
    let mut seen = observed_as(cx, kind, desired).await;
    assert_same(kind, want, &seen[logical]);
    seen.remove(logical).expect("observed after update")
}

/// Runs `checks` in a task so that a failed assertion still lets the teardown run, then fails.
async fn guarded(cx: &Cx, kinds: &[K], checks: impl Future<Output = ()> + Send + 'static) {
    let outcome = tokio::spawn(checks).await;
    teardown(cx, kinds).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Deletes everything of these kinds the stack owns (dependents first), then checks none is left.
async fn teardown(cx: &Cx, kinds: &[K]) {
    for &kind in kinds {
        for (logical, have) in observed(cx, kind).await {
            driver(kind)
                .delete(cx, &logical, &have)
                .await
                .unwrap_or_else(|e| panic!("delete {logical}: {e}"));
            let gone = driver(kind).poll(cx, &have, Goal::Gone).await;
            assert!(matches!(gone, Ok(Progress::Done(_))), "{logical}: {gone:?}");
            // Deleting again is fine: already gone.
            driver(kind)
                .delete(cx, &logical, &have)
                .await
                .unwrap_or_else(|e| panic!("second delete {logical}: {e}"));
        }
        assert!(observed(cx, kind).await.is_empty(), "{kind:?} left over");
    }
}

#[tokio::test]
async fn iam_role_lifecycle() {
    let stack = unique_stack("role");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    guarded(&cx, &[K::IamRole], iam_role_checks(cx.clone(), stack)).await;
}

async fn iam_role_checks(cx: Cx, stack: String) {
    let secret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf";
    let want = attrs([
        ("name", s(&format!("{stack}-task-execution"))),
        ("assume_role_service", s("ecs-tasks.amazonaws.com")),
        ("managed_policies", list([s(EXEC_POLICY)])),
        ("secret_read_arns", list([s(secret)])),
        ("tags", tags(&stack, "iam.execution_role")),
    ]);
    let have = create(&cx, K::IamRole, "iam.execution_role", &want).await;
    assert!(text(&have, "arn").ends_with(&format!("role/{stack}-task-execution")));

    let mut next = want.clone();
    next.insert("managed_policies".into(), list([]));
    let other = "arn:aws:secretsmanager:us-east-1:000000000000:secret:api-XyZ";
    next.insert("secret_read_arns".into(), list([s(secret), s(other)]));
    let mut retagged = tags(&stack, "iam.execution_role");
    if let Attr::Map(m) = &mut retagged {
        m.insert("environment".into(), s("staging"));
    }
    next.insert("tags".into(), retagged);
    let changed = ["managed_policies", "secret_read_arns", "tags"];
    update(&cx, K::IamRole, "iam.execution_role", &next, &changed).await;

    let mut none = next.clone();
    none.insert("secret_read_arns".into(), list([]));
    update(
        &cx,
        K::IamRole,
        "iam.execution_role",
        &none,
        &["secret_read_arns"],
    )
    .await;

    // Put the policies back so the delete has something to detach.
    update(&cx, K::IamRole, "iam.execution_role", &want, &changed).await;
    teardown(&cx, &[K::IamRole]).await;
}

#[tokio::test]
async fn log_group_lifecycle() {
    let stack = unique_stack("logs");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    guarded(&cx, &[K::LogGroup], log_group_checks(cx.clone(), stack)).await;
}

async fn log_group_checks(cx: Cx, stack: String) {
    let want = attrs([
        ("name", s(&format!("/ecs/{stack}-gateway"))),
        ("retention_days", Attr::Int(30)),
        ("tags", tags(&stack, "logs.gateway")),
    ]);
    let have = create(&cx, K::LogGroup, "logs.gateway", &want).await;
    assert!(text(&have, "arn").starts_with("arn:aws:logs:"), "{have:?}");
    // Creating it again (a run that died half way) adopts our own group.
    driver(K::LogGroup)
        .create(&cx, "logs.gateway", &want)
        .await
        .expect("adopt");
    // ... but not as another logical name.
    let other = driver(K::LogGroup).create(&cx, "logs.other", &want).await;
    assert!(other.is_err(), "{other:?}");

    let mut next = want.clone();
    next.insert("retention_days".into(), Attr::Int(7));
    next.insert(
        "tags".into(),
        map([(STACK_TAG, s(&stack)), (LOGICAL_TAG, s("logs.gateway"))]),
    );
    update(
        &cx,
        K::LogGroup,
        "logs.gateway",
        &next,
        &["retention_days", "tags"],
    )
    .await;
    teardown(&cx, &[K::LogGroup]).await;
}

/// What the service needs and other drivers own: a VPC, two subnets, a security group and an IP
/// target group (made through the SDK), then cluster, roles and log group through our drivers.
#[derive(Clone)]
struct Fixture {
    stack: String,
    vpc: Attrs,
    subnets: Vec<String>,
    group: String,
    target_group: String,
}

async fn fixture(cx: &Cx, stack: &str) -> Fixture {
    let vpc_want = attrs([
        ("cidr_block", s("10.88.0.0/16")),
        ("enable_dns_hostnames", Attr::Bool(true)),
        ("enable_dns_support", Attr::Bool(true)),
        ("tags", tags(stack, "vpc")),
    ]);
    let vpc = driver(K::Vpc)
        .create(cx, "vpc", &vpc_want)
        .await
        .expect("vpc");
    let vpc_id = text(&vpc, "id");
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].into_iter().enumerate() {
        let made = cx
            .aws
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.88.{i}.0/24"))
            .availability_zone(az)
            .send()
            .await
            .expect("subnet");
        subnets.push(
            made.subnet()
                .and_then(|s| s.subnet_id())
                .expect("id")
                .to_string(),
        );
    }
    let group = cx
        .aws
        .ec2
        .create_security_group()
        .group_name(format!("{stack}-gateway"))
        .description("gateway tasks")
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("security group")
        .group_id()
        .expect("group id")
        .to_string();
    let target_group = cx
        .aws
        .elbv2
        .create_target_group()
        .name(format!("{stack}-gw"))
        .protocol("TCP".into())
        .port(8000)
        .target_type("ip".into())
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("target group")
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .expect("target group arn")
        .to_string();
    Fixture {
        stack: stack.to_string(),
        vpc,
        subnets,
        group,
        target_group,
    }
}

async fn drop_fixture(cx: &Cx, fx: &Fixture) {
    let elbv2 = &cx.aws.elbv2;
    let _ = elbv2
        .delete_target_group()
        .target_group_arn(&fx.target_group)
        .send()
        .await;
    let _ = cx
        .aws
        .ec2
        .delete_security_group()
        .group_id(&fx.group)
        .send()
        .await;
    for subnet in &fx.subnets {
        let _ = cx.aws.ec2.delete_subnet().subnet_id(subnet).send().await;
    }
    driver(K::Vpc)
        .delete(cx, "vpc", &fx.vpc)
        .await
        .expect("delete vpc");
}

fn task_definition(stack: &str, roles: (&str, &str), log_group: &str) -> Attrs {
    let container = map([
        ("name", s("gateway")),
        ("image", s("gateway:dev")),
        ("essential", Attr::Bool(true)),
        ("port_mappings", list([Attr::Int(8000)])),
        (
            "environment",
            map([
                ("KONG_DATABASE", s("postgres")),
                ("KONG_PG_HOST", s("db.local")),
            ]),
        ),
        (
            "secrets",
            list([map([
                ("name", s("KONG_PG_PASSWORD")),
                (
                    "value_from",
                    s("arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC"),
                ),
            ])]),
        ),
        (
            "health_check",
            map([("command", list([s("CMD"), s("gateway"), s("health")]))]),
        ),
        ("log_group", s(log_group)),
    ]);
    attrs([
        ("family", s(&format!("{stack}-gateway"))),
        ("cpu", Attr::Int(256)),
        ("memory", Attr::Int(512)),
        ("network_mode", s("awsvpc")),
        ("requires_compatibilities", list([s("FARGATE")])),
        (
            "runtime_platform",
            map([
                ("cpu_architecture", s("ARM64")),
                ("operating_system_family", s("LINUX")),
            ]),
        ),
        ("execution_role_arn", s(roles.0)),
        ("task_role_arn", s(roles.1)),
        ("containers", list([container])),
        ("tags", tags(stack, "task_def.gateway")),
    ])
}

/// Cluster, roles, log group and task definition; returns the cluster and task definition.
async fn platform(cx: &Cx, stack: &str) -> (Attrs, Attrs) {
    let cluster_want = attrs([("name", s(stack)), ("tags", tags(stack, "ecs.cluster"))]);
    let cluster = create(cx, K::EcsCluster, "ecs.cluster", &cluster_want).await;
    let mut roles = Vec::new();
    for (logical, suffix) in [
        ("iam.execution_role", "-task-execution"),
        ("iam.task_role", "-task"),
    ] {
        let want = attrs([
            ("name", s(&format!("{stack}{suffix}"))),
            ("assume_role_service", s("ecs-tasks.amazonaws.com")),
            ("tags", tags(stack, logical)),
        ]);
        roles.push(text(&create(cx, K::IamRole, logical, &want).await, "arn"));
    }
    let logs_want = attrs([
        ("name", s(&format!("/ecs/{stack}-gateway"))),
        ("retention_days", Attr::Int(30)),
        ("tags", tags(stack, "logs.gateway")),
    ]);
    let logs = create(cx, K::LogGroup, "logs.gateway", &logs_want).await;
    let want = task_definition(stack, (&roles[0], &roles[1]), &text(&logs, "name"));
    let def = create(cx, K::TaskDefinition, "task_def.gateway", &want).await;
    assert!(
        text(&def, "arn").ends_with(&format!("{stack}-gateway:1")),
        "{def:?}"
    );
    // A new revision (a replacement) is what observe reports from then on.
    let mut next = want.clone();
    if let Some(Attr::List(containers)) = next.get_mut("containers") {
        if let Some(Attr::Map(c)) = containers.first_mut() {
            c.insert("image".into(), s("gateway:v2"));
        }
    }
    let made = driver(K::TaskDefinition)
        .create(cx, "task_def.gateway", &next)
        .await
        .expect("second revision");
    let seen = observed(cx, K::TaskDefinition).await;
    assert_same(K::TaskDefinition, &next, &seen["task_def.gateway"]);
    assert_eq!(seen["task_def.gateway"].get("arn"), made.get("arn"));
    driver(K::TaskDefinition)
        .delete(cx, "task_def.gateway", &def)
        .await
        .expect("deregister first revision");
    let mut retagged = next.clone();
    retagged.insert(
        "tags".into(),
        map([(STACK_TAG, s(stack)), (LOGICAL_TAG, s("task_def.gateway"))]),
    );
    let have = seen["task_def.gateway"].clone();
    update(
        cx,
        K::TaskDefinition,
        "task_def.gateway",
        &retagged,
        &["tags"],
    )
    .await;
    (cluster, have)
}

fn service(stack: &str, fx: &Fixture, cluster: &str, def: &str) -> Attrs {
    let subnets = Attr::List(fx.subnets.iter().map(|id| s(id)).collect());
    attrs([
        ("name", s(&format!("{stack}-gateway"))),
        ("cluster", s(cluster)),
        ("task_definition", s(def)),
        ("desired_count", Attr::Int(1)),
        ("launch_type", s("FARGATE")),
        ("subnet_ids", subnets),
        ("security_group_ids", list([s(&fx.group)])),
        ("assign_public_ip", Attr::Bool(false)),
        (
            "load_balancer",
            map([
                ("target_group_arn", s(&fx.target_group)),
                ("container_name", s("gateway")),
                ("container_port", Attr::Int(8000)),
            ]),
        ),
        (
            "deployment_circuit_breaker",
            map([("enable", Attr::Bool(true)), ("rollback", Attr::Bool(true))]),
        ),
        ("tags", tags(stack, "service.gateway")),
    ])
}

async fn service_and_scaling(cx: &Cx, stack: &str, fx: &Fixture, cluster: &Attrs, def: &Attrs) {
    let want = service(stack, fx, &text(cluster, "arn"), &text(def, "arn"));
    let have = create(cx, K::EcsService, "service.gateway", &want).await;
    // moto starts no task: the deployment stays at 0 of 1 running until the count changes.
    let first = driver(K::EcsService)
        .poll(cx, &have, Goal::Ready)
        .await
        .expect("poll");
    assert!(
        matches!(first, Progress::Pending(_) | Progress::Done(_)),
        "{first:?}"
    );
    let mut next = want.clone();
    next.insert("desired_count".into(), Attr::Int(2));
    next.insert("subnet_ids".into(), list([s(&fx.subnets[0])]));
    let changed = [
        "desired_count",
        "subnet_ids",
        "deployment_circuit_breaker",
        "tags",
    ];
    update(cx, K::EcsService, "service.gateway", &next, &changed).await;
    let ready = driver(K::EcsService)
        .poll(cx, &have, Goal::Ready)
        .await
        .expect("poll");
    assert!(matches!(ready, Progress::Done(_)), "{ready:?}");

    let resource_id = format!("service/{stack}/{stack}-gateway");
    let target_want = attrs([
        ("resource_id", s(&resource_id)),
        ("scalable_dimension", s("ecs:service:DesiredCount")),
        ("min_capacity", Attr::Int(1)),
        ("max_capacity", Attr::Int(2)),
        (
            "tags",
            map([(STACK_TAG, s(stack)), (LOGICAL_TAG, s("scaling.target"))]),
        ),
    ]);
    create(cx, K::ScalableTarget, "scaling.target", &target_want).await;
    let mut bigger = target_want.clone();
    bigger.insert("max_capacity".into(), Attr::Int(4));
    update(
        cx,
        K::ScalableTarget,
        "scaling.target",
        &bigger,
        &["max_capacity"],
    )
    .await;

    let policy_want = attrs([
        ("name", s(&format!("{stack}-cpu"))),
        ("resource_id", s(&resource_id)),
        ("metric", s("ECSServiceAverageCPUUtilization")),
        ("target_value", Attr::Int(70)),
    ]);
    let policy = driver(K::ScalingPolicy)
        .create(cx, "scaling.cpu", &policy_want)
        .await
        .expect("create policy");
    let seen = driver(K::ScalingPolicy)
        .observe(cx, &[])
        .await
        .expect("observe policies");
    let (logical, found) = seen.first().expect("policy observed");
    assert_eq!(logical, &format!("scaling.policy:{stack}-cpu"));
    assert_same(K::ScalingPolicy, &policy_want, &found.attrs);
    let mut lower = policy_want.clone();
    lower.insert("target_value".into(), Attr::Int(55));
    update_policy(cx, &policy, &lower).await;
}

async fn update_policy(cx: &Cx, have: &Attrs, want: &Attrs) {
    driver(K::ScalingPolicy)
        .update(cx, "scaling.cpu", have, want, &["target_value".to_string()])
        .await
        .expect("update policy");
    let seen = driver(K::ScalingPolicy)
        .observe(cx, &[])
        .await
        .expect("observe");
    assert_same(K::ScalingPolicy, want, &seen[0].1.attrs);
}

#[tokio::test]
async fn service_stack_lifecycle() {
    let stack = unique_stack("svc");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let fx = fixture(&cx, &stack).await;
    let (inner_cx, inner_fx) = (cx.clone(), fx.clone());
    let checks = async move {
        let (cluster, def) = platform(&inner_cx, &stack).await;
        service_and_scaling(&inner_cx, &stack, &inner_fx, &cluster, &def).await;
    };
    let kinds = [
        K::ScalingPolicy,
        K::ScalableTarget,
        K::EcsService,
        K::TaskDefinition,
        K::LogGroup,
        K::IamRole,
        K::EcsCluster,
    ];
    // The fixture goes after the drivers' resources, whether the checks passed or not.
    let outcome = tokio::spawn(async move {
        guarded(&cx, &kinds, checks).await;
        cx
    })
    .await;
    match outcome {
        Ok(cx) => drop_fixture(&cx, &fx).await,
        Err(failure) => {
            let cx = Cx::for_endpoint(localstack(), &fx.stack).await;
            drop_fixture(&cx, &fx).await;
            std::panic::resume_unwind(failure.into_panic());
        }
    }
}
