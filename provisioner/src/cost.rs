//! An estimate of the stack's monthly cost from a bundled price table (on-demand list prices of
//! us-east-1, scaled by a regional factor), shown under every plan. Usage-priced items (NAT and
//! load balancer data, requests to the fallback) are named but not guessed.

use std::fmt::Write;

use crate::stack::{Architecture, Nat, Stack};

const HOURS_PER_MONTH: f64 = 730.0;

/// Hourly prices in us-east-1, USD (approximate list prices; check AWS's pricing pages).
mod price {
    pub const ACU_HOUR: f64 = 0.12;
    pub const AURORA_STORAGE_GB_MONTH: f64 = 0.10;
    pub const FARGATE_ARM_VCPU_HOUR: f64 = 0.03238;
    pub const FARGATE_ARM_GB_HOUR: f64 = 0.00356;
    pub const FARGATE_X86_VCPU_HOUR: f64 = 0.04048;
    pub const FARGATE_X86_GB_HOUR: f64 = 0.004445;
    pub const NLB_HOUR: f64 = 0.0225;
    pub const NAT_HOUR: f64 = 0.045;
    pub const PUBLIC_IPV4_HOUR: f64 = 0.005;
    pub const HOSTED_ZONE_MONTH: f64 = 0.50;
    pub const HEALTH_CHECK_MONTH: f64 = 0.75;
    pub const SECRET_MONTH: f64 = 0.40;
}

/// Hourly price of an ElastiCache node type in us-east-1, when the table knows it.
fn cache_node_hour(node_type: &str) -> Option<f64> {
    Some(match node_type {
        "cache.t4g.micro" => 0.016,
        "cache.t4g.small" => 0.032,
        "cache.t4g.medium" => 0.065,
        "cache.t3.micro" => 0.017,
        "cache.t3.small" => 0.034,
        "cache.t3.medium" => 0.068,
        "cache.m7g.large" => 0.158,
        "cache.r7g.large" => 0.219,
        "cache.m6g.large" => 0.149,
        "cache.r6g.large" => 0.206,
        _ => return None,
    })
}

/// Prices elsewhere relative to us-east-1 (rounded averages over these services).
fn region_factor(region: &str) -> f64 {
    match region {
        "us-east-1" | "us-east-2" | "us-west-2" => 1.0,
        "us-west-1" => 1.12,
        "ca-central-1" => 1.10,
        "eu-west-1" => 1.10,
        "eu-west-2" | "eu-west-3" => 1.15,
        "eu-central-1" | "eu-north-1" => 1.14,
        "ap-southeast-1" | "ap-southeast-2" => 1.20,
        "ap-northeast-1" => 1.22,
        "ap-south-1" => 1.08,
        "sa-east-1" => 1.45,
        _ => 1.15,
    }
}

/// The monthly estimate, line by line.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub region: String,
    pub lines: Vec<(String, f64)>,
}

impl Estimate {
    pub fn total(&self) -> f64 {
        self.lines.iter().map(|(_, usd)| usd).sum()
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "Estimated monthly cost in {} (list prices, before usage-priced items):\n",
            self.region
        );
        for (what, usd) in &self.lines {
            let _ = writeln!(out, "  {usd:>9.2} USD  {what}");
        }
        let _ = writeln!(out, "  {:>9.2} USD  total", self.total());
        out.push_str("  plus usage: NAT and NLB data, NLB capacity units, Aurora I/O and storage growth, fallback requests\n");
        out
    }
}

pub fn estimate(stack: &Stack) -> Estimate {
    let factor = region_factor(&stack.region);
    let mut lines = Vec::new();
    let mut hourly = |what: String, per_hour: f64| {
        lines.push((what, per_hour * HOURS_PER_MONTH * factor));
    };
    let db = &stack.database;
    hourly(
        format!(
            "Aurora Serverless v2 at its minimum {} ACU (up to {} under load)",
            db.min_acu, db.max_acu
        ),
        db.min_acu * price::ACU_HOUR,
    );
    let cache = &stack.cache;
    let nodes = f64::from(cache.replicas + 1);
    match cache_node_hour(&cache.node_type) {
        Some(per_node) => hourly(
            format!("ElastiCache {} x {}", nodes, cache.node_type),
            nodes * per_node,
        ),
        None => hourly(
            format!("ElastiCache {} (not in the price table)", cache.node_type),
            0.0,
        ),
    }
    let gw = &stack.gateway;
    let (vcpu, gb) = (f64::from(gw.cpu) / 1024.0, f64::from(gw.memory) / 1024.0);
    let (per_vcpu, per_gb) = match gw.architecture {
        Architecture::Arm64 => (price::FARGATE_ARM_VCPU_HOUR, price::FARGATE_ARM_GB_HOUR),
        Architecture::X86_64 => (price::FARGATE_X86_VCPU_HOUR, price::FARGATE_X86_GB_HOUR),
    };
    let tasks = f64::from(gw.desired_count);
    hourly(
        format!("Fargate {tasks} task(s) of {vcpu} vCPU / {gb} GB"),
        tasks * (vcpu * per_vcpu + gb * per_gb),
    );
    let zones = f64::from(stack.network.az_count);
    hourly(
        format!("Network Load Balancer (+ {zones} public IPv4)"),
        price::NLB_HOUR + zones * price::PUBLIC_IPV4_HOUR,
    );
    let nats = match stack.network.nat {
        Nat::None => 0.0,
        Nat::Single => 1.0,
        Nat::PerAz => zones,
    };
    if nats > 0.0 {
        hourly(
            format!("{nats} NAT gateway(s) with public IPv4"),
            nats * (price::NAT_HOUR + price::PUBLIC_IPV4_HOUR),
        );
    }
    let mut monthly = |what: &str, usd: f64| lines.push((what.to_string(), usd * factor));
    monthly(
        "Aurora storage, first 10 GB",
        10.0 * price::AURORA_STORAGE_GB_MONTH,
    );
    // The DB password, plus the Admin API key when the stack deploys a gateway configuration.
    let secrets = if stack.gateway.config.is_some() { 2 } else { 1 };
    monthly(
        &format!("{secrets} Secrets Manager secret(s)"),
        f64::from(secrets) * price::SECRET_MONTH,
    );
    if stack.dns.is_some() {
        monthly(
            "Route53 hosted zone and health check",
            price::HOSTED_ZONE_MONTH + price::HEALTH_CHECK_MONTH,
        );
    }
    Estimate {
        region: stack.region.clone(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stack_from;

    #[test]
    fn prod_costs_more_than_local_and_regions_scale() {
        let prod = stack_from("prod");
        let local = stack_from("local");
        let (p, l) = (estimate(&prod), estimate(&local));
        assert!(p.total() > l.total(), "{} vs {}", p.total(), l.total());
        assert!(p.render().contains("total"));
        let mut frankfurt = prod.clone();
        frankfurt.region = "eu-central-1".into();
        let f = estimate(&frankfurt).total();
        assert!((f / p.total() - 1.14).abs() < 1e-9);
    }

    #[test]
    fn minimum_capacity_is_priced_per_acu_hour() {
        let mut stack = stack_from("local");
        stack.database.min_acu = 2.0;
        let two = estimate(&stack).lines[0].1;
        stack.database.min_acu = 1.0;
        let one = estimate(&stack).lines[0].1;
        assert!((two - 2.0 * one).abs() < 1e-9);
        assert!((one - 0.12 * 730.0).abs() < 1e-9);
    }
}
