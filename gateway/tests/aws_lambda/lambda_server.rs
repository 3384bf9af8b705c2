//! A local stand-in for AWS on 127.0.0.1: Lambda's Invoke API (checking SigV4 like AWS, with
//! canned functions), a container-credentials endpoint and STS AssumeRole.

use base64::Engine;
use bytes::Bytes;
use gateway::plugins::aws_lambda::sigv4::{
    canonical_request, sha256_hex, signature, string_to_sign, Scope,
};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "AKIDTEST";
pub const SECRET: &str = "test-secret";
/// What the container endpoint hands out, and the token it wants to see.
pub const TASK_KEY: &str = "ASIATASK";
pub const TASK_SECRET: &str = "task-secret";
pub const TASK_SESSION: &str = "task-session-token";
pub const CONTAINER_TOKEN: &str = "container-auth-token";
/// What STS hands out for the assumed role.
pub const ROLE_KEY: &str = "ASIAROLE";
pub const ROLE_SECRET: &str = "role-secret";
pub const ROLE_SESSION: &str = "role-session-token";

/// One Invoke call as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub event: Value,
}

#[derive(Default)]
struct State {
    invocations: Vec<Seen>,
    credential_fetches: usize,
    assume_role_calls: Vec<String>,
    refusals: Vec<String>,
}

pub struct LambdaServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl LambdaServer {
    pub async fn start() -> LambdaServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        LambdaServer { addr, state }
    }

    pub fn last_invocation(&self) -> Seen {
        let state = self.state.lock().expect("lock");
        state.invocations.last().cloned().expect("an invocation")
    }

    pub fn credential_fetches(&self) -> usize {
        self.state.lock().expect("lock").credential_fetches
    }

    /// The messages of the 403s the server answered.
    pub fn refusals(&self) -> Vec<String> {
        self.state.lock().expect("lock").refusals.clone()
    }

    pub fn assume_role_calls(&self) -> Vec<String> {
        self.state.lock().expect("lock").assume_role_calls.clone()
    }
}

type Answer = Response<Full<Bytes>>;

async fn handle(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Answer, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    if path == "/creds" {
        return Ok(container_credentials(&state, &parts.headers));
    }
    if path == "/" && parts.method == http::Method::POST {
        return Ok(match verify(&parts, &body, "sts") {
            Err(message) => refused(&state, message),
            Ok(()) => assume_role(&state, &body),
        });
    }
    let Some(function) = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
    else {
        return Ok(answer(
            404,
            &[],
            json!({"message": "no such API"}).to_string(),
        ));
    };
    if let Err(message) = verify(&parts, &body, "lambda") {
        return Ok(refused(&state, message));
    }
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.lock().expect("lock").invocations.push(Seen {
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        event: event.clone(),
    });
    Ok(invoke(function, &parts.headers, parts.uri.query(), event).await)
}

/// AWS's 403, remembered for the tests.
fn refused(state: &Mutex<State>, message: String) -> Answer {
    let body = json!({ "message": message }).to_string();
    state.lock().expect("lock").refusals.push(message);
    answer(403, &[], body)
}

/// AWS's check: recompute the signature from the request and the caller's secret.
fn verify(parts: &http::request::Parts, body: &[u8], service: &str) -> Result<(), String> {
    let forbidden = |message: &str| message.to_string();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let auth = header("authorization");
    let field = |name: &str| {
        auth.split([' ', ','])
            .find_map(|part| part.strip_prefix(name))
            .unwrap_or("")
    };
    let credential: Vec<&str> = field("Credential=").split('/').collect();
    let signed: Vec<&str> = field("SignedHeaders=").split(';').collect();
    let (secret, token) = match credential.first().copied() {
        Some(KEY) => (SECRET, None),
        Some(TASK_KEY) => (TASK_SECRET, Some(TASK_SESSION)),
        Some(ROLE_KEY) => (ROLE_SECRET, Some(ROLE_SESSION)),
        _ => {
            return Err(forbidden(
                "The security token included in the request is invalid.",
            ))
        }
    };
    if token.is_some_and(|t| header("x-amz-security-token") != t) {
        return Err(forbidden(
            "The security token included in the request is invalid.",
        ));
    }
    if credential.len() != 5 || credential[3] != service || !signed.contains(&"host") {
        return Err(forbidden(
            "Credential should be scoped to a valid region and service.",
        ));
    }
    let amz_date = header("x-amz-date");
    let scope = Scope::new(amz_date, credential[2], service);
    let canonical = canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &signed,
        &sha256_hex(body),
    );
    let expected = signature(
        secret,
        &scope,
        &string_to_sign(amz_date, &scope, &canonical),
    );
    if field("Signature=") != expected || credential[1] != scope.date {
        return Err(forbidden(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method.",
        ));
    }
    Ok(())
}

async fn invoke(function: &str, headers: &HeaderMap, query: Option<&str>, event: Value) -> Answer {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let version = query
        .and_then(|q| q.strip_prefix("Qualifier="))
        .unwrap_or("%24LATEST")
        .replace("%24", "$");
    let mut extra = vec![("x-amz-executed-version", version)];
    if header("x-amz-log-type") == "Tail" {
        let log = base64::engine::general_purpose::STANDARD.encode("START RequestId: 1\nEND\n");
        extra.push(("x-amz-log-result", log));
    }
    match header("x-amz-invocation-type") {
        "Event" => return answer(202, &[], String::new()),
        "DryRun" => return answer(204, &[], String::new()),
        _ => {}
    }
    let body = match function {
        "echo" => event.to_string(),
        "proxy" => json!({
            "statusCode": 201,
            "headers": {"x-fn": "yes", "content-type": "text/plain"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": base64::engine::general_purpose::STANDARD.encode("hello bytes"),
            "isBase64Encoded": true,
        })
        .to_string(),
        "malformed" => json!({"statusCode": "abc", "body": "x"}).to_string(),
        "crash" => {
            extra.push(("x-amz-function-error", "Unhandled".to_string()));
            json!({"errorMessage": "boom", "errorType": "Error"}).to_string()
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "{}".to_string()
        }
        other => {
            let message = format!("Function not found: {other}");
            return answer(404, &[], json!({ "Message": message }).to_string());
        }
    };
    let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
    answer(200, &extra, body)
}

fn container_credentials(state: &Mutex<State>, headers: &HeaderMap) -> Answer {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(CONTAINER_TOKEN) {
        return answer(401, &[], "{}".to_string());
    }
    state.lock().expect("lock").credential_fetches += 1;
    let body = json!({
        "AccessKeyId": TASK_KEY,
        "SecretAccessKey": TASK_SECRET,
        "Token": TASK_SESSION,
        "Expiration": "2999-01-01T00:00:00Z",
    });
    answer(200, &[], body.to_string())
}

fn assume_role(state: &Mutex<State>, body: &[u8]) -> Answer {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    state
        .lock()
        .expect("lock")
        .assume_role_calls
        .push(format!("{}|{}", form["RoleArn"], form["RoleSessionName"]));
    let xml = format!(
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{ROLE_KEY}</AccessKeyId>\
         <SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>{ROLE_SESSION}</SessionToken>\
         <Expiration>2999-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>\
         </AssumeRoleResponse>"
    );
    answer(200, &[("content-type", "text/xml")], xml)
}

fn answer(status: u16, headers: &[(&str, &str)], body: String) -> Answer {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .header("content-type", "application/json")
        .header("x-amzn-requestid", "7f0e7a6c-0000-4000-8000-000000000000");
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response
        .body(Full::new(Bytes::from(body)))
        .expect("a response")
}
