//! The public edge: Route53 health check and failover records, and the fallback HTTP API.

use super::{int, map, r, s, Builder, LISTENER_PORT};
use crate::core::resource::{Attr, ResourceKind as K};

pub fn add(b: &mut Builder) {
    let secondary = fallback(b);
    let Some(dns) = b.stack.dns.clone() else {
        return;
    };
    b.add(
        K::HealthCheck,
        "health_check.gateway",
        vec![
            ("type", s("HTTP")),
            ("fqdn", r("nlb", "dns_name")),
            ("port", int(LISTENER_PORT)),
            ("resource_path", s(&dns.health_check_path)),
            ("request_interval", int(dns.interval)),
            ("failure_threshold", int(dns.failure_threshold)),
        ],
        &[],
    );
    let nlb_alias = map(vec![
        ("dns_name", r("nlb", "dns_name")),
        ("zone_id", r("nlb", "canonical_hosted_zone_id")),
        ("evaluate_target_health", Attr::Bool(true)),
    ]);
    let record = |set: Option<(&str, &str)>, alias: Attr, health: Option<Attr>| {
        let mut attrs = vec![
            ("zone", s(&dns.zone)),
            ("name", s(&dns.record)),
            ("type", s("A")),
            ("alias", alias),
        ];
        if let Some((id, failover)) = set {
            attrs.push(("set_identifier", s(id)));
            attrs.push(("failover", s(failover)));
        }
        if let Some(health) = health {
            attrs.push(("health_check_id", health));
        }
        attrs
    };
    let health = Some(r("health_check.gateway", "id"));
    let Some(secondary_alias) = secondary else {
        // Without a fallback there is nothing to fail over to: one plain alias record.
        b.add(
            K::DnsRecord,
            "dns.primary",
            record(None, nlb_alias, None),
            &[],
        );
        return;
    };
    let primary = record(Some(("primary", "PRIMARY")), nlb_alias, health);
    b.add(K::DnsRecord, "dns.primary", primary, &["service.gateway"]);
    let secondary = record(Some(("secondary", "SECONDARY")), secondary_alias, None);
    b.add(K::DnsRecord, "dns.secondary", secondary, &[]);
}

/// Adds the fallback HTTP API; returns the alias target for a SECONDARY record when the API has
/// a custom domain (an alias to API Gateway must target the custom domain).
fn fallback(b: &mut Builder) -> Option<Attr> {
    let fallback = b.stack.fallback.clone()?;
    let target = fallback
        .lambda_arn
        .clone()
        .or(fallback.url.clone())
        .unwrap_or_default();
    b.add(
        K::HttpApi,
        "http_api.fallback",
        vec![
            ("name", s(b.name("-fallback"))),
            ("protocol_type", s("HTTP")),
            ("route_key", s("$default")),
            ("target", s(&target)),
        ],
        &[],
    );
    if let Some(function) = &fallback.lambda_arn {
        b.add(
            K::LambdaPermission,
            "lambda_permission.fallback",
            vec![
                ("function", s(function)),
                ("statement_id", s(b.name("-fallback"))),
                ("principal", s("apigateway.amazonaws.com")),
                ("source_arn", r("http_api.fallback", "execution_arn")),
            ],
            &[],
        );
    }
    let (domain, certificate) = (fallback.custom_domain?, fallback.certificate_arn?);
    b.add(
        K::ApiDomainName,
        "api_domain.fallback",
        vec![
            ("domain_name", s(domain)),
            ("certificate_arn", s(certificate)),
            ("api_id", r("http_api.fallback", "id")),
            ("stage", s("$default")),
        ],
        &[],
    );
    Some(map(vec![
        ("dns_name", r("api_domain.fallback", "regional_domain_name")),
        (
            "zone_id",
            r("api_domain.fallback", "regional_hosted_zone_id"),
        ),
        ("evaluate_target_health", Attr::Bool(false)),
    ]))
}
