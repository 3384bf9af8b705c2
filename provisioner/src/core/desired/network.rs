//! VPC, subnets per zone, internet and NAT gateways, route tables, security groups and rules.

use std::net::Ipv4Addr;

use super::{az_letter, int, list, map, r, s, Builder};
use super::{LISTENER_PORT, POSTGRES_PORT, PROXY_PORT, REDIS_PORT};
use crate::core::resource::ResourceKind as K;
use crate::stack::Nat;

/// Logical names later layers reference.
pub struct Net {
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
}

pub fn add(b: &mut Builder) -> Net {
    let zones = b.stack.network.az_count;
    b.add(
        K::Vpc,
        "vpc",
        vec![
            ("cidr_block", s(&b.stack.network.cidr)),
            ("enable_dns_hostnames", super::Attr::Bool(true)),
            ("enable_dns_support", super::Attr::Bool(true)),
        ],
        &[],
    );
    b.add(
        K::InternetGateway,
        "igw",
        vec![("vpc_id", r("vpc", "id"))],
        &[],
    );
    let blocks = subnet_blocks(&b.stack.network.cidr, zones * 2);
    let mut net = Net {
        public_subnets: Vec::new(),
        private_subnets: Vec::new(),
    };
    for zone in 0..zones {
        for (tier, offset, public) in [("public", 0, true), ("private", zones, false)] {
            let logical = format!("subnet.{tier}.{}", az_letter(zone));
            let cidr = blocks
                .get((offset + zone) as usize)
                .cloned()
                .unwrap_or_default();
            let az = format!("{}{}", b.stack.region, az_letter(zone));
            b.add(
                K::Subnet,
                &logical,
                vec![
                    ("vpc_id", r("vpc", "id")),
                    ("cidr_block", s(cidr)),
                    ("availability_zone", s(az)),
                    ("map_public_ip_on_launch", super::Attr::Bool(public)),
                ],
                &[],
            );
            if public {
                net.public_subnets.push(logical);
            } else {
                net.private_subnets.push(logical);
            }
        }
    }
    routes(b, &net);
    security_groups(b);
    net
}

/// Equal power-of-two blocks of `cidr`, enough for `count` subnets (public first, then private).
/// An unparsable CIDR gives no blocks: `rules` reports it before a graph is built.
fn subnet_blocks(cidr: &str, count: u32) -> Vec<String> {
    let Some((ip, prefix)) = cidr.split_once('/') else {
        return Vec::new();
    };
    let (Ok(ip), Ok(prefix)) = (ip.parse::<Ipv4Addr>(), prefix.parse::<u32>()) else {
        return Vec::new();
    };
    let bits = u32::BITS - (count.max(1) - 1).leading_zeros();
    let new_prefix = prefix + bits;
    if new_prefix > 32 {
        return Vec::new();
    }
    let size = 1u64 << (32 - new_prefix);
    (0..u64::from(count))
        .map(|i| {
            let address = u64::from(u32::from(ip)) + i * size;
            format!("{}/{new_prefix}", Ipv4Addr::from(address as u32))
        })
        .collect()
}

/// Public subnets route to the internet gateway; private ones to their zone's NAT (or the one).
fn routes(b: &mut Builder, net: &Net) {
    let route =
        |target: super::Attr| map(vec![("destination", s("0.0.0.0/0")), ("target", target)]);
    let public_ids = net.public_subnets.iter().map(|l| r(l, "id"));
    b.add(
        K::RouteTable,
        "route_table.public",
        vec![
            ("vpc_id", r("vpc", "id")),
            ("routes", list([route(r("igw", "id"))])),
            ("subnet_ids", list(public_ids)),
        ],
        &[],
    );
    let nat_count = match b.stack.network.nat {
        Nat::None => 0,
        Nat::Single => 1,
        Nat::PerAz => net.public_subnets.len(),
    };
    for (zone, subnet) in net.public_subnets.iter().take(nat_count).enumerate() {
        let letter = az_letter(zone as u32);
        let eip = format!("eip.nat.{letter}");
        b.add(K::ElasticIp, &eip, vec![("domain", s("vpc"))], &[]);
        // AWS refuses a NAT gateway in a VPC whose internet gateway is not attached yet.
        b.add(
            K::NatGateway,
            &format!("nat.{letter}"),
            vec![
                ("subnet_id", r(subnet, "id")),
                ("allocation_id", r(&eip, "id")),
            ],
            &["igw"],
        );
    }
    for (zone, subnet) in net.private_subnets.iter().enumerate() {
        let letter = az_letter(zone as u32);
        let routes = match nat_count {
            0 => list([]),
            1 => list([route(r("nat.a", "id"))]),
            _ => list([route(r(&format!("nat.{letter}"), "id"))]),
        };
        b.add(
            K::RouteTable,
            &format!("route_table.private.{letter}"),
            vec![
                ("vpc_id", r("vpc", "id")),
                ("routes", routes),
                ("subnet_ids", list([r(subnet, "id")])),
            ],
            &[],
        );
    }
}

/// NLB → gateway proxy port only; gateway → database and cache ports only. Nothing opens the
/// Admin API port: the portal reaches it through a key-auth protected proxy route.
fn security_groups(b: &mut Builder) {
    for (tier, what) in [
        ("nlb", "network load balancer"),
        ("gateway", "gateway tasks"),
        ("db", "Aurora PostgreSQL"),
        ("cache", "ElastiCache Redis"),
    ] {
        let name = b.name(&format!("-{tier}"));
        b.add(
            K::SecurityGroup,
            &format!("sg.{tier}"),
            vec![
                ("name", s(name)),
                ("description", s(format!("{what} of the gateway stack"))),
                ("vpc_id", r("vpc", "id")),
            ],
            &[],
        );
    }
    let rule = |b: &mut Builder, logical: &str, group: &str, port: i64, source: super::Attr| {
        let source_key = match source {
            super::Attr::Ref(_) => "source_group_id",
            _ => "cidr",
        };
        b.add(
            K::SecurityGroupRule,
            logical,
            vec![
                ("group_id", r(group, "id")),
                ("direction", s("ingress")),
                ("protocol", s("tcp")),
                ("from_port", int(port)),
                ("to_port", int(port)),
                (source_key, source),
                (
                    "description",
                    s(format!("{}: {logical}", b.stack.name_prefix)),
                ),
            ],
            &[],
        );
    };
    rule(
        b,
        "sg_rule.nlb.listener",
        "sg.nlb",
        LISTENER_PORT,
        s("0.0.0.0/0"),
    );
    let from_nlb = r("sg.nlb", "id");
    rule(
        b,
        "sg_rule.gateway.proxy",
        "sg.gateway",
        PROXY_PORT,
        from_nlb,
    );
    let from_gateway = r("sg.gateway", "id");
    rule(
        b,
        "sg_rule.db.postgres",
        "sg.db",
        POSTGRES_PORT,
        from_gateway.clone(),
    );
    rule(
        b,
        "sg_rule.cache.redis",
        "sg.cache",
        REDIS_PORT,
        from_gateway,
    );
}
