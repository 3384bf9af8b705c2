//! IAM roles for ECS tasks: trust in one service, AWS managed policies attached, and an inline
//! policy that lets the role read the stack's secrets.

use async_trait::async_trait;
use aws_sdk_iam::types::{Role, Tag};
use serde_json::{json, Value};

use super::tagging::{claim, owned, pairs, retag, IamRoles};
use super::Driver;
use crate::aws::attrs::{s, strs, tags_attr, Attrs, AttrsExt};
use crate::aws::{api, gone_ok, not_in_place, AwsError, Cx};
use crate::core::{Observed, Resource, ResourceKind};

pub struct IamRole;

/// The inline policy letting ECS read `secret_read_arns` (Secrets Manager secrets and SSM
/// parameters) when it starts a task.
const SECRETS_POLICY: &str = "read-secrets";

fn trust_policy(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

fn secrets_policy(arns: &[String]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
            "Resource": arns,
        }],
    })
    .to_string()
}

/// A policy document as IAM returns it: URL-encoded JSON on AWS (raw JSON from some emulators).
fn decode_document(raw: &str) -> Value {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        // The encoded document holds no bare `&` or `=`, so it decodes as one form key.
        url::form_urlencoded::parse(raw.as_bytes())
            .next()
            .map(|(key, _)| key.into_owned())
            .unwrap_or_default()
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Strings of a policy field that may be one string or a list of them, over all statements.
fn statement_values(doc: &Value, field: impl Fn(&Value) -> Option<&Value>) -> Vec<String> {
    let statements = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    let mut out = Vec::new();
    for statement in &statements {
        match field(statement) {
            Some(Value::String(one)) => out.push(one.clone()),
            Some(Value::Array(many)) => {
                out.extend(many.iter().filter_map(|v| v.as_str().map(str::to_string)))
            }
            _ => {}
        }
    }
    out
}

/// The observed form of a role whose tags are known.
async fn read(cx: &Cx, role: &Role, tags: &[Tag]) -> Result<Attrs, AwsError> {
    let iam = &cx.aws.iam;
    let name = role.role_name();
    let trust = decode_document(role.assume_role_policy_document().unwrap_or_default());
    let services = statement_values(&trust, |st| st.get("Principal")?.get("Service"));
    let attached = attached_policies(cx, name).await?;
    let inline = iam
        .get_role_policy()
        .role_name(name)
        .policy_name(SECRETS_POLICY)
        .send()
        .await
        .map_err(api("iam:GetRolePolicy"));
    let secrets = match inline {
        Err(error) if error.is_not_found() => Vec::new(),
        other => statement_values(&decode_document(other?.policy_document()), |st| {
            st.get("Resource")
        }),
    };
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), s(name));
    attrs.insert("arn".into(), s(role.arn()));
    attrs.insert("path".into(), s(role.path()));
    if let Some(service) = services.first() {
        attrs.insert("assume_role_service".into(), s(service));
    }
    attrs.insert("managed_policies".into(), strs(attached));
    attrs.insert("secret_read_arns".into(), strs(secrets));
    let pairs = tags.iter().map(|t| (t.key(), t.value()));
    attrs.insert("tags".into(), tags_attr(pairs));
    Ok(attrs)
}

async fn role_tags(cx: &Cx, name: &str) -> Result<Vec<Tag>, AwsError> {
    cx.aws
        .iam
        .list_role_tags()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("iam:ListRoleTags"))
}

async fn get_role(cx: &Cx, name: &str) -> Result<Role, AwsError> {
    let found = cx
        .aws
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(api("iam:GetRole"))?;
    found.role().cloned().ok_or_else(|| AwsError::Unexpected {
        operation: "iam:GetRole",
        message: format!("no role in the answer for `{name}`"),
    })
}

fn owner_of(stack: &str, tags: &[Tag]) -> Option<String> {
    owned(stack, &pairs(tags)).map(|(logical, _)| logical)
}

#[async_trait]
impl Driver for IamRole {
    async fn observe(&self, cx: &Cx, _: &[&Resource]) -> Result<Vec<(String, Observed)>, AwsError> {
        let roles: Vec<Role> = cx
            .aws
            .iam
            .list_roles()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(api("iam:ListRoles"))?;
        let mut out = Vec::new();
        // Role names start with the stack's prefix; tags (not listed by ListRoles) decide.
        for role in roles
            .iter()
            .filter(|r| r.role_name().starts_with(&cx.stack))
        {
            let tags = match role_tags(cx, role.role_name()).await {
                Err(error) if error.is_not_found() => continue,
                other => other?,
            };
            let Some(logical) = owner_of(&cx.stack, &tags) else {
                continue;
            };
            let attrs = read(cx, role, &tags).await?;
            let kind = ResourceKind::IamRole;
            out.push((logical, Observed { kind, attrs }));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Cx, logical: &str, want: &Attrs) -> Result<Attrs, AwsError> {
        let name = want.str("name")?;
        let tags: Vec<Tag> = want
            .tag_pairs()
            .into_iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect();
        let created = cx
            .aws
            .iam
            .create_role()
            .role_name(name)
            .path(want.opt_str("path").unwrap_or("/"))
            .assume_role_policy_document(trust_policy(want.str("assume_role_service")?))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(api("iam:CreateRole"));
        let role = match created {
            Ok(answer) => answer.role().cloned(),
            Err(error) if error.code() == Some("EntityAlreadyExists") => None,
            Err(error) => return Err(error),
        };
        let role = match role {
            Some(role) => role,
            None => get_role(cx, name).await?,
        };
        // A run that died after CreateRole: adopt the role only when it is ours.
        let tags = role_tags(cx, name).await?;
        claim(cx, "IAM role", name, logical, &pairs(&tags))?;
        let have = read(cx, &role, &tags).await?;
        let changed = [
            "assume_role_service",
            "managed_policies",
            "secret_read_arns",
        ]
        .map(String::from);
        self.update(cx, logical, &have, want, &changed).await
    }

    async fn update(
        &self,
        cx: &Cx,
        logical: &str,
        have: &Attrs,
        want: &Attrs,
        changed: &[String],
    ) -> Result<Attrs, AwsError> {
        let name = have.str("name")?;
        for key in changed {
            match key.as_str() {
                "assume_role_service" => {
                    cx.aws
                        .iam
                        .update_assume_role_policy()
                        .role_name(name)
                        .policy_document(trust_policy(want.str("assume_role_service")?))
                        .send()
                        .await
                        .map_err(api("iam:UpdateAssumeRolePolicy"))?;
                }
                "managed_policies" => attach(cx, name, have, want).await?,
                "secret_read_arns" => put_secrets(cx, name, &want.strs(key)?).await?,
                "tags" => retag(&IamRoles, cx, name, have, want).await?,
                other => return Err(not_in_place(logical, "iam role", other)),
            }
        }
        let mut out = want.clone();
        out.insert("arn".into(), s(have.str("arn")?));
        out.insert("path".into(), s(have.opt_str("path").unwrap_or("/")));
        Ok(out)
    }

    async fn delete(&self, cx: &Cx, _logical: &str, have: &Attrs) -> Result<(), AwsError> {
        gone_ok(delete_role(cx, have.str("name")?).await)
    }
}

/// Attaches the wanted managed policies and detaches the ones no longer wanted.
async fn attach(cx: &Cx, name: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let old = have.strs("managed_policies")?;
    let new = want.strs("managed_policies")?;
    for arn in new.iter().filter(|a| !old.contains(a)) {
        cx.aws
            .iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(api("iam:AttachRolePolicy"))?;
    }
    for arn in old.iter().filter(|a| !new.contains(a)) {
        detach(cx, name, arn).await?;
    }
    Ok(())
}

async fn detach(cx: &Cx, name: &str, arn: &str) -> Result<(), AwsError> {
    let result = cx
        .aws
        .iam
        .detach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .map_err(api("iam:DetachRolePolicy"));
    gone_ok(result)
}

/// Writes the secrets policy, or removes it when no secret is to be read.
async fn put_secrets(cx: &Cx, name: &str, arns: &[String]) -> Result<(), AwsError> {
    let iam = &cx.aws.iam;
    if arns.is_empty() {
        let result = iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(SECRETS_POLICY)
            .send()
            .await
            .map_err(api("iam:DeleteRolePolicy"));
        return gone_ok(result);
    }
    iam.put_role_policy()
        .role_name(name)
        .policy_name(SECRETS_POLICY)
        .policy_document(secrets_policy(arns))
        .send()
        .await
        .map_err(api("iam:PutRolePolicy"))?;
    Ok(())
}

/// ARNs of the managed policies attached to role `name`.
async fn attached_policies(cx: &Cx, name: &str) -> Result<Vec<String>, AwsError> {
    let call = cx.aws.iam.list_attached_role_policies().role_name(name);
    let stream = call.into_paginator().items().send();
    let policies: Vec<_> = stream
        .try_collect()
        .await
        .map_err(api("iam:ListAttachedRolePolicies"))?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// IAM refuses to delete a role with policies: detach and delete those first.
async fn delete_role(cx: &Cx, name: &str) -> Result<(), AwsError> {
    let iam = &cx.aws.iam;
    let attached = attached_policies(cx, name).await?;
    for arn in &attached {
        detach(cx, name, arn).await?;
    }
    let inline: Vec<String> = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(api("iam:ListRolePolicies"))?;
    for policy in &inline {
        let result = iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(api("iam:DeleteRolePolicy"));
        gone_ok(result)?;
    }
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(api("iam:DeleteRole"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_read_back_what_they_grant() {
        let trust = decode_document(&trust_policy("ecs-tasks.amazonaws.com"));
        let services = statement_values(&trust, |st| st.get("Principal")?.get("Service"));
        assert_eq!(services, ["ecs-tasks.amazonaws.com"]);
        let arns = vec!["arn:aws:secretsmanager:eu-west-1:1:secret:db".to_string()];
        // IAM answers with the document URL-encoded.
        let encoded: String =
            url::form_urlencoded::byte_serialize(secrets_policy(&arns).as_bytes()).collect();
        let granted = statement_values(&decode_document(&encoded), |st| st.get("Resource"));
        assert_eq!(granted, arns);
    }
}
