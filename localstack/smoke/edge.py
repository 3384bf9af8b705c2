"""Smoke-test steps for the edge: Route53 zone, health check and failover record; HTTP API."""

from runner import Run, expect


def dns_steps(run: Run, tag: str) -> None:
    route53 = run.client("route53")
    zone_name = f"{tag}.gateway.test"

    def zone():
        made = route53.create_hosted_zone(Name=zone_name, CallerReference=f"zone-{tag}")
        zone_id = made["HostedZone"]["Id"].split("/")[-1]
        run.ids["zone"] = zone_id
        run.on_cleanup("hosted zone", lambda: route53.delete_hosted_zone(Id=zone_id))
        got = route53.get_hosted_zone(Id=zone_id)["HostedZone"]
        expect(got["Name"], f"{zone_name}.", "zone name")
        return zone_id

    def health_check():
        config = {
            "Type": "HTTP",
            "FullyQualifiedDomainName": f"api.{zone_name}",
            "Port": 80,
            "ResourcePath": "/status",
            "RequestInterval": 10,
            "FailureThreshold": 3,
        }
        made = route53.create_health_check(CallerReference=f"hc-{tag}", HealthCheckConfig=config)
        check_id = made["HealthCheck"]["Id"]
        run.ids["health_check"] = check_id
        run.on_cleanup("health check", lambda: route53.delete_health_check(HealthCheckId=check_id))
        got = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        for key in ("Type", "ResourcePath", "RequestInterval", "FailureThreshold"):
            expect(got.get(key), config[key], f"health check {key}")

    def failover_record():
        zone_id, check_id = run.need("zone", "health_check")
        record = {
            "Name": f"api.{zone_name}",
            "Type": "A",
            "SetIdentifier": "primary",
            "Failover": "PRIMARY",
            "TTL": 60,
            "HealthCheckId": check_id,
            "ResourceRecords": [{"Value": "192.0.2.10"}],
        }
        change = {"Action": "UPSERT", "ResourceRecordSet": record}
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [change]})
        deletion = {"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]}
        run.on_cleanup(
            "failover record",
            lambda: route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=deletion),
        )
        sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        ours = [r for r in sets if r.get("SetIdentifier") == "primary"]
        expect(
            [(r["Failover"], r.get("HealthCheckId")) for r in ours],
            [("PRIMARY", check_id)],
            "record",
        )

    run.step("route53 CreateHostedZone", zone)
    run.step("route53 CreateHealthCheck (HTTP, 10 s)", health_check)
    run.step("route53 ChangeResourceRecordSets (failover PRIMARY)", failover_record)


def api_steps(run: Run, tag: str) -> None:
    apigw = run.client("apigatewayv2")

    def http_api():
        made = apigw.create_api(Name=f"gateway-{tag}", ProtocolType="HTTP")
        api_id = made["ApiId"]
        run.on_cleanup("http api", lambda: apigw.delete_api(ApiId=api_id))
        got = apigw.get_api(ApiId=api_id)
        expect((got["Name"], got["ProtocolType"]), (f"gateway-{tag}", "HTTP"), "API")
        return got.get("ApiEndpoint", api_id)

    run.step("apigatewayv2 CreateApi (HTTP)", http_api)
