//! The statement in the fallback Lambda function's resource policy that lets the HTTP API invoke
//! it. Statements take no tags: the statement id starts with the stack's name (the desired graph
//! makes it `<stack>-fallback`), and statements are read from the functions `desired` names.
//!
//! `source_arn` is the API's execution ARN. AWS matches it with `ArnLike` against the ARN of each
//! invocation (`<execution-arn>/<stage>/<route>`), so a bare execution ARN would match nothing:
//! the statement gets `<execution-arn>/*/*`, and reading back strips that suffix again.

use async_trait::async_trait;
use serde_json::Value;

use super::Driver;
use crate::aws::attrs::{s, synthetic_tags, Attrs, AttrsExt};
use crate::aws::{api, found, gone_ok, AwsError, Cx};
use crate::core::resource::Attr;
use crate::core::{Observed, Resource, ResourceKind};

pub struct LambdaPermission;

/// Every stage and route of the API.
const ANY_ROUTE: &str = "/*/*";

/// The SourceArn sent: an execute-api ARN without a path gets "any stage, any route".
fn wire_source_arn(source_arn: &str) -> String {
    if is_bare_execution_arn(source_arn) {
        format!("{source_arn}{ANY_ROUTE}")
    } else {
        source_arn.to_string()
    }
}

/// The desired form of a SourceArn read back (the inverse of [`wire_source_arn`]).
fn desired_source_arn(wire: &str) -> String {
    match wire.strip_suffix(ANY_ROUTE) {
        Some(bare) if is_bare_execution_arn(bare) => bare.to_string(),
        _ => wire.to_string(),
    }
}

fn is_bare_execution_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[2] == "execute-api" && !parts[5].contains('/')
}

/// One statement of a policy document, by Sid, as desired attributes (without `function`).
fn statement_attrs(policy: &str, statement_id: &str) -> Option<Attrs> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let statement = doc
        .get("Statement")?
        .as_array()?
        .iter()
        .find(|st| st.get("Sid").and_then(Value::as_str) == Some(statement_id))?;
    let principal = match statement.get("Principal")? {
        Value::String(text) => text.clone(),
        other => other
            .get("Service")
            .or_else(|| other.get("AWS"))
            .and_then(Value::as_str)?
            .to_string(),
    };
    let mut attrs = Attrs::new();
    attrs.insert("statement_id".into(), s(statement_id));
    attrs.insert("principal".into(), s(principal));
    let source = statement
        .get("Condition")
        .and_then(|c| c.get("ArnLike"))
        .and_then(|c| c.get("AWS:SourceArn"))
        .and_then(Value::as_str);
    if let Some(source) = source {
        attrs.insert("source_arn".into(), s(desired_source_arn(source)));
    }
    Some(attrs)
}

/// The function's policy document; `None` when it has none (or the function is gone).
async fn policy(cx: &Cx, function: &str) -> Result<Option<String>, AwsError> {
    let answer = cx
        .aws
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await;
    Ok(
        found(answer.map_err(api("lambda:GetPolicy")))?
            .and_then(|a| a.policy().map(str::to_string)),
    )
}

async fn remove(cx: &Cx, function: &str, statement_id: &str) -> Result<(), AwsError> {
    let result = cx
        .aws
        .lambda
        .remove_permission()
        .function_name(function)
        .statement_id(statement_id)
        .send()
        .await
        .map_err(api("lambda:RemovePermission"));
    gone_ok(result)
}

fn require_owned(cx: &Cx, logical: &str, statement_id: &str) -> Result<(), AwsError> {
    if statement_id.starts_with(cx.stack.as_str()) {
        Ok(())
    } else {
        Err(AwsError::Model(format!(
            "{logical}: statement id `{statement_id}` must start with the stack name `{}` (it \
             records ownership)",
            cx.stack
        )))
    }
}

#[async_trait]
impl Driver for LambdaPermission {
    async fn observe(
        &self,
        cx: &Cx,
        desired: &[&Resource],
    ) -> Result<Vec<(String, Observed)>, AwsError> {
        let mut out = Vec::new();
        for resource in desired {
            let (Some(Attr::Str(function)), Some(Attr::Str(statement_id))) = (
                resource.attrs.get("function"),
                resource.attrs.get("statement_id"),
            ) else {
                continue;
            };
            if !statement_id.starts_with(cx.stack.as_str()) {
                continue;
            }
            let Some(document) = policy(cx, function).await? else {
                continue;
            };
            let Some(mut attrs) = statement_attrs(&document, statement_id) else {
                continue;
            };
            attrs.insert("function".into(), s(function));
            attrs.insert("tags".into(), synthetic_tags(&cx.stack, &resource.logical));
            let kind = ResourceKind::LambdaPermission;
            out.push((resource.logical.clone(), Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let function = want.str("function")?;
        let statement_id = want.str("statement_id")?;
        let principal = want.str("principal")?;
        require_owned(cx, logical, statement_id)?;
        let add = || {
            cx.aws
                .lambda
                .add_permission()
                .function_name(function)
                .statement_id(statement_id)
                .action("lambda:InvokeFunction")
                .principal(principal)
                .set_source_arn(want.opt_str("source_arn").map(wire_source_arn))
                .send()
        };
        match add().await.map_err(api("lambda:AddPermission")) {
            // The id is this stack's by its prefix: a statement left by a run that died, or one
            // with other settings, is replaced.
            Err(error) if error.code() == Some("ResourceConflictException") => {
                remove(cx, function, statement_id).await?;
                add().await.map_err(api("lambda:AddPermission"))?;
            }
            other => {
                other?;
            }
        }
        let mut have = want.clone();
        have.insert("tags".into(), synthetic_tags(&cx.stack, logical));
        Ok(have)
    }

    /// Every attribute forces a replacement; the tags are synthetic and follow the logical name.
    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        _have: &Attrs,
        want: &Attrs,
        _changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let mut out = want.clone();
        out.insert("tags".into(), synthetic_tags(&cx.stack, logical));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        remove(cx, have.str("function")?, have.str("statement_id")?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123";

    #[test]
    fn source_arn_round_trips() {
        assert_eq!(wire_source_arn(API), format!("{API}/*/*"));
        assert_eq!(desired_source_arn(&wire_source_arn(API)), API);
        let exact = format!("{API}/prod/GET/x");
        assert_eq!(wire_source_arn(&exact), exact);
        assert_eq!(desired_source_arn(&exact), exact);
    }

    #[test]
    fn statement_is_read_by_sid() {
        let policy = format!(
            r#"{{"Statement":[{{"Sid":"other"}},{{"Sid":"gw-fallback","Principal":{{"Service":
            "apigateway.amazonaws.com"}},"Condition":{{"ArnLike":{{"AWS:SourceArn":"{API}/*/*"}}}}}}]}}"#
        );
        let attrs = statement_attrs(&policy, "gw-fallback").unwrap();
        assert_eq!(attrs["principal"], s("apigateway.amazonaws.com"));
        assert_eq!(attrs["source_arn"], s(API));
        assert!(statement_attrs(&policy, "missing").is_none());
    }
}
