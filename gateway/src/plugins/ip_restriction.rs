//! ip-restriction: reject clients by address, with allow and deny lists of IPs and CIDR ranges
//! (IPv4 and IPv6), as Kong 3.x does: a deny match always rejects; a non-empty allow list
//! rejects everyone it does not match.

use super::{config_status, kong_response, typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::str::FromStr;

const DEFAULT_MESSAGE: &str = "Your IP address is not allowed";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
    status: Option<u16>,
    message: Option<String>,
}

/// An address range; an address without `/len` is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The first address of the range (host bits cleared).
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid ip or cidr range: '{0}'")]
pub struct CidrError(String);

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Cidr, CidrError> {
        let bad = || CidrError(text.to_string());
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (text, None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(len) if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) => len
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            Some(_) => return Err(bad()),
        };
        Ok(Cidr {
            network: mask(ip, prefix),
            prefix,
        })
    }
}

impl Cidr {
    /// Does the range hold `ip`? An IPv4 address never matches an IPv6 range and vice versa,
    /// except that an IPv4-mapped IPv6 client (`::ffff:a.b.c.d`) counts as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & bits).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & bits).into())
        }
    }
}

#[derive(Debug)]
pub struct IpRestriction {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
    status: StatusCode,
    message: String,
}

impl IpRestriction {
    pub fn from_config(config: &Value) -> Result<IpRestriction, FieldErrors> {
        let config: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let allow = parse_list(config.allow.as_deref(), "config.allow", &mut errors);
        let deny = parse_list(config.deny.as_deref(), "config.deny", &mut errors);
        if allow.is_empty() && deny.is_empty() && errors.is_empty() {
            errors.entity(
                "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
            );
        }
        let code = config.status.unwrap_or(StatusCode::FORBIDDEN.as_u16());
        let status = config_status(code.into(), "config.status", &mut errors);
        errors.into_result()?;
        Ok(IpRestriction {
            allow,
            deny,
            status: status.unwrap_or(StatusCode::FORBIDDEN),
            message: config.message.unwrap_or_else(|| DEFAULT_MESSAGE.into()),
        })
    }

    /// Deny wins; then an allow list, when there is one, must match.
    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.deny.iter().any(|c| c.contains(ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip))
    }
}

fn parse_list(list: Option<&[String]>, field: &str, errors: &mut FieldErrors) -> Vec<Cidr> {
    let mut parsed = Vec::new();
    for (i, entry) in list.unwrap_or(&[]).iter().enumerate() {
        match entry.parse() {
            Ok(cidr) => parsed.push(cidr),
            Err(e) => errors.add(&format!("{field}.{}", i + 1), CidrError::to_string(&e)),
        }
    }
    parsed
}

impl Handler for IpRestriction {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            (!self.permits(ctx.client_ip)).then(|| kong_response(self.status, &self.message))
        })
    }
}

#[cfg(test)]
mod tests;
