//! Route53 failover and the fallback HTTP API it fails over to.

use super::general::check_url;
use super::Findings;
use crate::stack::Stack;

/// Route53 takes TTLs up to 2^31 - 1 seconds; a failover record wants a short one.
const MAX_TTL: u32 = 2_147_483_647;

pub fn check(stack: &Stack, findings: &mut Findings) {
    if let Some(dns) = &stack.dns {
        let zone = dns.zone.trim_end_matches('.');
        let record = dns.record.trim_end_matches('.');
        if record != zone && !record.ends_with(&format!(".{zone}")) {
            let message = format!("`{}` is not inside the zone `{}`", dns.record, dns.zone);
            findings.add_reading("dns.record", &["dns.zone"], message);
        }
        if !dns.health_check_path.starts_with('/') || dns.health_check_path.len() > 255 {
            findings.add(
                "dns.health_check_path",
                "a path starting with `/`, at most 255 characters",
            );
        }
        if ![10, 30].contains(&dns.interval) {
            let message = format!(
                "{} s: Route53 health checks run every 10 or 30 seconds",
                dns.interval
            );
            findings.add("dns.interval", message);
        }
        if !(1..=10).contains(&dns.failure_threshold) {
            let message = format!(
                "{}: Route53 takes a failure threshold from 1 to 10",
                dns.failure_threshold
            );
            findings.add("dns.failure_threshold", message);
        }
        if dns.ttl > MAX_TTL {
            findings.add(
                "dns.ttl",
                format!("Route53 takes a TTL up to {MAX_TTL} seconds"),
            );
        }
        check_failover_target(stack, record, findings);
    }
    check_fallback(stack, findings);
}

/// The SECONDARY record is an alias to the fallback's custom domain, which must carry the same
/// name as the PRIMARY record.
fn check_failover_target(stack: &Stack, record: &str, findings: &mut Findings) {
    let domain = stack
        .fallback
        .as_ref()
        .and_then(|f| f.custom_domain.as_deref());
    match (&stack.fallback, domain) {
        (None, _) => findings.add_reading(
            "dns",
            &["dns.record"],
            "failover needs a [fallback] whose custom_domain equals dns.record",
        ),
        (Some(_), None) => findings.add_reading(
            "fallback.custom_domain",
            &["dns.record"],
            format!("failover records alias the fallback's custom domain: set it to `{record}`"),
        ),
        (Some(_), Some(domain)) if domain.trim_end_matches('.') != record => findings.add_reading(
            "fallback.custom_domain",
            &["dns.record"],
            format!(
                "`{domain}` must equal dns.record `{record}`: both failover records carry one name"
            ),
        ),
        _ => {}
    }
}

fn check_fallback(stack: &Stack, findings: &mut Findings) {
    let Some(fallback) = &stack.fallback else {
        return;
    };
    match (&fallback.lambda_arn, &fallback.url) {
        (Some(_), Some(_)) => {
            findings.add("fallback.url", "give either lambda_arn or url, not both")
        }
        (None, None) => findings.add("fallback", "a backend is required: lambda_arn or url"),
        (Some(arn), None) => {
            if !is_arn(arn, "lambda", "function:") {
                let message = format!("`{arn}` is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)");
                findings.add("fallback.lambda_arn", message);
            }
        }
        (None, Some(url)) => check_url(findings, "fallback.url", url),
    }
    match (&fallback.custom_domain, &fallback.certificate_arn) {
        (Some(_), None) => findings.add(
            "fallback.certificate_arn",
            "a custom domain needs an ACM certificate ARN in the stack's region",
        ),
        (_, Some(arn)) if !is_arn(arn, "acm", "certificate/") => findings.add(
            "fallback.certificate_arn",
            format!("`{arn}` is not an ACM certificate ARN"),
        ),
        (_, Some(arn)) if arn_region(arn) != Some(stack.region.as_str()) => findings.add_reading(
            "fallback.certificate_arn",
            &["region"],
            format!(
                "a regional API's certificate must be in {}, the stack's region",
                stack.region
            ),
        ),
        _ => {}
    }
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with RESOURCE starting with `resource`.
fn is_arn(arn: &str, service: &str, resource: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with(resource)
        && parts[5].len() > resource.len()
}

fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3)
}
