use super::*;
use crate::declarative::parse_str;
use crate::plugins::consumers::Consumers;
use http::Method;
use serde_json::json;

const CONFIG: &str = r#"
_format_version: "3.0"
consumers:
  - username: portal
    acls:
      - group: admin
      - group: ops
  - username: dev-1
    acls:
      - group: developers
  - username: loner
"#;

fn consumers() -> Consumers {
    Consumers::build(&parse_str(CONFIG, "test.yaml").expect("valid config"))
}

/// A request that key-auth has already authenticated as `username` (or nobody).
fn ctx(username: Option<&str>, headers: &[(&str, &str)]) -> RequestCtx {
    let map = crate::test_support::headers(headers);
    let mut ctx = RequestCtx::new(Method::GET, "/", None, map, [127, 0, 0, 1].into());
    if let Some(name) = username {
        ctx.consumer = Some(consumers().consumer(name).expect("a known consumer"));
        ctx.credential_id = Some(uuid::Uuid::new_v4());
    }
    ctx
}

fn acl(config: Value) -> Acl {
    Acl::from_config(&config).expect("valid config")
}

fn answer(acl: &Acl, ctx: &mut RequestCtx) -> Option<(u16, String)> {
    acl.check(ctx).map(|r| {
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        (
            r.status().as_u16(),
            body["message"].as_str().unwrap().to_string(),
        )
    })
}

const FORBIDDEN: Option<(u16, &str)> = Some((403, "You cannot consume this service"));

#[test]
fn allow_and_deny_lists_decide_by_group() {
    type Case<'a> = (Value, &'a str, Option<(u16, &'a str)>);
    let cases: [Case; 8] = [
        (json!({ "allow": ["admin"] }), "portal", None),
        (json!({ "allow": ["admin"] }), "dev-1", FORBIDDEN),
        (json!({ "allow": ["admin"] }), "loner", FORBIDDEN),
        (json!({ "allow": ["nobody", "developers"] }), "dev-1", None),
        (json!({ "deny": ["developers"] }), "dev-1", FORBIDDEN),
        (json!({ "deny": ["developers"] }), "portal", None),
        (json!({ "deny": ["developers"] }), "loner", None),
        (json!({ "allow": [], "deny": ["ops"] }), "portal", FORBIDDEN),
    ];
    for (config, who, expected) in cases {
        let got = answer(&acl(config.clone()), &mut ctx(Some(who), &[]));
        let expected = expected.map(|(s, m)| (s, m.to_string()));
        assert_eq!(got, expected, "{config} as {who}");
    }
}

#[test]
fn no_consumer_is_401_and_a_credential_without_one_is_403() {
    let acl = acl(json!({ "deny": ["developers"] }));
    let mut anonymous = ctx(None, &[]);
    assert_eq!(
        answer(&acl, &mut anonymous),
        Some((401, "Unauthorized".to_string()))
    );
    let mut odd = ctx(None, &[]);
    odd.credential_id = Some(uuid::Uuid::new_v4());
    assert_eq!(
        answer(&acl, &mut odd),
        FORBIDDEN.map(|(s, m)| (s, m.to_string()))
    );
}

#[test]
fn an_anonymous_consumer_is_judged_by_its_own_groups() {
    let acl = acl(json!({ "allow": ["developers"] }));
    let mut c = ctx(Some("dev-1"), &[]);
    c.credential_id = None; // key-auth's `anonymous`: a consumer, no credential
    assert_eq!(answer(&acl, &mut c), None);
    let mut c = ctx(Some("loner"), &[]);
    c.credential_id = None;
    assert_eq!(
        answer(&acl, &mut c),
        FORBIDDEN.map(|(s, m)| (s, m.to_string()))
    );
}

#[test]
fn the_upstream_learns_the_groups_unless_hidden_and_never_a_forged_list() {
    let forged = [("x-consumer-groups", "admin")];
    let mut c = ctx(Some("portal"), &forged);
    assert_eq!(answer(&acl(json!({ "allow": ["ops"] })), &mut c), None);
    assert_eq!(c.headers["x-consumer-groups"], "admin, ops");

    let mut c = ctx(Some("portal"), &forged);
    let hidden = acl(json!({ "allow": ["ops"], "hide_groups_header": true }));
    assert_eq!(answer(&hidden, &mut c), None);
    assert!(!c.headers.contains_key("x-consumer-groups"));

    let mut c = ctx(Some("loner"), &forged);
    assert_eq!(answer(&acl(json!({ "deny": ["ops"] })), &mut c), None);
    assert!(
        !c.headers.contains_key("x-consumer-groups"),
        "a consumer without groups sends none"
    );
}

#[test]
fn exactly_one_of_allow_and_deny_is_required() {
    type Case<'a> = (Value, &'a str);
    let cases: [Case; 4] = [
        (json!({}), "at least one of"),
        (json!({ "allow": [], "deny": [] }), "at least one of"),
        (json!({ "allow": ["a"], "deny": ["b"] }), "only one of"),
        (
            json!({ "allow": ["a"], "whitelist": ["b"] }),
            "unknown field",
        ),
    ];
    for (config, expected) in cases {
        let errors = Acl::from_config(&config).expect_err("invalid config");
        assert!(
            errors.message().contains(expected),
            "{config}: {}",
            errors.message()
        );
    }
    let accepted = json!({
        "allow": ["a"],
        "hide_groups_header": false,
        "always_use_authenticated_groups": true,
        "include_consumer_groups": true,
    });
    assert!(Acl::from_config(&accepted).is_ok());
}
