//! What the last deploy put in place, kept in AWS beside the stack's lock (an SSM parameter
//! `/provision/<stack>/deployed`), so `plan` can show the configuration diff from any machine and
//! `up` knows whether migrations and a sync are due. The configuration is stored as rendered,
//! which holds no secret (secrets stay `{vault://env/...}` references), gzipped to stay within
//! the free parameter tier.

use std::io::{Read, Write};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::aws::{api, AwsError, Cx};

/// The record of one deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// The task definition revision whose image the migrations ran with.
    pub task_definition: String,
    /// The configuration as synced (rendered, secrets as vault references).
    pub config: String,
    /// Unix seconds.
    pub at: u64,
}

/// The stored form: the configuration compressed.
#[derive(Serialize, Deserialize)]
struct Stored {
    task_definition: String,
    config_gz: String,
    at: u64,
}

/// The parameter holding `stack`'s deploy record.
pub fn parameter_name(stack: &str) -> String {
    format!("/provision/{stack}/deployed")
}

/// The last deploy, or `None` when the stack was never deployed (or the record is unreadable,
/// which `up` treats the same way: everything is done again, which is safe).
pub async fn read(cx: &Cx) -> Result<Option<Deployed>, AwsError> {
    let value = crate::aws::param::get(cx, &parameter_name(&cx.stack)).await?;
    Ok(value.as_deref().and_then(decode))
}

/// Records a finished deploy.
pub async fn write(cx: &Cx, deployed: &Deployed) -> Result<(), AwsError> {
    let value = encode(deployed);
    cx.aws
        .ssm
        .put_parameter()
        .name(parameter_name(&cx.stack))
        .value(value)
        // The free tier while the record fits in 4 KB, the advanced one (8 KB) only beyond.
        .tier(aws_sdk_ssm::types::ParameterTier::IntelligentTiering)
        // Encrypted at rest: a template may hold literal values someone considers sensitive.
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .description("provision: what the last deploy applied")
        .send()
        .await
        .map_err(api("ssm:PutParameter"))?;
    Ok(())
}

/// Forgets the record (`destroy`); absent is fine.
pub async fn delete(cx: &Cx) -> Result<(), AwsError> {
    crate::aws::param::delete(cx, &parameter_name(&cx.stack)).await
}

fn encode(deployed: &Deployed) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(deployed.config.as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    let stored = Stored {
        task_definition: deployed.task_definition.clone(),
        config_gz: base64::engine::general_purpose::STANDARD.encode(bytes),
        at: deployed.at,
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

fn decode(value: &str) -> Option<Deployed> {
    let stored: Stored = serde_json::from_str(value).ok()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stored.config_gz)
        .ok()?;
    let mut config = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut config)
        .ok()?;
    Some(Deployed {
        task_definition: stored.task_definition,
        config,
        at: stored.at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_stays_small() {
        let config = "_format_version: \"3.0\"\nservices:\n".to_string()
            + &"  - name: svc\n    url: http://127.0.0.1:18080/v1\n".repeat(100);
        let deployed = Deployed {
            task_definition: "arn:aws:ecs:us-east-1:000000000000:task-definition/x:3".into(),
            config,
            at: 1_700_000_000,
        };
        let stored = encode(&deployed);
        assert!(stored.len() < 4096, "{} bytes", stored.len());
        assert_eq!(decode(&stored), Some(deployed));
    }

    #[test]
    fn garbage_is_no_record() {
        assert_eq!(decode("not json"), None);
        assert_eq!(
            decode(r#"{"task_definition":"x","config_gz":"!!","at":1}"#),
            None
        );
    }
}
