//! Header edits on the way to the upstream and back: hop-by-hop headers removed, Kong's
//! `X-Forwarded-*`, `X-Real-IP` and `Via` added, `Host` chosen by `preserve_host`.

use http::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use std::net::IpAddr;

/// Headers that belong to one connection and must not be forwarded (RFC 9110 §7.6.1), plus
/// `Proxy`, which Kong clears against httpoxy.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Drop hop-by-hop headers, including those the `Connection` header names. A client asking
/// for trailers (`TE: trailers`) keeps that one wish, as Kong does.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let wants_trailers = headers
        .get_all(http::header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("trailers"));
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
    if wants_trailers {
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
    }
}

/// What the client asked for, as the forwarded headers describe it.
pub struct Downstream<'a> {
    pub client_ip: IpAddr,
    pub scheme: &'a str,
    /// The `Host` header as sent (possibly with a port).
    pub host: &'a str,
    /// The port the client connected to.
    pub port: u16,
    /// The raw request path, before normalisation.
    pub path: &'a str,
    /// The part of the (normalised) path that `strip_path` removed, if any.
    pub stripped_prefix: Option<&'a str>,
}

/// Kong's forwarded headers. `X-Forwarded-For` appends to what a previous proxy sent; the
/// others describe this hop only (no trusted proxies are configured, so client-sent values
/// are replaced, and a client-sent `X-Forwarded-Prefix` is dropped).
pub fn add_forwarded(headers: &mut HeaderMap, d: &Downstream<'_>) {
    let ip = d.client_ip.to_string();
    let previous: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let xff = if previous.is_empty() {
        ip.clone()
    } else {
        format!("{}, {ip}", previous.join(", "))
    };
    set(headers, "x-forwarded-for", &xff);
    set(headers, "x-forwarded-proto", d.scheme);
    set(headers, "x-forwarded-host", &host_without_port(d.host));
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

/// Append this hop to `Via` (`1.1 gateway/x.y.z`), after whatever earlier hops wrote.
pub fn append_via(headers: &mut HeaderMap, this_hop: &str) {
    let previous: Vec<&str> = headers
        .get_all(http::header::VIA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let via = if previous.is_empty() {
        this_hop.to_string()
    } else {
        format!("{}, {this_hop}", previous.join(", "))
    };
    set(headers, "via", &via);
}

/// nginx's `$host`: the Host header without its port, in lower case.
fn host_without_port(host: &str) -> String {
    let name = match host.strip_prefix('[') {
        // An IPv6 literal keeps its brackets.
        Some(rest) => rest
            .split_once(']')
            .map_or(host, |(ip, _)| &host[..ip.len() + 2]),
        None => host.split(':').next().unwrap_or(host),
    };
    name.to_ascii_lowercase()
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
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let value = if preserve && !original.is_empty() {
        original.to_string()
    } else if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) {
        host
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
