//! Region, tags, the Redis cache and endpoint overrides.

use super::Findings;
use crate::stack::{Cache, Stack};

/// Tag keys the provisioner writes itself to record ownership.
pub const OWNERSHIP_TAGS: &[&str] = &["provisioner:stack", "provisioner:resource"];

/// AWS allows 50 tags per resource; ours take the rest.
const MAX_USER_TAGS: usize = 50 - OWNERSHIP_TAGS.len();

/// Node families ElastiCache offers for Redis (`cache.FAMILY.SIZE`).
const CACHE_FAMILIES: &[&str] = &[
    "t2", "t3", "t4g", "m4", "m5", "m6g", "m7g", "r4", "r5", "r6g", "r6gd", "r7g", "c7gn",
];

/// Service names `endpoints.services` accepts: the SDK crates the provisioner uses.
pub const SERVICES: &[&str] = &[
    "apigatewayv2",
    "applicationautoscaling",
    "acm",
    "cloudwatchlogs",
    "ec2",
    "ecs",
    "elasticache",
    "elasticloadbalancingv2",
    "iam",
    "lambda",
    "rds",
    "route53",
    "secretsmanager",
    "sts",
];

/// True for names like `us-east-1`, `eu-central-2`, `us-gov-west-1`.
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let words = |p: &[&str]| {
        p.iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
    };
    match parts.as_slice() {
        [geo, rest @ .., number] if (2..=3).contains(&rest.len()) || rest.len() == 1 => {
            geo.len() == 2 && words(&[geo]) && words(rest) && number.parse::<u8>().is_ok()
        }
        _ => false,
    }
}

pub fn check(stack: &Stack, findings: &mut Findings) {
    if !is_region(&stack.region) {
        let message = format!(
            "`{}` is not an AWS region name like `us-east-1`",
            stack.region
        );
        findings.add("region", message);
    }
    if stack.tags.len() > MAX_USER_TAGS {
        let message = format!(
            "{} tags: AWS allows {MAX_USER_TAGS} besides the provisioner's own",
            stack.tags.len()
        );
        findings.add("tags", message);
    }
    for (key, value) in &stack.tags {
        let path = format!("tags.{key}");
        if key.len() > 128 || value.len() > 256 {
            findings.add(&path, "tag keys hold at most 128 characters, values 256");
        } else if key.to_ascii_lowercase().starts_with("aws:") {
            findings.add(&path, "the `aws:` prefix is reserved for AWS");
        } else if OWNERSHIP_TAGS.contains(&key.as_str()) {
            findings.add(
                &path,
                "this tag records ownership and is set by the provisioner",
            );
        }
    }
    if let Some(endpoints) = &stack.endpoints {
        check_url(findings, "endpoints.url", &endpoints.url);
        for (service, url) in &endpoints.services {
            let path = format!("endpoints.services.{service}");
            if SERVICES.contains(&service.as_str()) {
                check_url(findings, &path, url);
            } else {
                findings.add(
                    &path,
                    format!(
                        "unknown service `{service}`: expected one of {}",
                        SERVICES.join(", ")
                    ),
                );
            }
        }
    }
}

/// An absolute http(s) URL.
pub fn check_url(findings: &mut Findings, path: &str, url: &str) {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
        _ => findings.add(path, format!("`{url}` is not an http(s) URL")),
    }
}

pub fn check_cache(cache: &Cache, findings: &mut Findings) {
    let family = cache
        .node_type
        .strip_prefix("cache.")
        .and_then(|rest| rest.split_once('.'));
    match family {
        Some((family, size)) if CACHE_FAMILIES.contains(&family) && !size.is_empty() => {}
        _ => findings.add(
            "cache.node_type",
            format!(
                "`{}` is not an ElastiCache node type like `cache.t4g.micro`",
                cache.node_type
            ),
        ),
    }
    if cache.replicas > 5 {
        let message = format!(
            "{} replicas: a Redis shard holds at most 5 beside its primary",
            cache.replicas
        );
        findings.add("cache.replicas", message);
    }
}
