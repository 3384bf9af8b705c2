//! Routing rules that depend on more than the routes: a disabled service takes its routes out
//! of the router, so requests fall through to the next route that matches (as in Kong).

mod support;

use support::{send, Gateway, Upstream};

#[tokio::test]
async fn routes_of_a_disabled_service_are_left_out_of_the_router() {
    let main = Upstream::start("main").await;
    let old = Upstream::start("old").await;
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: old
    url: http://127.0.0.1:{}
    enabled: false
    routes: [{{name: old, paths: [/api/v1]}}]
  - name: main
    url: http://127.0.0.1:{}
    routes: [{{name: catch-all, paths: [/api]}}]
"#,
        old.port(),
        main.port()
    ))
    .await;
    let reply = send("GET", &gw.url("/api/v1/items"), &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["upstream"],
        "main",
        "the longer prefix of a disabled service does not win"
    );
    assert_eq!(old.hits(), 0);
}
