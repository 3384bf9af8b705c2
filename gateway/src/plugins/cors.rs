//! cors: answer CORS preflights and add `Access-Control-*` headers to responses, matching the
//! request's `Origin` against exact, `*` and regex entries the way Kong 3.x does.
//!
//! Nothing is remembered between the access and response phases: like Kong's header filter, the
//! response phase decides again from the request headers still in the context.

use super::{typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// Kong's allowed (and default) `methods`, in its order.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

const ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");
const REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    origins: Option<Vec<String>>,
    #[serde(default)]
    headers: Option<Vec<String>>,
    #[serde(default)]
    exposed_headers: Option<Vec<String>>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    max_age: Option<serde_json::Number>,
    #[serde(default)]
    credentials: bool,
    #[serde(default)]
    preflight_continue: bool,
    #[serde(default)]
    private_network: bool,
    #[serde(default = "yes")]
    allow_origin_absent: bool,
}

fn yes() -> bool {
    true
}

/// How `config.origins` decides `Access-Control-Allow-Origin`.
#[derive(Debug)]
enum Origins {
    /// No entries, or only `*`: every origin, and no `Vary`.
    All,
    /// A single entry that cannot be a regex: sent as configured, whatever the request says.
    Fixed(HeaderValue),
    /// Tried in order against the request's origin.
    Rules(Vec<Rule>),
}

#[derive(Debug)]
enum Rule {
    Any,
    /// A normalized `scheme://host[:port]` (or the raw entry when it has no host).
    Exact(String),
    /// Anchored at both ends; matched against the host alone when the entry has no `:`.
    Pattern {
        regex: Regex,
        by_host: bool,
    },
}

/// What the origin rules decided for one request.
#[derive(Debug, PartialEq)]
struct Decision {
    /// `None` removes any `Access-Control-Allow-Origin` the upstream sent.
    allow_origin: Option<HeaderValue>,
    vary: bool,
    allow_all: bool,
}

#[derive(Debug)]
pub struct Cors {
    origins: Origins,
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    allow_methods: HeaderValue,
    max_age: Option<HeaderValue>,
    credentials: bool,
    preflight_continue: bool,
    private_network: bool,
    allow_origin_absent: bool,
}

impl Cors {
    pub fn from_config(config: &Value) -> Result<Cors, FieldErrors> {
        let config: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let origins = compile_origins(config.origins.as_deref().unwrap_or(&[]), &mut errors);
        let methods = match &config.methods {
            Some(m) if !m.is_empty() => m.clone(),
            _ => METHODS.iter().map(|m| m.to_string()).collect(),
        };
        for (i, method) in methods.iter().enumerate() {
            if !METHODS.contains(&method.as_str()) {
                errors.add(
                    &format!("config.methods.{}", i + 1),
                    format!("expected one of: {}", METHODS.join(", ")),
                );
            }
        }
        let allow_headers = joined(&config.headers, "config.headers", &mut errors);
        let expose_headers = joined(
            &config.exposed_headers,
            "config.exposed_headers",
            &mut errors,
        );
        let allow_methods = joined(&Some(methods), "config.methods", &mut errors);
        errors.into_result()?;
        Ok(Cors {
            origins,
            allow_headers,
            expose_headers,
            allow_methods: allow_methods.unwrap_or(HeaderValue::from_static("")),
            max_age: config.max_age.as_ref().map(lua_number),
            credentials: config.credentials,
            preflight_continue: config.preflight_continue,
            private_network: config.private_network,
            allow_origin_absent: config.allow_origin_absent,
        })
    }

    /// Kong's answer to a preflight: 200, no body, every `Access-Control-*` header it applies.
    fn preflight(&self, ctx: &RequestCtx) -> ShortCircuit {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        self.apply_origin(headers, request_origin(ctx), false);
        let requested = ctx.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS);
        if let Some(allowed) = self.allow_headers.as_ref().or(requested) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed.clone());
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods.clone(),
        );
        if let Some(max_age) = &self.max_age {
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        let private_asked = ctx
            .headers
            .get(REQUEST_PRIVATE_NETWORK)
            .is_some_and(|v| v == "true");
        if self.private_network && private_asked {
            headers.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
        }
        response
    }

    /// Allow-Origin, Vary and Allow-Credentials. The response phase appends `Vary` (the upstream
    /// may have its own); a preflight answer is ours alone, so there it is set.
    fn apply_origin(&self, headers: &mut HeaderMap, origin: Option<&str>, append_vary: bool) {
        let decision = self.decide(origin);
        let add_vary = |headers: &mut HeaderMap| {
            let origin = HeaderValue::from_static("Origin");
            if append_vary {
                headers.append(header::VARY, origin);
            } else {
                headers.insert(header::VARY, origin);
            }
        };
        if decision.vary {
            add_vary(headers);
        }
        match decision.allow_origin {
            Some(v) => headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v),
            None => headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        };
        if !self.credentials {
            return;
        }
        let yes = HeaderValue::from_static("true");
        if !decision.allow_all {
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, yes);
            return;
        }
        // Browsers refuse credentials with `*`, so the request's own origin is echoed instead.
        if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
            add_vary(headers);
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, yes);
        }
    }

    fn decide(&self, origin: Option<&str>) -> Decision {
        let rules = match &self.origins {
            Origins::All => return decision(Some(HeaderValue::from_static("*")), false, true),
            Origins::Fixed(v) => return decision(Some(v.clone()), true, false),
            Origins::Rules(rules) => rules,
        };
        let Some(origin) = origin else {
            return decision(None, true, false);
        };
        let (domain, host) = normalize_origin(origin);
        for rule in rules {
            let found = match rule {
                Rule::Any => return decision(Some(HeaderValue::from_static("*")), true, true),
                Rule::Exact(d) => *d == domain,
                Rule::Pattern { regex, by_host } => {
                    regex.is_match(if *by_host { &host } else { &domain })
                }
            };
            if found {
                return decision(HeaderValue::from_str(&domain).ok(), true, false);
            }
        }
        decision(None, true, false)
    }
}

fn decision(allow_origin: Option<HeaderValue>, vary: bool, allow_all: bool) -> Decision {
    Decision {
        allow_origin,
        vary,
        allow_all,
    }
}

/// Build the origin rules once; entries that do not compile are field errors, as Kong's
/// `is_regex` validator makes them.
fn compile_origins(entries: &[String], errors: &mut FieldErrors) -> Origins {
    match entries {
        [] => return Origins::All,
        [only] if only == "*" => return Origins::All,
        [only] if !may_be_regex(only) => {
            if let Ok(v) = HeaderValue::from_str(only) {
                return Origins::Fixed(v);
            }
            errors.add("config.origins.1", "invalid header value");
            return Origins::All;
        }
        _ => {}
    }
    let mut rules = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let rule = if entry == "*" {
            Rule::Any
        } else if may_be_regex(entry) {
            match Regex::new(&anchored(entry)) {
                Ok(regex) => Rule::Pattern {
                    regex,
                    by_host: !entry.contains(':'),
                },
                Err(_) => {
                    let field = format!("config.origins.{}", i + 1);
                    errors.add(&field, format!("'{entry}' is not a valid regex"));
                    continue;
                }
            }
        } else {
            Rule::Exact(normalize_origin(entry).0)
        };
        rules.push(rule);
    }
    Origins::Rules(rules)
}

/// An entry with a character outside `[A-Za-z0-9.:/-]` is treated as a regex.
fn may_be_regex(entry: &str) -> bool {
    entry
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '-')))
}

/// Kong anchors origin regexes at both ends (old configs were unanchored), keeping a user's own
/// `^` and `$`: the trailing `$` is added when missing, and the match is anchored at the start.
fn anchored(entry: &str) -> String {
    let body = entry.strip_prefix('^').unwrap_or(entry);
    let end = if body.ends_with('$') { "" } else { "$" };
    format!("^(?:{body}{end})")
}

/// `(scheme://host[:port], host)` with default ports dropped and any path ignored; a value
/// without `scheme://host` is kept as is, for both.
fn normalize_origin(origin: &str) -> (String, String) {
    let raw = || (origin.to_string(), origin.to_string());
    let Some((scheme, rest)) = origin.split_once("://") else {
        return raw();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_port(authority);
    if host.is_empty() || scheme.is_empty() {
        return raw();
    }
    let default_port = matches!(
        (scheme, port),
        ("http", Some("80")) | ("https", Some("443"))
    );
    let domain = match port.filter(|_| !default_port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    };
    (domain, host.to_string())
}

fn split_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.split_once(']') {
            Some((v6, rest)) => (&authority[..v6.len() + 1], rest.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// Comma-joined list as one header value (Kong joins with `,`, no space); absent when empty.
fn joined(
    list: &Option<Vec<String>>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<HeaderValue> {
    let list = list.as_ref().filter(|l| !l.is_empty())?;
    match HeaderValue::from_str(&list.join(",")) {
        Ok(v) => Some(v),
        Err(_) => {
            errors.add(field, "invalid header value");
            None
        }
    }
}

/// A number the way Lua's `tostring` writes it: integral values without a fraction.
fn lua_number(n: &serde_json::Number) -> HeaderValue {
    let text = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => i.to_string(),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => (f as i64).to_string(),
        _ => n.to_string(),
    };
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("0"))
}

/// The request's `Origin`; an empty one counts as absent.
fn request_origin(ctx: &RequestCtx) -> Option<&str> {
    ctx.headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// A preflight: `OPTIONS` with an `Origin` and an `Access-Control-Request-Method`.
fn is_preflight(ctx: &RequestCtx) -> bool {
    ctx.method == Method::OPTIONS
        && request_origin(ctx).is_some()
        && ctx
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

impl Handler for Cors {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            (is_preflight(ctx) && !self.preflight_continue).then(|| self.preflight(ctx))
        })
    }

    fn response_headers(&self, ctx: &RequestCtx, _status: StatusCode, headers: &mut HeaderMap) {
        // A preflight was either answered here already or left to the upstream entirely.
        if is_preflight(ctx) {
            return;
        }
        let origin = request_origin(ctx);
        if origin.is_none() && !self.allow_origin_absent {
            return;
        }
        self.apply_origin(headers, origin, true);
        if let Some(exposed) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed.clone());
        }
    }
}

#[cfg(test)]
mod tests;
