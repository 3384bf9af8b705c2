//! The Route53 health check on the gateway behind the NLB; the PRIMARY failover record follows it.
//!
//! Tags are set right after creation (CreateHealthCheck takes none). The caller reference also
//! names the stack and logical name, so a run that died between the two calls still finds its
//! health check and tags it instead of creating a second one.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_route53::types::{
    HealthCheck as Hc, HealthCheckConfig, HealthCheckType, Tag, TagResourceType,
};

use super::tagging::{retag_listed, HealthChecks};
use super::Driver;
use crate::aws::attrs::{owned_logical, s, synthetic_tags, tags_attr, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, missing, not_in_place, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct HealthCheck;

/// ListTagsForResources takes at most this many ids per call.
const TAGS_BATCH: usize = 10;
/// AWS's limit on a caller reference.
const CALLER_REFERENCE_MAX: usize = 64;

fn attrs_of(hc: &Hc, tags: Attr) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), s(hc.id()));
    attrs.insert("tags".into(), tags);
    let Some(config) = hc.health_check_config() else {
        return attrs;
    };
    attrs.insert("type".into(), s(config.r#type().as_str()));
    if let Some(fqdn) = config.fully_qualified_domain_name() {
        attrs.insert("fqdn".into(), s(fqdn));
    }
    if let Some(port) = config.port() {
        attrs.insert("port".into(), Attr::Int(port.into()));
    }
    if let Some(path) = config.resource_path() {
        attrs.insert("resource_path".into(), s(path));
    }
    if let Some(interval) = config.request_interval() {
        attrs.insert("request_interval".into(), Attr::Int(interval.into()));
    }
    if let Some(threshold) = config.failure_threshold() {
        attrs.insert("failure_threshold".into(), Attr::Int(threshold.into()));
    }
    attrs
}

/// `<stack>/<logical>/<time>`: unique per call, and readable back as ownership.
fn caller_reference(stack: &str, logical: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let reference = format!("{stack}/{logical}/{now:x}");
    if reference.len() <= CALLER_REFERENCE_MAX {
        reference
    } else {
        format!("{stack}/{now:x}")
    }
}

/// The logical name a caller reference of `stack` records, if it records one.
fn logical_in_reference(stack: &str, reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(stack)?.strip_prefix('/')?;
    let (logical, _time) = rest.rsplit_once('/')?;
    (!logical.is_empty()).then(|| logical.to_string())
}

async fn tags_of(cx: &Cx, ids: &[String]) -> Result<Vec<(String, Vec<Tag>)>, AwsError> {
    let mut out = Vec::new();
    for batch in ids.chunks(TAGS_BATCH) {
        let found = cx
            .aws
            .route53
            .list_tags_for_resources()
            .resource_type(TagResourceType::Healthcheck)
            .set_resource_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(api("route53:ListTagsForResources"))?;
        for set in found.resource_tag_sets() {
            if let Some(id) = set.resource_id() {
                out.push((id.to_string(), set.tags().to_vec()));
            }
        }
    }
    Ok(out)
}

fn config(logical: &str, want: &Attrs) -> Result<HealthCheckConfig, AwsError> {
    let int = |key: &str| {
        i32::try_from(want.int(key)?)
            .map_err(|_| AwsError::Model(format!("{logical}: `{key}` out of range")))
    };
    HealthCheckConfig::builder()
        .r#type(HealthCheckType::from(want.str("type")?))
        .fully_qualified_domain_name(want.str("fqdn")?)
        .port(int("port")?)
        .resource_path(want.str("resource_path")?)
        .request_interval(int("request_interval")?)
        .set_failure_threshold(
            want.opt_int("failure_threshold")
                .map(|_| int("failure_threshold"))
                .transpose()?,
        )
        .build()
        .map_err(|e| AwsError::Model(format!("{logical}: health check config: {e}")))
}

#[async_trait]
impl Driver for HealthCheck {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let all: Vec<Hc> = cx
            .aws
            .route53
            .list_health_checks()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(api("route53:ListHealthChecks"))?;
        let ids: Vec<String> = all.iter().map(|hc| hc.id().to_string()).collect();
        let tags = tags_of(cx, &ids).await?;
        let mut out = Vec::new();
        for hc in &all {
            let pairs: Vec<(&str, &str)> = tags
                .iter()
                .filter(|(id, _)| id == hc.id())
                .flat_map(|(_, t)| t.iter())
                .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))
                .collect();
            let (logical, tags) = match owned_logical(&cx.stack, pairs.iter().copied()) {
                Some(logical) => (logical, tags_attr(pairs.iter().copied())),
                // Created, but the run died before tagging it: still ours.
                None => match logical_in_reference(&cx.stack, hc.caller_reference()) {
                    Some(logical) => {
                        let tags = synthetic_tags(&cx.stack, &logical);
                        (logical, tags)
                    }
                    None => continue,
                },
            };
            let attrs = attrs_of(hc, tags);
            out.push((
                logical,
                Observed {
                    kind: ResourceKind::HealthCheck,
                    attrs,
                },
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let created = cx
            .aws
            .route53
            .create_health_check()
            .caller_reference(caller_reference(&cx.stack, logical))
            .health_check_config(config(logical, want)?)
            .send()
            .await
            .map_err(api("route53:CreateHealthCheck"))?;
        let hc = created
            .health_check()
            .ok_or_else(|| missing("route53:CreateHealthCheck", logical, "health check"))?;
        retag_listed(&HealthChecks, cx, hc.id(), want).await?;
        Ok(attrs_of(hc, want.attr("tags")?.clone()))
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let id = have.str("id")?;
        let mut call = cx.aws.route53.update_health_check().health_check_id(id);
        let mut modified = false;
        for key in changed {
            call = match key.as_str() {
                "fqdn" => call.fully_qualified_domain_name(want.str(key)?),
                "port" => call.set_port(config(logical, want)?.port()),
                "resource_path" => call.resource_path(want.str(key)?),
                "failure_threshold" => {
                    call.set_failure_threshold(config(logical, want)?.failure_threshold())
                }
                "tags" => continue,
                other => return Err(not_in_place(logical, "health check", other)),
            };
            modified = true;
        }
        if modified {
            call.send()
                .await
                .map_err(api("route53:UpdateHealthCheck"))?;
        }
        if changed.iter().any(|c| c == "tags") {
            retag_listed(&HealthChecks, cx, id, want).await?;
        }
        let mut out = have.clone();
        out.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .route53
            .delete_health_check()
            .health_check_id(have.str("id")?)
            .send()
            .await
            .map_err(api("route53:DeleteHealthCheck"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_reference_names_its_owner() {
        let reference = caller_reference("gw-prod", "health_check.gateway");
        assert!(reference.len() <= CALLER_REFERENCE_MAX);
        assert_eq!(
            logical_in_reference("gw-prod", &reference).as_deref(),
            Some("health_check.gateway")
        );
        assert_eq!(logical_in_reference("gw", &reference), None);
        assert_eq!(logical_in_reference("gw-prod", "gw-prod/abc"), None);
    }
}
