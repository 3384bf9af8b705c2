use super::*;
use http::{HeaderMap, Method};
use serde_json::json;

fn plugin(config: Value) -> IpRestriction {
    IpRestriction::from_config(&config).expect("valid ip-restriction config")
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn cidrs_contain_what_they_should() {
    // (range, address, contained)
    let cases = [
        ("10.0.0.0/8", "10.255.255.255", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.1.2.3/8", "10.9.9.9", true), // host bits in the range are ignored
        ("192.168.1.7", "192.168.1.7", true),
        ("192.168.1.7", "192.168.1.8", false),
        ("192.168.1.7/32", "192.168.1.7", true),
        ("192.168.1.6/31", "192.168.1.7", true),
        ("192.168.1.6/31", "192.168.1.8", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false), // families never mix
        ("::/0", "203.0.113.9", false),
        ("::/0", "2001:db8::1", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::1/128", "2001:db8::1", true),
        ("2001:db8::1", "2001:db8::2", false),
        ("2001:db8::/127", "2001:db8::1", true),
        ("fe80::/10", "febf::1", true),
        ("fe80::/10", "fec0::1", false),
        ("::1", "::1", true),
        // An IPv4-mapped IPv6 client is its IPv4 address (dual-stack listeners).
        ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        ("::ffff:0:0/96", "::ffff:127.0.0.1", false),
    ];
    for (range, address, expected) in cases {
        let cidr: Cidr = range.parse().expect(range);
        assert_eq!(cidr.contains(ip(address)), expected, "{range} ∋ {address}");
    }
}

#[test]
fn malformed_ranges_are_rejected() {
    for bad in [
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/8/8",
        "10.0.0",
        "256.0.0.1",
        "010.0.0.1",
        "example.com",
        "",
        " 10.0.0.1",
        "2001:db8:::1",
    ] {
        assert_eq!(
            bad.parse::<Cidr>(),
            Err(CidrError(bad.to_string())),
            "{bad:?}"
        );
    }
}

#[test]
fn deny_wins_and_allow_lists_exclude_everyone_else() {
    // (allow, deny, client, permitted)
    type Case<'a> = (Value, Value, &'a str, bool);
    let cases: [Case; 8] = [
        (json!(null), json!(["10.0.0.0/8"]), "10.1.1.1", false),
        (json!(null), json!(["10.0.0.0/8"]), "192.168.0.1", true),
        (json!(["10.0.0.0/8"]), json!(null), "10.1.1.1", true),
        (json!(["10.0.0.0/8"]), json!(null), "192.168.0.1", false),
        (
            json!(["10.0.0.0/8"]),
            json!(["10.1.0.0/16"]),
            "10.1.1.1",
            false,
        ),
        (
            json!(["10.0.0.0/8"]),
            json!(["10.1.0.0/16"]),
            "10.2.1.1",
            true,
        ),
        (json!(["10.0.0.0/8"]), json!([]), "::1", false),
        (json!(["::1", "10.0.0.0/8"]), json!([]), "::1", true),
    ];
    for (allow, deny, client, permitted) in cases {
        let plugin = plugin(json!({ "allow": allow, "deny": deny }));
        assert_eq!(
            plugin.permits(ip(client)),
            permitted,
            "allow {allow} deny {deny} client {client}"
        );
    }
}

#[tokio::test]
async fn rejections_are_kong_shaped_and_configurable() {
    let mut ctx = RequestCtx::new(Method::GET, "/", None, HeaderMap::new(), ip("10.0.0.5"));
    let default = plugin(json!({ "deny": ["10.0.0.5"] }));
    let answer = default.access(&mut ctx).await.expect("rejected");
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(body, json!({ "message": "Your IP address is not allowed" }));

    let custom = plugin(json!({ "deny": ["10.0.0.0/24"], "status": 401, "message": "Go away" }));
    let answer = custom.access(&mut ctx).await.expect("rejected");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(body, json!({ "message": "Go away" }));

    ctx.client_ip = ip("10.0.1.5");
    assert!(custom.access(&mut ctx).await.is_none());
}

#[test]
fn bad_configs_are_field_errors() {
    let cases = [
        (
            json!({ "allow": ["10.0.0.1", "10.0.0.0/40"] }),
            vec![("config.allow.2", "invalid ip or cidr range: '10.0.0.0/40'")],
        ),
        (
            json!({ "deny": ["nope"], "allow": ["also-nope"] }),
            vec![
                ("config.allow.1", "invalid ip or cidr range: 'also-nope'"),
                ("config.deny.1", "invalid ip or cidr range: 'nope'"),
            ],
        ),
        (
            json!({}),
            vec![(
                "@entity",
                "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
            )],
        ),
        (
            json!({ "allow": [], "deny": [] }),
            vec![(
                "@entity",
                "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
            )],
        ),
        (
            json!({ "deny": ["::1"], "status": 99 }),
            vec![("config.status", "value should be between 100 and 599")],
        ),
        (
            json!({ "deny": ["::1"], "whitelist": ["::1"] }),
            vec![("config.whitelist", "unknown field")],
        ),
    ];
    for (config, expected) in cases {
        let errors = IpRestriction::from_config(&config).expect_err("invalid");
        let got: Vec<(&str, &str)> = errors.iter().collect();
        assert_eq!(got, expected, "{config}");
    }
}
