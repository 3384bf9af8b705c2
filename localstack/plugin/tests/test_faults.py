"""Tests of fault injection: the decisions alone (no LocalStack), then through a running LocalStack
with boto3 (skipped when LOCALSTACK_ENDPOINT does not answer). Run with LocalStack's own Python:
`localstack/.venv/bin/python -m unittest discover -s localstack/plugin/tests`."""

import json
import os
import unittest
import urllib.error
import urllib.request
import uuid

from localstack_moto_services.faults import Faults, Settings, access_key_of

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def faults(clock=None, **raw):
    return Faults(Settings(raw), clock=clock or Clock())


class Decisions(unittest.TestCase):
    def test_settings_refuse_typos_and_out_of_range_values(self):
        with self.assertRaisesRegex(ValueError, "unknown fault settings: throtle"):
            Settings({"throtle": 0.5})
        with self.assertRaisesRegex(ValueError, "throttle: a share between 0 and 1"):
            Settings({"throttle": 5})
        with self.assertRaisesRegex(ValueError, "visibility_delay: seconds"):
            Settings({"visibility_delay": -1})

    def test_the_same_seed_gives_the_same_faults(self):
        def run(seed):
            f = faults(seed=seed, throttle=0.3, server_error=0.2)
            return [f.before("ecs", "DescribeServices", {}) for _ in range(200)]

        self.assertEqual(run(7), run(7))
        self.assertNotEqual(run(7), run(8))
        answers = run(7)
        throttled = sum(1 for a in answers if a and a[0] == "ThrottlingException")
        unavailable = sum(1 for a in answers if a and a[0] == "ServiceUnavailable")
        # 30 % and then 20 % of the rest, within a wide margin for 200 draws.
        self.assertTrue(35 <= throttled <= 85, throttled)
        self.assertTrue(15 <= unavailable <= 60, unavailable)

    def test_throttling_codes_follow_the_service(self):
        self.assertEqual(faults(throttle=1).before("ec2", "DescribeVpcs", {})[::2], ("RequestLimitExceeded", 503))
        self.assertEqual(faults(throttle=1).before("rds", "DescribeDBClusters", {})[::2], ("Throttling", 400))
        self.assertEqual(faults(throttle=1).before("ssm", "GetParameter", {})[::2], ("ThrottlingException", 400))
        self.assertEqual(
            faults(throttle=1).before("apigatewayv2", "GetApis", {})[::2], ("TooManyRequestsException", 429)
        )

    def test_a_new_ec2_id_is_hidden_from_calls_naming_it_until_the_delay_passed(self):
        clock = Clock()
        f = faults(clock, visibility_delay=3)
        self.assertIsNone(f.after("ec2", "CreateVpc", {"Vpc": {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}}))
        hidden = f.before("ec2", "CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"})
        self.assertEqual(hidden[0], "InvalidVpcID.NotFound")
        self.assertEqual(f.before("ec2", "DescribeVpcs", {"VpcIds": ["vpc-1"]})[0], "InvalidVpcID.NotFound")
        self.assertIsNone(f.before("ec2", "DescribeVpcs", {"VpcIds": ["vpc-2"]}))
        clock.now += 3
        self.assertIsNone(f.before("ec2", "CreateSubnet", {"VpcId": "vpc-1"}))
        self.assertEqual(f.report()["injected"]["visibility_delay"], 2)

    def test_draining_deletes_are_refused_for_the_window_from_the_first_attempt(self):
        clock = Clock()
        f = faults(clock, dependency_violation=20)
        self.assertEqual(f.before("ec2", "DeleteSubnet", {"SubnetId": "subnet-1"})[0], "DependencyViolation")
        clock.now += 19
        self.assertEqual(f.before("ec2", "DeleteSubnet", {"SubnetId": "subnet-1"})[0], "DependencyViolation")
        self.assertEqual(f.before("ec2", "DeleteSecurityGroup", {"GroupId": "sg-1"})[0], "DependencyViolation")
        clock.now += 1
        self.assertIsNone(f.before("ec2", "DeleteSubnet", {"SubnetId": "subnet-1"}))

    def test_only_changing_calls_lose_their_answer(self):
        f = faults(lost_answer=1)
        self.assertIsNone(f.after("ec2", "DescribeVpcs", {}))
        self.assertEqual(f.after("ec2", "CreateVpc", {"Vpc": {"VpcId": "vpc-1"}})[2], 503)

    def test_scope_by_access_key_and_service(self):
        f = faults(access_key="chaos-1", services=["ec2"], throttle=1)
        self.assertTrue(f.applies("ec2", "chaos-1"))
        self.assertFalse(f.applies("ec2", "test"))
        self.assertFalse(f.applies("rds", "chaos-1"))
        self.assertFalse(Faults().applies("ec2", "chaos-1"))
        headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=chaos-1/20261207/us-east-1/ec2/aws4_request, ..."}
        self.assertEqual(access_key_of(headers), "chaos-1")
        self.assertIsNone(access_key_of({}))


def _control(method, body=None):
    request = urllib.request.Request(
        f"{ENDPOINT}/_localstack/provision/faults",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _reachable():
    try:
        _control("GET")
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


# `make test` sets FAULTS_REQUIRED=1: there a missing endpoint is a failure, not a skip (a LocalStack
# started before the plugin changed answers 404: `make localstack-stop localstack-start`).
REQUIRED = os.environ.get("FAULTS_REQUIRED") == "1"


@unittest.skipUnless(REQUIRED or _reachable(), f"no LocalStack with the fault endpoint at {ENDPOINT}")
class ThroughLocalStack(unittest.TestCase):
    """Real calls through LocalStack's handler chain, signed with a key of their own so that other
    clients of the same LocalStack are never touched."""

    def setUp(self):
        self.assertTrue(_reachable(), f"no fault endpoint at {ENDPOINT}: restart LocalStack")
        import boto3
        from botocore.config import Config

        self.key = f"chaos-{uuid.uuid4().hex[:8]}"
        self.ec2 = boto3.client(
            "ec2",
            endpoint_url=ENDPOINT,
            region_name="us-east-1",
            aws_access_key_id=self.key,
            aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),  # no SDK retry
        )
        self.addCleanup(_control, "DELETE")

    def code(self, call, **params):
        from botocore.exceptions import ClientError

        try:
            call(**params)
        except ClientError as error:
            return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
        return None

    def test_other_access_keys_are_untouched(self):
        import boto3

        _control("POST", {"access_key": self.key, "throttle": 1})
        other = boto3.client(
            "ec2", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        other.describe_vpcs()
        self.assertEqual(self.code(self.ec2.describe_vpcs), ("RequestLimitExceeded", 503))
        self.assertEqual(_control("GET")["injected"]["throttle"], 1)

    def test_visibility_delay_then_draining_delete(self):
        _control("POST", {"access_key": self.key, "visibility_delay": 2, "dependency_violation": 1.5})
        vpc = self.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        self.assertEqual(self.code(self.ec2.describe_vpcs, VpcIds=[vpc]), ("InvalidVpcID.NotFound", 400))
        import time

        time.sleep(2.1)
        self.assertEqual(self.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"], vpc)
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
        time.sleep(2.1)
        self.assertEqual(self.code(self.ec2.delete_subnet, SubnetId=subnet), ("DependencyViolation", 400))
        time.sleep(1.6)
        self.ec2.delete_subnet(SubnetId=subnet)
        self.ec2.delete_vpc(VpcId=vpc)

    def test_a_lost_answer_still_made_the_change(self):
        _control("POST", {"access_key": self.key, "lost_answer": 1})
        tag = uuid.uuid4().hex
        spec = [{"ResourceType": "vpc", "Tags": [{"Key": "faults-test", "Value": tag}]}]
        self.assertEqual(
            self.code(self.ec2.create_vpc, CidrBlock="10.78.0.0/16", TagSpecifications=spec),
            ("ServiceUnavailable", 503),
        )
        _control("DELETE")
        found = self.ec2.describe_vpcs(Filters=[{"Name": "tag:faults-test", "Values": [tag]}])["Vpcs"]
        self.assertEqual(len(found), 1, "the VPC was created although its answer was lost")
        self.ec2.delete_vpc(VpcId=found[0]["VpcId"])


if __name__ == "__main__":
    unittest.main()
