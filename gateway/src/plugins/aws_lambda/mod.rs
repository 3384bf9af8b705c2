//! aws-lambda: answer a request by invoking an AWS Lambda function (Kong 3.x's plugin).
//!
//! The access phase builds the event ([`payload`]), resolves credentials ([`credentials`]:
//! config keys, environment, container or instance role, optionally AssumeRole through
//! [`sts`]), signs an Invoke call with [`sigv4`] ([`invoke`]), sends it over [`client`] and
//! turns Lambda's answer into the client's response ([`answer`], [`proxy_integration`]).
//!
//! Differences from Kong, on purpose: TLS certificates of Lambda endpoints are verified (Kong
//! sets `ssl_verify = false`); `proxy_url` is accepted but requests go to Lambda directly; the
//! payload is passed through as Lambda sent it (Kong decodes and re-encodes JSON).

pub mod answer;
pub mod client;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod invoke;
pub mod payload;
pub mod proxy_integration;
pub mod sigv4;
pub mod sts;

use super::{Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use bytes::Bytes;
use client::{ExchangeError, HttpClient};
use config::Config;
use credentials::{CredentialChain, CredentialsError, Env, ProcessEnv};
use futures_util::future::BoxFuture;
use http::Response;
use invoke::Endpoint;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why an invocation produced no answer from the function.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("no region specified (config aws_region, AWS_REGION or AWS_DEFAULT_REGION)")]
    NoRegion,
    #[error("no credentials: {0}")]
    Credentials(#[from] CredentialsError),
    #[error("building the invoke request: {0}")]
    Request(#[from] http::Error),
    #[error("invoking the function: {0}")]
    Exchange(#[from] ExchangeError),
}

/// One configured aws-lambda instance.
#[derive(Debug)]
pub struct AwsLambda {
    config: Config,
    endpoint: Option<Endpoint>,
    credentials: CredentialChain,
    http: HttpClient,
    timeout: Duration,
}

impl AwsLambda {
    /// Build from a plugin entity's `config`, reading AWS variables from the process.
    pub fn from_config(config: &Value) -> Result<AwsLambda, FieldErrors> {
        AwsLambda::with_env(config, Arc::new(ProcessEnv))
    }

    /// Build with AWS variables (region, credentials chain) read from `env`.
    pub fn with_env(config: &Value, env: Arc<dyn Env>) -> Result<AwsLambda, FieldErrors> {
        let config = Config::parse(config)?;
        let http = HttpClient::new(millis(config.keepalive)).map_err(|e| {
            let mut errors = FieldErrors::default();
            errors.add("config", format!("cannot set up TLS: {e}"));
            errors
        })?;
        if config.proxy_url.is_some() {
            tracing::warn!("aws-lambda: proxy_url is not supported; Lambda is called directly");
        }
        let env_region = env
            .var("AWS_REGION")
            .or_else(|| env.var("AWS_DEFAULT_REGION"));
        let endpoint = Endpoint::new(&config, env_region);
        let credentials = match (&config.aws_key, &config.aws_secret) {
            (Some(key), Some(secret)) => CredentialChain::fixed(key, secret, http.clone()),
            _ => {
                CredentialChain::default_chain(env, config.aws_imds_protocol_version, http.clone())
            }
        };
        let credentials = match &config.aws_assume_role_arn {
            Some(role) => credentials.assuming(sts::RoleToAssume::new(
                role,
                &config.aws_role_session_name,
                endpoint.as_ref().map_or("us-east-1", |e| e.region.as_str()),
                config.aws_sts_endpoint_url.as_deref(),
            )),
            None => credentials,
        };
        Ok(AwsLambda {
            timeout: millis(config.timeout),
            config,
            endpoint,
            credentials,
            http,
        })
    }

    /// Invoke the function with this request's event; Lambda's answer, whatever its status.
    pub async fn invoke(&self, ctx: &RequestCtx) -> Result<Response<Bytes>, InvokeError> {
        let endpoint = self.endpoint.as_ref().ok_or(InvokeError::NoRegion)?;
        let event = payload::build(&self.config, ctx, SystemTime::now());
        let credentials = self.credentials.credentials().await?;
        let request = endpoint.request(
            Bytes::from(event.to_string()),
            &credentials,
            SystemTime::now(),
        )?;
        Ok(self.http.exchange(request, self.timeout).await?)
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0) as u64)
}

impl Handler for AwsLambda {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            match self.invoke(ctx).await {
                Ok(lambda) => Some(answer::respond(&self.config, lambda)),
                Err(error) => {
                    tracing::error!(%error, function = self.config.function(), "aws-lambda");
                    Some(answer::failure())
                }
            }
        })
    }

    fn needs_body(&self) -> bool {
        self.config.needs_body()
    }
}

#[cfg(test)]
mod tests;
