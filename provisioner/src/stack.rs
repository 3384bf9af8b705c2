//! The stack model: what one `stacks/NAME.toml` describes, as plain serde data.
//!
//! Optional things are `Option`s or maps (an absent map is empty); every other field is required.
//! `source` decodes this with spans; `toml::from_str` works too for callers that only need the data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One deployable stack: where it runs, how big it is, and what it is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Prefix of every resource name (`weather-prod` gives `weather-prod-nlb`, ...).
    pub name_prefix: String,
    /// Tags put on every resource, beside the provisioner's own ownership tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub network: Network,
    pub database: Database,
    pub cache: Cache,
    pub gateway: Gateway,
    /// Route53 failover; without it the gateway is reached through the NLB's own name.
    pub dns: Option<Dns>,
    /// The HTTP API answering when the gateway is unhealthy.
    pub fallback: Option<Fallback>,
    /// Endpoint overrides (LocalStack); absent means real AWS.
    pub endpoints: Option<Endpoints>,
    /// The data plane on this machine (PostgreSQL, Redis, gateway processes) instead of ECS; only
    /// with endpoint overrides. Without it, the deploy runs on ECS even behind `[endpoints]`.
    pub local: Option<Local>,
    /// The directory of the stack file (set by the loader; relative paths resolve against it).
    #[serde(skip)]
    pub dir: Option<std::path::PathBuf>,
}

/// The VPC and its subnets: one public and one private subnet per availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// IPv4 CIDR of the VPC, e.g. `10.40.0.0/16`.
    pub cidr: String,
    pub az_count: u32,
    pub nat: Nat,
}

/// How private subnets reach the internet (image pulls, the backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nat {
    /// No NAT gateway: tasks need VPC endpoints or public subnets.
    None,
    /// One NAT gateway shared by all zones: cheaper, one zone's outage cuts egress.
    Single,
    /// One NAT gateway per zone.
    PerAz,
}

/// Aurora PostgreSQL Serverless v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Aurora PostgreSQL `MAJOR.MINOR`, e.g. `16.6`.
    pub engine_version: String,
    pub min_acu: f64,
    pub max_acu: f64,
    /// Idle seconds before pausing; only with `min_acu = 0`.
    pub auto_pause_seconds: Option<u32>,
    pub deletion_protection: bool,
    pub backup_retention_days: u32,
}

/// ElastiCache Redis replication group holding the shared rate-limit counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// e.g. `cache.t4g.micro`.
    pub node_type: String,
    /// Read replicas beside the primary (0-5).
    pub replicas: u32,
}

/// The gateway's ECS service on Fargate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    pub image: String,
    /// Task CPU units (1024 = one vCPU).
    pub cpu: u32,
    /// Task memory in MiB.
    pub memory: u32,
    pub architecture: Architecture,
    pub desired_count: u32,
    pub autoscaling: Autoscaling,
    /// Plain environment of the container; secrets go in `secrets`.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Environment variables filled from Secrets Manager: name to secret ARN (`valueFrom`).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The gateway's declarative configuration, deployed after the infrastructure converges;
    /// without it `up` stops at the infrastructure.
    pub config: Option<GatewayConfig>,
}

/// A Kong declarative configuration template and the values filled into its `${name}`
/// placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The template file, relative to the stack file's directory.
    pub template: String,
    /// Values for the template's placeholders (strings; numbers are written as they should appear).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// Fargate CPU architecture (`runtimePlatform.cpuArchitecture`). AWS offers ARM64 for Linux
/// containers on Fargate, the only operating system this model deploys; changing it replaces the
/// task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

/// Target tracking on the service's average CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    /// Average CPU percentage to hold.
    pub cpu_target: u32,
}

/// Route53 failover between the NLB (primary) and the fallback (secondary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// Hosted zone name, e.g. `example.com`.
    pub zone: String,
    /// The API's name, inside the zone, e.g. `api.example.com`.
    pub record: String,
    pub health_check_path: String,
    /// Health check request interval in seconds: 10 or 30.
    pub interval: u32,
    pub failure_threshold: u32,
    pub ttl: u32,
}

/// The API Gateway HTTP API serving requests while the gateway is down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// The backend as a Lambda function (exactly one of `lambda_arn`, `url`).
    pub lambda_arn: Option<String>,
    /// The backend as an HTTP URL.
    pub url: Option<String>,
    /// Custom domain of the HTTP API: must equal `dns.record` for a failover alias.
    pub custom_domain: Option<String>,
    /// ACM certificate for the custom domain, in the stack's region.
    pub certificate_arn: Option<String>,
}

/// Ports of the data plane that runs on this machine for a LocalStack stack (LocalStack cannot run
/// containers, Aurora or Redis): the gateway processes, their Admin API and a stand-in backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    /// The first gateway process's proxy port (the next ones count up from it).
    pub proxy_port: u16,
    /// The first gateway process's Admin API port, on loopback.
    pub admin_port: u16,
    /// PostgreSQL, standing in for the Aurora writer.
    pub postgres_port: u16,
    /// Redis, standing in for the ElastiCache primary.
    pub redis_port: u16,
    /// Start the stand-in echo backend (`scripts/echo_backend.py`) on this port.
    pub backend_port: Option<u16>,
}

/// Where AWS API calls go instead of AWS (LocalStack).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Base URL for every service, e.g. `http://127.0.0.1:4566`.
    pub url: String,
    /// Per-service overrides, keyed by the SDK's service name (`ec2`, `rds`, ...).
    #[serde(default)]
    pub services: BTreeMap<String, String>,
}
