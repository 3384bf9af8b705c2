//! AWS Signature Version 4 for requests signed in the `Authorization` header: the canonical
//! request, the string to sign, the derived key and the header itself. The pieces are public so
//! a test server can recompute a signature and compare, as AWS does.

use super::clock::Civil;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, Request};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Who signs, and for which region and service.
#[derive(Clone)]
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

impl Signer<'_> {
    /// Add `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials) and `Authorization` to a
    /// request whose URI, headers (including `Host`) and body are final. Every header present is
    /// signed except `Content-Length`, which proxies may rewrite.
    pub fn sign(&self, request: &mut Request<bytes::Bytes>, now: SystemTime) {
        let amz_date = Civil::from_system(now).amz_date();
        let headers = request.headers_mut();
        insert(headers, "x-amz-date", &amz_date);
        if let Some(token) = self.session_token {
            insert(headers, "x-amz-security-token", token);
        }
        let signed: Vec<String> = signable_names(request.headers());
        let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
        let canonical = canonical_request(
            request.method().as_str(),
            request.uri().path(),
            request.uri().query().unwrap_or(""),
            request.headers(),
            &signed,
            &sha256_hex(request.body()),
        );
        let scope = Scope::new(&amz_date, self.region, self.service);
        let signature = signature(
            self.secret_access_key,
            &scope,
            &string_to_sign(&amz_date, &scope, &canonical),
        );
        let value = authorization(self.access_key_id, &scope, &signed, &signature);
        insert(request.headers_mut(), "authorization", &value);
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // Credentials and dates are ASCII; a token that is not cannot be sent anyway.
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn signable_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers
        .keys()
        .map(|n| n.as_str().to_string())
        .filter(|n| n != "content-length" && n != "authorization")
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The credential scope: `date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    pub fn new(amz_date: &str, region: &str, service: &str) -> Scope {
        Scope {
            date: amz_date.get(..8).unwrap_or(amz_date).to_string(),
            region: region.to_string(),
            service: service.to_string(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The canonical request. `path` and `query` are as sent on the wire; like every AWS service but
/// S3, the path is URI-encoded once more, and the query is decoded, re-encoded and sorted.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    signed_names: &[&str],
    payload_hash: &str,
) -> String {
    let mut out = format!(
        "{method}\n{}\n{}\n",
        canonical_uri(path),
        canonical_query(query)
    );
    for name in signed_names {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    out.push_str(&format!("\n{}\n{payload_hash}", signed_names.join(";")));
    out
}

pub fn string_to_sign(amz_date: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, scope: &Scope) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

pub fn signature(secret: &str, scope: &Scope, string_to_sign: &str) -> String {
    hex::encode(hmac(&signing_key(secret, scope), string_to_sign.as_bytes()))
}

pub fn authorization(access_key_id: &str, scope: &Scope, signed: &[&str], sig: &str) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={sig}",
        signed.join(";")
    )
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    path.split('/')
        .map(|segment| uri_encode(segment.as_bytes()))
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// SigV4's URI encoding: every byte but the unreserved `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(text).collect()
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
