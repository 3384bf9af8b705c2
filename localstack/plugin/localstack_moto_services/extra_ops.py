"""Operations moto lacks or leaves half done that a provisioner's teardown needs.

Each works on the same in-memory backend moto's own operations use, so its effect is visible to
them. Anything not here and not in moto fails with LocalStack's "not implemented" error.
"""

from localstack.aws.api import CommonServiceException

from . import task_runner


def delete_cache_subnet_group(context, request: dict) -> dict:
    """ElastiCache DeleteCacheSubnetGroup: refuse an unknown group or one still in use, as AWS does."""
    from moto.elasticache.models import elasticache_backends

    backend = elasticache_backends[context.account_id][context.region]
    name = request["CacheSubnetGroupName"]
    if name not in backend.cache_subnet_groups:
        raise CommonServiceException(
            "CacheSubnetGroupNotFoundFault", f"CacheSubnetGroup {name} not found."
        )
    users = [*backend.cache_clusters.values(), *backend.replication_groups.values()]
    if any(getattr(user, "cache_subnet_group_name", None) == name for user in users):
        raise CommonServiceException(
            "CacheSubnetGroupInUse", f"Cache subnet group {name} is currently in use."
        )
    del backend.cache_subnet_groups[name]
    return {}


def delete_replication_group(context, request: dict) -> dict:
    """ElastiCache DeleteReplicationGroup: answer as moto does ("deleting"), then finish the job.

    moto leaves the group in "deleting" for ever, so its name could never be used again and its
    subnet group never deleted; AWS removes it within minutes.
    """
    from localstack.services.moto import call_moto
    from moto.elasticache.models import elasticache_backends

    response = call_moto(context)
    backend = elasticache_backends[context.account_id][context.region]
    group = backend.replication_groups.pop(request["ReplicationGroupId"], None)
    for member in getattr(group, "member_clusters", []) or []:
        backend.cache_clusters.pop(member, None)
    return response


def create_replication_group(context, request: dict) -> dict:
    """ElastiCache CreateReplicationGroup: moto names member clusters but creates none, so
    DescribeCacheClusters (where AWS reports a group's subnet group and security groups) finds
    nothing; create them, in the group's placement."""
    from localstack.services.moto import call_moto
    from moto.elasticache.models import elasticache_backends

    response = call_moto(context)
    backend = elasticache_backends[context.account_id][context.region]
    group = backend.replication_groups[request["ReplicationGroupId"]]
    params = dict.fromkeys(
        backend.create_cache_cluster.__code__.co_varnames[1 : backend.create_cache_cluster.__code__.co_argcount]
    )
    for member in group.member_clusters:
        if member in backend.cache_clusters:
            continue
        cluster = backend.create_cache_cluster(**{
            **params,
            "cache_cluster_id": member,
            "replication_group_id": group.replication_group_id,
            "num_cache_nodes": 1,
            "cache_node_type": group.cache_node_type,
            "engine": group.engine,
            "engine_version": group.engine_version,
            "cache_subnet_group_name": group.cache_subnet_group_name,
            "security_group_ids": group.security_group_ids or [],
            "cache_security_group_names": [],
            "tags": [],
            "port": group.port,
        })
        # moto's answer is built from model attributes named after the API's members; it keeps
        # the ids but has no `SecurityGroups` membership list to show them.
        cluster.security_groups = [
            {"SecurityGroupId": sg, "Status": "active"} for sg in group.security_group_ids or []
        ]
    return response


# Route53's alias zone for regional API Gateway endpoints in us-east-1 (AWS publishes one per region).
API_GATEWAY_REGIONAL_ZONE = "Z1UJRXOUMOOFQ8"


def create_domain_name(context, request: dict) -> dict:
    """API Gateway v2 CreateDomainName: moto stores the configurations as sent, without the
    regional endpoint name and hosted zone AWS assigns (what a Route53 alias points at); fill them
    in, in moto's stored object, so every later read shows them too."""
    import hashlib

    from localstack.services.moto import call_moto
    from moto.apigatewayv2.models import apigatewayv2_backends

    call_moto(context)
    backend = apigatewayv2_backends[context.account_id][context.region]
    domain = backend.domain_names[request["DomainName"]]
    digest = hashlib.sha256(domain.domain_name.encode()).hexdigest()[:10]
    for config in domain.domain_name_configurations:
        config.setdefault("apiGatewayDomainName", f"d-{digest}.execute-api.{context.region}.amazonaws.com")
        config.setdefault("hostedZoneId", API_GATEWAY_REGIONAL_ZONE)
        config.setdefault("domainNameStatus", "AVAILABLE")
    return call_moto_get_domain(context, domain)


def call_moto_get_domain(context, domain) -> dict:
    """The CreateDomainName answer, in the API's output shape, from moto's stored object."""
    def configuration(config: dict) -> dict:
        names = {
            "apiGatewayDomainName": "ApiGatewayDomainName",
            "certificateArn": "CertificateArn",
            "endpointType": "EndpointType",
            "hostedZoneId": "HostedZoneId",
            "securityPolicy": "SecurityPolicy",
            "domainNameStatus": "DomainNameStatus",
        }
        return {names.get(k, k[:1].upper() + k[1:]): v for k, v in config.items()}

    return {
        "ApiMappingSelectionExpression": domain.api_mapping_selection_expression,
        "DomainName": domain.domain_name,
        "DomainNameArn": domain.domain_name_arn,
        "DomainNameConfigurations": [configuration(c) for c in domain.domain_name_configurations],
        "Tags": domain.tags,
    }


def create_service(context, request: dict) -> dict:
    """ECS CreateService: moto starts no tasks and leaves the service at 0 running for ever, so
    nothing waiting for it to settle ever finishes. No LocalStack here can run a container (the
    gateway runs on this machine instead); report the service's tasks as running, the state AWS
    reaches once its tasks are up."""
    from localstack.services.moto import call_moto
    from moto.ecs.models import ecs_backends

    response = call_moto(context)
    backend = ecs_backends[context.account_id][context.region]
    arn = (response.get("service") or {}).get("serviceArn")
    for service in backend.services.values():
        if service.arn == arn:
            service.running_count = service.desired_count
            service.pending_count = 0
            for deployment in service.deployments:
                deployment["runningCount"] = service.desired_count
                deployment["pendingCount"] = 0
            response["service"]["runningCount"] = service.desired_count
            response["service"]["pendingCount"] = 0
    return response


def delete_db_cluster(context, request: dict) -> dict:
    """RDS DeleteDBCluster: delete the cluster's automated backups too, as AWS does unless
    `DeleteAutomatedBackups` is false. moto keeps them, named `rds:<cluster>-<minute>`, so a
    cluster created again under the same name within that minute failed with
    DBClusterSnapshotAlreadyExists."""
    from localstack.services.moto import call_moto
    from moto.rds.models import rds_backends

    response = call_moto(context)
    if request.get("DeleteAutomatedBackups", True) is False:
        return response
    backend = rds_backends[context.account_id][context.region]
    cluster_id = request["DBClusterIdentifier"]
    for snapshot_id, snapshot in list(backend.cluster_snapshots.items()):
        own = getattr(getattr(snapshot, "cluster", None), "db_cluster_identifier", None)
        if snapshot.snapshot_type == "automated" and own == cluster_id:
            del backend.cluster_snapshots[snapshot_id]
    return response


# (service, operation) -> handler(context, request) -> response shape.
EXTRA_OPERATIONS = {
    ("rds", "DeleteDBCluster"): delete_db_cluster,
    ("elasticache", "DeleteCacheSubnetGroup"): delete_cache_subnet_group,
    ("elasticache", "DeleteReplicationGroup"): delete_replication_group,
    ("elasticache", "CreateReplicationGroup"): create_replication_group,
    ("ecs", "CreateService"): create_service,
    ("ecs", "RunTask"): task_runner.run_task,
    ("ecs", "StopTask"): task_runner.stop_task,
    ("apigatewayv2", "CreateDomainName"): create_domain_name,
}
