//! Network drivers against LocalStack: create, observe, update in place, delete.

use std::collections::BTreeMap;

use std::future::Future;
use std::time::Duration;

use provisioner::aws::{driver, Attrs, AwsError, Cx, Goal, Progress};
use provisioner::core::diff::normalise;
use provisioner::core::resource::{LOGICAL_TAG, STACK_TAG};
use provisioner::core::{plan, Action, Attr, Graph, Observed, Resource, ResourceKind as K};
use stack_tests::{localstack, unique_stack};

fn s(v: &str) -> Attr {
    Attr::Str(v.to_string())
}

fn tags(stack: &str, logical: &str) -> Attr {
    Attr::Map(BTreeMap::from([
        (STACK_TAG.to_string(), s(stack)),
        (LOGICAL_TAG.to_string(), s(logical)),
        ("environment".to_string(), s("test")),
    ]))
}

async fn observed(cx: &Cx, kind: K) -> BTreeMap<String, Attrs> {
    driver(kind)
        .observe(cx, &[])
        .await
        .expect("observe")
        .into_iter()
        .map(|(name, seen)| (name, seen.attrs))
        .collect()
}

#[tokio::test]
async fn vpc_lifecycle() {
    let stack = unique_stack("vpc");
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let want: Attrs = BTreeMap::from([
        ("cidr_block".to_string(), s("10.77.0.0/16")),
        ("enable_dns_hostnames".to_string(), Attr::Bool(true)),
        ("enable_dns_support".to_string(), Attr::Bool(true)),
        ("tags".to_string(), tags(&stack, "vpc")),
    ]);
    let made = driver(K::Vpc)
        .create(&cx, "vpc", &want)
        .await
        .expect("create");
    assert!(matches!(made.get("id"), Some(Attr::Str(id)) if id.starts_with("vpc-")));
    let ready = driver(K::Vpc).poll(&cx, &made, Goal::Ready).await.unwrap();
    assert!(matches!(ready, Progress::Done(_)), "{ready:?}");

    let seen = observed(&cx, K::Vpc).await;
    let have = &seen["vpc"];
    for key in [
        "cidr_block",
        "enable_dns_hostnames",
        "enable_dns_support",
        "tags",
    ] {
        assert_eq!(have.get(key), want.get(key), "{key}");
    }
    assert_eq!(have.get("id"), made.get("id"));

    let mut off = want.clone();
    off.insert("enable_dns_hostnames".into(), Attr::Bool(false));
    driver(K::Vpc)
        .update(
            &cx,
            "vpc",
            have,
            &off,
            &["enable_dns_hostnames".to_string()],
        )
        .await
        .expect("update");
    let seen = observed(&cx, K::Vpc).await;
    assert_eq!(seen["vpc"]["enable_dns_hostnames"], Attr::Bool(false));

    driver(K::Vpc)
        .delete(&cx, "vpc", have)
        .await
        .expect("delete");
    let gone = driver(K::Vpc).poll(&cx, have, Goal::Gone).await.unwrap();
    assert_eq!(gone, Progress::Done(None));
    assert!(observed(&cx, K::Vpc).await.is_empty());
    // Deleting again is fine: already gone.
    driver(K::Vpc)
        .delete(&cx, "vpc", have)
        .await
        .expect("second delete");
}

// === helpers for the other network kinds ===

fn attrs(pairs: &[(&str, Attr)]) -> Attrs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn id(have: &Attrs) -> String {
    match have.get("id") {
        Some(Attr::Str(id)) => id.clone(),
        other => panic!("no id: {other:?}"),
    }
}

fn list(items: impl IntoIterator<Item = Attr>) -> Attr {
    Attr::List(items.into_iter().collect())
}

fn route(destination: &str, target: &str) -> Attr {
    Attr::Map(BTreeMap::from([
        ("destination".to_string(), s(destination)),
        ("target".to_string(), s(target)),
    ]))
}

/// Runs `body` for a fresh stack, then deletes whatever network resources the stack still owns,
/// even when `body` panicked (it runs as its own task so the panic is caught and re-raised).
async fn with_stack<F, Fut>(tag: &str, body: F)
where
    F: FnOnce(Cx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let stack = unique_stack(tag);
    let cx = Cx::for_endpoint(localstack(), &stack).await;
    let outcome = tokio::spawn(body(cx.clone())).await;
    teardown(&cx).await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Deletes every network resource `cx.stack` owns, dependents first; best effort.
async fn teardown(cx: &Cx) {
    for kind in [
        K::SecurityGroupRule,
        K::SecurityGroup,
        K::RouteTable,
        K::NatGateway,
        K::ElasticIp,
        K::InternetGateway,
        K::Subnet,
        K::Vpc,
    ] {
        let Ok(found) = driver(kind).observe(cx, &[]).await else {
            continue;
        };
        for (logical, seen) in found {
            if let Err(error) = driver(kind).delete(cx, &logical, &seen.attrs).await {
                eprintln!("teardown {logical}: {error}");
            }
            if kind == K::NatGateway {
                wait(cx, kind, &seen.attrs, Goal::Gone).await;
            }
        }
    }
}

/// Polls until `goal`; the fresh attributes for `Ready` when the driver gives them.
async fn wait(cx: &Cx, kind: K, have: &Attrs, goal: Goal) -> Option<Attrs> {
    for _ in 0..120 {
        match driver(kind).poll(cx, have, goal).await.expect("poll") {
            Progress::Done(fresh) => return fresh,
            Progress::Pending(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            Progress::Failed(reason) => panic!("{kind:?} failed: {reason}"),
        }
    }
    panic!("{kind:?} never reached {goal:?}");
}

/// Creates through the driver and waits until ready.
async fn make(cx: &Cx, kind: K, logical: &str, want: &Attrs) -> Attrs {
    let made = driver(kind)
        .create(cx, logical, want)
        .await
        .unwrap_or_else(|e| panic!("create {logical}: {e}"));
    wait(cx, kind, &made, Goal::Ready).await.unwrap_or(made)
}

async fn make_vpc(cx: &Cx, logical: &str, cidr: &str) -> String {
    let want = attrs(&[
        ("cidr_block", s(cidr)),
        ("enable_dns_hostnames", Attr::Bool(true)),
        ("enable_dns_support", Attr::Bool(true)),
        ("tags", tags(&cx.stack, logical)),
    ]);
    id(&make(cx, K::Vpc, logical, &want).await)
}

async fn make_subnet(cx: &Cx, logical: &str, vpc: &str, cidr: &str, zone: &str) -> String {
    let want = attrs(&[
        ("vpc_id", s(vpc)),
        ("cidr_block", s(cidr)),
        ("availability_zone", s(zone)),
        ("map_public_ip_on_launch", Attr::Bool(false)),
        ("tags", tags(&cx.stack, logical)),
    ]);
    id(&make(cx, K::Subnet, logical, &want).await)
}

/// The observed resource `logical` of `kind`, checked to equal `want` on every desired key after
/// normalisation, and to plan as a no-op through the real diff.
async fn observe_same(cx: &Cx, kind: K, logical: &str, want: &Attrs) -> Attrs {
    let seen = observed(cx, kind).await;
    let have = seen
        .get(logical)
        .unwrap_or_else(|| panic!("{logical} not observed among {:?}", seen.keys()))
        .clone();
    for (key, value) in want {
        assert_eq!(
            have.get(key).and_then(|v| normalise(key, v)),
            normalise(key, value),
            "{logical}.{key}"
        );
    }
    let mut graph = Graph::new(cx.stack.clone());
    graph.insert(Resource {
        kind,
        logical: logical.to_string(),
        attrs: want.clone(),
        depends_on: Vec::new(),
    });
    let world = BTreeMap::from([(
        logical.to_string(),
        Observed {
            kind,
            attrs: have.clone(),
        },
    )]);
    let planned = plan(&graph, &world).expect("plan");
    let action = &planned.get(logical).expect("planned").action;
    assert_eq!(action, &Action::NoOp, "{logical}");
    have
}

async fn update(cx: &Cx, kind: K, logical: &str, have: &Attrs, want: &Attrs, changed: &[&str]) {
    let changed: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
    driver(kind)
        .update(cx, logical, have, want, &changed)
        .await
        .unwrap_or_else(|e| panic!("update {logical}: {e}"));
}

async fn delete(cx: &Cx, kind: K, logical: &str, have: &Attrs) {
    driver(kind)
        .delete(cx, logical, have)
        .await
        .unwrap_or_else(|e| panic!("delete {logical}: {e}"));
    wait(cx, kind, have, Goal::Gone).await;
    assert!(
        !observed(cx, kind).await.contains_key(logical),
        "{logical} still observed"
    );
    // Already gone is success.
    driver(kind)
        .delete(cx, logical, have)
        .await
        .unwrap_or_else(|e| panic!("second delete {logical}: {e}"));
}

// === one lifecycle per kind ===

#[tokio::test]
async fn subnet_lifecycle() {
    with_stack("subnet", |cx| async move {
        let vpc = make_vpc(&cx, "vpc", "10.78.0.0/16").await;
        let logical = "subnet.public.a";
        let want = attrs(&[
            ("vpc_id", s(&vpc)),
            ("cidr_block", s("10.78.0.0/24")),
            ("availability_zone", s("us-east-1a")),
            ("map_public_ip_on_launch", Attr::Bool(true)),
            ("tags", tags(&cx.stack, logical)),
        ]);
        let made = make(&cx, K::Subnet, logical, &want).await;
        assert!(id(&made).starts_with("subnet-"));
        let have = observe_same(&cx, K::Subnet, logical, &want).await;
        assert_eq!(have["id"], made["id"]);

        let mut private = want.clone();
        private.insert("map_public_ip_on_launch".into(), Attr::Bool(false));
        private.insert("tags".into(), tags(&cx.stack, logical));
        if let Some(Attr::Map(t)) = private.get_mut("tags") {
            t.insert("tier".into(), s("private"));
            t.remove("environment");
        }
        let changed = ["map_public_ip_on_launch", "tags"];
        update(&cx, K::Subnet, logical, &have, &private, &changed).await;
        let have = observe_same(&cx, K::Subnet, logical, &private).await;
        delete(&cx, K::Subnet, logical, &have).await;
    })
    .await;
}

#[tokio::test]
async fn internet_gateway_lifecycle() {
    with_stack("igw", |cx| async move {
        let vpc = make_vpc(&cx, "vpc", "10.79.0.0/16").await;
        let other = make_vpc(&cx, "vpc.other", "10.80.0.0/16").await;
        let want = attrs(&[("vpc_id", s(&vpc)), ("tags", tags(&cx.stack, "igw"))]);
        let made = make(&cx, K::InternetGateway, "igw", &want).await;
        assert!(id(&made).starts_with("igw-"));
        let have = observe_same(&cx, K::InternetGateway, "igw", &want).await;

        // Moving it is detach + attach.
        let moved = attrs(&[("vpc_id", s(&other)), ("tags", tags(&cx.stack, "igw"))]);
        update(&cx, K::InternetGateway, "igw", &have, &moved, &["vpc_id"]).await;
        let have = observe_same(&cx, K::InternetGateway, "igw", &moved).await;
        assert_eq!(have["id"], made["id"]);

        // Delete detaches first; the VPC can then go too.
        delete(&cx, K::InternetGateway, "igw", &have).await;
        let vpc_have = observed(&cx, K::Vpc).await["vpc.other"].clone();
        driver(K::Vpc)
            .delete(&cx, "vpc.other", &vpc_have)
            .await
            .expect("VPC deletes once the gateway is detached and gone");
    })
    .await;
}

#[tokio::test]
async fn elastic_ip_lifecycle() {
    with_stack("eip", |cx| async move {
        let logical = "eip.nat.a";
        let want = attrs(&[("domain", s("vpc")), ("tags", tags(&cx.stack, logical))]);
        let made = make(&cx, K::ElasticIp, logical, &want).await;
        assert!(id(&made).starts_with("eipalloc-"), "{made:?}");
        let have = observe_same(&cx, K::ElasticIp, logical, &want).await;
        assert!(matches!(have.get("public_ip"), Some(Attr::Str(ip)) if !ip.is_empty()));

        let mut retagged = want.clone();
        if let Some(Attr::Map(t)) = retagged.get_mut("tags") {
            t.insert("environment".into(), s("staging"));
        }
        update(&cx, K::ElasticIp, logical, &have, &retagged, &["tags"]).await;
        let have = observe_same(&cx, K::ElasticIp, logical, &retagged).await;
        delete(&cx, K::ElasticIp, logical, &have).await;
    })
    .await;
}

/// VPC with an attached internet gateway, a public subnet and an address: what a NAT needs.
async fn nat_ready_network(cx: &Cx, cidr_prefix: &str) -> (String, String, String, String) {
    let vpc = make_vpc(cx, "vpc", &format!("{cidr_prefix}.0.0/16")).await;
    let igw_want = attrs(&[("vpc_id", s(&vpc)), ("tags", tags(&cx.stack, "igw"))]);
    let igw = id(&make(cx, K::InternetGateway, "igw", &igw_want).await);
    let subnet_cidr = format!("{cidr_prefix}.0.0/24");
    let subnet = make_subnet(cx, "subnet.public.a", &vpc, &subnet_cidr, "us-east-1a").await;
    let eip_want = attrs(&[("domain", s("vpc")), ("tags", tags(&cx.stack, "eip.nat.a"))]);
    let eip = id(&make(cx, K::ElasticIp, "eip.nat.a", &eip_want).await);
    (vpc, igw, subnet, eip)
}

#[tokio::test]
async fn nat_gateway_lifecycle() {
    with_stack("nat", |cx| async move {
        let (_, _, subnet, eip) = nat_ready_network(&cx, "10.81").await;
        let logical = "nat.a";
        let want = attrs(&[
            ("subnet_id", s(&subnet)),
            ("allocation_id", s(&eip)),
            ("tags", tags(&cx.stack, logical)),
        ]);
        let ready = make(&cx, K::NatGateway, logical, &want).await;
        assert!(id(&ready).starts_with("nat-"), "{ready:?}");
        assert_eq!(ready.get("state"), Some(&s("available")));
        let have = observe_same(&cx, K::NatGateway, logical, &want).await;

        let mut retagged = want.clone();
        if let Some(Attr::Map(t)) = retagged.get_mut("tags") {
            t.insert("zone".into(), s("a"));
        }
        update(&cx, K::NatGateway, logical, &have, &retagged, &["tags"]).await;
        let have = observe_same(&cx, K::NatGateway, logical, &retagged).await;
        delete(&cx, K::NatGateway, logical, &have).await;
        // With the NAT gone, its address can be released.
        let eip_have = observed(&cx, K::ElasticIp).await["eip.nat.a"].clone();
        delete(&cx, K::ElasticIp, "eip.nat.a", &eip_have).await;
    })
    .await;
}

#[tokio::test]
async fn route_table_lifecycle() {
    with_stack("rtb", |cx| async move {
        let (vpc, igw, public, eip) = nat_ready_network(&cx, "10.82").await;
        let private =
            make_subnet(&cx, "subnet.private.a", &vpc, "10.82.1.0/24", "us-east-1a").await;
        let nat_want = attrs(&[
            ("subnet_id", s(&public)),
            ("allocation_id", s(&eip)),
            ("tags", tags(&cx.stack, "nat.a")),
        ]);
        let nat = id(&make(&cx, K::NatGateway, "nat.a", &nat_want).await);

        let logical = "route_table.public";
        let table = |routes: Attr, subnets: &[&str]| {
            attrs(&[
                ("vpc_id", s(&vpc)),
                ("routes", routes),
                ("subnet_ids", list(subnets.iter().map(|x| s(x)))),
                ("tags", tags(&cx.stack, logical)),
            ])
        };
        let want = table(list([route("0.0.0.0/0", &igw)]), &[&public]);
        let made = make(&cx, K::RouteTable, logical, &want).await;
        assert!(id(&made).starts_with("rtb-"));
        let have = observe_same(&cx, K::RouteTable, logical, &want).await;

        // Repoint the default route at the NAT, move from one subnet to the other, add a route.
        let changed = ["routes", "subnet_ids"];
        let routes = list([route("0.0.0.0/0", &nat), route("192.168.0.0/16", &igw)]);
        let want = table(routes, &[&private]);
        update(&cx, K::RouteTable, logical, &have, &want, &changed).await;
        let have = observe_same(&cx, K::RouteTable, logical, &want).await;

        // A private table with no NAT: no routes at all (the local route is never shown).
        let want = table(list([]), &[&private, &public]);
        update(&cx, K::RouteTable, logical, &have, &want, &changed).await;
        let have = observe_same(&cx, K::RouteTable, logical, &want).await;
        assert_eq!(have.get("routes"), Some(&list([])));

        // A second table that wants a subnet the first holds takes it over.
        let other = "route_table.private.a";
        let other_want = attrs(&[
            ("vpc_id", s(&vpc)),
            ("routes", list([route("0.0.0.0/0", &nat)])),
            ("subnet_ids", list([s(&private)])),
            ("tags", tags(&cx.stack, other)),
        ]);
        make(&cx, K::RouteTable, other, &other_want).await;
        let other_have = observe_same(&cx, K::RouteTable, other, &other_want).await;
        let first = observed(&cx, K::RouteTable).await[logical].clone();
        assert_eq!(first["subnet_ids"], list([s(&public)]));

        // Delete disassociates first.
        delete(&cx, K::RouteTable, logical, &first).await;
        delete(&cx, K::RouteTable, other, &other_have).await;
    })
    .await;
}

#[tokio::test]
async fn security_group_lifecycle() {
    with_stack("sg", |cx| async move {
        let vpc = make_vpc(&cx, "vpc", "10.83.0.0/16").await;
        let logical = "sg.gateway";
        let want = attrs(&[
            ("name", s(&format!("{}-gateway", cx.stack))),
            ("description", s("gateway tasks of the gateway stack")),
            ("vpc_id", s(&vpc)),
            ("tags", tags(&cx.stack, logical)),
        ]);
        let made = make(&cx, K::SecurityGroup, logical, &want).await;
        assert!(id(&made).starts_with("sg-"));
        let have = observe_same(&cx, K::SecurityGroup, logical, &want).await;

        // A run that died after creating it: creating again adopts our own group.
        let again = make(&cx, K::SecurityGroup, logical, &want).await;
        assert_eq!(again["id"], made["id"]);
        // Someone else's group of that name is refused.
        let error = driver(K::SecurityGroup)
            .create(&cx, "sg.db", &want)
            .await
            .expect_err("not ours");
        assert!(matches!(error, AwsError::NotOurs { .. }), "{error}");

        let mut retagged = want.clone();
        if let Some(Attr::Map(t)) = retagged.get_mut("tags") {
            t.remove("environment");
        }
        update(&cx, K::SecurityGroup, logical, &have, &retagged, &["tags"]).await;
        let have = observe_same(&cx, K::SecurityGroup, logical, &retagged).await;
        delete(&cx, K::SecurityGroup, logical, &have).await;
    })
    .await;
}

#[tokio::test]
async fn security_group_rule_lifecycle() {
    with_stack("sgr", |cx| async move {
        let vpc = make_vpc(&cx, "vpc", "10.84.0.0/16").await;
        let group = |tier: &str| {
            attrs(&[
                ("name", s(&format!("{}-{tier}", cx.stack))),
                ("description", s(&format!("{tier} of the gateway stack"))),
                ("vpc_id", s(&vpc)),
                ("tags", tags(&cx.stack, &format!("sg.{tier}"))),
            ])
        };
        let nlb = id(&make(&cx, K::SecurityGroup, "sg.nlb", &group("nlb")).await);
        let gw = id(&make(&cx, K::SecurityGroup, "sg.gateway", &group("gateway")).await);
        let rule = |logical: &str, group: &str, port: i64, source: (&str, &str)| {
            attrs(&[
                ("group_id", s(group)),
                ("direction", s("ingress")),
                ("protocol", s("tcp")),
                ("from_port", Attr::Int(port)),
                ("to_port", Attr::Int(port)),
                (source.0, s(source.1)),
                ("description", s(&format!("{}: {logical}", cx.stack))),
            ])
        };
        let listener = rule("sg_rule.nlb.listener", &nlb, 443, ("cidr", "0.0.0.0/0"));
        let proxy = rule(
            "sg_rule.gateway.proxy",
            &gw,
            8000,
            ("source_group_id", &nlb),
        );
        let kind = K::SecurityGroupRule;
        for (logical, want) in [
            ("sg_rule.nlb.listener", &listener),
            ("sg_rule.gateway.proxy", &proxy),
        ] {
            let made = make(&cx, kind, logical, want).await;
            assert!(id(&made).starts_with("sgr-"), "{made:?}");
            let have = observe_same(&cx, kind, logical, want).await;
            assert_eq!(have["id"], made["id"]);
            let expected = tags(&cx.stack, logical);
            let Attr::Map(mut expected) = expected else {
                unreachable!()
            };
            expected.remove("environment");
            assert_eq!(have["tags"], Attr::Map(expected));
            // Authorizing the same rule again adopts it.
            let again = make(&cx, kind, logical, want).await;
            assert_eq!(again["id"], made["id"]);
        }
        // AWS's own egress-all rules carry no description of ours: not observed.
        assert_eq!(observed(&cx, kind).await.len(), 2);

        // The same rule under someone else's description is refused. (A CIDR rule: moto accepts
        // a second group-referencing rule that differs only in description; AWS does not.)
        let mut foreign = listener.clone();
        foreign.insert("description".into(), s("other-stack: x"));
        let error = driver(kind)
            .create(&cx, "x", &foreign)
            .await
            .expect_err("foreign");
        assert!(error.to_string().contains("not this stack"), "{error}");

        // The description changes in place (the rule keeps its id).
        let have = observed(&cx, kind).await["sg_rule.gateway.proxy"].clone();
        let renamed = rule(
            "sg_rule.gateway.renamed",
            &gw,
            8000,
            ("source_group_id", &nlb),
        );
        update(
            &cx,
            kind,
            "sg_rule.gateway.proxy",
            &have,
            &renamed,
            &["description"],
        )
        .await;
        let seen = observe_same(&cx, kind, "sg_rule.gateway.renamed", &renamed).await;
        assert_eq!(seen["id"], have["id"]);

        delete(&cx, kind, "sg_rule.gateway.renamed", &seen).await;
        let have = observed(&cx, kind).await["sg_rule.nlb.listener"].clone();
        delete(&cx, kind, "sg_rule.nlb.listener", &have).await;
    })
    .await;
}
