//! The deploy phase's settings: the configuration template's values, the local data plane's
//! ports, and names the deploy reserves.

use super::Findings;
use crate::core::gateway_contract::{ADMIN_KEY_ENV, BUILT_IN_VALUES};
use crate::stack::Stack;

pub fn check(stack: &Stack, findings: &mut Findings) {
    if let Some(config) = &stack.gateway.config {
        if config.template.trim().is_empty() {
            findings.add("gateway.config.template", "the template's path is required");
        }
        for key in config.values.keys() {
            let path = format!("gateway.config.values.{key}");
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                findings.add(&path, "a placeholder name is letters, digits and `_` only");
            } else if BUILT_IN_VALUES.contains(&key.as_str()) {
                findings.add(
                    &path,
                    format!("`{key}` is filled in by the provisioner and cannot be set here"),
                );
            }
        }
        for (map, keys) in [
            ("gateway.environment", stack.gateway.environment.keys()),
            ("gateway.secrets", stack.gateway.secrets.keys()),
        ] {
            for key in keys.filter(|k| *k == ADMIN_KEY_ENV) {
                findings.add(
                    &format!("{map}.{key}"),
                    format!(
                        "`{ADMIN_KEY_ENV}` is the generated Admin API key that the deploy \
                         passes to the gateway; choose another name"
                    ),
                );
            }
        }
    }
    let Some(local) = &stack.local else {
        return;
    };
    if stack.endpoints.is_none() {
        findings.add(
            "local",
            "[local] is for stacks whose AWS calls go to [endpoints] (LocalStack); on AWS the \
             gateways run on ECS",
        );
    }
    let count = stack
        .gateway
        .autoscaling
        .max
        .max(stack.gateway.desired_count);
    let ranges = [
        ("local.proxy_port", local.proxy_port, count),
        ("local.admin_port", local.admin_port, count),
        ("local.postgres_port", local.postgres_port, 1),
        ("local.redis_port", local.redis_port, 1),
    ];
    let backend = local.backend_port.map(|p| ("local.backend_port", p, 1));
    let all: Vec<(&str, u16, u32)> = ranges.into_iter().chain(backend).collect();
    for (i, (path, port, n)) in all.iter().enumerate() {
        let end = u32::from(*port) + n - 1;
        if *port < 1024 || end > u32::from(u16::MAX) {
            findings.add(
                path,
                format!("ports {port}..={end} must lie within 1024..=65535"),
            );
            continue;
        }
        for (other, other_port, other_n) in &all[..i] {
            let other_end = u32::from(*other_port) + other_n - 1;
            if u32::from(*port) <= other_end && u32::from(*other_port) <= end {
                findings.add_reading(
                    path,
                    &[other],
                    format!("ports {port}..={end} overlap {other} ({other_port}..={other_end})"),
                );
            }
        }
    }
}
