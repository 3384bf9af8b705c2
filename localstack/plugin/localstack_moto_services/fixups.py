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
