"""Service providers for ECS, RDS, ElastiCache, ELBv2 and API Gateway v2 that forward to moto.

LocalStack Community ships moto (as `moto-ext`), which implements these APIs, but it registers no
provider for them, so it answers every call with "not included in your license plan". Each provider
here hands every operation of its API to moto in the same process. Because moto keeps one backend
per account and region for every service, ELBv2, RDS, ElastiCache and ECS see the VPCs and subnets
that LocalStack's EC2 provider (also moto) created, and check references against them.
A few operations moto lacks are done here (`extra_ops`), and a few requests where moto is stricter
than AWS are adjusted first (`fixups`). A moto-backed DynamoDB is offered too (see the end).
"""

from localstack.services.plugins import Service, aws_provider

# The five APIs this package provides; the entry points in pyproject.toml name the same ones.
SERVICES = ("ecs", "rds", "elasticache", "elbv2", "apigatewayv2", "application-autoscaling")


class MotoBackedProvider:
    """A provider with no code of its own: its dispatch table sends every operation to moto."""

    def __init__(self, service: str) -> None:
        # LocalStack reads `service` to find the API specification and name the service.
        self.service = service


def forward_to_moto(context, request):
    """Answer one request from moto, parsed into the operation's output shape.

    Going through `call_moto` (rather than passing moto's raw HTTP response on) lets LocalStack
    serialise the answer in the protocol the client spoke and turn moto's errors into proper
    AWS error responses. A request that `fixups` adjusts is re-encoded before it goes to moto.
    """
    # Imported here because moto is heavy and LocalStack loads providers lazily.
    from localstack.services.moto import call_moto, call_moto_with_request

    from .extra_ops import EXTRA_OPERATIONS
    from .fixups import FIXUPS

    key = (context.service.service_name, context.operation.name)
    if key in EXTRA_OPERATIONS:
        return EXTRA_OPERATIONS[key](context, request)
    fixup = FIXUPS.get(key)
    fixed = fixup(context, request) if fixup else None
    if fixed is not None:
        return call_moto_with_request(context, fixed)
    return call_moto(context)


def moto_dispatch_table(provider: MotoBackedProvider) -> dict:
    """Map every operation of the provider's API to `forward_to_moto`.

    Listing the operations from the API specification (instead of moto's) means an operation moto
    lacks still reaches moto's router and fails with a clear NotImplemented-style error.
    """
    from localstack.aws.spec import load_service

    operations = load_service(provider.service).operation_names
    return {operation: forward_to_moto for operation in operations}


def moto_service(api: str) -> Service:
    """The LocalStack service for one API, answered entirely by moto."""
    return Service.for_provider(MotoBackedProvider(api), dispatch_table_factory=moto_dispatch_table)


# `aws_provider` turns each function into a plugin spec named "<function name>:default" in the
# `localstack.aws.provider` namespace; pyproject.toml's entry points point at these objects.
@aws_provider()
def ecs() -> Service:
    return moto_service("ecs")


@aws_provider()
def rds() -> Service:
    return moto_service("rds")


@aws_provider()
def elasticache() -> Service:
    return moto_service("elasticache")


@aws_provider()
def elbv2() -> Service:
    return moto_service("elbv2")


@aws_provider()
def apigatewayv2() -> Service:
    return moto_service("apigatewayv2")


# The gateway service's target tracking on CPU (also a Pro-only API in LocalStack Community).
@aws_provider(api="application-autoscaling")
def application_autoscaling() -> Service:
    return moto_service("application-autoscaling")


# LocalStack's own DynamoDB runs DynamoDB Local, a Java program it downloads on first use, which
# cannot be fetched here (and its installer code fails to import on Python 3.11 in 4.13.1). This
# alternative answers DynamoDB from moto; `start` selects it with PROVIDER_OVERRIDE_DYNAMODB=moto.
@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    return moto_service("dynamodb")
