"""Tests of the ECS task runner: what the agent works out (no LocalStack), then RunTask /
DescribeTasks / StopTask through a running LocalStack (skipped, or failed under FAULTS_REQUIRED=1,
when its endpoint does not answer)."""

import json
import os
import time
import unittest
import urllib.error
import urllib.request
import uuid

from localstack_moto_services.task_runner import (
    RunnerSettings,
    container_command,
    container_environment,
    resolve_secret,
)

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")
REQUIRED = os.environ.get("FAULTS_REQUIRED") == "1"


class AgentRules(unittest.TestCase):
    def test_images_match_with_or_without_tag_or_digest(self):
        s = RunnerSettings({"images": {"reg.example/gateway": {"entrypoint": ["/bin/gw"], "command": ["start"]}}})
        self.assertEqual(s.image("reg.example/gateway:1.2"), (["/bin/gw"], ["start"]))
        self.assertEqual(s.image("reg.example/gateway@sha256:ab"), (["/bin/gw"], ["start"]))
        self.assertEqual(s.image("reg.example/gateway"), (["/bin/gw"], ["start"]))
        self.assertIsNone(s.image("reg.example/gatewax:1.2"))
        self.assertIsNone(s.image("localhost:5000/other"))
        with self.assertRaisesRegex(ValueError, "needs an entrypoint"):
            RunnerSettings({"images": {"x": {}}})
        with self.assertRaisesRegex(ValueError, "unknown task runner settings: imagse"):
            RunnerSettings({"imagse": {}})

    def test_command_and_environment_overrides_win(self):
        definition = {"command": ["start"], "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
        override = {"command": ["migrations", "up"], "environment": [{"name": "B", "value": "3"}]}
        self.assertEqual(container_command(definition, override, ["x"]), ["migrations", "up"])
        self.assertEqual(container_command(definition, {}, ["x"]), ["start"])
        self.assertEqual(container_command({}, {}, ["x"]), ["x"])
        self.assertEqual(container_environment(definition, override), {"A": "1", "B": "3"})

    def test_secret_value_from_forms(self):
        arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf"
        seen = []

        def secret(secret_id, stage, version):
            seen.append((secret_id, stage, version))
            return json.dumps({"password": "pw", "port": 5432})

        def parameter(name):
            return f"param {name}"

        self.assertEqual(resolve_secret(arn + ":password::", secret, parameter), "pw")
        self.assertEqual(resolve_secret(arn + ":port:AWSCURRENT:", secret, parameter), "5432")
        self.assertEqual(seen[-1], (arn, "AWSCURRENT", None))
        self.assertEqual(json.loads(resolve_secret(arn, secret, parameter))["password"], "pw")
        with self.assertRaisesRegex(LookupError, "has no key user"):
            resolve_secret(arn + ":user::", secret, parameter)
        self.assertEqual(resolve_secret("/app/key", secret, parameter), "param /app/key")
        self.assertEqual(
            resolve_secret("arn:aws:ssm:us-east-1:000000000000:parameter/app/key", secret, parameter),
            "param /app/key",
        )


def _post(path, body):
    request = urllib.request.Request(
        f"{ENDPOINT}{path}", data=json.dumps(body).encode(), method="POST", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _reachable():
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_localstack/provision/tasks", timeout=5):
            return True
    except (urllib.error.URLError, OSError):
        return False


@unittest.skipUnless(REQUIRED or _reachable(), f"no LocalStack with the task runner at {ENDPOINT}")
class ThroughLocalStack(unittest.TestCase):
    def setUp(self):
        self.assertTrue(_reachable(), f"no task runner endpoint at {ENDPOINT}: restart LocalStack")
        import boto3

        kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        self.ecs, self.ec2 = boto3.client("ecs", **kw), boto3.client("ec2", **kw)
        self.secrets, self.logs = boto3.client("secretsmanager", **kw), boto3.client("logs", **kw)
        self.name = f"runner-{uuid.uuid4().hex[:8]}"
        _post("/_localstack/provision/tasks", {
            "images": {"example/tool": {"entrypoint": ["/bin/sh", "-c"], "command": ["exit 0"]}},
            "environment": {"WHERE": "loopback"},
        })
        self.addCleanup(_post, "/_localstack/provision/tasks", {})
        vpc = self.ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
        # As the stacks' VPCs: moto then names every network interface (it once failed RunTask).
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.91.1.0/24")["Subnet"]["SubnetId"]
        self.ecs.create_cluster(clusterName=self.name)
        secret = self.secrets.create_secret(Name=f"{self.name}/db", SecretString=json.dumps({"password": "s3cret"}))
        self.secret_arn = secret["ARN"]
        self.logs.create_log_group(logGroupName=f"/ecs/{self.name}")

    def register(self, image, secret_from=None):
        container = {
            "name": "gateway",
            "image": image,
            "essential": True,
            "cpu": 0,
            "command": ["exit 0"],
            "environment": [{"name": "GREETING", "value": "hello"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": f"/ecs/{self.name}", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "gw"},
            },
        }
        if secret_from:
            container["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": secret_from}]
        return self.ecs.register_task_definition(
            family=self.name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"]

    def run_task(self, definition, command):
        started = self.ecs.run_task(
            cluster=self.name, taskDefinition=definition, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": []}},
            overrides={"containerOverrides": [{"name": "gateway", "command": command}]},
        )
        return started["tasks"][0]["taskArn"]

    def wait_stopped(self, arn, limit=20):
        deadline = time.time() + limit
        while time.time() < deadline:
            task = self.ecs.describe_tasks(cluster=self.name, tasks=[arn])["tasks"][0]
            if task["lastStatus"] == "STOPPED":
                return task
            time.sleep(0.2)
        self.fail(f"task {arn} not STOPPED after {limit} s: {task['lastStatus']}")

    def test_the_command_really_runs_with_environment_and_secrets_and_its_exit_code_is_reported(self):
        definition = self.register("example/tool:1", f"{self.secret_arn}:password::")
        script = 'echo "$GREETING from $WHERE"; test "$DB_PASSWORD" = s3cret || exit 9; exit 3'
        task = self.wait_stopped(self.run_task(definition, [script]))
        self.assertEqual(task["containers"][0]["exitCode"], 3)
        # AWS's Container shape has cpu as a string; the Rust SDK refuses a number (boto3 does not).
        self.assertIsInstance(task["containers"][0].get("cpu", ""), str)
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        self.assertEqual(task["stoppedReason"], "Essential container in task exited")
        streams = self.logs.describe_log_streams(logGroupName=f"/ecs/{self.name}")["logStreams"]
        self.assertEqual(len(streams), 1)
        self.assertTrue(streams[0]["logStreamName"].startswith("gw/gateway/"))
        events = self.logs.get_log_events(logGroupName=f"/ecs/{self.name}", logStreamName=streams[0]["logStreamName"])
        self.assertEqual([e["message"] for e in events["events"]], ["hello from loopback"])
        ok = self.wait_stopped(self.run_task(definition, ["exit 0"]))
        self.assertEqual(ok["containers"][0]["exitCode"], 0)

    def test_a_task_is_not_stopped_by_describing_it(self):
        definition = self.register("example/tool:1")
        arn = self.run_task(definition, ["sleep 2"])
        for _ in range(6):  # moto alone walks a task to STOPPED in four describes
            self.assertEqual(self.ecs.describe_tasks(cluster=self.name, tasks=[arn])["tasks"][0]["lastStatus"], "RUNNING")
        self.assertEqual(self.wait_stopped(arn)["containers"][0]["exitCode"], 0)

    def test_an_unknown_image_fails_to_start(self):
        task = self.wait_stopped(self.run_task(self.register("example/typo:1"), ["exit 0"]))
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertIn("CannotPullContainerError", task["stoppedReason"])
        self.assertNotIn("exitCode", task["containers"][0])

    def test_an_unreadable_secret_fails_to_start(self):
        definition = self.register("example/tool:1", f"{self.secret_arn}:nokey::")
        task = self.wait_stopped(self.run_task(definition, ["exit 0"]))
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertIn("ResourceInitializationError", task["stoppedReason"])

    def test_stop_task_ends_the_process(self):
        arn = self.run_task(self.register("example/tool:1"), ["sleep 60"])
        self.ecs.stop_task(cluster=self.name, task=arn, reason="deploy timed out")
        task = self.wait_stopped(arn, limit=10)
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertEqual(task["stoppedReason"], "deploy timed out")
        self.assertEqual(task["containers"][0]["exitCode"], 143)  # 128 + SIGTERM


if __name__ == "__main__":
    unittest.main()
