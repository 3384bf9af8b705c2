//! Compiling a route into candidates: one per group of paths (all regexes together, prefixes
//! grouped by length), each with Kong's `traditional_compatible` priority.

use crate::entities::Route;
use http::header::HeaderName;
use regex::Regex;
use std::collections::BTreeMap;

/// Why a route could not be compiled; the router skips it and logs this.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("invalid regex path '{path}': {source}")]
    PathRegex {
        path: String,
        #[source]
        source: regex::Error,
    },
    #[error("invalid header name '{name}'")]
    HeaderName { name: String },
    #[error("invalid regex '{value}' for header '{name}': {source}")]
    HeaderRegex {
        name: String,
        value: String,
        #[source]
        source: regex::Error,
    },
}

/// Kong's priority, most significant field first, so the derived `Ord` compares exactly like
/// the 64-bit number Kong builds in `get_priority` (match weight, plain hosts, header count,
/// regex bit, regex_priority, prefix length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Priority {
    pub weight: u8,
    pub plain_hosts: bool,
    pub header_count: u8,
    pub regex: bool,
    pub regex_priority: i64,
    pub prefix_len: usize,
}

/// How a host pattern compares with the request's host name (already lower-case).
#[derive(Debug, Clone)]
pub(super) enum HostName {
    Exact(String),
    /// `*.example.com`: the request host ends with `.example.com`.
    Suffix(String),
    /// `example.*`: the request host starts with `example.`.
    Prefix(String),
}

#[derive(Debug, Clone)]
pub(super) struct HostPattern {
    pub name: HostName,
    /// Only a pattern with a port looks at the Host header's port.
    pub port: Option<u16>,
}

#[derive(Debug, Clone)]
pub(super) enum HeaderValue {
    /// Lower-case; compared ignoring ASCII case, as Kong lower-cases both sides.
    Exact(String),
    /// A `~*` value: an unanchored, case-insensitive regex.
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub(super) struct HeaderRule {
    pub name: HeaderName,
    pub values: Vec<HeaderValue>,
}

#[derive(Debug, Clone)]
pub(super) struct RegexPath {
    pub regex: Regex,
    /// A literal every match starts with: a cheap test before running the regex.
    pub literal: String,
}

#[derive(Debug, Clone)]
pub(super) enum Paths {
    Any,
    Prefixes(Vec<String>),
    Regexes(Vec<RegexPath>),
}

/// One entry of the router's ordered list.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub route: usize,
    pub priority: Priority,
    pub created_at: i64,
    pub methods: Vec<String>,
    pub hosts: Vec<HostPattern>,
    pub headers: Vec<HeaderRule>,
    pub snis: Vec<String>,
    pub paths: Paths,
    pub https_only: bool,
}

// === impl Candidate ===

impl Candidate {
    /// True when every host is exact, so the candidate can be indexed by host name.
    pub fn exact_hosts(&self) -> Option<impl Iterator<Item = &str>> {
        if self.hosts.is_empty() {
            return None;
        }
        let all_exact = self
            .hosts
            .iter()
            .all(|h| matches!(h.name, HostName::Exact(_)));
        all_exact.then(|| {
            self.hosts.iter().filter_map(|h| match &h.name {
                HostName::Exact(name) => Some(name.as_str()),
                _ => None,
            })
        })
    }
}

/// Compile one route (at `index` in the router's list) into its candidates.
pub(super) fn compile(index: usize, route: &Route) -> Result<Vec<Candidate>, CompileError> {
    let base = Candidate {
        route: index,
        priority: base_priority(route),
        created_at: route.created_at,
        methods: non_empty(&route.methods).to_vec(),
        hosts: non_empty(&route.hosts)
            .iter()
            .map(|h| parse_host(h))
            .collect(),
        headers: compile_headers(route)?,
        snis: non_empty(&route.snis)
            .iter()
            .map(|s| s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase())
            .collect(),
        paths: Paths::Any,
        https_only: route.protocols.iter().any(|p| p == "https")
            && !route.protocols.iter().any(|p| p == "http"),
    };
    let groups = path_groups(route)?;
    if groups.is_empty() {
        return Ok(vec![base]);
    }
    Ok(groups
        .into_iter()
        .map(|paths| {
            let mut candidate = base.clone();
            candidate.priority.weight += 1;
            match &paths {
                Paths::Regexes(_) => {
                    candidate.priority.regex = true;
                    candidate.priority.regex_priority = route.regex_priority;
                }
                Paths::Prefixes(list) => {
                    candidate.priority.prefix_len = list.first().map_or(0, String::len);
                }
                Paths::Any => {}
            }
            candidate.paths = paths;
            candidate
        })
        .collect())
}

fn non_empty(list: &Option<Vec<String>>) -> &[String] {
    list.as_deref().unwrap_or(&[])
}

/// Everything but the path part of the priority.
fn base_priority(route: &Route) -> Priority {
    let header_count = route.headers.as_ref().map_or(0, |h| h.len());
    let weight = [
        !non_empty(&route.snis).is_empty(),
        !non_empty(&route.methods).is_empty(),
        !non_empty(&route.hosts).is_empty(),
        header_count > 0,
    ]
    .into_iter()
    .filter(|set| *set)
    .count() as u8;
    Priority {
        weight,
        // Kong counts a present-but-empty `hosts` list as "plain hosts only" too.
        plain_hosts: route
            .hosts
            .as_ref()
            .is_some_and(|hosts| hosts.iter().all(|h| !h.contains('*'))),
        header_count: header_count.min(255) as u8,
        regex: false,
        regex_priority: 0,
        prefix_len: 0,
    }
}

/// Kong splits a route's paths into one group of regexes and one group per prefix length.
fn path_groups(route: &Route) -> Result<Vec<Paths>, CompileError> {
    let mut regexes = Vec::new();
    let mut prefixes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for path in non_empty(&route.paths) {
        match path.strip_prefix('~') {
            Some(pattern) => regexes.push(compile_path_regex(path, pattern)?),
            None => prefixes.entry(path.len()).or_default().push(path.clone()),
        }
    }
    let mut groups: Vec<Paths> = prefixes.into_values().map(Paths::Prefixes).collect();
    if !regexes.is_empty() {
        groups.push(Paths::Regexes(regexes));
    }
    Ok(groups)
}

fn compile_path_regex(path: &str, pattern: &str) -> Result<RegexPath, CompileError> {
    // Kong prepends `^` (not `^(?:...)`), so an alternation's later branches stay unanchored.
    let regex = Regex::new(&format!("^{pattern}")).map_err(|source| CompileError::PathRegex {
        path: path.to_string(),
        source,
    })?;
    Ok(RegexPath {
        regex,
        literal: literal_prefix(pattern),
    })
}

/// The literal text any match of `pattern` (anchored at the start) must begin with.
/// Conservative: stops at the first metacharacter, and gives up on any alternation.
pub(super) fn literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let mut literal = String::new();
    for c in pattern.chars() {
        if "\\.^$*+?()[]{}|".contains(c) {
            // These make the character before them optional.
            if matches!(c, '*' | '?' | '{') {
                literal.pop();
            }
            break;
        }
        literal.push(c);
    }
    literal
}

fn compile_headers(route: &Route) -> Result<Vec<HeaderRule>, CompileError> {
    let Some(headers) = &route.headers else {
        return Ok(Vec::new());
    };
    headers
        .iter()
        .map(|(name, values)| {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CompileError::HeaderName { name: name.clone() })?;
            let values = values
                .iter()
                .map(|value| compile_header_value(name, value))
                .collect::<Result<_, _>>()?;
            Ok(HeaderRule {
                name: header,
                values,
            })
        })
        .collect()
}

fn compile_header_value(name: &str, value: &str) -> Result<HeaderValue, CompileError> {
    let Some(pattern) = value.strip_prefix("~*") else {
        return Ok(HeaderValue::Exact(value.to_ascii_lowercase()));
    };
    // Kong lower-cases the pattern and the value; a case-insensitive regex does the same
    // without turning escapes such as `\D` into `\d`.
    Regex::new(&format!("(?i){pattern}"))
        .map(HeaderValue::Regex)
        .map_err(|source| CompileError::HeaderRegex {
            name: name.to_string(),
            value: value.to_string(),
            source,
        })
}

fn parse_host(host: &str) -> HostPattern {
    let host = host.to_ascii_lowercase();
    let (name, port) = split_host_port(&host);
    let name = if let Some(suffix) = name.strip_prefix('*') {
        HostName::Suffix(suffix.to_string())
    } else if let Some(prefix) = name.strip_suffix('*') {
        HostName::Prefix(prefix.to_string())
    } else {
        HostName::Exact(name.to_string())
    };
    HostPattern { name, port }
}

/// Split `host:port`; a bare IPv6 address or a non-numeric tail is all host.
pub(super) fn split_host_port(host: &str) -> (&str, Option<u16>) {
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.contains(':') || (name.starts_with('[') && name.ends_with(']')) =>
        {
            match port.parse::<u16>() {
                Ok(port) => (name, Some(port)),
                Err(_) => (host, None),
            }
        }
        _ => (host, None),
    }
}
