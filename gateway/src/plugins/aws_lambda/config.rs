//! The aws-lambda plugin's `config`, with Kong 3.x's fields, defaults and checks.

use crate::entities::FieldErrors;
use crate::plugins::typed_config;
use serde::Deserialize;
use serde_json::Value;

/// Every field may be left out; [`Config::default`] holds Kong's defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Milliseconds for the whole invocation.
    pub timeout: f64,
    /// Milliseconds an idle connection to Lambda is kept.
    pub keepalive: f64,
    pub aws_key: Option<String>,
    pub aws_secret: Option<String>,
    pub aws_assume_role_arn: Option<String>,
    pub aws_role_session_name: String,
    pub aws_sts_endpoint_url: Option<String>,
    pub aws_region: Option<String>,
    pub function_name: Option<String>,
    pub qualifier: Option<String>,
    pub invocation_type: InvocationType,
    pub log_type: LogType,
    pub host: Option<String>,
    pub port: u16,
    pub disable_https: bool,
    pub unhandled_status: Option<u16>,
    pub forward_request_method: bool,
    pub forward_request_uri: bool,
    pub forward_request_headers: bool,
    pub forward_request_body: bool,
    pub is_proxy_integration: bool,
    pub awsgateway_compatible: bool,
    pub awsgateway_compatible_payload_version: PayloadVersion,
    /// Accepted for compatibility; requests go to Lambda directly (see the module docs).
    pub proxy_url: Option<String>,
    pub skip_large_bodies: bool,
    pub base64_encode_body: bool,
    pub aws_imds_protocol_version: ImdsVersion,
    pub empty_arrays_mode: EmptyArraysMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum InvocationType {
    #[default]
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum LogType {
    #[default]
    Tail,
    None,
}

impl LogType {
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::Tail => "Tail",
            LogType::None => "None",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum PayloadVersion {
    #[default]
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "2.0")]
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImdsVersion {
    #[default]
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmptyArraysMode {
    /// Kong's long-standing behaviour: `[]` in a JSON answer goes to the client as `{}`.
    #[default]
    Legacy,
    Correct,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: 60_000.0,
            keepalive: 60_000.0,
            aws_key: None,
            aws_secret: None,
            aws_assume_role_arn: None,
            aws_role_session_name: "kong".to_string(),
            aws_sts_endpoint_url: None,
            aws_region: None,
            function_name: None,
            qualifier: None,
            invocation_type: InvocationType::default(),
            log_type: LogType::default(),
            host: None,
            port: 443,
            disable_https: false,
            unhandled_status: None,
            forward_request_method: false,
            forward_request_uri: false,
            forward_request_headers: false,
            forward_request_body: false,
            is_proxy_integration: false,
            awsgateway_compatible: false,
            awsgateway_compatible_payload_version: PayloadVersion::default(),
            proxy_url: None,
            skip_large_bodies: true,
            base64_encode_body: true,
            aws_imds_protocol_version: ImdsVersion::default(),
            empty_arrays_mode: EmptyArraysMode::default(),
        }
    }
}

impl Config {
    /// Deserialize and check a plugin entity's `config`; all problems are reported at once.
    pub fn parse(value: &Value) -> Result<Config, FieldErrors> {
        let config: Config = typed_config(value)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.function_name.as_deref().is_none_or(str::is_empty) {
            errors.add("config.function_name", "required field missing");
        }
        if self.aws_key.is_some() != self.aws_secret.is_some() {
            let missing = if self.aws_key.is_some() {
                "aws_secret"
            } else {
                "aws_key"
            };
            errors.add(
                &format!("config.{missing}"),
                "all or none of these fields must be set: 'config.aws_key', 'config.aws_secret'",
            );
        }
        for (field, ms) in [("timeout", self.timeout), ("keepalive", self.keepalive)] {
            if !ms.is_finite() || ms < 0.0 {
                errors.add(
                    &format!("config.{field}"),
                    "value must be a positive number",
                );
            }
        }
        if let Some(status) = self.unhandled_status {
            if !(100..=999).contains(&status) {
                errors.add(
                    "config.unhandled_status",
                    "value should be between 100 and 999",
                );
            }
        }
        if let Some(url) = &self.proxy_url {
            if url
                .split_once("://")
                .is_some_and(|(scheme, _)| scheme != "http")
            {
                errors.add("config.proxy_url", "proxy_url scheme must be http");
            }
        }
        if let Some(url) = &self.aws_sts_endpoint_url {
            if url
                .parse::<http::Uri>()
                .map_or(true, |u| u.host().is_none())
            {
                errors.add("config.aws_sts_endpoint_url", "missing host in url");
            }
        }
        errors.into_result()
    }

    /// What the function is invoked as: its name, ARN or partial ARN.
    pub fn function(&self) -> &str {
        self.function_name.as_deref().unwrap_or_default()
    }

    /// Does the access phase need the request body? Kong reads it for the API Gateway event,
    /// for `forward_request_body`, and for the legacy payload (query and body arguments merged).
    pub fn needs_body(&self) -> bool {
        self.awsgateway_compatible || self.forward_request_body || !self.forwards_anything()
    }

    pub fn forwards_anything(&self) -> bool {
        self.forward_request_method
            || self.forward_request_uri
            || self.forward_request_headers
            || self.forward_request_body
    }
}
