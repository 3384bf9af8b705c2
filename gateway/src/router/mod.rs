//! Route matching with Kong's `traditional_compatible` precedence, compiled once per
//! configuration snapshot and then read-only.
//!
//! Each route becomes one candidate per group of paths (its regexes together, its prefixes
//! grouped by length), exactly as Kong splits routes. Candidates are sorted by Kong's priority
//! (most significant first):
//!
//! 1. how many of snis, methods, hosts, headers and paths the route sets;
//! 2. hosts that are all plain (no wildcard);
//! 3. the number of headers;
//! 4. regex paths before prefix paths;
//! 5. among regex paths, a higher `regex_priority`;
//! 6. among prefix paths, the longer prefix;
//!
//! and, where Kong leaves the order undefined, the older `created_at`, then configuration
//! order. The first candidate whose criteria all hold wins. Protocols are not a criterion, as
//! in Kong: an HTTPS-only route matched over HTTP is reported in [`Match::https_required`].
//!
//! A lookup only tries the candidates filed under the request's exact host (or under no
//! exact host) and under a literal prefix of its path, so its cost hardly grows with the
//! number of routes.

mod compile;
mod index;
mod matching;
mod upstream;

#[cfg(test)]
mod tests;

pub use compile::CompileError;
pub use upstream::upstream_path;

use crate::entities::Route;
use compile::{split_host_port, Candidate, Paths};
use index::CandidateIndex;
use matching::{PathHit, Request};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Protocols served by the HTTP router; stream-only routes (tcp, tls, udp) are left out.
const HTTP_PROTOCOLS: &[&str] = &["http", "https", "grpc", "grpcs", "ws", "wss"];

/// What the router looks at in a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub method: &'a str,
    /// The Host header, possibly with a port.
    pub host: &'a str,
    /// The normalised path, without the query string.
    pub path: &'a str,
    /// `"http"` or `"https"`.
    pub scheme: &'a str,
    /// The TLS server name, for routes with `snis` (ignored on plain HTTP, as Kong does).
    pub sni: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
}

/// The groups a regex path captured, as Kong's `uri_captures`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UriCaptures {
    /// `[0]` is the whole match, then each group in order (`""` for a group that took no part).
    pub unnamed: Vec<String>,
    pub named: BTreeMap<String, String>,
}

/// The route a request matched.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub route: &'a Route,
    /// The route's position in the slice given to [`Router::new`].
    pub route_index: usize,
    /// Bytes of the request path that the route's path matched; `None` without paths.
    pub matched_path: Option<usize>,
    /// Filled only for a regex path with groups (Kong leaves `uri_captures` unset otherwise).
    pub captures: UriCaptures,
    /// The route takes HTTPS only and this request came over HTTP: answer with this status
    /// (426, or a redirect to https for 301/302/307/308) instead of proxying.
    pub https_required: Option<u16>,
}

/// The compiled routes of one configuration snapshot.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
    /// All candidates, highest priority first.
    candidates: Vec<Candidate>,
    index: CandidateIndex,
}

// === impl Router ===

impl Router {
    /// Compile all routes; a route that fails to compile is skipped with a warning.
    pub fn new(routes: &[Route]) -> Router {
        Router::with_filter(routes, |_| true)
    }

    /// As [`Router::new`], leaving out the routes `keep` refuses (those of a disabled service,
    /// as Kong does); indices still refer to `routes`.
    pub fn with_filter(routes: &[Route], keep: impl Fn(&Route) -> bool) -> Router {
        let mut candidates = Vec::new();
        for (index, route) in routes.iter().enumerate().filter(|(_, r)| keep(r)) {
            if !route
                .protocols
                .iter()
                .any(|p| HTTP_PROTOCOLS.contains(&p.as_str()))
            {
                continue;
            }
            match compile::compile(index, route) {
                Ok(compiled) => candidates.extend(compiled),
                Err(error) => tracing::warn!(route = %route.id, %error, "skipping route"),
            }
        }
        candidates.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.created_at.cmp(&b.created_at))
                .then(a.route.cmp(&b.route))
        });
        Router {
            routes: routes.to_vec(),
            index: CandidateIndex::new(&candidates),
            candidates,
        }
    }

    /// The highest-priority route matching the request.
    pub fn find(&self, req: &RequestInfo<'_>) -> Option<Match<'_>> {
        let (host, port) = split_host_port(req.host);
        let host = lower_case(host);
        let positions = self.index.lookup(&host, req.path);
        self.first_match(req, &host, port, positions)
    }

    /// The first of `positions` (ascending) whose candidate matches.
    fn first_match(
        &self,
        req: &RequestInfo<'_>,
        host: &str,
        port: Option<u16>,
        mut positions: impl Iterator<Item = u32>,
    ) -> Option<Match<'_>> {
        let request = Request {
            method: req.method,
            host,
            port,
            path: req.path,
            https: req.scheme == "https",
            sni: req.sni,
            headers: req.headers,
        };
        positions.find_map(|position| {
            let candidate = &self.candidates[position as usize];
            let hit = candidate.check(&request)?;
            Some(self.build_match(candidate, hit, req))
        })
    }

    /// How many candidates (routes split by path group) the router holds.
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    fn build_match(&self, candidate: &Candidate, hit: PathHit, req: &RequestInfo<'_>) -> Match<'_> {
        let (matched_path, captures) = match (hit, &candidate.paths) {
            (PathHit::Prefix(len), _) => (Some(len), UriCaptures::default()),
            (PathHit::Regex(i), Paths::Regexes(regexes)) => {
                capture(&regexes[i].regex, req.path).unwrap_or_default()
            }
            _ => (None, UriCaptures::default()),
        };
        let route = &self.routes[candidate.route];
        let https_required = (candidate.https_only && req.scheme != "https")
            .then_some(route.https_redirect_status_code);
        Match {
            route,
            route_index: candidate.route,
            matched_path,
            captures,
            https_required,
        }
    }
}

/// Host names compare in lower case; most requests already send them so.
fn lower_case(host: &str) -> Cow<'_, str> {
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

/// The match length and the groups of a regex path.
fn capture(regex: &regex::Regex, path: &str) -> Option<(Option<usize>, UriCaptures)> {
    let caps = regex.captures(path)?;
    let whole = caps.get(0)?;
    let mut captures = UriCaptures::default();
    if caps.len() > 1 {
        captures.unnamed = caps
            .iter()
            .map(|group| group.map_or_else(String::new, |m| m.as_str().to_string()))
            .collect();
        for name in regex.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                captures
                    .named
                    .insert(name.to_string(), m.as_str().to_string());
            }
        }
    }
    // The end, not the length: with Kong's bare `^` prefix an alternation may match later on.
    Some((Some(whole.end()), captures))
}
