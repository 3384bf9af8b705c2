//! A route without a service, answered by an AWS Lambda function through the real proxy, with
//! key-auth in front (the model user's backend), against a local server that speaks Lambda's
//! Invoke protocol and checks SigV4.

mod support;
#[allow(dead_code)] // Shared with tests/aws_lambda.rs, which uses all of it.
mod aws_lambda {
    pub mod lambda_server;
}

use aws_lambda::lambda_server::{self as server, LambdaServer};
use support::{send, Gateway};

#[tokio::test]
async fn a_serviceless_route_is_answered_by_the_function() {
    let lambda = LambdaServer::start().await;
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
routes:
  - name: forecast
    paths: [/forecast]
    plugins:
      - name: key-auth
      - name: aws-lambda
        config:
          function_name: proxy
          aws_region: us-east-1
          aws_key: {key}
          aws_secret: {secret}
          host: 127.0.0.1
          port: {port}
          disable_https: true
          is_proxy_integration: true
consumers:
  - username: alice
    keyauth_credentials: [{{key: alice-key}}]
"#,
        key = server::KEY,
        secret = server::SECRET,
        port = lambda.addr.port()
    ))
    .await;
    let reply = send("GET", &gw.url("/forecast"), &[("apikey", "alice-key")], "").await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(
        &reply.body[..],
        b"hello bytes",
        "the base64 body is decoded"
    );
    assert_eq!(reply.header("x-fn"), Some("yes"));
    assert!(reply.header("x-kong-response-latency").is_some());
    let denied = send("GET", &gw.url("/forecast"), &[], "").await;
    assert_eq!(
        denied.status, 401,
        "key-auth runs before the function is invoked"
    );
    assert!(lambda.refusals().is_empty(), "every signature was accepted");
}

/// A node rebuilds every handler on each configuration change; the aws-lambda handler (its
/// connection pool, its cached credentials) is reused as long as its config is the same.
#[test]
fn lambda_handlers_survive_snapshot_rebuilds() {
    use gateway::plugins::registry::{build, BuildContext};
    let node = BuildContext::default();
    let config = serde_json::json!({"function_name": "f", "aws_region": "eu-west-1"});
    let first = build("aws-lambda", &config, &node).expect("valid");
    let again = build("aws-lambda", &config, &node).expect("valid");
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the same handler is reused"
    );
    let other = serde_json::json!({"function_name": "g", "aws_region": "eu-west-1"});
    let different = build("aws-lambda", &other, &node).expect("valid");
    assert!(!std::sync::Arc::ptr_eq(&first, &different));
    let elsewhere = build("aws-lambda", &config, &BuildContext::default()).expect("valid");
    assert!(
        !std::sync::Arc::ptr_eq(&first, &elsewhere),
        "another node has its own"
    );
}
