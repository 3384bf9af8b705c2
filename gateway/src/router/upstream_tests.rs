use super::upstream_path;

#[test]
fn upstream_path_follows_kongs_join_table() {
    // service.path, route.path, request path, strip_path, path_handling, upstream path.
    // The rows of Kong's documented table (its `/s/fv01/` row is a typo for `/s/fv0/`).
    let rows = [
        ("/s", "/fv0", "/fv0/req", false, "v0", "/s/fv0/req"),
        ("/s", "/fv0", "/fv0", false, "v0", "/s/fv0"),
        ("/s", "/fv1", "/fv1/req", false, "v1", "/sfv1/req"),
        ("/s", "/fv1", "/fv1", false, "v1", "/sfv1"),
        ("/s", "/tv0", "/tv0/req", true, "v0", "/s/req"),
        ("/s", "/tv0", "/tv0", true, "v0", "/s"),
        ("/s", "/tv1", "/tv1/req", true, "v1", "/s/req"),
        ("/s", "/tv1", "/tv1", true, "v1", "/s"),
        ("/s", "/fv0/", "/fv0/req", false, "v0", "/s/fv0/req"),
        ("/s", "/fv0/", "/fv0/", false, "v0", "/s/fv0/"),
        ("/s", "/fv1/", "/fv1/req", false, "v1", "/sfv1/req"),
        ("/s", "/fv1/", "/fv1/", false, "v1", "/sfv1/"),
        ("/s", "/tv0/", "/tv0/req", true, "v0", "/s/req"),
        ("/s", "/tv0/", "/tv0/", true, "v0", "/s/"),
        ("/s", "/tv1/", "/tv1/req", true, "v1", "/sreq"),
        ("/s", "/tv1/", "/tv1/", true, "v1", "/s"),
        // Service paths ending in a slash, and the root.
        ("/s/", "/r", "/r/x", true, "v0", "/s/x"),
        ("/s/", "/r/", "/r/x", true, "v0", "/s/x"),
        ("/s/", "/r", "/r", true, "v0", "/s"),
        ("/s/", "/r", "/r/", true, "v0", "/s/"),
        ("/s/", "/r", "/r/x", false, "v0", "/s/r/x"),
        ("/", "/r", "/r", true, "v0", "/"),
        ("/", "/r", "/r/x", true, "v0", "/x"),
        ("/", "/r", "/r/x", false, "v0", "/r/x"),
        ("/s", "/", "/", false, "v0", "/s"),
        ("/s/", "/r", "/r/x", true, "v1", "/s/x"),
        // A leftover dot segment is dropped rather than sent upstream.
        ("/s", "/r", "/r../x", true, "v0", "/s/x"),
        ("/s", "/r", "/r..", true, "v0", "/s"),
    ];
    for (service, route_path, path, strip, handling, want) in rows {
        let matched = path.starts_with(route_path).then_some(route_path.len());
        let got = upstream_path(Some(service), path, matched, strip, handling);
        assert_eq!(
            got, want,
            "{service} {route_path} {path} strip={strip} {handling}"
        );
    }
}

#[test]
fn upstream_path_without_route_paths_or_service_path() {
    // (service.path, request path, strip_path, upstream path); the route has no paths.
    for (service, path, strip, want) in [
        (None, "/foo", true, "/foo"),
        (None, "/", true, "/"),
        (Some("/s"), "/foo", true, "/s/foo"),
        (Some("/s"), "/", true, "/s"),
        (Some("/s"), "/foo/", false, "/s/foo/"),
    ] {
        assert_eq!(
            upstream_path(service, path, None, strip, "v0"),
            want,
            "{service:?} {path}"
        );
    }
}
