//! `provision output`: the stack's endpoints, read from AWS (there is no state file to read).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{CommandError, Session};
use crate::core::{Attr, Observed};

/// (output name, logical name, attribute, description)
const OUTPUTS: &[(&str, &str, &str, &str)] = &[
    (
        "nlb_dns_name",
        "nlb",
        "dns_name",
        "the gateway's load balancer",
    ),
    (
        "db_endpoint",
        "aurora.cluster",
        "endpoint",
        "Aurora writer endpoint",
    ),
    (
        "cache_endpoint",
        "redis",
        "primary_endpoint",
        "Redis primary endpoint",
    ),
    (
        "fallback_url",
        "http_api.fallback",
        "api_endpoint",
        "fallback HTTP API",
    ),
    (
        "db_secret_arn",
        "secret.db_password",
        "arn",
        "DB password secret (value not shown)",
    ),
    (
        "admin_key_secret_arn",
        "secret.admin_key",
        "arn",
        "Admin API key for the portal's /admin-api route (value not shown)",
    ),
    ("ecs_cluster", "ecs.cluster", "name", "ECS cluster"),
    ("ecs_service", "service.gateway", "name", "ECS service"),
];

pub async fn run(session: &Session, json_out: bool) -> Result<u8, CommandError> {
    let observed = session.observe().await?;
    let values = collect(session, &observed);
    if json_out {
        let map: serde_json::Map<String, Value> = values
            .iter()
            .map(|(k, v, _)| (k.clone(), json!(v)))
            .collect();
        println!("{}", Value::Object(map));
    } else {
        for (name, value, what) in &values {
            println!("{name:16} = {value:?}  # {what}");
        }
    }
    Ok(if values.is_empty() { 1 } else { 0 })
}

/// The outputs that exist now.
pub fn collect(
    session: &Session,
    observed: &BTreeMap<String, Observed>,
) -> Vec<(String, String, String)> {
    let mut values = Vec::new();
    if let Some(dns) = &session.stack.dns {
        if observed.contains_key("dns.primary") {
            values.push((
                "url".to_string(),
                format!("http://{}/", dns.record),
                "the API's name (Route53 failover)".to_string(),
            ));
        }
    }
    if let Some(local) = &session.stack.local {
        values.push((
            "local_proxy_url".to_string(),
            format!("http://127.0.0.1:{}/", local.proxy_port),
            "the gateway on this machine (local data plane)".to_string(),
        ));
        values.push((
            "local_admin_url".to_string(),
            format!("http://127.0.0.1:{}/", local.admin_port),
            "its Admin API, on loopback".to_string(),
        ));
    }
    for (name, logical, attr, what) in OUTPUTS {
        if let Some(Attr::Str(value)) = observed.get(*logical).and_then(|o| o.attrs.get(*attr)) {
            values.push((name.to_string(), value.clone(), what.to_string()));
        }
    }
    values
}
