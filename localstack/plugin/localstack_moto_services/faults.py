"""Fault injection: the failures real AWS shows and LocalStack never does, switched on per run.

LocalStack answers every call at once, in full, and every read sees the write before it. AWS
throttles, answers 5xx, loses answers to calls it performed, hides a new resource from reads for a
moment, and refuses to delete a subnet or security group while ENIs drain. A client that survives
only LocalStack does not survive AWS, so tests switch these on here.

Control: `POST /_localstack/provision/faults` with a JSON body (below) replaces the settings and
zeroes the counters; `GET` answers the settings and what was injected so far; `DELETE` switches
everything off. At start, `PROVISION_FAULTS` (the same JSON) gives the initial settings.

    {
      "seed": 7,                    # decisions come from random.Random(seed): reproducible
      "access_key": "chaos-7",      # only calls signed with this access key id (default: all)
      "services": ["ec2"],          # only these services (default: all)
      "throttle": 0.10,             # share of calls answered with the service's throttling error
      "server_error": 0.05,         # share answered 503 ServiceUnavailable, not performed
      "lost_answer": 0.03,          # share of changing calls performed, then answered 503
      "visibility_delay": 3.0,      # seconds after an EC2 create during which calls naming the
                                    # new id answer its NotFound error
      "dependency_violation": 20.0  # seconds from the first DeleteSubnet / DeleteSecurityGroup
                                    # of an id during which its deletes answer DependencyViolation
    }

A lost answer is a 503 after the change was made (the client sees a retryable failure and cannot
tell that the call took effect), not a dropped connection: LocalStack's server gives a handler no
way to cut one, and both are the same retryable outcome to an SDK.
"""

import json
import logging
import os
import random
import re
import threading
import time

LOG = logging.getLogger(__name__)

# Throttling answers as each service family gives them (code, HTTP status); the SDKs retry all.
THROTTLE = {
    "ec2": ("RequestLimitExceeded", 503),
    "apigatewayv2": ("TooManyRequestsException", 429),
    "lambda": ("TooManyRequestsException", 429),
    "route53": ("Throttling", 400),
    "iam": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "rds": ("Throttling", 400),
    "elasticache": ("Throttling", 400),
    "elbv2": ("Throttling", 400),
}
DEFAULT_THROTTLE = ("ThrottlingException", 400)  # the JSON protocol services: ECS, SSM, logs, ...

# Operations that change something: the only ones whose answer can be "lost" after the fact.
CHANGING = re.compile(
    r"^(Create|Delete|Modify|Put|Update|Register|Deregister|Attach|Detach|Associate|Disassociate|"
    r"Authorize|Revoke|Allocate|Release|Run|Stop|Start|Tag|Untag|Add|Remove|Change|Set|Apply|"
    r"Enable|Disable|Replace|Reboot|Failover|Import|Restore|Rotate|Invoke)"
)

# EC2 creates whose new id reads may not see yet: operation -> (path to the id, NotFound code).
EC2_CREATES = {
    "CreateVpc": (("Vpc", "VpcId"), "InvalidVpcID.NotFound"),
    "CreateSubnet": (("Subnet", "SubnetId"), "InvalidSubnetID.NotFound"),
    "CreateSecurityGroup": (("GroupId",), "InvalidGroup.NotFound"),
    "AllocateAddress": (("AllocationId",), "InvalidAllocationID.NotFound"),
    "CreateInternetGateway": (
        ("InternetGateway", "InternetGatewayId"),
        "InvalidInternetGatewayID.NotFound",
    ),
    "CreateRouteTable": (("RouteTable", "RouteTableId"), "InvalidRouteTableID.NotFound"),
    "CreateNatGateway": (("NatGateway", "NatGatewayId"), "NatGatewayNotFound"),
}

# Deletes AWS refuses while network interfaces still use the resource: operation -> the id field.
DRAINING_DELETES = {"DeleteSubnet": "SubnetId", "DeleteSecurityGroup": "GroupId"}

KINDS = ("throttle", "server_error", "lost_answer", "visibility_delay", "dependency_violation")


class Settings:
    """One run's fault settings, checked: a typo must not silently switch a fault off."""

    FIELDS = {"seed", "access_key", "services", *KINDS}

    def __init__(self, raw: dict):
        unknown = set(raw) - self.FIELDS
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        self.seed = int(raw.get("seed", 0))
        self.access_key = raw.get("access_key")
        self.services = set(raw["services"]) if raw.get("services") else None
        for share in ("throttle", "server_error", "lost_answer"):
            value = float(raw.get(share, 0))
            if not 0 <= value <= 1:
                raise ValueError(f"{share}: a share between 0 and 1, got {value}")
            setattr(self, share, value)
        for seconds in ("visibility_delay", "dependency_violation"):
            value = float(raw.get(seconds, 0))
            if not 0 <= value <= 3600:
                raise ValueError(f"{seconds}: seconds between 0 and 3600, got {value}")
            setattr(self, seconds, value)
        self.raw = raw


class Faults:
    """The live state: settings, the seeded random source, hidden ids, draining ids, counters."""

    def __init__(self, settings: Settings | None = None, clock=time.monotonic):
        self.lock = threading.Lock()
        self.clock = clock
        self.configure(settings)

    def configure(self, settings: Settings | None):
        with self.lock:
            self.settings = settings
            self.random = random.Random(settings.seed if settings else 0)
            self.hidden = {}  # id -> (visible from, NotFound code)
            self.draining = {}  # id -> first delete attempt
            self.counts = {kind: 0 for kind in KINDS}

    def report(self) -> dict:
        with self.lock:
            return {
                "settings": self.settings.raw if self.settings else None,
                "injected": dict(self.counts),
            }

    # === decisions, each returning the error to answer with, or None ===

    def applies(self, service: str, access_key: str | None) -> bool:
        s = self.settings
        if s is None:
            return False
        if s.access_key is not None and access_key != s.access_key:
            return False
        return s.services is None or service in s.services

    def before(self, service: str, operation: str, request: dict) -> tuple[str, str, int] | None:
        """The error to answer instead of performing the call, if any."""
        with self.lock:
            s = self.settings
            now = self.clock()
            if self.random.random() < s.throttle:
                self.counts["throttle"] += 1
                code, status = THROTTLE.get(service, DEFAULT_THROTTLE)
                return code, "Rate exceeded (injected)", status
            if self.random.random() < s.server_error:
                self.counts["server_error"] += 1
                return "ServiceUnavailable", "Service unavailable (injected)", 503
            if service == "ec2" and self.hidden:
                for value in _strings(request):
                    hidden = self.hidden.get(value)
                    if hidden and now < hidden[0]:
                        self.counts["visibility_delay"] += 1
                        return hidden[1], f"The ID '{value}' does not exist (injected)", 400
            field = DRAINING_DELETES.get(operation) if service == "ec2" else None
            if field and s.dependency_violation > 0 and request.get(field):
                first = self.draining.setdefault(request[field], now)
                if now - first < s.dependency_violation:
                    self.counts["dependency_violation"] += 1
                    return (
                        "DependencyViolation",
                        f"resource {request[field]} has a dependent object (injected)",
                        400,
                    )
            return None

    def after(self, service: str, operation: str, response: dict | None):
        """The error to answer in place of a successful answer, if any; records new EC2 ids."""
        with self.lock:
            s = self.settings
            if service == "ec2" and operation in EC2_CREATES and s.visibility_delay > 0:
                path, code = EC2_CREATES[operation]
                new_id = _dig(response or {}, path)
                if new_id:
                    self.hidden[new_id] = (self.clock() + s.visibility_delay, code)
            if CHANGING.match(operation) and self.random.random() < s.lost_answer:
                self.counts["lost_answer"] += 1
                return "ServiceUnavailable", "Service unavailable (injected after the change)", 503
            return None


def _dig(value, path):
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None


def _strings(value):
    """Every string inside a parsed request (ids sit at any depth: filters, lists, specs)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def access_key_of(headers) -> str | None:
    """The access key id a SigV4 request was signed with."""
    match = re.search(r"Credential=([^/,\s]+)/", headers.get("Authorization", ""))
    return match.group(1) if match else None


FAULTS = Faults()


def _initial_settings():
    raw = os.environ.get("PROVISION_FAULTS")
    if raw:
        try:
            FAULTS.configure(Settings(json.loads(raw)))
            LOG.warning("fault injection on: %s", raw)
        except (ValueError, TypeError) as error:
            LOG.error("PROVISION_FAULTS ignored: %s", error)
