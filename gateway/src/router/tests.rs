use super::*;
use crate::entities::parse;
use http::HeaderMap;
use serde_json::{json, Value};

fn route(name: &str, mut body: Value) -> Route {
    body["name"] = json!(name);
    if body.get("created_at").is_none() {
        body["created_at"] = json!(1_000);
    }
    parse::<Route>(body).unwrap_or_else(|e| panic!("route {name} is invalid: {e:?}"))
}

fn routes(list: &[(&str, Value)]) -> Vec<Route> {
    list.iter().map(|(n, b)| route(n, b.clone())).collect()
}

/// A request: method, host, path, headers and scheme, with sensible defaults.
struct Req {
    method: &'static str,
    host: &'static str,
    path: &'static str,
    scheme: &'static str,
    sni: Option<&'static str>,
    headers: HeaderMap,
}

fn req(method: &'static str, host: &'static str, path: &'static str) -> Req {
    Req {
        method,
        host,
        path,
        scheme: "http",
        sni: None,
        headers: HeaderMap::new(),
    }
}

impl Req {
    fn header(mut self, name: &'static str, value: &'static str) -> Req {
        self.headers
            .append(name, http::HeaderValue::from_static(value));
        self
    }
    fn https(mut self, sni: Option<&'static str>) -> Req {
        self.scheme = "https";
        self.sni = sni;
        self
    }
    fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            method: self.method,
            host: self.host,
            path: self.path,
            scheme: self.scheme,
            sni: self.sni,
            headers: &self.headers,
        }
    }
}

fn matched_name(router: &Router, r: &Req) -> Option<String> {
    router.find(&r.info()).and_then(|m| m.route.name.clone())
}

/// A named case: routes, then requests with the route name each should reach.
type Case<'a> = (&'a str, Vec<(&'a str, Value)>, Vec<(Req, Option<&'a str>)>);

fn check(cases: Vec<Case<'_>>) {
    for (case, list, requests) in cases {
        let router = Router::new(&routes(&list));
        for (r, want) in requests {
            let got = matched_name(&router, &r);
            assert_eq!(
                got.as_deref(),
                want,
                "{case}: {} {} {}",
                r.method,
                r.host,
                r.path
            );
        }
    }
}

#[test]
fn precedence_follows_kong_priority() {
    check(vec![
        (
            "more criteria first",
            vec![
                ("paths", json!({"paths": ["/"]})),
                ("paths-method", json!({"paths": ["/"], "methods": ["GET"]})),
            ],
            vec![
                (req("GET", "a.com", "/x"), Some("paths-method")),
                (req("POST", "a.com", "/x"), Some("paths")),
            ],
        ),
        (
            "criteria count beats a longer prefix",
            vec![
                ("long", json!({"paths": ["/very/long/prefix"]})),
                ("host-short", json!({"hosts": ["a.com"], "paths": ["/"]})),
            ],
            vec![
                (req("GET", "a.com", "/very/long/prefix"), Some("host-short")),
                (req("GET", "b.com", "/very/long/prefix"), Some("long")),
            ],
        ),
        (
            "plain hosts beat wildcard hosts, whatever the age",
            vec![
                ("wild", json!({"hosts": ["*.a.com"], "created_at": 1})),
                ("plain", json!({"hosts": ["x.a.com"], "created_at": 9})),
            ],
            vec![
                (req("GET", "x.a.com", "/"), Some("plain")),
                (req("GET", "y.a.com", "/"), Some("wild")),
            ],
        ),
        (
            "plain hosts beat more headers",
            vec![
                (
                    "wild-2headers",
                    json!({"hosts": ["*.a.com"], "headers": {"h1": ["1"], "h2": ["2"]}}),
                ),
                (
                    "plain-path",
                    json!({"hosts": ["x.a.com", "y.a.com"], "paths": ["/"]}),
                ),
            ],
            vec![(
                req("GET", "x.a.com", "/")
                    .header("h1", "1")
                    .header("h2", "2"),
                Some("plain-path"),
            )],
        ),
        (
            "more headers first",
            vec![
                ("one", json!({"headers": {"h1": ["1"]}})),
                ("two", json!({"headers": {"h1": ["1"], "h2": ["2"]}})),
            ],
            vec![
                (
                    req("GET", "a", "/").header("h1", "1").header("h2", "2"),
                    Some("two"),
                ),
                (req("GET", "a", "/").header("h1", "1"), Some("one")),
            ],
        ),
        (
            "regex before prefix",
            vec![
                (
                    "prefix",
                    json!({"paths": ["/api/account"], "created_at": 1}),
                ),
                ("regex", json!({"paths": ["~/api/.*"], "created_at": 9})),
            ],
            vec![
                (req("GET", "a", "/api/account/all"), Some("regex")),
                (req("GET", "a", "/other"), None),
            ],
        ),
        (
            "higher regex_priority first",
            vec![
                ("low", json!({"paths": ["~/a"], "created_at": 1})),
                (
                    "high",
                    json!({"paths": ["~/a/b"], "regex_priority": 5, "created_at": 9}),
                ),
                ("negative", json!({"paths": ["~/"], "regex_priority": -3})),
            ],
            vec![
                (req("GET", "a", "/a/b"), Some("high")),
                (req("GET", "a", "/a/c"), Some("low")),
                (req("GET", "a", "/z"), Some("negative")),
            ],
        ),
        (
            "regex_priority does not reorder prefixes",
            vec![
                ("root", json!({"paths": ["/"], "regex_priority": 10})),
                ("v1", json!({"paths": ["/v1"]})),
            ],
            vec![
                (req("GET", "a", "/v1/x"), Some("v1")),
                (req("GET", "a", "/v2"), Some("root")),
            ],
        ),
        (
            "longest prefix first",
            vec![
                ("short", json!({"paths": ["/a"]})),
                ("long", json!({"paths": ["/a/b"]})),
            ],
            vec![
                (req("GET", "a", "/a/b/c"), Some("long")),
                (req("GET", "a", "/a/c"), Some("short")),
            ],
        ),
        (
            "a multi-path route competes once per path group",
            vec![
                ("split", json!({"paths": ["/a", "/a/b/c"]})),
                ("middle", json!({"paths": ["/a/b"]})),
            ],
            vec![
                (req("GET", "a", "/a/b/c/d"), Some("split")),
                (req("GET", "a", "/a/b/x"), Some("middle")),
                (req("GET", "a", "/a/x"), Some("split")),
            ],
        ),
        (
            "ties go to the oldest created_at",
            vec![
                ("newer", json!({"paths": ["~/x"], "created_at": 2})),
                ("older", json!({"paths": ["~/x"], "created_at": 1})),
            ],
            vec![(req("GET", "a", "/x"), Some("older"))],
        ),
        (
            "then to configuration order",
            vec![
                ("first", json!({"paths": ["/x"]})),
                ("second", json!({"paths": ["/x"]})),
            ],
            vec![(req("GET", "a", "/x"), Some("first"))],
        ),
        (
            "indexed host candidates interleave with general ones by priority",
            vec![
                ("host", json!({"hosts": ["a.com"]})),
                ("path-method", json!({"paths": ["/p"], "methods": ["GET"]})),
            ],
            vec![
                (req("GET", "a.com", "/p"), Some("path-method")),
                (req("POST", "a.com", "/p"), Some("host")),
            ],
        ),
    ]);
}

#[test]
fn hosts_exact_wildcard_and_ports() {
    check(vec![
        (
            "exact, case-insensitive, request port ignored",
            vec![("r", json!({"hosts": ["Example.COM"]}))],
            vec![
                (req("GET", "example.com", "/"), Some("r")),
                (req("GET", "EXAMPLE.com:8000", "/"), Some("r")),
                (req("GET", "www.example.com", "/"), None),
                (req("GET", "example.co", "/"), None),
            ],
        ),
        (
            "a route host with a port needs that port",
            vec![("r", json!({"hosts": ["example.com:8000"]}))],
            vec![
                (req("GET", "example.com:8000", "/"), Some("r")),
                (req("GET", "example.com:9000", "/"), None),
                (req("GET", "example.com", "/"), None),
            ],
        ),
        (
            "leading wildcard",
            vec![("r", json!({"hosts": ["*.example.com"]}))],
            vec![
                (req("GET", "a.example.com", "/"), Some("r")),
                (req("GET", "a.b.example.com:443", "/"), Some("r")),
                (req("GET", "example.com", "/"), None),
                (req("GET", "aexample.com", "/"), None),
            ],
        ),
        (
            "trailing wildcard",
            vec![("r", json!({"hosts": ["example.*"]}))],
            vec![
                (req("GET", "example.org", "/"), Some("r")),
                (req("GET", "example.co.uk", "/"), Some("r")),
                (req("GET", "www.example.org", "/"), None),
            ],
        ),
        (
            "any of several hosts",
            vec![("r", json!({"hosts": ["a.com", "*.b.com"]}))],
            vec![
                (req("GET", "a.com", "/"), Some("r")),
                (req("GET", "x.b.com", "/"), Some("r")),
                (req("GET", "c.com", "/"), None),
            ],
        ),
    ]);
}

#[test]
fn paths_methods_headers() {
    check(vec![
        (
            "prefix paths match by plain string prefix",
            vec![("r", json!({"paths": ["/foo"]}))],
            vec![
                (req("GET", "a", "/foo"), Some("r")),
                (req("GET", "a", "/foo/bar"), Some("r")),
                (req("GET", "a", "/foobar"), Some("r")),
                (req("GET", "a", "/fo"), None),
                (req("GET", "a", "/x/foo"), None),
            ],
        ),
        (
            "regex paths are anchored at the start",
            vec![("r", json!({"paths": ["~/users/\\d+$"]}))],
            vec![
                (req("GET", "a", "/users/12"), Some("r")),
                (req("GET", "a", "/users/12/x"), None),
                (req("GET", "a", "/x/users/12"), None),
            ],
        ),
        (
            "methods",
            vec![("r", json!({"methods": ["GET", "HEAD"]}))],
            vec![
                (req("GET", "a", "/"), Some("r")),
                (req("HEAD", "a", "/"), Some("r")),
                (req("POST", "a", "/"), None),
            ],
        ),
        (
            "headers: any listed value, case-insensitive, every header required",
            vec![(
                "r",
                json!({"headers": {"X-Version": ["v1", "V2"], "x-env": ["prod"]}}),
            )],
            vec![
                (
                    req("GET", "a", "/")
                        .header("x-version", "V1")
                        .header("x-env", "PROD"),
                    Some("r"),
                ),
                (
                    req("GET", "a", "/")
                        .header("x-version", "v2")
                        .header("x-env", "prod"),
                    Some("r"),
                ),
                (
                    req("GET", "a", "/")
                        .header("x-version", "v3")
                        .header("x-env", "prod"),
                    None,
                ),
                (req("GET", "a", "/").header("x-version", "v1"), None),
                (
                    req("GET", "a", "/")
                        .header("x-version", "v9")
                        .header("x-version", "v1")
                        .header("x-env", "prod"),
                    Some("r"),
                ),
            ],
        ),
        (
            "header regex values (~*)",
            vec![("r", json!({"headers": {"x-client": ["~*^mobile-\\d+"]}}))],
            vec![
                (
                    req("GET", "a", "/").header("x-client", "Mobile-12"),
                    Some("r"),
                ),
                (req("GET", "a", "/").header("x-client", "desktop"), None),
            ],
        ),
    ]);
}

#[test]
fn regex_captures_and_matched_path() {
    let list = routes(&[
        (
            "forecast",
            json!({"paths": ["~/forecast/(?<apikey>[^/]+)/(\\d+),(\\d+)"]}),
        ),
        ("optional", json!({"paths": ["~/opt/(a)?(?<b>b)"]})),
        ("plain", json!({"paths": ["~/plain/\\d+"]})),
        ("prefix", json!({"paths": ["/prefix"]})),
        ("nopath", json!({"hosts": ["nopath.com"]})),
    ]);
    let router = Router::new(&list);
    let find = |r: Req| {
        let m = router.find(&r.info()).expect("a match");
        (
            m.route.name.clone().unwrap_or_default(),
            m.matched_path,
            m.captures,
        )
    };

    let (name, matched, caps) = find(req("GET", "a", "/forecast/KEY/12,34/extra"));
    assert_eq!(name, "forecast");
    assert_eq!(matched, Some("/forecast/KEY/12,34".len()));
    assert_eq!(caps.unnamed, ["/forecast/KEY/12,34", "KEY", "12", "34"]);
    assert_eq!(caps.named.get("apikey").map(String::as_str), Some("KEY"));
    assert_eq!(caps.named.len(), 1);

    let (_, _, caps) = find(req("GET", "a", "/opt/b"));
    assert_eq!(caps.unnamed, ["/opt/b", "", "b"]);

    let (name, matched, caps) = find(req("GET", "a", "/plain/42/x"));
    assert_eq!((name.as_str(), matched), ("plain", Some(9)));
    assert_eq!(caps, UriCaptures::default(), "no groups, no uri_captures");

    let (name, matched, caps) = find(req("GET", "a", "/prefix/more"));
    assert_eq!((name.as_str(), matched), ("prefix", Some(7)));
    assert_eq!(caps, UriCaptures::default());

    let (name, matched, _) = find(req("GET", "nopath.com", "/anything"));
    assert_eq!((name.as_str(), matched), ("nopath", None));
}

#[test]
fn protocols_and_snis() {
    let list = routes(&[
        (
            "https-only",
            json!({"paths": ["/secure"], "protocols": ["https"]}),
        ),
        (
            "redirect",
            json!({"paths": ["/moved"], "protocols": ["https"], "https_redirect_status_code": 301}),
        ),
        ("both", json!({"paths": ["/both"]})),
        (
            "stream",
            json!({"protocols": ["tcp"], "paths": ["/stream"]}),
        ),
        (
            "sni",
            json!({"paths": ["/sni"], "protocols": ["https"], "snis": ["a.com"]}),
        ),
    ]);
    let router = Router::new(&list);
    let required = |r: Req| router.find(&r.info()).map(|m| m.https_required);

    assert_eq!(required(req("GET", "a", "/secure")), Some(Some(426)));
    assert_eq!(required(req("GET", "a", "/secure").https(None)), Some(None));
    assert_eq!(required(req("GET", "a", "/moved")), Some(Some(301)));
    assert_eq!(required(req("GET", "a", "/both")), Some(None));
    assert_eq!(
        required(req("GET", "a", "/stream")),
        None,
        "stream routes are not HTTP routes"
    );

    assert_eq!(
        matched_name(&router, &req("GET", "a", "/sni").https(Some("a.com."))).as_deref(),
        Some("sni")
    );
    assert_eq!(
        matched_name(&router, &req("GET", "a", "/sni").https(Some("b.com"))),
        None
    );
    assert_eq!(
        matched_name(&router, &req("GET", "a", "/sni").https(None)),
        None
    );
    // Kong ignores snis on plain HTTP (the route then answers 426).
    assert_eq!(
        matched_name(&router, &req("GET", "a", "/sni")).as_deref(),
        Some("sni")
    );
}

#[test]
fn broken_routes_are_skipped_not_fatal() {
    let mut bad = route("bad", json!({"paths": ["/bad"]}));
    bad.paths = Some(vec!["~/(".into()]);
    let mut bad_header = route("bad-header", json!({"paths": ["/bh"]}));
    bad_header.headers = Some([("bad name".to_string(), vec!["x".to_string()])].into());
    let good = route("good", json!({"paths": ["/"]}));
    let router = Router::new(&[bad, bad_header, good]);
    assert_eq!(router.len(), 1);
    let m = router
        .find(&req("GET", "a", "/bh").info())
        .expect("a match");
    assert_eq!((m.route.name.as_deref(), m.route_index), (Some("good"), 2));
}

#[test]
fn router_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Router>();
}

#[test]
fn literal_prefixes_are_conservative() {
    for (pattern, want) in [
        ("/forecast/(?<k>[^/]+)", "/forecast/"),
        ("/users/\\d+", "/users/"),
        ("/colou?r", "/colo"),
        ("/ab*c", "/a"),
        ("/a{2}", "/"),
        ("/a|/b", ""),
        ("/plain", "/plain"),
    ] {
        assert_eq!(compile::literal_prefix(pattern), want, "{pattern}");
    }
}

#[test]
fn indexed_lookup_agrees_with_a_full_scan() {
    let paths = [
        json!(null),
        json!(["/"]),
        json!(["/a"]),
        json!(["/a/b"]),
        json!(["/ab"]),
        json!(["~/a/\\d+"]),
        json!(["~/(?<x>[a-z]+)/b"]),
        json!(["/a", "~/b/c"]),
        json!(["/a/", "/b"]),
    ];
    let hosts = [
        json!(null),
        json!(["a.com"]),
        json!(["*.a.com"]),
        json!(["a.com", "b.com"]),
        json!(["a.com:8000"]),
    ];
    let mut list = Vec::new();
    let mut seed = 7u64;
    for (p, path) in paths.iter().enumerate() {
        for (h, host) in hosts.iter().enumerate() {
            for variant in 0..4 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut body = json!({
                    "paths": path, "hosts": host,
                    "regex_priority": (seed >> 40) % 3, "created_at": (seed >> 20) % 5,
                });
                if variant & 1 == 1 {
                    body["methods"] = json!(["GET"]);
                }
                if variant & 2 == 2 {
                    body["headers"] = json!({"x": ["1"]});
                }
                if let Ok(r) = parse::<Route>(body) {
                    list.push((format!("r{p}-{h}-{variant}"), r));
                }
            }
        }
    }
    let routes: Vec<Route> = list.into_iter().map(|(_, r)| r).collect();
    let router = Router::new(&routes);
    let mut matched = 0;
    for host in ["a.com", "b.com", "x.a.com", "a.com:8000", "c.com", "A.COM"] {
        for path in [
            "/", "/a", "/a/b", "/a/1", "/ab", "/b/c", "/zz/b", "/b", "/a/",
        ] {
            for method in ["GET", "POST"] {
                for with_header in [false, true] {
                    let mut r = req(method, host, path);
                    if with_header {
                        r = r.header("x", "1");
                    }
                    let info = r.info();
                    let (name, port) = split_host_port(host);
                    let name = name.to_ascii_lowercase();
                    let all = 0..router.candidates.len() as u32;
                    let want = router.first_match(&info, &name, port, all);
                    let got = router.find(&info);
                    let key = |m: Option<Match<'_>>| m.map(|m| (m.route_index, m.matched_path));
                    let (want, got) = (key(want), key(got));
                    assert_eq!(got, want, "{method} {host} {path} header={with_header}");
                    matched += usize::from(got.is_some());
                }
            }
        }
    }
    assert!(
        matched > 150,
        "the table should exercise matches, got {matched}"
    );
}
