//! Header edits on the way to the upstream and back: hop-by-hop headers removed, Kong's
//! `X-Forwarded-*`, `X-Real-IP` and `Via` added, `Host` chosen by `preserve_host`.

use http::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use std::borrow::Cow;
use std::net::IpAddr;

/// Headers that belong to one connection and must not be forwarded (RFC 9110 §7.6.1), plus
/// `Proxy`, which Kong clears against httpoxy. Names built at compile time: these are looked
/// up twice per request.
const HOP_BY_HOP: [HeaderName; 8] = [
    http::header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("proxy"),
    http::header::TE,
    http::header::TRAILER,
    http::header::TRANSFER_ENCODING,
    http::header::UPGRADE,
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
const X_FORWARDED_PATH: HeaderName = HeaderName::from_static("x-forwarded-path");
const X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Drop hop-by-hop headers, including those the `Connection` header names. A client asking
/// for trailers (`TE: trailers`) keeps that one wish, as Kong does.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let wants_trailers = headers
        .get_all(http::header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("trailers"));
    if headers.contains_key(http::header::CONNECTION) {
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
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
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
    let ip = value(&d.client_ip.to_string());
    let previous: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let xff = if previous.is_empty() {
        ip.clone()
    } else {
        value(&format!("{}, {}", previous.join(", "), d.client_ip))
    };
    put(headers, X_FORWARDED_FOR, xff);
    let scheme = match d.scheme {
        "https" => Some(HeaderValue::from_static("https")),
        "http" => Some(HeaderValue::from_static("http")),
        other => value(other),
    };
    put(headers, X_FORWARDED_PROTO, scheme);
    put(headers, X_FORWARDED_HOST, value(&host_without_port(d.host)));
    put(headers, X_FORWARDED_PORT, Some(HeaderValue::from(d.port)));
    put(headers, X_FORWARDED_PATH, value(d.path));
    match d.stripped_prefix.filter(|p| !p.is_empty() && *p != "/") {
        Some(prefix) => put(headers, X_FORWARDED_PREFIX, value(prefix)),
        None => {
            headers.remove(X_FORWARDED_PREFIX);
        }
    }
    put(headers, X_REAL_IP, ip);
}

/// Append this hop to `Via` (`1.1 gateway/x.y.z`), after whatever earlier hops wrote.
pub fn append_via(headers: &mut HeaderMap, this_hop: &'static str) {
    let previous: Vec<&str> = headers
        .get_all(http::header::VIA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if previous.is_empty() {
        headers.insert(http::header::VIA, HeaderValue::from_static(this_hop));
        return;
    }
    let via = format!("{}, {this_hop}", previous.join(", "));
    put(headers, http::header::VIA, value(&via));
}

/// nginx's `$host`: the Host header without its port, in lower case.
fn host_without_port(host: &str) -> Cow<'_, str> {
    let name = match host.strip_prefix('[') {
        // An IPv6 literal keeps its brackets.
        Some(rest) => rest
            .split_once(']')
            .map_or(host, |(ip, _)| &host[..ip.len() + 2]),
        None => host.split(':').next().unwrap_or(host),
    };
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
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

fn value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

/// Set `name` when the value is valid (an invalid one is skipped, as before).
fn put(headers: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
    if let Some(v) = value {
        headers.insert(name, v);
    }
}
