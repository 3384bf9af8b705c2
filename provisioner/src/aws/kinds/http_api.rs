//! The fallback HTTP API: one route to one integration (a Lambda function or an HTTP URL) and an
//! auto-deployed `$default` stage.
//!
//! This is what API Gateway's quick create makes from `Target`, built step by step instead, so a
//! run that died half way finishes the wiring on the next run, and an update can change the route
//! key or the target in place.
//!
//! `execution_arn` (`arn:<partition>:execute-api:<region>:<account>:<api-id>`) needs the account,
//! which no API Gateway answer carries and the stack has no STS client for: it is taken from the
//! target when that is a Lambda ARN (the case where the ARN is used, for the Lambda permission),
//! else it is `*`.

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::{Api, Integration, IntegrationType, ProtocolType, Route};

use super::edge_common as common;
use super::tagging;
use super::Driver;
use crate::aws::attrs::{s, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, missing, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct HttpApi;

/// The stage quick create makes and the custom domain maps to.
const DEFAULT_STAGE: &str = "$default";

/// The execute-api ARN of API `id`, for Lambda permissions' source ARN.
fn execution_arn(cx: &Cx, id: &str, target: Option<&str>) -> String {
    let account = target
        .and_then(common::arn_partition_account)
        .map(|(_, account)| account)
        .unwrap_or("*");
    let partition = common::partition(&cx.region);
    format!("arn:{partition}:execute-api:{}:{account}:{id}", cx.region)
}

fn is_lambda(target: &str) -> bool {
    target.starts_with("arn:") && target.contains(":lambda:")
}

/// What an API's one route and integration look like now.
struct Wiring {
    route: Option<Route>,
    integration: Option<Integration>,
    has_stage: bool,
}

async fn wiring(cx: &Cx, id: &str) -> Result<Wiring, AwsError> {
    let apigw = &cx.aws.apigw;
    let routes = apigw.get_routes().api_id(id).send().await;
    let routes = routes.map_err(api("apigateway:GetRoutes"))?;
    let route = routes.items().first().cloned();
    let integrations = apigw.get_integrations().api_id(id).send().await;
    let integrations = integrations.map_err(api("apigateway:GetIntegrations"))?;
    // The integration the route points at (`integrations/<id>`), else the only one.
    let wanted = route
        .as_ref()
        .and_then(|r| r.target())
        .and_then(|t| t.strip_prefix("integrations/"));
    let integration = integrations
        .items()
        .iter()
        .find(|i| wanted.is_none() || i.integration_id() == wanted)
        .cloned();
    let stages = apigw.get_stages().api_id(id).send().await;
    let stages = stages.map_err(api("apigateway:GetStages"))?;
    let has_stage = stages
        .items()
        .iter()
        .any(|st| st.stage_name() == Some(DEFAULT_STAGE));
    Ok(Wiring {
        route,
        integration,
        has_stage,
    })
}

/// Makes the API's integration, route and stage match `want`, creating what is missing.
async fn wire(cx: &Cx, logical: &str, id: &str, want: &Attrs) -> Result<(), AwsError> {
    let now = wiring(cx, id).await?;
    let target = want.str("target")?;
    let integration_id = integration(cx, logical, id, now.integration.as_ref(), target).await?;
    route(
        cx,
        id,
        now.route.as_ref(),
        want.str("route_key")?,
        &integration_id,
    )
    .await?;
    if !now.has_stage {
        cx.aws
            .apigw
            .create_stage()
            .api_id(id)
            .stage_name(DEFAULT_STAGE)
            .auto_deploy(true)
            .send()
            .await
            .map_err(api("apigateway:CreateStage"))?;
    }
    Ok(())
}

/// The one integration, pointed at `target` (created or changed); returns its id. A Lambda
/// function gets the 2.0 event format, as quick create gives it; a URL is proxied as is.
async fn integration(
    cx: &Cx,
    logical: &str,
    id: &str,
    found: Option<&Integration>,
    target: &str,
) -> Result<String, AwsError> {
    let (kind, method, payload) = if is_lambda(target) {
        (IntegrationType::AwsProxy, None, "2.0")
    } else {
        (IntegrationType::HttpProxy, Some("ANY".to_string()), "1.0")
    };
    let existing = found.and_then(|i| Some((i.integration_id()?, i.integration_uri())));
    match existing {
        Some((integration_id, uri)) if uri == Some(target) => Ok(integration_id.to_string()),
        Some((integration_id, _)) => {
            cx.aws
                .apigw
                .update_integration()
                .api_id(id)
                .integration_id(integration_id)
                .integration_type(kind)
                .integration_uri(target)
                .set_integration_method(method)
                .payload_format_version(payload)
                .send()
                .await
                .map_err(api("apigateway:UpdateIntegration"))?;
            Ok(integration_id.to_string())
        }
        None => {
            let created = cx
                .aws
                .apigw
                .create_integration()
                .api_id(id)
                .integration_type(kind)
                .integration_uri(target)
                .set_integration_method(method)
                .payload_format_version(payload)
                .send()
                .await
                .map_err(api("apigateway:CreateIntegration"))?;
            let made = created.integration_id();
            let made = made.ok_or_else(|| {
                missing("apigateway:CreateIntegration", logical, "integration id")
            })?;
            Ok(made.to_string())
        }
    }
}

/// The one route: created, or changed to `route_key` and the integration.
async fn route(
    cx: &Cx,
    id: &str,
    found: Option<&Route>,
    route_key: &str,
    integration_id: &str,
) -> Result<(), AwsError> {
    let target = format!("integrations/{integration_id}");
    match found {
        Some(r) if r.route_key() == Some(route_key) && r.target() == Some(target.as_str()) => {}
        Some(r) => {
            cx.aws
                .apigw
                .update_route()
                .api_id(id)
                .route_id(r.route_id().unwrap_or_default())
                .route_key(route_key)
                .target(target)
                .send()
                .await
                .map_err(api("apigateway:UpdateRoute"))?;
        }
        None => {
            cx.aws
                .apigw
                .create_route()
                .api_id(id)
                .route_key(route_key)
                .target(target)
                .send()
                .await
                .map_err(api("apigateway:CreateRoute"))?;
        }
    }
    Ok(())
}

async fn attrs_of(cx: &Cx, found: &Api, tags: Attr) -> Result<Attrs, AwsError> {
    let id = found.api_id().unwrap_or_default();
    let now = wiring(cx, id).await?;
    let target = now.integration.as_ref().and_then(|i| i.integration_uri());
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), s(found.name().unwrap_or_default()));
    let protocol = found.protocol_type().map(|p| p.as_str());
    attrs.insert("protocol_type".into(), s(protocol.unwrap_or_default()));
    if let Some(key) = now.route.as_ref().and_then(|r| r.route_key()) {
        attrs.insert("route_key".into(), s(key));
    }
    if let Some(target) = target {
        attrs.insert("target".into(), s(target));
    }
    attrs.insert("id".into(), s(id));
    attrs.insert(
        "api_endpoint".into(),
        s(found.api_endpoint().unwrap_or_default()),
    );
    attrs.insert("execution_arn".into(), s(execution_arn(cx, id, target)));
    attrs.insert("tags".into(), tags);
    Ok(attrs)
}

#[async_trait]
impl Driver for HttpApi {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = cx.aws.apigw.get_apis().set_next_token(token).send().await;
            let page = page.map_err(api("apigateway:GetApis"))?;
            for found in page.items() {
                let Some((logical, tags)) = common::apigw_owned(cx, found.tags()) else {
                    continue;
                };
                let attrs = attrs_of(cx, found, tags).await?;
                out.push((
                    logical,
                    Observed {
                        kind: ResourceKind::HttpApi,
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
        let created = cx
            .aws
            .apigw
            .create_api()
            .name(want.str("name")?)
            .protocol_type(ProtocolType::from(want.str("protocol_type")?))
            .set_tags(Some(tagging::map_tags(want)))
            .send()
            .await
            .map_err(api("apigateway:CreateApi"))?;
        let id = created
            .api_id()
            .ok_or_else(|| missing("apigateway:CreateApi", logical, "API id"))?;
        wire(cx, logical, id, want).await?;
        let mut have = want.clone();
        have.insert("id".into(), s(id));
        let endpoint = created.api_endpoint().unwrap_or_default();
        have.insert("api_endpoint".into(), s(endpoint));
        let arn = execution_arn(cx, id, want.opt_str("target"));
        have.insert("execution_arn".into(), s(arn));
        Ok(have)
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
        let changed = |key: &str| changed.iter().any(|c| c == key);
        if changed("name") {
            let call = cx.aws.apigw.update_api().api_id(id).name(want.str("name")?);
            call.send().await.map_err(api("apigateway:UpdateApi"))?;
        }
        if changed("route_key") || changed("target") {
            wire(cx, logical, id, want).await?;
        }
        if changed("tags") {
            let arn = common::apigw_arn(cx, &format!("/apis/{id}"));
            tagging::retag(&tagging::ApiGateway, cx, &arn, have, want).await?;
        }
        let mut out = have.clone();
        out.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        let arn = execution_arn(cx, id, want.opt_str("target"));
        out.insert("execution_arn".into(), s(arn));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        let result = cx
            .aws
            .apigw
            .delete_api()
            .api_id(have.str("id")?)
            .send()
            .await
            .map_err(api("apigateway:DeleteApi"));
        gone_ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_targets_are_arns_of_functions() {
        assert!(is_lambda("arn:aws:lambda:eu-west-1:1:function:f"));
        assert!(!is_lambda("https://backend.example.com"));
    }
}
