//! The aws-lambda plugin over real HTTP against a local Lambda that checks SigV4 the way AWS
//! does: signatures, invocation and log types, qualifiers, payloads, proxy integration,
//! Kong's error statuses, and credentials from a container endpoint or STS.

mod aws_lambda {
    pub mod lambda_server;
}

use aws_lambda::lambda_server::{self as server, LambdaServer};
use bytes::Bytes;
use gateway::plugins::aws_lambda::AwsLambda;
use gateway::plugins::registry::{build, BuildContext};
use gateway::plugins::{Handler, RequestCtx, ShortCircuit};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The plugin's config for `function` on the local server, with fixed keys unless overridden.
fn config(server: &LambdaServer, function: &str, extra: Value) -> Value {
    let mut config = json!({
        "function_name": function,
        "aws_region": "us-east-1",
        "aws_key": server::KEY,
        "aws_secret": server::SECRET,
        "host": "127.0.0.1",
        "port": server.addr.port(),
        "disable_https": true,
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        for (k, v) in extra {
            if v.is_null() {
                config.remove(&k);
            } else {
                config.insert(k, v);
            }
        }
    }
    config
}

fn plugin(config: Value) -> AwsLambda {
    AwsLambda::with_env(&config, Arc::new(BTreeMap::new())).expect("a valid config")
}

fn request(method: Method, path: &str, query: Option<&str>, body: &str) -> RequestCtx {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("api.example.com"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-client", HeaderValue::from_static("tests"));
    let mut ctx = RequestCtx::new(
        method,
        path,
        query,
        headers,
        "127.0.0.1".parse().expect("ip"),
    );
    ctx.body = Some(Bytes::from(body.to_string()));
    ctx
}

async fn call(handler: &dyn Handler, ctx: &mut RequestCtx) -> ShortCircuit {
    handler
        .access(ctx)
        .await
        .expect("the plugin always answers")
}

fn json_body(response: &ShortCircuit) -> Value {
    serde_json::from_slice(response.body()).expect("a JSON body")
}

fn header<'a>(response: &'a ShortCircuit, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_signed_invocation_returns_the_function_answer() {
    let server = LambdaServer::start().await;
    let cx = BuildContext::default();
    let handler = build("aws-lambda", &config(&server, "echo", json!({})), &cx).expect("built");
    assert!(
        handler.needs_body(),
        "the legacy payload merges body arguments"
    );
    let mut ctx = request(Method::POST, "/fn", Some("a=1"), r#"{"b":2}"#);
    let response = call(handler.as_ref(), &mut ctx).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(&response), json!({"a": "1", "b": 2}));
    assert_eq!(header(&response, "x-amz-executed-version"), Some("$LATEST"));
    assert!(
        header(&response, "x-amz-log-result").is_some(),
        "log_type Tail is the default"
    );
    assert!(header(&response, "via").is_some_and(|v| v.contains("gateway/")));
    let seen = server.last_invocation();
    assert_eq!(seen.path, "/2015-03-31/functions/echo/invocations");
    assert_eq!(seen.headers["x-amz-invocation-type"], "RequestResponse");
    assert_eq!(seen.headers["content-type"], "application/x-amz-json-1.1");
    assert!(seen.headers.get("x-amz-security-token").is_none());
    assert!(server.refusals().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_lambda_and_kong_answers_500() {
    let server = LambdaServer::start().await;
    let handler = plugin(config(&server, "echo", json!({"aws_secret": "wrong"})));
    let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
    // Kong 3.x raises a Lua error when Lambda answers >= 400: the client sees a generic 500.
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        json_body(&response),
        json!({"message": "An unexpected error occurred"})
    );
    let refusals = server.refusals();
    assert_eq!(refusals.len(), 1);
    assert!(refusals[0].starts_with("The request signature we calculated does not match"));
    let unknown = plugin(config(&server, "nobody", json!({})));
    let response = call(&unknown, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn qualifier_invocation_and_log_types_reach_lambda() {
    let server = LambdaServer::start().await;
    let cases = [
        (
            json!({"qualifier": "prod"}),
            200,
            Some("prod"),
            "RequestResponse",
        ),
        (json!({"invocation_type": "Event"}), 202, None, "Event"),
        (json!({"invocation_type": "DryRun"}), 204, None, "DryRun"),
    ];
    for (extra, status, qualifier, invocation_type) in cases {
        let handler = plugin(config(&server, "echo", extra.clone()));
        let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
        assert_eq!(response.status().as_u16(), status, "{extra}");
        let seen = server.last_invocation();
        assert_eq!(
            seen.query.as_deref(),
            qualifier.map(|q| format!("Qualifier={q}")).as_deref()
        );
        assert_eq!(
            seen.headers["x-amz-invocation-type"], invocation_type,
            "{extra}"
        );
    }
    let quiet = plugin(config(&server, "echo", json!({"log_type": "None"})));
    let response = call(&quiet, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(server.last_invocation().headers["x-amz-log-type"], "None");
    assert!(header(&response, "x-amz-log-result").is_none());
    let pinned = plugin(config(&server, "echo", json!({"qualifier": "$LATEST"})));
    let response = call(&pinned, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a '$' qualifier is encoded and signed"
    );
}

#[tokio::test]
async fn forward_flags_shape_the_event() {
    let server = LambdaServer::start().await;
    let extra = json!({"forward_request_method": true, "forward_request_uri": true,
                       "forward_request_headers": true, "forward_request_body": true});
    let handler = plugin(config(&server, "echo", extra));
    let mut ctx = request(Method::PATCH, "/orders/7", Some("x=1&x=2"), r#"{"qty":3}"#);
    let event = json_body(&call(&handler, &mut ctx).await);
    assert_eq!(event["request_method"], "PATCH");
    assert_eq!(event["request_uri"], "/orders/7?x=1&x=2");
    assert_eq!(event["request_uri_args"], json!({"x": ["1", "2"]}));
    assert_eq!(event["request_headers"]["x-client"], "tests");
    assert_eq!(event["request_body"], r#"{"qty":3}"#);
    assert_eq!(event["request_body_args"], json!({"qty": 3}));
    assert_eq!(server.last_invocation().event, event);

    let gateway = plugin(config(
        &server,
        "echo",
        json!({"awsgateway_compatible": true}),
    ));
    let mut ctx = request(Method::GET, "/users/9", None, "");
    ctx.uri_captures.insert("id".into(), "9".into());
    let event = json_body(&call(&gateway, &mut ctx).await);
    assert_eq!(event["pathParameters"], json!({"id": "9"}));
    assert_eq!(event["requestContext"]["domainName"], "api.example.com");
}

#[tokio::test]
async fn proxy_integration_answers_become_the_response() {
    let server = LambdaServer::start().await;
    let handler = plugin(config(
        &server,
        "proxy",
        json!({"is_proxy_integration": true}),
    ));
    let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.body(), &Bytes::from_static(b"hello bytes"));
    assert_eq!(header(&response, "x-fn"), Some("yes"));
    assert_eq!(header(&response, "content-type"), Some("text/plain"));
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(header(&response, "x-amz-executed-version"), Some("$LATEST"));

    let malformed = plugin(config(
        &server,
        "malformed",
        json!({"is_proxy_integration": true}),
    ));
    let response = call(&malformed, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        json_body(&response),
        json!({"message": "Bad Gateway",
               "error": "could not JSON decode Lambda function response: statusCode validation failed"})
    );
}

#[tokio::test]
async fn unhandled_errors_and_timeouts() {
    let server = LambdaServer::start().await;
    let plain = plugin(config(&server, "crash", json!({})));
    let response = call(&plain, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "Lambda's own status without unhandled_status"
    );
    assert_eq!(header(&response, "x-amz-function-error"), Some("Unhandled"));
    let mapped = plugin(config(&server, "crash", json!({"unhandled_status": 599})));
    let response = call(&mapped, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status().as_u16(), 599);
    assert_eq!(json_body(&response)["errorMessage"], "boom");

    let slow = plugin(config(&server, "slow", json!({"timeout": 200})));
    let started = std::time::Instant::now();
    let response = call(&slow, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "Kong's error() → 500"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn container_credentials_sign_with_a_session_token_and_are_cached() {
    let server = LambdaServer::start().await;
    let env: BTreeMap<String, String> = [
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://{}/creds", server.addr),
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            server::CONTAINER_TOKEN.to_string(),
        ),
        ("AWS_REGION", "eu-west-1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let no_keys = json!({"aws_key": null, "aws_secret": null, "aws_region": null});
    let handler = AwsLambda::with_env(&config(&server, "echo", no_keys), Arc::new(env.clone()))
        .expect("valid");
    for _ in 0..3 {
        let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let seen = server.last_invocation();
    assert_eq!(seen.headers["x-amz-security-token"], server::TASK_SESSION);
    let auth = seen.headers["authorization"].to_str().expect("ascii");
    assert!(
        auth.contains(&format!("Credential={}/", server::TASK_KEY)),
        "{auth}"
    );
    assert!(
        auth.contains("/eu-west-1/lambda/aws4_request"),
        "region from AWS_REGION: {auth}"
    );
    assert_eq!(server.credential_fetches(), 1, "cached until near expiry");

    // Without the authorization token the endpoint refuses: no credentials, Kong's 500.
    let mut refused = env;
    refused.remove("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    let no_keys = json!({"aws_key": null, "aws_secret": null});
    let handler =
        AwsLambda::with_env(&config(&server, "echo", no_keys), Arc::new(refused)).expect("valid");
    let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn an_assumed_role_signs_the_invocation() {
    let server = LambdaServer::start().await;
    let extra = json!({
        "aws_assume_role_arn": "arn:aws:iam::123456789012:role/invoker",
        "aws_sts_endpoint_url": format!("http://{}", server.addr),
    });
    let handler = plugin(config(&server, "echo", extra));
    let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        server.assume_role_calls(),
        ["arn:aws:iam::123456789012:role/invoker|kong"]
    );
    let seen = server.last_invocation();
    assert_eq!(seen.headers["x-amz-security-token"], server::ROLE_SESSION);
}

#[tokio::test]
async fn missing_region_fails_like_kong() {
    let server = LambdaServer::start().await;
    let handler = plugin(config(&server, "echo", json!({"aws_region": null})));
    let response = call(&handler, &mut request(Method::GET, "/", None, "")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
