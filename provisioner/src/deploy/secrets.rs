//! The gateway container's environment as a task sees it: the task definition's variables, and
//! its secrets read from Secrets Manager or SSM the way ECS resolves `valueFrom` at task start.

use std::collections::BTreeMap;

use super::{DeployContext, DeployError};
use crate::aws::{api, Attrs, AttrsExt};
use crate::core::Attr;

/// The gateway container's environment with its secrets read from Secrets Manager / SSM.
pub async fn container_env(
    dc: &DeployContext<'_>,
    task_def: &Attrs,
) -> Result<BTreeMap<String, String>, DeployError> {
    let container = match task_def.get("containers") {
        Some(Attr::List(items)) => items.iter().find_map(|c| match c {
            Attr::Map(m) if m.get("name") == Some(&Attr::Str("gateway".into())) => Some(m),
            _ => None,
        }),
        _ => None,
    }
    .ok_or_else(|| DeployError::user("the task definition has no `gateway` container"))?;
    let mut env: BTreeMap<String, String> = container
        .map("environment")?
        .into_iter()
        .filter_map(|(k, v)| match v {
            Attr::Str(s) => Some((k, s)),
            _ => None,
        })
        .collect();
    if let Some(Attr::List(secrets)) = container.get("secrets") {
        for secret in secrets {
            let Attr::Map(secret) = secret else { continue };
            let (name, from) = (secret.str("name")?, secret.str("value_from")?);
            env.insert(name.to_string(), resolve_secret(dc, from).await?);
        }
    }
    Ok(env)
}

/// Where a `valueFrom` points, as ECS reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ValueFrom<'a> {
    /// An SSM parameter (its name, from `arn:...:parameter/NAME`).
    Parameter(String),
    /// A Secrets Manager secret, optionally one JSON key of it, at a version stage or id.
    Secret {
        id: String,
        json_key: Option<&'a str>,
        stage: Option<&'a str>,
        version: Option<&'a str>,
    },
}

fn parse_value_from(value_from: &str) -> ValueFrom<'_> {
    let parts: Vec<&str> = value_from.split(':').collect();
    if parts.get(2) == Some(&"ssm") {
        let name = value_from
            .split_once(":parameter")
            .map(|(_, n)| n.to_string())
            .unwrap_or_default();
        return ValueFrom::Parameter(name);
    }
    let field = |i: usize| parts.get(i).copied().filter(|s| !s.is_empty());
    ValueFrom::Secret {
        id: parts.iter().take(7).copied().collect::<Vec<_>>().join(":"),
        json_key: field(7),
        stage: field(8),
        version: field(9),
    }
}

/// The value behind a `valueFrom`: a Secrets Manager ARN (optionally `:json-key:stage:version`)
/// or an SSM parameter ARN, as ECS resolves it at task start.
async fn resolve_secret(dc: &DeployContext<'_>, value_from: &str) -> Result<String, DeployError> {
    let aws = &dc.cx.aws;
    let (secret_id, json_key, stage, version) = match parse_value_from(value_from) {
        ValueFrom::Parameter(name) => {
            let value = crate::aws::param::get(dc.cx, &name).await?;
            return value.ok_or_else(|| DeployError::Secret {
                message: format!("the SSM parameter {name} ({value_from}) does not exist"),
            });
        }
        ValueFrom::Secret {
            id,
            json_key,
            stage,
            version,
        } => (id, json_key, stage, version),
    };
    let value = aws
        .secrets
        .get_secret_value()
        .secret_id(&secret_id)
        .set_version_stage(stage.map(str::to_string))
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .map_err(api("secretsmanager:GetSecretValue"))?
        .secret_string
        .unwrap_or_default();
    let Some(key) = json_key else {
        return Ok(value);
    };
    let json: serde_json::Value =
        serde_json::from_str(&value).map_err(|_| DeployError::Secret {
            message: format!("secret {secret_id} is not JSON, so it has no key `{key}`"),
        })?;
    match json.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(DeployError::Secret {
            message: format!("secret {secret_id} has no key `{key}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_from_forms() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
        assert_eq!(
            parse_value_from(arn),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: None,
                stage: None,
                version: None
            }
        );
        assert_eq!(
            parse_value_from(&format!("{arn}:password::")),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: Some("password"),
                stage: None,
                version: None
            }
        );
        assert_eq!(
            parse_value_from(&format!("{arn}::AWSPREVIOUS:")),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: None,
                stage: Some("AWSPREVIOUS"),
                version: None
            }
        );
        assert_eq!(
            parse_value_from("arn:aws:ssm:us-east-1:123456789012:parameter/app/key"),
            ValueFrom::Parameter("/app/key".into())
        );
    }
}
