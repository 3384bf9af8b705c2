//! Consistent hashing through the proxy: the upstream's `hash_on` input picks the target, so
//! one user always lands on the same backend while users spread over all of them.

mod support;

use std::collections::{HashMap, HashSet};
use support::{send, Gateway, Upstream};

#[tokio::test]
async fn hash_on_a_header_pins_each_user_to_one_target() {
    let ups = [
        Upstream::start("a").await,
        Upstream::start("b").await,
        Upstream::start("c").await,
    ];
    let targets: String = ups
        .iter()
        .map(|u| format!("      - target: 127.0.0.1:{}\n", u.port()))
        .collect();
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: app
    host: app-pool
    routes: [{{name: app, paths: [/]}}]
upstreams:
  - name: app-pool
    algorithm: consistent-hashing
    hash_on: header
    hash_on_header: x-user
    hash_fallback: ip
    targets:
{targets}"#
    ))
    .await;
    let mut landed: HashMap<String, HashSet<String>> = HashMap::new();
    for round in 0..3 {
        for user in 0..30 {
            let user = format!("user-{user}");
            let reply = send("GET", &gw.url("/"), &[("x-user", user.as_str())], "").await;
            assert_eq!(reply.status, 200, "round {round}");
            let server = reply.json()["upstream"]
                .as_str()
                .expect("echo names itself")
                .to_string();
            landed.entry(user).or_default().insert(server);
        }
    }
    assert!(
        landed.values().all(|servers| servers.len() == 1),
        "a user always reaches the same target: {landed:?}"
    );
    let used: HashSet<&String> = landed.values().flatten().collect();
    assert_eq!(
        used.len(),
        3,
        "30 users spread over all three targets: {used:?}"
    );
}
