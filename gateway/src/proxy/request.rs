//! Reading the client's request and shaping what goes upstream: sizes, host, request id,
//! forwarded headers, `Via`, route captures.

use super::{forward, VIA, X_KONG_REQUEST_ID};
use http::HeaderValue;

/// A fresh request id: 128 random bits in hex, formatted without the `fmt` machinery.
pub(super) fn new_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = rand::random::<u128>();
    let mut digits = [0u8; 32];
    for digit in digits.iter_mut().rev() {
        *digit = HEX[(bits & 0xf) as usize];
        bits >>= 4;
    }
    HeaderValue::from_bytes(&digits).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// Kong's `uri_captures`: named groups by name, and every group by its number ("0" the whole
/// match), so templates can say `uri_captures['apikey']` or `uri_captures[1]`.
pub(super) fn captures_of(
    captures: &crate::router::UriCaptures,
) -> std::collections::BTreeMap<String, String> {
    let mut all = captures.named.clone();
    for (i, value) in captures.unnamed.iter().enumerate() {
        all.entry(i.to_string()).or_insert_with(|| value.clone());
    }
    all
}

/// A body the gateway read whole goes upstream with a Content-Length, never chunked.
pub(super) fn outgoing_length(headers: &mut http::HeaderMap, len: usize) {
    headers.remove(http::header::TRANSFER_ENCODING);
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
}

/// The client's headers as the upstream gets them: hop-by-hop ones out; Kong's forwarded
/// headers, `Via` and the request id in.
pub(super) fn upstream_headers(
    client: &http::HeaderMap,
    downstream: &forward::Downstream<'_>,
    version: http::Version,
    request_id: &HeaderValue,
) -> http::HeaderMap {
    let mut headers = client.clone();
    forward::strip_hop_by_hop(&mut headers);
    forward::add_forwarded(&mut headers, downstream);
    forward::append_via(&mut headers, via(version));
    headers.insert(X_KONG_REQUEST_ID, request_id.clone());
    headers
}

/// This hop in the request's `Via`, with the client's HTTP version as Kong writes it.
fn via(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_10 => concat!("1.0 gateway/", env!("CARGO_PKG_VERSION")),
        http::Version::HTTP_2 => concat!("2 gateway/", env!("CARGO_PKG_VERSION")),
        _ => VIA,
    }
}

pub(super) fn insert_ms(headers: &mut http::HeaderMap, name: &'static str, value: u128) {
    headers.insert(
        name,
        HeaderValue::from(u64::try_from(value).unwrap_or(u64::MAX)),
    );
}

pub(super) fn host_of<'a>(header: Option<&'a HeaderValue>, uri: &'a http::Uri) -> &'a str {
    header
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
}

pub(super) fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The request line and header block as they came on the wire (near enough: HTTP/2 has no
/// such block, and HPACK sizes differ).
pub(super) fn header_block_size(parts: &http::request::Parts) -> usize {
    let line = parts.method.as_str().len() + uri_len(&parts.uri) + 12;
    let fields: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    line + fields
}

/// The length of the URI as `Display` writes it, without writing it.
fn uri_len(uri: &http::Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path().len()
        + uri.query().map_or(0, |q| q.len() + 1)
}
