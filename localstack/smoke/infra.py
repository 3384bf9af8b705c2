"""Smoke-test steps for the network and data tier: VPC, subnets, NLB, Aurora, Redis."""

from botocore.exceptions import ClientError
from runner import CheckFailed, Run, expect


def network_steps(run: Run, tag: str) -> None:
    ec2 = run.client("ec2")

    def vpc():
        vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        run.ids["vpc"] = vpc_id
        run.on_cleanup("vpc", lambda: ec2.delete_vpc(VpcId=vpc_id))
        got = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        expect(got["CidrBlock"], "10.77.0.0/16", "VPC CIDR")
        return vpc_id

    def subnets():
        (vpc_id,) = run.need("vpc")
        made = []
        for index, zone in enumerate(("us-east-1a", "us-east-1b")):
            cidr = f"10.77.{index}.0/24"
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)
            subnet_id = subnet["Subnet"]["SubnetId"]
            made.append(subnet_id)
            run.on_cleanup(f"subnet {subnet_id}", lambda s=subnet_id: ec2.delete_subnet(SubnetId=s))
        got = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        expect(sorted(s["SubnetId"] for s in got), sorted(made), "subnets of the VPC")
        expect(sorted(s["AvailabilityZone"] for s in got), ["us-east-1a", "us-east-1b"], "zones")
        run.ids["subnet_a"], run.ids["subnet_b"] = made
        return ", ".join(made)

    run.step("ec2 CreateVpc", vpc)
    run.step("ec2 CreateSubnet x2", subnets)


def load_balancer_steps(run: Run, tag: str) -> None:
    elb = run.client("elbv2")

    def unknown_subnet_refused():
        # Proves ELBv2 shares EC2's state: a subnet EC2 never made must be refused.
        try:
            elb.create_load_balancer(Name=f"bad-{tag}", Type="network", Subnets=["subnet-0000dead"])
        except ClientError as err:
            code = err.response["Error"]["Code"]
            # AWS documents SubnetNotFound; moto answers with EC2's code for the missing subnet.
            if code not in ("SubnetNotFound", "InvalidSubnetID.NotFound"):
                raise CheckFailed(f"refused for another reason: {code}") from err
            return f"refused ({code})"
        raise CheckFailed("an NLB in a subnet that does not exist was accepted")

    def nlb():
        subnets = run.need("subnet_a", "subnet_b")
        made = elb.create_load_balancer(
            Name=f"nlb-{tag}", Type="network", Scheme="internal", Subnets=subnets
        )["LoadBalancers"][0]
        arn = made["LoadBalancerArn"]
        run.ids["nlb"] = arn
        run.on_cleanup("nlb", lambda: elb.delete_load_balancer(LoadBalancerArn=arn))
        got = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        expect(got["Type"], "network", "load balancer type")
        expect(got["VpcId"], run.ids["vpc"], "load balancer VPC")
        expect(sorted(z["SubnetId"] for z in got["AvailabilityZones"]), sorted(subnets), "subnets")
        return got["DNSName"]

    def target_group():
        (vpc_id,) = run.need("vpc")
        made = elb.create_target_group(
            Name=f"tg-{tag}", Protocol="TCP", Port=8000, VpcId=vpc_id, TargetType="ip"
        )["TargetGroups"][0]
        arn = made["TargetGroupArn"]
        run.ids["tg"] = arn
        run.on_cleanup("target group", lambda: elb.delete_target_group(TargetGroupArn=arn))
        got = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        expect(
            (got["Protocol"], got["Port"], got["TargetType"]), ("TCP", 8000, "ip"), "target group"
        )

    def listener():
        nlb_arn, tg_arn = run.need("nlb", "tg")
        action = {"Type": "forward", "TargetGroupArn": tg_arn}
        made = elb.create_listener(
            LoadBalancerArn=nlb_arn, Protocol="TCP", Port=80, DefaultActions=[action]
        )["Listeners"][0]
        arn = made["ListenerArn"]
        run.on_cleanup("listener", lambda: elb.delete_listener(ListenerArn=arn))
        got = elb.describe_listeners(LoadBalancerArn=nlb_arn)["Listeners"]
        expect([(l["Protocol"], l["Port"]) for l in got], [("TCP", 80)], "listeners")
        expect(got[0]["DefaultActions"][0]["TargetGroupArn"], tg_arn, "listener target group")

    run.step("elbv2 CreateLoadBalancer refuses an unknown subnet", unknown_subnet_refused)
    run.step("elbv2 CreateLoadBalancer (network)", nlb)
    run.step("elbv2 CreateTargetGroup (TCP, ip)", target_group)
    run.step("elbv2 CreateListener (TCP)", listener)


def database_steps(run: Run, tag: str) -> None:
    rds = run.client("rds")
    group, cluster, instance = f"db-{tag}", f"aurora-{tag}", f"aurora-{tag}-1"

    def subnet_group():
        subnets = run.need("subnet_a", "subnet_b")
        rds.create_db_subnet_group(
            DBSubnetGroupName=group, DBSubnetGroupDescription="check", SubnetIds=subnets
        )
        run.ids["db_group"] = group
        run.on_cleanup(
            "db subnet group", lambda: rds.delete_db_subnet_group(DBSubnetGroupName=group)
        )
        got = rds.describe_db_subnet_groups(DBSubnetGroupName=group)["DBSubnetGroups"][0]
        expect(sorted(s["SubnetIdentifier"] for s in got["Subnets"]), sorted(subnets), "subnets")
        expect(got["VpcId"], run.ids["vpc"], "subnet group VPC")

    def aurora_cluster():
        run.need("db_group")
        rds.create_db_cluster(
            DBClusterIdentifier=cluster,
            Engine="aurora-postgresql",
            MasterUsername="gateway",
            MasterUserPassword="check-password-1",
            DBSubnetGroupName=group,
            ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2},
        )
        run.ids["cluster"] = cluster
        run.on_cleanup(
            "aurora cluster",
            lambda: rds.delete_db_cluster(DBClusterIdentifier=cluster, SkipFinalSnapshot=True),
        )
        got = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]
        expect(got["Engine"], "aurora-postgresql", "engine")
        scaling = got.get("ServerlessV2ScalingConfiguration", {})
        expect((scaling.get("MinCapacity"), scaling.get("MaxCapacity")), (0.5, 2.0), "scaling")
        return got["Endpoint"]

    def writer():
        run.need("cluster")
        rds.create_db_instance(
            DBInstanceIdentifier=instance,
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
            DBClusterIdentifier=cluster,
        )
        run.on_cleanup(
            "aurora instance",
            lambda: rds.delete_db_instance(DBInstanceIdentifier=instance, SkipFinalSnapshot=True),
        )
        got = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
        expect(got["DBInstanceClass"], "db.serverless", "instance class")
        expect(got.get("DBClusterIdentifier"), cluster, "instance's cluster")

    run.step("rds CreateDBSubnetGroup", subnet_group)
    run.step("rds CreateDBCluster (aurora-postgresql, Serverless v2 0.5-2)", aurora_cluster)
    run.step("rds CreateDBInstance (db.serverless)", writer)


def cache_steps(run: Run, tag: str) -> None:
    cache = run.client("elasticache")
    group, replication = f"cache-{tag}", f"redis-{tag}"

    def subnet_group():
        subnets = run.need("subnet_a", "subnet_b")
        cache.create_cache_subnet_group(
            CacheSubnetGroupName=group, CacheSubnetGroupDescription="check", SubnetIds=subnets
        )
        run.ids["cache_group"] = group
        run.on_cleanup(
            "cache subnet group",
            lambda: cache.delete_cache_subnet_group(CacheSubnetGroupName=group),
        )
        got = cache.describe_cache_subnet_groups(CacheSubnetGroupName=group)["CacheSubnetGroups"][0]
        expect(sorted(s["SubnetIdentifier"] for s in got["Subnets"]), sorted(subnets), "subnets")

    def replication_group():
        run.need("cache_group")
        cache.create_replication_group(
            ReplicationGroupId=replication,
            ReplicationGroupDescription="check",
            Engine="redis",
            CacheNodeType="cache.t4g.micro",
            NumCacheClusters=1,
            CacheSubnetGroupName=group,
        )
        run.on_cleanup(
            "redis replication group",
            lambda: cache.delete_replication_group(ReplicationGroupId=replication),
        )
        got = cache.describe_replication_groups(ReplicationGroupId=replication)
        expect(got["ReplicationGroups"][0]["ReplicationGroupId"], replication, "replication group")

    run.step("elasticache CreateCacheSubnetGroup", subnet_group)
    run.step("elasticache CreateReplicationGroup (redis)", replication_group)
