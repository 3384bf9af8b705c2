//! Names the desired graph, the stack rules and the deploy phase must agree on: how the Admin API
//! key reaches the gateway and which template placeholders the provisioner fills itself.

/// The environment variable the Admin API key reaches the gateway as (from Secrets Manager);
/// the template refers to it as `{vault://env/gateway-admin-key}`.
pub const ADMIN_KEY_ENV: &str = "GATEWAY_ADMIN_KEY";

/// Placeholders every template may use beside the stack's `[gateway.config.values]`.
pub const BUILT_IN_VALUES: &[&str] = &[
    "name_prefix",
    "region",
    "redis_host",
    "redis_port",
    "admin_port",
    "health_check_path",
];
