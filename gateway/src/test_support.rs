//! What the unit tests share: header maps and plugin request contexts written as literals.

use crate::plugins::RequestCtx;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

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

/// A request for `/` from 127.0.0.1 with these headers, as a plugin sees it.
pub fn request(method: Method, query: Option<&str>, pairs: &[(&str, &str)]) -> RequestCtx {
    RequestCtx::new(method, "/", query, headers(pairs), [127, 0, 0, 1].into())
}
