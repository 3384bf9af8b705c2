"""Operations moto lacks or leaves half done that a provisioner's teardown needs.

Each works on the same in-memory backend moto's own operations use, so its effect is visible to
them. Anything not here and not in moto fails with LocalStack's "not implemented" error.
"""

from localstack.aws.api import CommonServiceException


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
    backend.replication_groups.pop(request["ReplicationGroupId"], None)
    return response


# (service, operation) -> handler(context, request) -> response shape.
EXTRA_OPERATIONS = {
    ("elasticache", "DeleteCacheSubnetGroup"): delete_cache_subnet_group,
    ("elasticache", "DeleteReplicationGroup"): delete_replication_group,
}
