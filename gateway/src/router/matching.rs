//! Whether one candidate matches a request: every criterion it sets must hold.

use super::compile::{Candidate, HeaderRule, HeaderValue, HostName, HostPattern, Paths};
use http::HeaderMap;

/// The request as the candidates see it: host lower-cased and split from its port.
pub(super) struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    pub path: &'a str,
    pub https: bool,
    pub sni: Option<&'a str>,
    pub headers: &'a HeaderMap,
}

/// Which path made the candidate match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathHit {
    /// The candidate has no paths.
    Unset,
    /// A prefix of this many bytes.
    Prefix(usize),
    /// The regex at this position in the candidate's group.
    Regex(usize),
}

// === impl Candidate ===

impl Candidate {
    /// Cheap criteria first; the path regex, the dearest, last.
    pub fn check(&self, req: &Request<'_>) -> Option<PathHit> {
        if !self.methods.is_empty() && !self.methods.iter().any(|m| m == req.method) {
            return None;
        }
        if !self.hosts.is_empty() && !self.hosts.iter().any(|h| h.matches(req.host, req.port)) {
            return None;
        }
        if !self.sni_matches(req) {
            return None;
        }
        if !self.headers.iter().all(|rule| rule.matches(req.headers)) {
            return None;
        }
        self.path_hit(req.path)
    }

    /// Kong only looks at SNIs on HTTPS requests; plain HTTP ignores them.
    fn sni_matches(&self, req: &Request<'_>) -> bool {
        if self.snis.is_empty() || !req.https {
            return true;
        }
        let Some(sni) = req.sni else {
            return false;
        };
        let sni = sni.strip_suffix('.').unwrap_or(sni);
        self.snis.iter().any(|s| s.eq_ignore_ascii_case(sni))
    }

    fn path_hit(&self, path: &str) -> Option<PathHit> {
        match &self.paths {
            Paths::Any => Some(PathHit::Unset),
            Paths::Prefixes(prefixes) => prefixes
                .iter()
                .find(|prefix| path.starts_with(prefix.as_str()))
                .map(|prefix| PathHit::Prefix(prefix.len())),
            Paths::Regexes(regexes) => regexes
                .iter()
                .position(|r| path.starts_with(r.literal.as_str()) && r.regex.is_match(path))
                .map(PathHit::Regex),
        }
    }
}

// === impl HostPattern ===

impl HostPattern {
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let name = match &self.name {
            HostName::Exact(name) => host == name,
            HostName::Suffix(suffix) => host.ends_with(suffix.as_str()),
            HostName::Prefix(prefix) => host.starts_with(prefix.as_str()),
        };
        name && (self.port.is_none() || self.port == port)
    }
}

// === impl HeaderRule ===

impl HeaderRule {
    /// Any of the request's values for this header equals (or matches) any listed value.
    pub fn matches(&self, headers: &HeaderMap) -> bool {
        headers.get_all(&self.name).iter().any(|got| {
            let got = got.as_bytes();
            self.values.iter().any(|want| match want {
                HeaderValue::Exact(want) => got.eq_ignore_ascii_case(want.as_bytes()),
                HeaderValue::Regex(regex) => {
                    std::str::from_utf8(got).is_ok_and(|got| regex.is_match(got))
                }
            })
        })
    }
}
