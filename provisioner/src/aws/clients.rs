//! SDK clients for one stack (region, credentials, endpoint overrides) and the context drivers get.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::BoxError;

use crate::stack::{Endpoints, Stack};

/// One client per AWS service the stack uses, all built from one shared configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub rds: aws_sdk_rds::Client,
    pub route53: aws_sdk_route53::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// EC2 ids just created, whose `NotFound` answers are retried a while.
    pub fresh: super::fresh::FreshIds,
}

/// What every driver call gets: the clients, and whose resources these are.
#[derive(Clone, Debug)]
pub struct Cx {
    pub aws: Clients,
    /// The stack's `name_prefix`: the value of the ownership tag.
    pub stack: String,
    pub region: String,
    /// Destroy deletes the database without a final snapshot (`destroy --delete-data`).
    pub delete_data: bool,
}

impl Cx {
    /// Worth another try: what AWS says is (see [`AwsError::is_retryable`]), or a `NotFound`
    /// for an id this run created moments ago (EC2's eventual consistency).
    pub fn retryable(&self, error: &super::AwsError) -> bool {
        error.is_retryable() || self.aws.fresh.covers(error)
    }

    /// A context for stack `stack` at one endpoint (LocalStack), region `us-east-1`.
    pub async fn for_endpoint(url: &str, stack: &str) -> Cx {
        Cx {
            aws: Clients::for_endpoint(url, "us-east-1").await,
            stack: stack.to_string(),
            region: "us-east-1".to_string(),
            delete_data: true,
        }
    }

    pub async fn for_stack(stack: &Stack) -> Cx {
        Cx {
            aws: Clients::for_stack(stack).await,
            stack: stack.name_prefix.clone(),
            region: stack.region.clone(),
            delete_data: false,
        }
    }
}

impl Clients {
    /// Clients for one endpoint (LocalStack in tests).
    pub async fn for_endpoint(url: &str, region: &str) -> Clients {
        let endpoints = Endpoints {
            url: url.to_string(),
            services: Default::default(),
        };
        Clients::new(region, Some(&endpoints)).await
    }

    pub async fn for_stack(stack: &Stack) -> Clients {
        Clients::new(&stack.region, stack.endpoints.as_ref()).await
    }

    /// Clients for a region: its region, the default credential chain, and its endpoint overrides
    /// (LocalStack). With an override and no credentials in the environment, LocalStack's `test`.
    pub async fn new(region: &str, endpoints: Option<&Endpoints>) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .http_client(https_client());
        if let Some(endpoints) = endpoints {
            loader = loader.endpoint_url(&endpoints.url);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
                && std::env::var_os("AWS_PROFILE").is_none()
            {
                loader = loader.credentials_provider(aws_sdk_ec2::config::Credentials::new(
                    "test",
                    "test",
                    None,
                    None,
                    "localstack",
                ));
            }
        }
        let shared = loader.load().await;
        let url = |service: &str| endpoints.and_then(|e| e.services.get(service)).cloned();
        Clients {
            apigw: client!(aws_sdk_apigatewayv2, &shared, url("apigatewayv2")),
            autoscaling: client!(
                aws_sdk_applicationautoscaling,
                &shared,
                url("applicationautoscaling")
            ),
            ec2: client!(aws_sdk_ec2, &shared, url("ec2")),
            ecs: client!(aws_sdk_ecs, &shared, url("ecs")),
            elasticache: client!(aws_sdk_elasticache, &shared, url("elasticache")),
            elbv2: client!(aws_sdk_elasticloadbalancingv2, &shared, url("elbv2")),
            iam: client!(aws_sdk_iam, &shared, url("iam")),
            lambda: client!(aws_sdk_lambda, &shared, url("lambda")),
            logs: client!(aws_sdk_cloudwatchlogs, &shared, url("logs")),
            rds: client!(aws_sdk_rds, &shared, url("rds")),
            route53: client!(aws_sdk_route53, &shared, url("route53")),
            secrets: client!(aws_sdk_secretsmanager, &shared, url("secretsmanager")),
            ssm: client!(aws_sdk_ssm, &shared, url("ssm")),
            fresh: super::fresh::FreshIds::default(),
        }
    }
}

/// The SDK's HTTP client: hyper 1 on rustls with ring (the gateway's TLS stack), so the build
/// carries one HTTP stack and one TLS library instead of the SDK's defaults (hyper 0.14 + rustls
/// 0.21 beside aws-lc). Certificates come from the system's trust store.
fn https_client() -> aws_sdk_ec2::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// A service client from the shared configuration, with its own endpoint when one is given.
macro_rules! client {
    ($krate:ident, $shared:expr, $url:expr) => {{
        let shared: &SdkConfig = $shared;
        let mut builder = $krate::config::Builder::from(shared);
        if let Some(url) = $url {
            builder = builder.endpoint_url(url);
        }
        // The SDK's own retries (3 attempts, standard mode) stay on for transient answers. A
        // create it resends after a lost answer could make a twin; the ownership tags make the
        // next observe report such a twin by name instead of picking one.
        builder = builder.interceptor(CallCounter);
        $krate::Client::from_conf(builder.build())
    }};
}
use client;

/// AWS requests sent by this process, retries included (reported by `plan` and the benchmark).
static API_CALLS: AtomicU64 = AtomicU64::new(0);

/// How many requests this process has sent to AWS so far.
pub fn api_calls() -> u64 {
    API_CALLS.load(Ordering::Relaxed)
}

/// Counts every request just before it goes on the wire.
#[derive(Debug)]
struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        API_CALLS.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
