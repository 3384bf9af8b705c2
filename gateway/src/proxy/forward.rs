//! Header edits on the way to the upstream and back: hop-by-hop headers removed, Kong's
//! `X-Forwarded-*` and `X-Real-IP` added, `Host` chosen by `preserve_host`.

use http::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use std::net::IpAddr;

/// Headers that belong to one connection and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Drop hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// What the client asked for, as the forwarded headers describe it.
pub struct Downstream<'a> {
    pub client_ip: IpAddr,
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub path: &'a str,
    /// The part of the path that `strip_path` removed, if any.
    pub stripped_prefix: Option<&'a str>,
}

/// Kong's forwarded headers. `X-Forwarded-For` appends to what a previous proxy sent.
pub fn add_forwarded(headers: &mut HeaderMap, d: &Downstream<'_>) {
    let ip = d.client_ip.to_string();
    let xff = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(previous) => format!("{previous}, {ip}"),
        None => ip.clone(),
    };
    set(headers, "x-forwarded-for", &xff);
    set(headers, "x-forwarded-proto", d.scheme);
    set(
        headers,
        "x-forwarded-host",
        d.host.split(':').next().unwrap_or(d.host),
    );
    set(headers, "x-forwarded-port", &d.port.to_string());
    set(headers, "x-forwarded-path", d.path);
    match d.stripped_prefix.filter(|p| !p.is_empty() && *p != "/") {
        Some(prefix) => set(headers, "x-forwarded-prefix", prefix),
        None => {
            headers.remove("x-forwarded-prefix");
        }
    }
    set(headers, "x-real-ip", &ip);
}

/// `Host` for the upstream: the client's with `preserve_host`, else the upstream's name and
/// non-default port.
pub fn set_host(
    headers: &mut HeaderMap,
    preserve: bool,
    original: &str,
    host: &str,
    port: u16,
    scheme: &str,
) {
    let value = if preserve && !original.is_empty() {
        original.to_string()
    } else if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(HOST, v);
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}
