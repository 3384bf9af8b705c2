use super::*;
use http::{HeaderName, HeaderValue};

fn render(source: &str) -> String {
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("x-foo", "foo-value"),
        ("x_under", "underscored"),
        ("authorization", "Bearer t"),
        ("x-twice", "first"),
        ("x-twice", "second"),
        ("x-empty", ""),
    ] {
        headers.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    let captures: BTreeMap<String, String> = [("apikey", "k-123"), ("1", "first-group")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = Env {
        headers: &headers,
        query: Some("q=hello%20world&city=Berlin&flag&q=again&plus=a+b"),
        uri_captures: &captures,
    };
    Template::compile(source)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .render(&env)
        .into_owned()
}

/// Fails at the first `(source, expected)` case that does not render as expected.
fn assert_renders(cases: &[(&str, &str)]) {
    for (source, expected) in cases {
        assert_eq!(render(source), *expected, "{source}");
    }
}

#[test]
fn every_documented_form_renders() {
    assert_renders(&[
        ("plain text", "plain text"),
        ("", ""),
        ("$(uri_captures['apikey'])", "k-123"),
        ("$(uri_captures[\"apikey\"])", "k-123"),
        ("$(uri_captures.apikey)", "k-123"),
        ("$(uri_captures[1])", "first-group"),
        ("$(headers['x-foo'])", "foo-value"),
        ("$(headers[\"X-Foo\"])", "foo-value"),
        ("$(headers.x_foo)", "foo-value"),
        ("$(headers.x_under)", "underscored"),
        ("$(headers.authorization)", "Bearer t"),
        ("$(headers['x-twice'])", "first"),
        ("$(headers['x-empty'])", ""),
        ("$(query_params['q'])", "hello world"),
        ("$(query_params.city)", "Berlin"),
        ("$(query_params.plus)", "a b"),
        ("$(query_params.flag)", ""),
        (
            "key=$(uri_captures.apikey);city=$(query_params.city)",
            "key=k-123;city=Berlin",
        ),
        ("/v2/$( uri_captures [ 'apikey' ] )/x", "/v2/k-123/x"),
    ]);
}

#[test]
fn missing_values_render_empty_and_or_falls_back() {
    assert_renders(&[
        ("$(uri_captures.missing)", ""),
        ("[$(headers['x-missing'])]", "[]"),
        ("$(query_params.nope)", ""),
        ("$(query_params.nope or 'default')", "default"),
        ("$(headers.x_missing or query_params.city or 'x')", "Berlin"),
        // An empty header exists: Lua's "" is true, so `or` keeps it.
        ("$(headers['x-empty'] or 'fallback')", ""),
    ]);
}

#[test]
fn literals_and_unbalanced_text_are_kept() {
    assert_renders(&[
        // Kong's escape: a string literal inside a template.
        ("$('$(uri_captures.apikey)')", "$(uri_captures.apikey)"),
        ("$(\"it's\")", "it's"),
        ("$('a\\'b')", "a'b"),
        // No balanced parenthesis: not a template at all.
        ("$(unclosed", "$(unclosed"),
        ("cost: $5 (approx)", "cost: $5 (approx)"),
        // No backslash escape in Kong's engine: the backslash stays.
        ("\\$(uri_captures.apikey)", "\\k-123"),
    ]);
}

#[test]
fn unsupported_expressions_fail_at_compile_time() {
    let cases = [
        ("$(shared.foo)", "unknown template variable 'shared'"),
        ("$(os.getenv('HOME'))", "unknown template variable 'os'"),
        ("$(headers)", "needs a key"),
        ("$(headers.)", "expected a name"),
        ("$(headers['x')", "expected ']'"),
        ("$(headers['x)", "unterminated string"),
        ("$(headers['x'] .. 'y')", "expected 'or'"),
        ("$(uri_captures[])", "expected a string or a number"),
        ("$(headers['a'] orx)", "expected 'or'"),
        ("$()", "expected a variable or a string"),
    ];
    for (source, expected) in cases {
        let error = Template::compile(source).expect_err(source).to_string();
        assert!(error.contains(expected), "{source}: {error}");
    }
}

#[test]
fn literal_templates_do_not_allocate() {
    let t = Template::compile("fixed").unwrap();
    assert!(t.is_literal());
    let headers = HeaderMap::new();
    let captures = BTreeMap::new();
    let env = Env {
        headers: &headers,
        query: None,
        uri_captures: &captures,
    };
    assert!(matches!(t.render(&env), Cow::Borrowed("fixed")));
    assert!(!Template::compile("$(headers.a)").unwrap().is_literal());
}
