//! What consistent-hashing hashes: Kong's `hash_on` (then `hash_fallback` when that input is
//! missing): the consumer, the client IP, a header, a cookie, the path, a query argument or a
//! regex capture of the route.

use crate::entities::Upstream;
use http::HeaderMap;
use std::collections::BTreeMap;
use std::net::IpAddr;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
enum HashOn {
    None,
    Consumer,
    Ip,
    Header(String),
    Cookie(String),
    Path,
    QueryArg(String),
    UriCapture(String),
}

impl HashOn {
    fn of(kind: &str, u: &Upstream, fallback: bool) -> HashOn {
        let header = if fallback {
            &u.hash_fallback_header
        } else {
            &u.hash_on_header
        };
        let name = |v: &Option<String>| v.clone().unwrap_or_default();
        match kind {
            "consumer" => HashOn::Consumer,
            "ip" => HashOn::Ip,
            "header" => HashOn::Header(name(header).to_ascii_lowercase()),
            "cookie" => HashOn::Cookie(name(&u.hash_on_cookie)),
            "path" => HashOn::Path,
            "query_arg" => HashOn::QueryArg(name(&u.hash_on_query_arg)),
            "uri_capture" => HashOn::UriCapture(name(&u.hash_on_uri_capture)),
            _ => HashOn::None,
        }
    }
}

/// The request inputs a hash may be taken from.
#[derive(Debug, Clone, Copy)]
pub struct HashSource<'a> {
    pub consumer: Option<Uuid>,
    pub client_ip: IpAddr,
    pub headers: &'a HeaderMap,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub captures: &'a BTreeMap<String, String>,
}

/// An upstream's hashing rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashSpec {
    on: HashOn,
    fallback: HashOn,
}

impl HashSpec {
    pub fn of(upstream: &Upstream) -> HashSpec {
        HashSpec {
            on: HashOn::of(&upstream.hash_on, upstream, false),
            fallback: HashOn::of(&upstream.hash_fallback, upstream, true),
        }
    }

    /// The key for this request: from `hash_on`, else `hash_fallback`, else none.
    pub fn key(&self, src: &HashSource<'_>) -> Option<String> {
        input(&self.on, src).or_else(|| input(&self.fallback, src))
    }
}

fn input(on: &HashOn, src: &HashSource<'_>) -> Option<String> {
    match on {
        HashOn::None => None,
        HashOn::Consumer => src.consumer.map(|c| c.to_string()),
        HashOn::Ip => Some(src.client_ip.to_string()),
        HashOn::Header(name) => {
            let values: Vec<&str> = src
                .headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        }
        HashOn::Cookie(name) => src
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string()),
        HashOn::Path => Some(src.path.to_string()),
        HashOn::QueryArg(name) => url::form_urlencoded::parse(src.query.unwrap_or("").as_bytes())
            .find(|(k, _)| k == name.as_str())
            .map(|(_, v)| v.into_owned()),
        HashOn::UriCapture(name) => src.captures.get(name).cloned(),
    }
}

#[cfg(test)]
mod tests;
