//! The real `gateway` binary on PostgreSQL, started with the environment of a real Kong task
//! definition on ECS (ports made free, password added): migrations bootstrap, the Admin API
//! configures a service through curl-style forms, requests flow through the proxy, a second
//! node sharing the database serves the change, and SIGTERM stops both cleanly.

#[path = "support/cli.rs"]
mod cli;
mod support;

use stack_tests::process::ServerProcess;
use stack_tests::scratch::ScratchDir;
use stack_tests::{free_port, wait_for_port};
use std::time::Duration;
use support::{send, Upstream};

/// The task definition's variables, with this test's ports and database.
fn kong_task_env(
    pg: &[(&'static str, String)],
    proxy: u16,
    admin: u16,
    prefix: &str,
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("KONG_NGINX_HTTP_GZIP_PROXIED", "any".to_string()),
        ("KONG_NGINX_HTTP_GZIP_COMP_LEVEL", "6".to_string()),
        (
            "KONG_PLUGINS",
            "bundled,request-transformer_1251".to_string(),
        ),
        ("KONG_LOG_LEVEL", "warn".to_string()),
        ("KONG_PROXY_STREAM_ACCESS_LOG", "off".to_string()),
        ("KONG_NGINX_HTTP_GZIP_VARY", "on".to_string()),
        ("KONG_PROXY_ACCESS_LOG", "off".to_string()),
        ("KONG_NGINX_HTTP_GZIP_TYPES", "application/json".to_string()),
        (
            "KONG_ADMIN_LISTEN",
            format!("0.0.0.0:{admin}, 0.0.0.0:{} ssl", free_port()),
        ),
        ("KONG_NGINX_HTTP_GZIP", "on".to_string()),
        ("KONG_PROXY_LISTEN", format!("0.0.0.0:{proxy}")),
        ("KONG_PREFIX", prefix.to_string()),
    ];
    env.extend(pg.iter().cloned());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_serve_what_the_admin_api_configured() {
    let url = stack_tests::shared_postgres().fresh_database();
    let pg = cli::pg_env(&url);
    let dir = ScratchDir::new("gateway-node").expect("a scratch dir");
    let up = Upstream::start("weather").await;

    let run = cli::gateway(&["migrations", "bootstrap"], &pg);
    assert_eq!(run.code, Some(0), "{run:?}");

    let (proxy_a, admin_a, proxy_b, admin_b) = (free_port(), free_port(), free_port(), free_port());
    let start = |name: &str, proxy: u16, admin: u16| {
        let prefix = dir.path().join(name).display().to_string();
        let cmd = cli::command(&["start"], &kong_task_env(&pg, proxy, admin, &prefix));
        let log = dir.path().join(format!("{name}.log"));
        let node = ServerProcess::spawn(name, cmd, &log, "TERM", dir.path()).expect("start");
        assert!(
            wait_for_port(admin, Duration::from_secs(30)),
            "{name}: {}",
            node.log_tail(30)
        );
        node
    };
    let node_a = start("a", proxy_a, admin_a);
    let node_b = start("b", proxy_b, admin_b);

    let form = [("content-type", "application/x-www-form-urlencoded")];
    let admin = |path: &str| format!("http://127.0.0.1:{admin_a}{path}");
    let body = format!("name=weather&url=http://127.0.0.1:{}/v1", up.port());
    assert_eq!(
        send("POST", &admin("/services"), &form, &body).await.status,
        201
    );
    let route = send(
        "POST",
        &admin("/services/weather/routes"),
        &form,
        "name=forecast&paths[]=/forecast",
    )
    .await;
    assert_eq!(route.status, 201, "{:?}", route.body);

    let through_a = send(
        "GET",
        &format!("http://127.0.0.1:{proxy_a}/forecast/berlin"),
        &[],
        "",
    )
    .await;
    assert_eq!(
        through_a.status, 200,
        "live on the node that made the change at once"
    );
    assert_eq!(through_a.json()["path"], "/v1/berlin");

    let url_b = format!("http://127.0.0.1:{proxy_b}/forecast/berlin");
    let mut seen = None;
    for _ in 0..40 {
        let reply = send("GET", &url_b, &[], "").await;
        if reply.status == 200 {
            seen = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.is_some(),
        "node b serves the change within 2 s: {}",
        node_b.log_tail(20)
    );

    let gzipped = send("GET", &url_b, &[("accept-encoding", "gzip")], "").await;
    assert_eq!(
        gzipped.header("content-encoding"),
        Some("gzip"),
        "KONG_NGINX_HTTP_GZIP* applied"
    );
    let status = send(
        "GET",
        &format!("http://127.0.0.1:{admin_b}/status"),
        &[],
        "",
    )
    .await;
    assert_eq!(status.json()["database"]["reachable"], true);

    for node in [node_a, node_b] {
        let code = node.stop().expect("stopped").code();
        assert_eq!(code, Some(0), "SIGTERM is a clean exit");
    }
}
