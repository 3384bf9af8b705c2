//! The path sent upstream: Kong's rules for joining `service.path` with what is left of the
//! request path after `strip_path`, for `path_handling` v0 and v1.

#[cfg(test)]
#[path = "upstream_tests.rs"]
mod tests;

/// The upstream path for a matched request.
///
/// - `service_path`: the service's `path` (`/` when unset);
/// - `request_path`: the (normalised) request path, without the query string;
/// - `matched_len`: bytes of `request_path` the route's path matched (`Match::matched_path`),
///   `None` when the route has no paths;
/// - `path_handling`: `"v1"` selects Kong 1.x joining; anything else is v0.
///
/// Kong 3.x's `traditional_compatible` router applies v0 even to v1 routes (v1 is deprecated);
/// we honour v1 as the traditional router did.
pub fn upstream_path(
    service_path: Option<&str>,
    request_path: &str,
    matched_len: Option<usize>,
    strip_path: bool,
    path_handling: &str,
) -> String {
    let base = service_path.filter(|p| !p.is_empty()).unwrap_or("/");
    let request_path = if request_path.is_empty() {
        "/"
    } else {
        request_path
    };
    // Without a stripped prefix, the "postfix" is the whole path minus its first slash.
    let postfix = match matched_len.filter(|_| strip_path) {
        Some(len) => request_path.get(len..).unwrap_or(""),
        None => tail(request_path),
    };
    let postfix = sanitize_postfix(postfix);
    if path_handling == "v1" {
        join_v1(base, request_path, postfix, strip_path)
    } else {
        join_v0(base, request_path, postfix, strip_path)
    }
}

/// Kong drops a leading `.`/`..` segment left over after stripping, so a stripped prefix
/// cannot be turned into a step up the upstream's tree.
fn sanitize_postfix(postfix: &str) -> &str {
    match postfix {
        "." | ".." => "",
        _ => postfix
            .strip_prefix("./")
            .or_else(|| postfix.strip_prefix("../"))
            .unwrap_or(postfix),
    }
}

/// v0 treats service path, route path and request path as segments joined by slashes.
fn join_v0(base: &str, request_path: &str, postfix: &str, strip_path: bool) -> String {
    let base_ends_slash = base.ends_with('/');
    match (base_ends_slash, strip_path) {
        (true, true) if postfix.is_empty() => {
            if base == "/" || request_path.ends_with('/') {
                base.to_string()
            } else {
                base[..base.len() - 1].to_string()
            }
        }
        (true, true) if postfix.starts_with('/') => concat(&base[..base.len() - 1], postfix),
        (true, true) => concat(base, postfix),
        (true, false) => concat(base, tail(request_path)),
        (false, true) if postfix.is_empty() => {
            if request_path.len() > 1 && request_path.ends_with('/') {
                concat(base, "/")
            } else {
                base.to_string()
            }
        }
        (false, true) if postfix.starts_with('/') => concat(base, postfix),
        (false, true) => [base, "/", postfix].concat(),
        (false, false) if request_path == "/" => base.to_string(),
        (false, false) => concat(base, request_path),
    }
}

/// v1 treats the service path as a plain prefix of what remains.
fn join_v1(base: &str, request_path: &str, postfix: &str, strip_path: bool) -> String {
    if !strip_path {
        return concat(base, tail(request_path));
    }
    if base.ends_with('/') && postfix.starts_with('/') {
        concat(&base[..base.len() - 1], postfix)
    } else {
        concat(base, postfix)
    }
}

/// The path without its leading slash.
fn tail(path: &str) -> &str {
    path.get(1..).unwrap_or("")
}

fn concat(a: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len() + b.len());
    out.push_str(a);
    out.push_str(b);
    out
}
