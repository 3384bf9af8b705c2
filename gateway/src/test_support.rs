//! What the unit tests share: header maps and plugin request contexts written as literals, and
//! the checks the plugins' config tests all make.

use crate::entities::FieldErrors;
use crate::plugins::RequestCtx;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use std::fmt::Display;

/// A header map from `(name, value)` pairs, repeated names appended in order.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value).expect("a valid header value"),
        );
    }
    map
}

/// Every header as `name:value`, sorted, so a whole map compares as one list.
pub fn header_lines(map: &HeaderMap) -> Vec<String> {
    let mut lines: Vec<String> = map
        .iter()
        .map(|(name, value)| format!("{name}:{}", value.to_str().expect("a text value")))
        .collect();
    lines.sort();
    lines
}

/// A request for `/` from 127.0.0.1 with these headers, as a plugin sees it.
pub fn request(method: Method, query: Option<&str>, pairs: &[(&str, &str)]) -> RequestCtx {
    RequestCtx::new(method, "/", query, headers(pairs), [127, 0, 0, 1].into())
}

/// Fails unless one of `errors` is about `field` and its message contains `message`.
pub fn assert_reports(errors: &FieldErrors, field: &str, message: &str, what: impl Display) {
    let found: Vec<(&str, &str)> = errors.iter().collect();
    assert!(
        found
            .iter()
            .any(|(f, m)| *f == field && m.contains(message)),
        "{what}: expected {field}: {message}; found {found:?}"
    );
}
