//! STS AssumeRole (the plugin's `aws_assume_role_arn`): a SigV4-signed query-protocol call whose
//! XML answer carries the role's temporary credentials.

use super::client::HttpClient;
use super::credentials::{Credentials, CredentialsError};
use super::sigv4::{uri_encode, Signer};
use bytes::Bytes;
use http::{Method, Request};
use std::time::{Duration, SystemTime};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Which role to assume, and where STS is.
#[derive(Debug, Clone)]
pub struct RoleToAssume {
    pub role_arn: String,
    pub session_name: String,
    pub region: String,
    /// `aws_sts_endpoint_url`, else `https://sts.<region>.amazonaws.com`.
    pub endpoint: String,
}

impl RoleToAssume {
    pub fn new(role_arn: &str, session_name: &str, region: &str, endpoint: Option<&str>) -> Self {
        RoleToAssume {
            role_arn: role_arn.to_string(),
            session_name: session_name.to_string(),
            region: region.to_string(),
            endpoint: endpoint
                .map(|e| e.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com")),
        }
    }
}

pub async fn assume_role(
    http: &HttpClient,
    base: &Credentials,
    role: &RoleToAssume,
) -> Result<Credentials, CredentialsError> {
    let fail = |message: String| CredentialsError::AssumeRole {
        role: role.role_arn.clone(),
        message,
    };
    let body = format!(
        "Action=AssumeRole&RoleArn={}&RoleSessionName={}&Version=2011-06-15",
        uri_encode(role.role_arn.as_bytes()),
        uri_encode(role.session_name.as_bytes())
    );
    let uri: http::Uri = format!("{}/", role.endpoint)
        .parse()
        .map_err(|_| fail(format!("bad STS endpoint {:?}", role.endpoint)))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| fail(format!("no host in STS endpoint {:?}", role.endpoint)))?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(http::header::HOST, host)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Bytes::from(body))
        .map_err(|e| fail(e.to_string()))?;
    Signer {
        access_key_id: &base.access_key_id,
        secret_access_key: &base.secret_access_key,
        session_token: base.session_token.as_deref(),
        region: &role.region,
        service: "sts",
    }
    .sign(&mut request, SystemTime::now());
    let response = http
        .exchange(request, TIMEOUT)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8_lossy(response.body());
    if !response.status().is_success() {
        let message = tag(&text, "Message").unwrap_or("no message");
        return Err(fail(format!("{}: {message}", response.status())));
    }
    parse_assume_role(&text).map_err(fail)
}

/// The `<Credentials>` of an AssumeRoleResponse.
pub fn parse_assume_role(xml: &str) -> Result<Credentials, String> {
    let credentials = tag(xml, "Credentials").ok_or("no Credentials in the answer")?;
    let field = |name: &str| {
        tag(credentials, name)
            .map(str::to_string)
            .ok_or_else(|| format!("no {name} in the answer"))
    };
    let expiration = field("Expiration")?;
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
        expires_at: Some(
            super::clock::parse_iso8601(&expiration)
                .ok_or_else(|| format!("bad Expiration {expiration:?}"))?,
        ),
    })
}

/// The text between `<name>` and `</name>`: STS's answers are flat enough that this suffices,
/// and credentials never contain markup.
fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml[start..end].trim())
}
