"""Request adjustments where moto is stricter than AWS, applied before a call reaches moto.

Kept to cases where AWS documents a default that moto does not apply; each one is named after the
operation it touches.
"""

# ECS operations whose `networkConfiguration.awsvpcConfiguration` AWS accepts without
# `securityGroups` (it then uses the VPC's default group); moto fails with a KeyError instead.
AWSVPC_OPERATIONS = ("CreateService", "UpdateService", "RunTask", "StartTask", "CreateTaskSet")


def default_security_groups(context, request: dict) -> dict | None:
    """Fill in the VPC's default security group when an awsvpc configuration names none.

    Returns the adjusted request, or None when nothing needs changing (or the subnet is unknown,
    in which case moto's own validation reports it).
    """
    awsvpc = (request.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or awsvpc.get("securityGroups") or not awsvpc.get("subnets"):
        return None
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[context.account_id][context.region]
    try:
        vpc_id = ec2.get_subnet(awsvpc["subnets"][0]).vpc_id
    except Exception:  # noqa: BLE001 - an unknown subnet is moto's to report, not ours
        return None
    group = ec2.get_default_security_group(vpc_id)
    if group is None:
        return None
    fixed = dict(request)
    fixed["networkConfiguration"] = {
        **request["networkConfiguration"],
        "awsvpcConfiguration": {**awsvpc, "securityGroups": [group.id]},
    }
    return fixed


# (service, operation) -> adjustment(context, request) -> adjusted request or None.
FIXUPS = {("ecs", operation): default_security_groups for operation in AWSVPC_OPERATIONS}


def fargate_resource_requirements():
    """moto sums each container's `memory` to place a task and fails (None + int) when, as Fargate
    allows, only the task sets memory; fall back to the task's own cpu and memory then.
    Idempotent; applied before the first RunTask."""
    from moto.ecs.models import EC2ContainerServiceBackend as Backend

    original = Backend._calculate_task_resource_requirements
    if getattr(original, "provision_fixed", False):
        return

    def requirements(task_definition):
        try:
            return original(task_definition)
        except TypeError:
            return {
                "CPU": int(task_definition.cpu or 0),
                "MEMORY": int(task_definition.memory or 0),
                "PORTS": [],
                "PORTS_UDP": [],
            }

    requirements.provision_fixed = True
    Backend._calculate_task_resource_requirements = staticmethod(requirements)


def eni_private_dns_name():
    """moto's awsvpc RunTask reads `private_dns_name` from the task's network interface, which its
    NetworkInterface lacks (every Fargate RunTask failed with an AttributeError); give it the name
    AWS gives (`ip-10-0-1-5.ec2.internal`). Idempotent; applied before the first RunTask."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not hasattr(NetworkInterface, "private_dns_name"):
        def _get(eni):
            return eni.__dict__.get("_private_dns_name") or (
                f"ip-{(eni.private_ip_address or '0.0.0.0').replace('.', '-')}.ec2.internal"
            )

        def _set(eni, value):
            eni.__dict__["_private_dns_name"] = value

        NetworkInterface.private_dns_name = property(_get, _set)
