//! Edge drivers against LocalStack: NLB, target group and listener; Route53 health check and
//! failover records; HTTP API, Lambda permission and API custom domain. Each test creates, reads
//! back (the desired keys must normalise equal, so a plan would be a no-op), updates in place,
//! deletes, and cleans up what it made even when an assertion fails.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{Read, Write};
use std::time::Duration;

use provisioner::aws::{driver, Attrs, Cx, Goal, Progress};
use provisioner::core::diff::normalise;
use provisioner::core::resource::{LOGICAL_TAG, STACK_TAG};
use provisioner::core::{Attr, Resource, ResourceKind as K};
use stack_tests::{localstack, unique_stack};

fn s(v: &str) -> Attr {
    Attr::Str(v.to_string())
}

fn map(pairs: &[(&str, Attr)]) -> Attr {
    Attr::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn attrs(pairs: &[(&str, Attr)]) -> Attrs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn tags(stack: &str, logical: &str, extra: &[(&str, &str)]) -> Attr {
    let mut tags = BTreeMap::from([
        (STACK_TAG.to_string(), s(stack)),
        (LOGICAL_TAG.to_string(), s(logical)),
    ]);
    tags.extend(extra.iter().map(|(k, v)| (k.to_string(), s(v))));
    Attr::Map(tags)
}

fn resource(kind: K, logical: &str, want: &Attrs) -> Resource {
    Resource {
        kind,
        logical: logical.to_string(),
        attrs: want.clone(),
        depends_on: Vec::new(),
    }
}

/// What `kind`'s driver observes for this stack, by logical name.
async fn observed(cx: &Cx, kind: K, desired: &[&Resource]) -> BTreeMap<String, Attrs> {
    driver(kind)
        .observe(cx, desired)
        .await
        .expect("observe")
        .into_iter()
        .map(|(name, seen)| (name, seen.attrs))
        .collect()
}

/// Every desired key reads back equal after the planner's normalisation (a no-op plan).
fn assert_same(kind: K, want: &Attrs, have: &Attrs) {
    for (key, value) in want {
        assert_eq!(
            normalise(key, value),
            have.get(key).and_then(|h| normalise(key, h)),
            "{kind:?} `{key}` differs: observed {have:?}"
        );
    }
}

/// Polls until `goal` is reached; the merged attributes for `Ready`.
async fn wait(cx: &Cx, kind: K, have: &Attrs, goal: Goal) -> Attrs {
    for _ in 0..60 {
        match driver(kind).poll(cx, have, goal).await.expect("poll") {
            Progress::Done(fresh) => {
                let mut out = have.clone();
                out.extend(fresh.unwrap_or_default());
                return out;
            }
            Progress::Pending(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            Progress::Failed(reason) => panic!("{kind:?} failed: {reason}"),
        }
    }
    panic!("{kind:?} did not reach {goal:?}");
}

/// Runs `body` on its own task so a failed assertion still lets `cleanup` run, then re-raises.
async fn guarded<B, C>(body: B, cleanup: C)
where
    B: Future<Output = ()> + Send + 'static,
    C: Future<Output = ()>,
{
    let result = tokio::spawn(body).await;
    cleanup.await;
    if let Err(error) = result {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Deletes whatever `kind` still observes for the stack (best effort).
async fn sweep(cx: &Cx, kind: K, desired: &[&Resource]) {
    if let Ok(found) = driver(kind).observe(cx, desired).await {
        for (logical, seen) in found {
            let _ = driver(kind).delete(cx, &logical, &seen.attrs).await;
        }
    }
}

// === ELBv2 ===

#[derive(Clone)]
struct Network {
    vpc: String,
    subnets: Vec<String>,
    group: String,
}

async fn network(cx: &Cx, prefix: &str) -> Network {
    let ec2 = &cx.aws.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("{prefix}.0.0/16"))
        .send()
        .await;
    let vpc = vpc
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap()
        .to_string();
    let mut subnets = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let made = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("{prefix}.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .expect("subnet");
        subnets.push(
            made.subnet()
                .and_then(|n| n.subnet_id())
                .unwrap()
                .to_string(),
        );
    }
    let group = ec2
        .create_security_group()
        .group_name(format!("{}-nlb", cx.stack))
        .description("edge test")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("security group");
    let group = group.group_id().unwrap().to_string();
    Network {
        vpc,
        subnets,
        group,
    }
}

async fn drop_network(cx: &Cx, net: &Network) {
    let ec2 = &cx.aws.ec2;
    let _ = ec2
        .delete_security_group()
        .group_id(&net.group)
        .send()
        .await;
    for subnet in &net.subnets {
        let _ = ec2.delete_subnet().subnet_id(subnet).send().await;
    }
    let _ = ec2.delete_vpc().vpc_id(&net.vpc).send().await;
}

#[tokio::test]
async fn load_balancer_target_group_and_listener() {
    let stack = unique_stack("elb");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let net = network(&cx, "10.81").await;
    let cleanup = async {
        for kind in [K::Listener, K::TargetGroup, K::LoadBalancer] {
            sweep(&cx, kind, &[]).await;
        }
        drop_network(&cx, &net).await;
    };
    guarded(elb_body(cx.clone(), net.clone()), cleanup).await;
}

async fn elb_body(cx: Cx, net: Network) {
    let stack = cx.stack.clone();
    let subnets = Attr::List(net.subnets.iter().map(|n| s(n)).collect());
    let nlb_want = attrs(&[
        ("name", s(&format!("{stack}-nlb"))),
        ("type", s("network")),
        ("scheme", s("internet-facing")),
        ("subnet_ids", subnets),
        ("security_group_ids", Attr::List(vec![s(&net.group)])),
        ("tags", tags(&stack, "nlb", &[])),
    ]);
    let made = driver(K::LoadBalancer)
        .create(&cx, "nlb", &nlb_want)
        .await
        .expect("nlb");
    let ready = wait(&cx, K::LoadBalancer, &made, Goal::Ready).await;
    assert_eq!(ready["state"], s("active"));
    let seen = observed(&cx, K::LoadBalancer, &[]).await;
    let nlb = &seen["nlb"];
    assert_same(K::LoadBalancer, &nlb_want, nlb);
    for key in ["arn", "dns_name", "canonical_hosted_zone_id"] {
        assert!(
            matches!(nlb.get(key), Some(Attr::Str(v)) if !v.is_empty()),
            "{key}"
        );
    }
    let nlb_arn = nlb["arn"].clone();

    let tg_want = attrs(&[
        ("name", s(&format!("{stack}-gw"))),
        ("protocol", s("TCP")),
        ("port", Attr::Int(8000)),
        ("target_type", s("ip")),
        ("vpc_id", s(&net.vpc)),
        ("tags", tags(&stack, "target_group.gateway", &[])),
    ]);
    let tg = driver(K::TargetGroup)
        .create(&cx, "target_group.gateway", &tg_want)
        .await;
    let tg = tg.expect("target group");
    let seen = observed(&cx, K::TargetGroup, &[]).await;
    assert_same(K::TargetGroup, &tg_want, &seen["target_group.gateway"]);

    let listener_want = attrs(&[
        ("load_balancer_arn", nlb_arn.clone()),
        ("protocol", s("TCP")),
        ("port", Attr::Int(80)),
        ("forward_to", tg["arn"].clone()),
        ("tags", tags(&stack, "listener.tcp", &[])),
    ]);
    let listener = driver(K::Listener)
        .create(&cx, "listener.tcp", &listener_want)
        .await;
    let listener = listener.expect("listener");
    let seen = observed(&cx, K::Listener, &[]).await;
    assert_same(K::Listener, &listener_want, &seen["listener.tcp"]);

    // In place: the listener's port, the balancer's and target group's tags.
    let mut moved = listener_want.clone();
    moved.insert("port".into(), Attr::Int(8080));
    let changed = ["port".to_string()];
    let update = driver(K::Listener).update(&cx, "listener.tcp", &listener, &moved, &changed);
    update.await.expect("listener update");
    let seen = observed(&cx, K::Listener, &[]).await;
    assert_same(K::Listener, &moved, &seen["listener.tcp"]);

    let mut retagged = nlb_want.clone();
    retagged.insert("tags".into(), tags(&stack, "nlb", &[("team", "edge")]));
    let changed = ["tags".to_string()];
    let update = driver(K::LoadBalancer).update(&cx, "nlb", nlb, &retagged, &changed);
    update.await.expect("nlb update");
    let seen = observed(&cx, K::LoadBalancer, &[]).await;
    assert_same(K::LoadBalancer, &retagged, &seen["nlb"]);

    driver(K::Listener)
        .delete(&cx, "listener.tcp", &listener)
        .await
        .expect("delete");
    driver(K::TargetGroup)
        .delete(&cx, "tg", &tg)
        .await
        .expect("delete tg");
    driver(K::LoadBalancer)
        .delete(&cx, "nlb", &made)
        .await
        .expect("delete nlb");
    wait(&cx, K::LoadBalancer, &made, Goal::Gone).await;
    for kind in [K::Listener, K::TargetGroup, K::LoadBalancer] {
        assert!(observed(&cx, kind, &[]).await.is_empty(), "{kind:?} left");
    }
    driver(K::LoadBalancer)
        .delete(&cx, "nlb", &made)
        .await
        .expect("delete twice");
}

// === Route53 ===

#[tokio::test]
async fn health_check_and_failover_records() {
    let stack = unique_stack("dns");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let zone = format!("{stack}.example.com");
    let made = cx
        .aws
        .route53
        .create_hosted_zone()
        .name(&zone)
        .caller_reference(&stack)
        .send()
        .await
        .expect("hosted zone");
    let zone_id = made.hosted_zone().map(|z| z.id().to_string()).unwrap();
    let cleanup = async {
        let records = dns_records(&zone, "unused");
        let desired: Vec<&Resource> = records.iter().collect();
        sweep(&cx, K::DnsRecord, &desired).await;
        sweep(&cx, K::HealthCheck, &[]).await;
        let _ = cx
            .aws
            .route53
            .delete_hosted_zone()
            .id(&zone_id)
            .send()
            .await;
    };
    guarded(dns_body(cx.clone(), zone.clone()), cleanup).await;
}

/// The failover pair and a plain record, shaped as `core::desired::edge` builds them.
fn dns_records(zone: &str, health_check: &str) -> Vec<Resource> {
    let alias = |name: &str, zone_id: &str, evaluate: bool| {
        map(&[
            ("dns_name", s(name)),
            ("zone_id", s(zone_id)),
            ("evaluate_target_health", Attr::Bool(evaluate)),
        ])
    };
    let name = format!("api.{zone}");
    let nlb = alias(
        "t-nlb-1.elb.us-east-1.amazonaws.com",
        "Z26RNL4JYFTOTI",
        true,
    );
    let primary = attrs(&[
        ("zone", s(zone)),
        ("name", s(&name)),
        ("type", s("A")),
        ("alias", nlb.clone()),
        ("set_identifier", s("primary")),
        ("failover", s("PRIMARY")),
        ("health_check_id", s(health_check)),
    ]);
    let api = alias(
        "d-abc123.execute-api.us-east-1.amazonaws.com",
        "Z1UJRXOUMOOFQ8",
        false,
    );
    let secondary = attrs(&[
        ("zone", s(zone)),
        ("name", s(&name)),
        ("type", s("A")),
        ("alias", api),
        ("set_identifier", s("secondary")),
        ("failover", s("SECONDARY")),
    ]);
    let plain = attrs(&[
        ("zone", s(zone)),
        ("name", s(&format!("www.{zone}"))),
        ("type", s("A")),
        ("alias", nlb),
    ]);
    vec![
        resource(K::DnsRecord, "dns.primary", &primary),
        resource(K::DnsRecord, "dns.secondary", &secondary),
        resource(K::DnsRecord, "dns.plain", &plain),
    ]
}

async fn dns_body(cx: Cx, zone: String) {
    let stack = cx.stack.clone();
    let hc_want = attrs(&[
        ("type", s("HTTP")),
        ("fqdn", s("t-nlb-1.elb.us-east-1.amazonaws.com")),
        ("port", Attr::Int(80)),
        ("resource_path", s("/status")),
        ("request_interval", Attr::Int(30)),
        ("failure_threshold", Attr::Int(3)),
        ("tags", tags(&stack, "health_check.gateway", &[])),
    ]);
    let hc = driver(K::HealthCheck)
        .create(&cx, "health_check.gateway", &hc_want)
        .await;
    let hc = hc.expect("health check");
    let seen = observed(&cx, K::HealthCheck, &[]).await;
    assert_same(K::HealthCheck, &hc_want, &seen["health_check.gateway"]);
    let Attr::Str(hc_id) = hc["id"].clone() else {
        panic!("no health check id")
    };

    let mut stricter = hc_want.clone();
    stricter.insert("failure_threshold".into(), Attr::Int(5));
    stricter.insert("resource_path".into(), s("/health"));
    stricter.insert(
        "tags".into(),
        tags(&stack, "health_check.gateway", &[("a", "b")]),
    );
    let changed: Vec<String> = ["failure_threshold", "resource_path", "tags"]
        .map(String::from)
        .into();
    let update =
        driver(K::HealthCheck).update(&cx, "health_check.gateway", &hc, &stricter, &changed);
    update.await.expect("health check update");
    let seen = observed(&cx, K::HealthCheck, &[]).await;
    assert_same(K::HealthCheck, &stricter, &seen["health_check.gateway"]);

    let records = dns_records(&zone, &hc_id);
    let desired: Vec<&Resource> = records.iter().collect();
    let mut made = BTreeMap::new();
    for record in &records {
        let have = driver(K::DnsRecord)
            .create(&cx, &record.logical, &record.attrs)
            .await;
        let have = have.expect("record");
        made.insert(
            record.logical.clone(),
            wait(&cx, K::DnsRecord, &have, Goal::Ready).await,
        );
    }
    let seen = observed(&cx, K::DnsRecord, &desired).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    for record in &records {
        assert_same(K::DnsRecord, &record.attrs, &seen[&record.logical]);
        let expected = tags(&stack, &record.logical, &[]);
        assert_eq!(seen[&record.logical]["tags"], expected);
    }
    // Another stack sharing the zone does not take the failover records for its own.
    let other = Cx::for_endpoint(localstack(), &format!("{stack}-other")).await;
    assert!(observed(&other, K::DnsRecord, &desired[..2])
        .await
        .is_empty());

    // In place: the secondary's alias target moves.
    let mut moved = records[1].attrs.clone();
    let alias = map(&[
        (
            "dns_name",
            s("d-xyz789.execute-api.us-east-1.amazonaws.com"),
        ),
        ("zone_id", s("Z1UJRXOUMOOFQ8")),
        ("evaluate_target_health", Attr::Bool(false)),
    ]);
    moved.insert("alias".into(), alias);
    let changed = ["alias".to_string()];
    let have = &seen["dns.secondary"];
    let update = driver(K::DnsRecord).update(&cx, "dns.secondary", have, &moved, &changed);
    update.await.expect("record update");
    let seen = observed(&cx, K::DnsRecord, &desired).await;
    assert_same(K::DnsRecord, &moved, &seen["dns.secondary"]);

    for (logical, have) in &seen {
        driver(K::DnsRecord)
            .delete(&cx, logical, have)
            .await
            .expect("delete record");
        wait(&cx, K::DnsRecord, have, Goal::Gone).await;
    }
    assert!(observed(&cx, K::DnsRecord, &desired).await.is_empty());
    let again = driver(K::DnsRecord)
        .delete(&cx, "dns.primary", &seen["dns.primary"])
        .await;
    again.expect("deleting a gone record");
    driver(K::HealthCheck)
        .delete(&cx, "hc", &hc)
        .await
        .expect("delete health check");
    assert!(observed(&cx, K::HealthCheck, &[]).await.is_empty());

    // A zone the account does not have fails with what to do about it.
    let mut lost = records[2].attrs.clone();
    lost.insert("zone".into(), s(&format!("missing-{zone}")));
    let error = driver(K::DnsRecord)
        .create(&cx, "dns.plain", &lost)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not found: create it"),
        "{error}"
    );
}

// === API Gateway and Lambda ===

/// A zip holding `index.py` with a handler; LocalStack stores it (it cannot run it here).
const LAMBDA_ZIP: &str = "UEsDBBQAAAAAAHxreV3zT4pLHQAAAB0AAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihlLGMpOgogIHJldHVybiAxClBLAQIUAxQAAAAAAHxreV3zT4pLHQAAAB0AAAAIAAAAAAAAAAAAAACAAQAAAABpbmRleC5weVBLBQYAAAAAAQABADYAAABDAAAAAAA=";

/// Creates a Lambda function through the REST API by hand (the test crate has no Lambda types to
/// build a `FunctionCode` with); returns its ARN.
fn create_function(endpoint: &str, name: &str) -> String {
    let body = format!(
        r#"{{"FunctionName":"{name}","Runtime":"python3.11","Handler":"index.handler","Role":"arn:aws:iam::000000000000:role/edge-test","Code":{{"ZipFile":"{LAMBDA_ZIP}"}}}}"#
    );
    let host = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect to LocalStack");
    let request = format!(
        "POST /2015-03-31/functions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, \
         SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "CreateFunction: {answer}"
    );
    format!("arn:aws:lambda:us-east-1:000000000000:function:{name}")
}

#[tokio::test]
async fn http_api_permission_and_custom_domain() {
    let stack = unique_stack("api");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let function = create_function(localstack(), &format!("{stack}-fallback"));
    let cleanup = async {
        sweep(&cx, K::ApiDomainName, &[]).await;
        sweep(&cx, K::HttpApi, &[]).await;
        let name = format!("{}-fallback", cx.stack);
        let _ = cx
            .aws
            .lambda
            .delete_function()
            .function_name(name)
            .send()
            .await;
    };
    guarded(api_body(cx.clone(), function), cleanup).await;
}

async fn api_body(cx: Cx, function: String) {
    let stack = cx.stack.clone();
    let api_want = attrs(&[
        ("name", s(&format!("{stack}-fallback"))),
        ("protocol_type", s("HTTP")),
        ("route_key", s("$default")),
        ("target", s(&function)),
        ("tags", tags(&stack, "http_api.fallback", &[])),
    ]);
    let api = driver(K::HttpApi)
        .create(&cx, "http_api.fallback", &api_want)
        .await;
    let api = api.expect("http api");
    let seen = observed(&cx, K::HttpApi, &[]).await;
    let have = &seen["http_api.fallback"];
    assert_same(K::HttpApi, &api_want, have);
    let Attr::Str(id) = have["id"].clone() else {
        panic!("no API id")
    };
    let execution_arn = format!("arn:aws:execute-api:us-east-1:000000000000:{id}");
    assert_eq!(have["execution_arn"], s(&execution_arn));
    assert_eq!(api["execution_arn"], have["execution_arn"]);

    let mut to_url = api_want.clone();
    to_url.insert("target".into(), s("https://backend.example.com"));
    to_url.insert("route_key".into(), s("ANY /{proxy+}"));
    to_url.insert(
        "tags".into(),
        tags(&stack, "http_api.fallback", &[("a", "b")]),
    );
    let changed: Vec<String> = ["target", "route_key", "tags"].map(String::from).into();
    let update = driver(K::HttpApi).update(&cx, "http_api.fallback", have, &to_url, &changed);
    update.await.expect("http api update");
    let seen = observed(&cx, K::HttpApi, &[]).await;
    assert_same(K::HttpApi, &to_url, &seen["http_api.fallback"]);

    permission(&cx, &function, &execution_arn).await;
    domain(&cx, &id).await;

    driver(K::HttpApi)
        .delete(&cx, "http_api.fallback", &api)
        .await
        .expect("delete api");
    assert!(observed(&cx, K::HttpApi, &[]).await.is_empty());
    driver(K::HttpApi)
        .delete(&cx, "http_api.fallback", &api)
        .await
        .expect("delete twice");
}

async fn permission(cx: &Cx, function: &str, execution_arn: &str) {
    let want = attrs(&[
        ("function", s(function)),
        ("statement_id", s(&format!("{}-fallback", cx.stack))),
        ("principal", s("apigateway.amazonaws.com")),
        ("source_arn", s(execution_arn)),
    ]);
    let logical = "lambda_permission.fallback";
    let desired = [resource(K::LambdaPermission, logical, &want)];
    let desired: Vec<&Resource> = desired.iter().collect();
    let have = driver(K::LambdaPermission).create(cx, logical, &want).await;
    let have = have.expect("permission");
    // Creating again (a run that died after AddPermission) replaces the statement.
    let again = driver(K::LambdaPermission).create(cx, logical, &want).await;
    again.expect("permission again");
    let seen = observed(cx, K::LambdaPermission, &desired).await;
    assert_same(K::LambdaPermission, &want, &seen[logical]);
    assert_eq!(seen[logical]["tags"], tags(&cx.stack, logical, &[]));
    let policy = cx
        .aws
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await;
    let policy = policy
        .expect("policy")
        .policy()
        .unwrap_or_default()
        .to_string();
    assert!(policy.contains(&format!("{execution_arn}/*/*")), "{policy}");

    driver(K::LambdaPermission)
        .delete(cx, logical, &have)
        .await
        .expect("delete");
    assert!(observed(cx, K::LambdaPermission, &desired).await.is_empty());
    let again = driver(K::LambdaPermission).delete(cx, logical, &have).await;
    again.expect("delete twice");
}

async fn domain(cx: &Cx, api_id: &str) {
    let logical = "api_domain.fallback";
    let want = attrs(&[
        (
            "domain_name",
            s(&format!("fallback.{}.example.com", cx.stack)),
        ),
        (
            "certificate_arn",
            s("arn:aws:acm:us-east-1:000000000000:certificate/edge-test"),
        ),
        ("api_id", s(api_id)),
        ("stage", s("$default")),
        ("tags", tags(&cx.stack, logical, &[])),
    ]);
    let made = driver(K::ApiDomainName).create(cx, logical, &want).await;
    let made = made.expect("custom domain");
    let ready = wait(cx, K::ApiDomainName, &made, Goal::Ready).await;
    let seen = observed(cx, K::ApiDomainName, &[]).await;
    assert_same(K::ApiDomainName, &want, &seen[logical]);
    assert_eq!(
        ready.get("regional_domain_name"),
        seen[logical].get("regional_domain_name")
    );

    let mut retagged = want.clone();
    retagged.insert("tags".into(), tags(&cx.stack, logical, &[("a", "b")]));
    let changed = ["tags".to_string()];
    let update = driver(K::ApiDomainName).update(cx, logical, &made, &retagged, &changed);
    update.await.expect("domain update");
    let seen = observed(cx, K::ApiDomainName, &[]).await;
    assert_same(K::ApiDomainName, &retagged, &seen[logical]);

    driver(K::ApiDomainName)
        .delete(cx, logical, &made)
        .await
        .expect("delete domain");
    wait(cx, K::ApiDomainName, &made, Goal::Gone).await;
    assert!(observed(cx, K::ApiDomainName, &[]).await.is_empty());
}
