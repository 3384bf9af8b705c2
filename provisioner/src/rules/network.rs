//! VPC CIDR and availability zones.

use super::Findings;
use crate::stack::Stack;

/// Smallest subnet AWS allows (/28: 16 addresses, 5 reserved by AWS).
const SMALLEST_SUBNET_PREFIX: u8 = 28;

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub address: u32,
    pub prefix: u8,
}

/// Parses `a.b.c.d/n`, requiring the host bits to be zero.
pub fn parse_cidr(text: &str) -> Result<Cidr, String> {
    let bad = || format!("`{text}` is not an IPv4 CIDR block like `10.0.0.0/16`");
    let (ip, prefix) = text.split_once('/').ok_or_else(bad)?;
    let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    if prefix > 32 {
        return Err(bad());
    }
    let address = u32::from(ip);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    if address & !mask != 0 {
        let network = std::net::Ipv4Addr::from(address & mask);
        return Err(format!(
            "`{text}` has host bits set; did you mean `{network}/{prefix}`?"
        ));
    }
    Ok(Cidr { address, prefix })
}

pub fn check(stack: &Stack, findings: &mut Findings) {
    let network = &stack.network;
    if network.az_count < 2 {
        findings.add(
            "network.az_count",
            format!(
                "{} availability zone(s): Aurora's DB subnet group needs subnets in at least 2 \
                 zones, and the NLB should span them too",
                network.az_count
            ),
        );
    } else if network.az_count > 6 {
        findings.add(
            "network.az_count",
            "no AWS region offers more than 6 availability zones",
        );
    }
    let cidr = match parse_cidr(&network.cidr) {
        Ok(cidr) => cidr,
        Err(message) => return findings.add("network.cidr", message),
    };
    if !(16..=28).contains(&cidr.prefix) {
        let message = format!(
            "a VPC's CIDR must be between /16 and /28, not /{}",
            cidr.prefix
        );
        return findings.add("network.cidr", message);
    }
    // One public and one private subnet per zone, carved as equal power-of-two blocks.
    let subnets = (network.az_count * 2).max(1);
    let bits = u32::BITS - (subnets - 1).leading_zeros();
    if u32::from(cidr.prefix) + bits > u32::from(SMALLEST_SUBNET_PREFIX) {
        findings.add_reading(
            "network.cidr",
            &["network.az_count"],
            format!(
                "/{} is too small for {subnets} subnets ({} zones × public + private): each would \
                 be smaller than AWS's minimum /28; use /{} or larger",
                cidr.prefix,
                network.az_count,
                u32::from(SMALLEST_SUBNET_PREFIX) - bits
            ),
        );
    }
}
