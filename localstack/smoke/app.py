"""Smoke-test steps for the application tier: secret, role, logs, ECS, Route53, HTTP API."""

import json

from runner import Run, expect

ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def identity_steps(run: Run, tag: str) -> None:
    secrets, iam, logs = run.client("secretsmanager"), run.client("iam"), run.client("logs")
    secret_name, role_name, log_group = (
        f"gateway/{tag}/db",
        f"gateway-{tag}-exec",
        f"/gateway/{tag}",
    )

    def secret():
        value = json.dumps({"username": "gateway", "password": "check-password-1"})
        arn = secrets.create_secret(Name=secret_name, SecretString=value)["ARN"]
        run.ids["secret"] = arn
        run.on_cleanup(
            "secret",
            lambda: secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True),
        )
        expect(secrets.get_secret_value(SecretId=arn)["SecretString"], value, "secret value")
        return arn

    def role():
        arn = iam.create_role(
            RoleName=role_name, AssumeRolePolicyDocument=json.dumps(ECS_TASKS_TRUST)
        )["Role"]["Arn"]
        run.ids["role"] = arn
        run.on_cleanup("iam role", lambda: iam.delete_role(RoleName=role_name))
        got = iam.get_role(RoleName=role_name)["Role"]
        expect(got["Arn"], arn, "role ARN")
        return arn

    def log_group_step():
        logs.create_log_group(logGroupName=log_group)
        run.ids["log_group"] = log_group
        run.on_cleanup("log group", lambda: logs.delete_log_group(logGroupName=log_group))
        got = logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
        expect([g["logGroupName"] for g in got], [log_group], "log groups")

    run.step("secretsmanager CreateSecret", secret)
    run.step("iam CreateRole", role)
    run.step("logs CreateLogGroup", log_group_step)


def container_definition(secret_arn: str, log_group: str) -> dict:
    return {
        "name": "gateway",
        "image": "gateway:check",
        "essential": True,
        "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
        "secrets": [{"name": "KONG_PG_PASSWORD", "valueFrom": f"{secret_arn}:password::"}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "gateway",
            },
        },
    }


def ecs_steps(run: Run, tag: str) -> None:
    ecs = run.client("ecs")
    cluster_name, family, service_name = f"gateway-{tag}", f"gateway-{tag}", f"gateway-{tag}"

    def cluster():
        arn = ecs.create_cluster(clusterName=cluster_name)["cluster"]["clusterArn"]
        run.ids["cluster_arn"] = arn
        run.on_cleanup("ecs cluster", lambda: ecs.delete_cluster(cluster=cluster_name))
        got = ecs.describe_clusters(clusters=[cluster_name])["clusters"][0]
        expect((got["clusterArn"], got["status"]), (arn, "ACTIVE"), "cluster")

    def task_definition():
        secret_arn, role_arn, log_group = run.need("secret", "role", "log_group")
        made = ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
            executionRoleArn=role_arn,
            containerDefinitions=[container_definition(secret_arn, log_group)],
        )["taskDefinition"]
        arn = made["taskDefinitionArn"]
        run.ids["task_definition"] = arn
        run.on_cleanup(
            "task definition", lambda: ecs.deregister_task_definition(taskDefinition=arn)
        )
        got = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        platform = got.get("runtimePlatform", {})
        expect(platform.get("cpuArchitecture"), "ARM64", "CPU architecture")
        expect(platform.get("operatingSystemFamily"), "LINUX", "OS family")
        secrets = got["containerDefinitions"][0].get("secrets", [])
        expect([s["valueFrom"] for s in secrets], [f"{secret_arn}:password::"], "secrets")
        return arn

    def service():
        subnets = run.need("subnet_a", "subnet_b")
        task_arn, tg_arn = run.need("task_definition", "tg")
        vpc_config = {"subnets": subnets, "assignPublicIp": "DISABLED"}
        ecs.create_service(
            cluster=cluster_name,
            serviceName=service_name,
            taskDefinition=task_arn,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": vpc_config},
            loadBalancers=[
                {"targetGroupArn": tg_arn, "containerName": "gateway", "containerPort": 8000}
            ],
        )
        run.on_cleanup(
            "ecs service",
            lambda: ecs.delete_service(cluster=cluster_name, service=service_name, force=True),
        )
        got = ecs.describe_services(cluster=cluster_name, services=[service_name])["services"][0]
        expect(got["launchType"], "FARGATE", "launch type")
        got_vpc = got["networkConfiguration"]["awsvpcConfiguration"]
        expect(sorted(got_vpc["subnets"]), sorted(subnets), "service subnets")
        expect(got["taskDefinition"], task_arn, "service task definition")

    run.step("ecs CreateCluster", cluster)
    run.step("ecs RegisterTaskDefinition (Fargate, ARM64, secrets)", task_definition)
    run.step("ecs CreateService (Fargate, awsvpc, behind the target group)", service)
