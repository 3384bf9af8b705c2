//! One Lambda Invoke call: `POST /2015-03-31/functions/{FunctionName}/invocations`, signed with
//! SigV4 for the `lambda` service.

use super::config::{Config, InvocationType, LogType};
use super::credentials::Credentials;
use super::sigv4::{uri_encode, Signer};
use bytes::Bytes;
use http::{Method, Request};
use std::time::SystemTime;

/// Where and how to invoke: fixed per plugin instance.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `https://lambda.<region>.amazonaws.com:443`, or the configured host and port.
    pub base: String,
    /// The `Host` header (and so the signed host): the port only when not the scheme's default.
    pub host: String,
    pub region: String,
    pub path: String,
    pub query: Option<String>,
    pub invocation_type: InvocationType,
    pub log_type: LogType,
}

impl Endpoint {
    /// `None` when neither `aws_region` nor the environment names a region: Kong fails the
    /// request then ("no region specified"), so does the plugin.
    pub fn new(config: &Config, env_region: Option<String>) -> Option<Endpoint> {
        let region = config.aws_region.clone().or(env_region)?;
        let host = config
            .host
            .clone()
            .unwrap_or_else(|| format!("lambda.{region}.amazonaws.com"));
        let (scheme, default_port) = match config.disable_https {
            true => ("http", 80),
            false => ("https", 443),
        };
        let authority = match config.port {
            port if port == default_port => host.clone(),
            port => format!("{host}:{port}"),
        };
        Some(Endpoint {
            base: format!("{scheme}://{authority}"),
            host: authority,
            region,
            // An ARN's colons are encoded, as the AWS SDKs do.
            path: format!(
                "/2015-03-31/functions/{}/invocations",
                uri_encode(config.function().as_bytes())
            ),
            query: config
                .qualifier
                .as_deref()
                .map(|q| format!("Qualifier={}", uri_encode(q.as_bytes()))),
            invocation_type: config.invocation_type,
            log_type: config.log_type,
        })
    }

    /// The signed Invoke request carrying `payload`.
    pub fn request(
        &self,
        payload: Bytes,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<Request<Bytes>, http::Error> {
        let uri = match &self.query {
            Some(query) => format!("{}{}?{query}", self.base, self.path),
            None => format!("{}{}", self.base, self.path),
        };
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(http::header::HOST, &self.host)
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header(http::header::CONTENT_LENGTH, payload.len())
            .header("x-amz-invocation-type", self.invocation_type.as_str())
            .header("x-amz-log-type", self.log_type.as_str())
            .body(payload)?;
        Signer {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
            region: &self.region,
            service: "lambda",
        }
        .sign(&mut request, now);
        Ok(request)
    }
}
