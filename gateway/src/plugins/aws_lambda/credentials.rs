//! Where the AWS credentials that sign an invocation come from: the plugin's `aws_key` and
//! `aws_secret`, else the default chain (environment, ECS/EKS container endpoint, EC2 instance
//! metadata), optionally exchanged through STS AssumeRole; cached until shortly before expiry.

use super::client::{ExchangeError, HttpClient};
use super::config::ImdsVersion;
use super::sts::{self, RoleToAssume};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Refresh temporary credentials this long before they expire, so no request signs with
/// credentials that lapse in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(5);
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS_HOST: &str = "http://169.254.169.254";

/// The process environment, behind a trait so tests inject a map instead of mutating globals.
pub trait Env: Send + Sync + fmt::Debug {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment; empty variables count as unset.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// A set of AWS credentials; temporary ones carry a session token and an expiry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expires_at: Option<SystemTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Credentials {
    fn fresh(&self, now: SystemTime) -> bool {
        self.expires_at.is_none_or(|at| now + REFRESH_MARGIN < at)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no AWS credentials found (config aws_key/aws_secret, AWS_ACCESS_KEY_ID, container or instance role)")]
    NotFound,
    #[error("credentials endpoint: {0}")]
    Exchange(#[from] ExchangeError),
    #[error("credentials endpoint {uri} answered {status}")]
    Status { uri: String, status: StatusCode },
    #[error("credentials endpoint {uri} answered without usable credentials: {message}")]
    Malformed { uri: String, message: String },
    #[error("bad credentials endpoint url {uri:?}")]
    BadUri { uri: String },
    #[error("reading the container authorization token file {path}: {source}")]
    TokenFile {
        path: String,
        source: std::io::Error,
    },
    #[error("sts AssumeRole of {role}: {message}")]
    AssumeRole { role: String, message: String },
}

/// Where base credentials come from.
#[derive(Debug)]
enum Source {
    Static(Credentials),
    Default {
        env: Arc<dyn Env>,
        imds: ImdsVersion,
    },
}

/// Resolves (and caches) the credentials for one plugin instance.
#[derive(Debug)]
pub struct CredentialChain {
    source: Source,
    role: Option<RoleToAssume>,
    http: HttpClient,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl CredentialChain {
    /// Fixed credentials from the plugin's configuration.
    pub fn fixed(access_key_id: &str, secret_access_key: &str, http: HttpClient) -> Self {
        let credentials = Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
            expires_at: None,
        };
        CredentialChain::new(Source::Static(credentials), http)
    }

    /// The default chain, reading variables from `env`.
    pub fn default_chain(env: Arc<dyn Env>, imds: ImdsVersion, http: HttpClient) -> Self {
        CredentialChain::new(Source::Default { env, imds }, http)
    }

    fn new(source: Source, http: HttpClient) -> Self {
        CredentialChain {
            source,
            role: None,
            http,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Exchange the base credentials for a role's through STS AssumeRole.
    pub fn assuming(mut self, role: RoleToAssume) -> Self {
        self.role = Some(role);
        self
    }

    /// Credentials to sign with now. Concurrent callers wait for one fetch rather than each
    /// asking the endpoint.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some(credentials) = cached.as_ref().filter(|c| c.fresh(now)) {
            return Ok(credentials.clone());
        }
        let base = self.base().await?;
        let credentials = match &self.role {
            Some(role) => sts::assume_role(&self.http, &base, role).await?,
            None => base,
        };
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    async fn base(&self) -> Result<Credentials, CredentialsError> {
        match &self.source {
            Source::Static(credentials) => Ok(credentials.clone()),
            Source::Default { env, imds } => {
                if let Some(credentials) = from_env(env.as_ref()) {
                    return Ok(credentials);
                }
                if let Some(request) = container_request(env.as_ref())? {
                    return self.fetch_json(request).await;
                }
                if env
                    .var("AWS_EC2_METADATA_DISABLED")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                {
                    return Err(CredentialsError::NotFound);
                }
                self.instance_role(env.as_ref(), *imds).await
            }
        }
    }

    /// Ask a credentials endpoint and read the JSON document ECS and IMDS both return.
    async fn fetch_json(&self, request: Request<Bytes>) -> Result<Credentials, CredentialsError> {
        let uri = request.uri().to_string();
        let body = self.fetch(request).await?;
        parse_document(&body).map_err(|message| CredentialsError::Malformed { uri, message })
    }

    async fn fetch(&self, request: Request<Bytes>) -> Result<Bytes, CredentialsError> {
        let uri = request.uri().to_string();
        let response = self.http.exchange(request, ENDPOINT_TIMEOUT).await?;
        if !response.status().is_success() {
            return Err(CredentialsError::Status {
                uri,
                status: response.status(),
            });
        }
        Ok(response.into_body())
    }

    /// EC2 instance metadata: (v2: a session token first), the role name, then its credentials.
    async fn instance_role(
        &self,
        env: &dyn Env,
        version: ImdsVersion,
    ) -> Result<Credentials, CredentialsError> {
        let base = env
            .var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|| IMDS_HOST.to_string());
        let base = base.trim_end_matches('/');
        let token = match version {
            ImdsVersion::V1 => None,
            ImdsVersion::V2 => {
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(format!("{base}/latest/api/token"))
                    .header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
                let token = self.fetch(build(request, base)?).await?;
                Some(String::from_utf8_lossy(&token).trim().to_string())
            }
        };
        let roles_uri = format!("{base}/latest/meta-data/iam/security-credentials/");
        let role = self
            .fetch(build(imds_get(&roles_uri, token.as_deref()), base)?)
            .await?;
        let role = String::from_utf8_lossy(&role);
        let role = role.lines().next().unwrap_or("").trim();
        if role.is_empty() {
            return Err(CredentialsError::NotFound);
        }
        let uri = format!("{roles_uri}{role}");
        self.fetch_json(build(imds_get(&uri, token.as_deref()), base)?)
            .await
    }
}

fn imds_get(uri: &str, token: Option<&str>) -> http::request::Builder {
    let request = Request::builder().method(Method::GET).uri(uri);
    match token {
        Some(token) => request.header("x-aws-ec2-metadata-token", token),
        None => request,
    }
}

fn build(request: http::request::Builder, uri: &str) -> Result<Request<Bytes>, CredentialsError> {
    request
        .body(Bytes::new())
        .map_err(|_| CredentialsError::BadUri {
            uri: uri.to_string(),
        })
}

fn from_env(env: &dyn Env) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: env.var("AWS_ACCESS_KEY_ID")?,
        secret_access_key: env.var("AWS_SECRET_ACCESS_KEY")?,
        session_token: env.var("AWS_SESSION_TOKEN"),
        expires_at: None,
    })
}

/// The ECS task role (relative URI) or a full URI (EKS Pod Identity, Greengrass, tests), with
/// the authorization token from a file or a variable.
fn container_request(env: &dyn Env) -> Result<Option<Request<Bytes>>, CredentialsError> {
    let uri = match (
        env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    ) {
        (Some(relative), _) => format!("{ECS_HOST}{relative}"),
        (None, Some(full)) => full,
        (None, None) => return Ok(None),
    };
    let token = match env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .map_err(|source| CredentialsError::TokenFile { path, source })?
                .trim()
                .to_string(),
        ),
        None => env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
    };
    let mut request = Request::builder().method(Method::GET).uri(&uri);
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, token);
    }
    build(request, &uri).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
}

/// The credentials document of the ECS and EC2 endpoints.
pub fn parse_document(body: &[u8]) -> Result<Credentials, String> {
    let doc: Document = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let expires_at = match doc.expiration.as_deref() {
        Some(text) => Some(
            super::clock::parse_iso8601(text).ok_or_else(|| format!("bad Expiration {text:?}"))?,
        ),
        None => None,
    };
    Ok(Credentials {
        access_key_id: doc.access_key_id,
        secret_access_key: doc.secret_access_key,
        session_token: doc.token.filter(|t| !t.is_empty()),
        expires_at,
    })
}
