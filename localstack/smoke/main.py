"""Smoke test of a LocalStack endpoint: the control-plane calls the provisioner makes, read back.

Run through `localstack/check`. Creates a small stack (VPC, subnets, NLB, Aurora Serverless v2,
Redis, ECS on Fargate ARM64, Route53, HTTP API, secret, role, log group, S3/DynamoDB/SSM state) under unique names, checks
key fields of each, prints OK/FAIL per call, deletes everything it made and exits 1 on any failure.
"""

import sys
import time
import uuid

from app import ecs_steps, identity_steps
from edge import api_steps, dns_steps
from infra import cache_steps, database_steps, load_balancer_steps, network_steps
from runner import Run, endpoint
from state import state_steps

# In dependency order: later steps use what earlier ones created (subnets, secret, target group).
STEPS = (
    network_steps,
    load_balancer_steps,
    database_steps,
    cache_steps,
    identity_steps,
    ecs_steps,
    dns_steps,
    api_steps,
    state_steps,
)


def main() -> int:
    started = time.monotonic()
    run = Run(endpoint())
    # Unique names let runs repeat, and run side by side, against a LocalStack that keeps state.
    tag = f"chk{uuid.uuid4().hex[:8]}"
    print(f"check: endpoint {run.url}, region us-east-1, names tagged {tag}", flush=True)
    try:
        for steps in STEPS:
            steps(run, tag)
    finally:
        run.cleanup()
    seconds = time.monotonic() - started
    print(f"check: took {seconds:.1f} s")
    print(f"check: {run.passed} passed, {run.failures} failed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
