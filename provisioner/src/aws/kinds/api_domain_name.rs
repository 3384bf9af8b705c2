//! The fallback API's regional custom domain and its mapping to the API's stage: a Route53 alias
//! to API Gateway must target a custom domain whose name is the record's.

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::{
    ApiMapping, DomainName, DomainNameConfiguration, DomainNameStatus, EndpointType, SecurityPolicy,
};

use super::edge_common as common;
use super::lifecycle::Lifecycle;
use super::tagging;
use super::{Driver, Goal, Progress};
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, missing, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct ApiDomainName;

/// Available when ready; updating is worth the wait, any other status (a certificate to
/// reimport, an ownership to verify) needs a person.
const LIFECYCLE: Lifecycle = Lifecycle {
    pending: &["updating"],
    ..Lifecycle::ready_when("the custom domain", &["available"])
};

fn configuration(want: &Attrs) -> Result<DomainNameConfiguration, AwsError> {
    Ok(DomainNameConfiguration::builder()
        .certificate_arn(want.str("certificate_arn")?)
        .endpoint_type(EndpointType::Regional)
        .security_policy(SecurityPolicy::Tls12)
        .build())
}

/// The mapping at the domain's root (empty key), which is the one this kind manages.
async fn root_mapping(cx: &Cx, domain: &str) -> Result<Option<ApiMapping>, AwsError> {
    let found = cx
        .aws
        .apigw
        .get_api_mappings()
        .domain_name(domain)
        .send()
        .await;
    let found = found.map_err(api("apigateway:GetApiMappings"))?;
    Ok(found
        .items()
        .iter()
        .find(|m| m.api_mapping_key().unwrap_or_default().is_empty())
        .cloned())
}

async fn attrs_of(cx: &Cx, found: &DomainName, tags: Attr) -> Result<Attrs, AwsError> {
    let domain = found.domain_name().unwrap_or_default();
    let config = found.domain_name_configurations().first();
    let mut attrs = Attrs::new();
    attrs.insert("domain_name".into(), s(domain));
    attrs.insert("id".into(), s(domain));
    if let Some(certificate) = config.and_then(|c| c.certificate_arn()) {
        attrs.insert("certificate_arn".into(), s(certificate));
    }
    if let Some(name) = config.and_then(|c| c.api_gateway_domain_name()) {
        attrs.insert("regional_domain_name".into(), s(common::dns_name(name)));
    }
    if let Some(zone) = config.and_then(|c| c.hosted_zone_id()) {
        attrs.insert("regional_hosted_zone_id".into(), s(zone));
    }
    if let Some(mapping) = root_mapping(cx, domain).await? {
        if let Some(api_id) = mapping.api_id() {
            attrs.insert("api_id".into(), s(api_id));
        }
        if let Some(stage) = mapping.stage() {
            attrs.insert("stage".into(), s(stage));
        }
    }
    attrs.insert("tags".into(), tags);
    Ok(attrs)
}

/// Points the root mapping at `want`'s API and stage, creating it if missing.
async fn map(cx: &Cx, domain: &str, want: &Attrs) -> Result<(), AwsError> {
    let (api_id, stage) = (want.str("api_id")?, want.str("stage")?);
    match root_mapping(cx, domain).await? {
        Some(m) if m.api_id() == Some(api_id) && m.stage() == Some(stage) => Ok(()),
        Some(m) => {
            cx.aws
                .apigw
                .update_api_mapping()
                .domain_name(domain)
                .api_mapping_id(m.api_mapping_id().unwrap_or_default())
                .api_id(api_id)
                .stage(stage)
                .send()
                .await
                .map_err(api("apigateway:UpdateApiMapping"))?;
            Ok(())
        }
        None => {
            cx.aws
                .apigw
                .create_api_mapping()
                .domain_name(domain)
                .api_id(api_id)
                .stage(stage)
                .send()
                .await
                .map_err(api("apigateway:CreateApiMapping"))?;
            Ok(())
        }
    }
}

/// The domain's tags from GetTags added to those GetDomainNames listed. AWS reports the same set
/// both ways; some emulations (moto) list only the creation-time tags there, so tags changed later
/// would never read back.
async fn with_later_tags(cx: &Cx, found: &DomainName, listed: Attr) -> Result<Attr, AwsError> {
    let domain = found.domain_name().unwrap_or_default();
    let arn = match found.domain_name_arn() {
        Some(arn) => arn.to_string(),
        None => common::apigw_arn(cx, &format!("/domainnames/{domain}")),
    };
    let later = cx.aws.apigw.get_tags().resource_arn(arn).send().await;
    let later = later.map_err(api("apigateway:GetTags"))?;
    let Attr::Map(mut tags) = listed else {
        return Ok(listed);
    };
    for (k, v) in later.tags().into_iter().flatten() {
        tags.insert(k.clone(), s(v));
    }
    Ok(Attr::Map(tags))
}

/// The domain by name; `None` when it does not exist.
async fn describe(cx: &Cx, domain: &str) -> Result<Option<DomainName>, AwsError> {
    let found = cx
        .aws
        .apigw
        .get_domain_name()
        .domain_name(domain)
        .send()
        .await;
    let found = crate::aws::found(found.map_err(api("apigateway:GetDomainName")))?;
    Ok(found.map(|out| {
        DomainName::builder()
            .set_domain_name(out.domain_name().map(str::to_string))
            .set_domain_name_configurations(Some(out.domain_name_configurations().to_vec()))
            .set_tags(out.tags().cloned())
            .build()
    }))
}

/// The domain exists already: ours (a run that died after creating it) is adopted.
async fn adopt(cx: &Cx, logical: &str, domain: &str) -> Result<DomainName, AwsError> {
    let found = describe(cx, domain).await?;
    let owner = found
        .as_ref()
        .and_then(|d| common::apigw_owned(cx, d.tags()));
    match (found, owner) {
        (Some(found), Some((l, _))) if l == logical => Ok(found),
        _ => Err(tagging::not_ours_hinted(
            cx,
            "custom domain",
            domain,
            "delete it or choose another `custom_domain`",
        )),
    }
}

#[async_trait]
impl Driver for ApiDomainName {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = cx
                .aws
                .apigw
                .get_domain_names()
                .set_next_token(token)
                .send()
                .await;
            let page = page.map_err(api("apigateway:GetDomainNames"))?;
            for found in page.items() {
                let Some((logical, tags)) = common::apigw_owned(cx, found.tags()) else {
                    continue;
                };
                let tags = with_later_tags(cx, found, tags).await?;
                let attrs = attrs_of(cx, found, tags).await?;
                out.push((
                    logical,
                    Observed {
                        kind: ResourceKind::ApiDomainName,
                        attrs,
                    },
                ));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let domain = want.str("domain_name")?;
        let created = cx
            .aws
            .apigw
            .create_domain_name()
            .domain_name(domain)
            .domain_name_configurations(configuration(want)?)
            .set_tags(Some(tagging::map_tags(want)))
            .send()
            .await
            .map_err(api("apigateway:CreateDomainName"));
        let found = match created {
            Err(error) if error.code() == Some("ConflictException") => {
                adopt(cx, logical, domain).await?
            }
            other => {
                let out = other?;
                let name = out.domain_name();
                let name = name.ok_or_else(|| {
                    missing("apigateway:CreateDomainName", logical, "domain name")
                })?;
                DomainName::builder()
                    .domain_name(name)
                    .set_domain_name_configurations(Some(out.domain_name_configurations().to_vec()))
                    .build()
            }
        };
        map(cx, domain, want).await?;
        attrs_of(cx, &found, want.attr("tags")?.clone()).await
    }

    async fn update(
        &self,
        cx: &Cx,
        _logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let domain = have.str("domain_name")?;
        let changed = |key: &str| changed.iter().any(|c| c == key);
        if changed("certificate_arn") {
            cx.aws
                .apigw
                .update_domain_name()
                .domain_name(domain)
                .domain_name_configurations(configuration(want)?)
                .send()
                .await
                .map_err(api("apigateway:UpdateDomainName"))?;
        }
        if changed("api_id") || changed("stage") {
            map(cx, domain, want).await?;
        }
        if changed("tags") {
            let arn = common::apigw_arn(cx, &format!("/domainnames/{domain}"));
            tagging::retag(&tagging::ApiGateway, cx, &arn, have, want).await?;
        }
        let mut out = have.clone();
        out.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let domain = have.str("domain_name")?;
        let result = cx
            .aws
            .apigw
            .delete_domain_name()
            .domain_name(domain)
            .send()
            .await
            .map_err(api("apigateway:DeleteDomainName"));
        gone_ok(result)
    }

    /// Ready when API Gateway reports the domain AVAILABLE (its regional name is known then).
    async fn poll(&self, cx: &Cx, have: &Attrs, goal: Goal) -> Result<Progress, AwsError> {
        let domain = have.str("domain_name")?;
        let found = describe(cx, domain).await?;
        let config = found
            .as_ref()
            .and_then(|f| f.domain_name_configurations().first());
        let raw = config.and_then(|c| c.domain_name_status());
        let status = match (&found, goal) {
            (None, _) => None,
            // Still listed: its deletion is under way.
            (Some(_), Goal::Gone) => Some("deleting".to_string()),
            // No status reported: nothing to wait for.
            (Some(_), Goal::Ready) => {
                Some(raw.map_or("available".into(), |s| s.as_str().to_lowercase()))
            }
        };
        Ok(
            match (LIFECYCLE.progress(goal, status.as_deref()), &found) {
                (Progress::Failed(_), _) => {
                    let message = config.and_then(|c| c.domain_name_status_message());
                    let status = raw.map(DomainNameStatus::as_str).unwrap_or_default();
                    Progress::Failed(format!(
                        "custom domain {domain} is {status}: {}",
                        message.unwrap_or_default()
                    ))
                }
                (Progress::Done(None), Some(found)) if goal == Goal::Ready => {
                    let tags = have.get("tags").cloned();
                    let tags = tags.unwrap_or(Attr::Map(Default::default()));
                    Progress::Done(Some(attrs_of(cx, found, tags).await?))
                }
                (progress, _) => progress,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kinds::lifecycle::shown;

    #[test]
    fn domain_statuses() {
        assert_eq!(shown(&LIFECYCLE, Goal::Ready, Some("updating")), "updating");
        let stuck = shown(
            &LIFECYCLE,
            Goal::Ready,
            Some("pending_ownership_verification"),
        );
        assert!(stuck.starts_with("failed: "), "{stuck}");
        assert_eq!(shown(&LIFECYCLE, Goal::Gone, Some("deleting")), "deleting");
    }
}
