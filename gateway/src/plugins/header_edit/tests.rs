use super::*;
use crate::test_support::headers;
use serde_json::json;

fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

fn name(n: &str) -> HeaderName {
    HeaderName::from_bytes(n.as_bytes()).unwrap()
}

fn value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap()
}

#[test]
fn header_edits_follow_kongs_rules() {
    type Case = (
        &'static str,
        HeaderEdit<HeaderValue>,
        Vec<(&'static str, &'static str)>,
    );
    let start = [("a", "1"), ("b", "2"), ("b", "3")];
    let cases: Vec<Case> = vec![
        (
            "remove drops every value",
            Edit {
                remove: vec![name("b"), name("zz")],
                ..Default::default()
            },
            vec![("a", "1")],
        ),
        (
            "rename moves every value and replaces the target",
            Edit {
                rename: vec![(name("b"), name("a")), (name("nope"), name("c"))],
                ..Default::default()
            },
            vec![("a", "2"), ("a", "3")],
        ),
        (
            "replace only what is present",
            Edit {
                replace: vec![(name("b"), value("x")), (name("c"), value("y"))],
                ..Default::default()
            },
            vec![("a", "1"), ("b", "x")],
        ),
        (
            "add only what is absent",
            Edit {
                add: vec![(name("a"), value("x")), (name("c"), value("y"))],
                ..Default::default()
            },
            vec![("a", "1"), ("b", "2"), ("b", "3"), ("c", "y")],
        ),
        (
            "append always adds a value",
            Edit {
                append: vec![(name("a"), value("x")), (name("c"), value("y"))],
                ..Default::default()
            },
            vec![("a", "1"), ("a", "x"), ("b", "2"), ("b", "3"), ("c", "y")],
        ),
        (
            "order: remove, rename, replace, add, append",
            Edit {
                remove: vec![name("a")],
                rename: vec![(name("b"), name("a"))],
                replace: vec![(name("a"), value("r"))],
                add: vec![(name("a"), value("never")), (name("b"), value("new"))],
                append: vec![(name("b"), value("more"))],
            },
            vec![("a", "r"), ("b", "more"), ("b", "new")],
        ),
    ];
    for (what, edit, expected) in cases {
        let mut map = headers(&start);
        edit.apply(&mut map, |v| Some(v.clone()));
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs(&map), expected, "{what}");
    }
}

#[test]
fn a_value_that_cannot_be_a_header_is_skipped() {
    let edit: HeaderEdit<&str> = Edit {
        add: vec![(name("x"), "bad\nvalue")],
        ..Default::default()
    };
    let mut map = HeaderMap::new();
    edit.apply(&mut map, |v| HeaderValue::from_str(v).ok());
    assert!(map.is_empty());
}

#[test]
fn header_entries_report_each_bad_entry_at_its_field() {
    let entries = |list: &[&str]| list.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    // (operation, entries, the one error expected: which entry, and its message)
    let cases = [
        (
            "remove",
            &["ok", "x/y"][..],
            2,
            "'x/y' is not a valid header",
        ),
        ("rename", &["a:b c"][..], 1, "'b c' is not a valid header"),
        ("add", &["x y:1"][..], 1, "'x y' is not a valid header"),
        ("add", &["ok:1", "nocolon"][..], 2, "invalid value: nocolon"),
        ("append", &["x:bad"][..], 1, "refused: x:bad"),
    ];
    for (op, list, index, message) in cases {
        let mut edit = HeaderEdit::<String>::default();
        let mut errors = FieldErrors::default();
        let refuse_bad = |value: &str, entry: &str| match value {
            "bad" => Err(format!("refused: {entry}")),
            _ => Ok(value.to_string()),
        };
        header_entries(
            op,
            &entries(list),
            &mut edit,
            &mut errors,
            |_, _| true,
            refuse_bad,
        );
        let found: Vec<(&str, &str)> = errors.iter().collect();
        let field = format!("config.{op}.headers.{index}");
        assert_eq!(found, [(field.as_str(), message)], "{op} {list:?}");
    }
}

#[test]
fn header_entries_skip_empty_values_and_what_keep_refuses() {
    let entries: Vec<String> = ["host:h", "x-empty:", "x-a:1"].map(String::from).to_vec();
    let not_host = |_: &str, name: &HeaderName| name != http::header::HOST;
    let mut edit = HeaderEdit::<String>::default();
    let mut errors = FieldErrors::default();
    header_entries("add", &entries, &mut edit, &mut errors, not_host, |v, _| {
        Ok(v.to_string())
    });
    assert!(errors.is_empty());
    assert_eq!(edit.add, [(name("x-a"), "1".to_string())]);
    let mut edit = HeaderEdit::<String>::default();
    let renames: Vec<String> = ["host:x-h", "x-a:host"].map(String::from).to_vec();
    header_entries(
        "rename",
        &renames,
        &mut edit,
        &mut errors,
        not_host,
        |v, _| Ok(v.to_string()),
    );
    assert_eq!(edit.rename, [(name("x-a"), name("host"))]);
}

#[test]
fn pairs_split_like_kong() {
    let cases = [
        ("a:b", Some(("a", "b"))),
        ("a::b", Some(("a", "b"))),
        ("a:b:c", Some(("a", "b:c"))),
        ("a:", Some(("a", ""))),
        ("url:http://x", Some(("url", "http://x"))),
        (":b", None),
        ("ab", None),
    ];
    for (entry, expected) in cases {
        assert_eq!(split_pair(entry), expected, "{entry}");
    }
    assert_eq!(name_of("x-foo:ignored"), "x-foo");
    assert_eq!(name_of("x-foo"), "x-foo");
}

#[test]
fn header_names_use_kongs_alphabet() {
    for ok in ["x-foo", "X_Foo", "apikey", "A1"] {
        assert!(header_name(ok).is_some(), "{ok}");
    }
    for bad in ["", "x foo", "x:foo", "x/foo", "ü"] {
        assert!(header_name(bad).is_none(), "{bad}");
    }
}

#[test]
fn config_errors_name_the_field() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default, deserialize_with = "list")]
        headers: Vec<String>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        add: Option<Inner>,
    }
    let cases = [
        (json!({"add": {"headers": "a:b"}}), "config.add.headers"),
        (json!({"add": {"nope": []}}), "config.add.nope"),
        (json!({"other": 1}), "config.other"),
        (json!([]), "config"),
    ];
    for (config, field) in cases {
        let errors = parse_config::<Outer>(&config).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{config}");
    }
    let ok: Outer = parse_config(&json!({"add": {"headers": null}})).unwrap();
    assert!(ok.add.unwrap().headers.is_empty(), "null is an empty list");
}

#[test]
fn json_edits_use_lua_truthiness() {
    let edit: Edit<String, Value> = Edit {
        remove: vec!["gone".into()],
        rename: vec![("old".into(), "new".into()), ("absent".into(), "x".into())],
        replace: vec![
            ("s".into(), json!("R")),
            ("f".into(), json!("R")),
            ("none".into(), json!("R")),
        ],
        add: vec![
            ("f".into(), json!("A")),
            ("s".into(), json!("A")),
            ("n".into(), json!("A")),
        ],
        append: vec![
            ("s".into(), json!(1)),
            ("list".into(), json!(3)),
            ("num".into(), json!(4)),
        ],
    };
    let Value::Object(mut object) = json!({
        "gone": 1, "old": "o", "s": "v", "f": false, "list": [1, 2], "num": 9, "nul": null
    }) else {
        unreachable!()
    };
    edit.apply_json(&mut object, |v| Some(v.clone()));
    assert_eq!(
        Value::Object(object),
        json!({
            "new": "o",
            "s": ["R", 1],
            "f": "A",
            "n": "A",
            "list": [1, 2, 3],
            "num": [4],
            "nul": null
        })
    );
}
