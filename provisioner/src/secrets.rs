//! Keeps secrets out of stack files: keys that name a secret are refused wherever they carry a value.

/// Words that make a key look like it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "api_key",
    "apikey",
    "access_key",
    "credential",
];

/// True when `key` (any case, `-` or `_` separated) names something secret.
pub fn looks_like_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.iter().any(|word| key.contains(word))
}

/// The message telling where secrets belong instead.
pub fn refusal(key: &str) -> String {
    format!(
        "`{key}` looks like a secret: secrets never go in stack files (nor through ${{env:...}}, which \
         lands in plain text in the task definition); store it in AWS Secrets Manager and reference \
         its ARN under [gateway.secrets]"
    )
}

/// True for a reference ECS can resolve at task start (`valueFrom`): a Secrets Manager secret or
/// an SSM parameter ARN.
pub fn is_secret_reference(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && ((parts[2] == "secretsmanager" && parts[5].starts_with("secret:"))
            || (parts[2] == "ssm" && parts[5].starts_with("parameter/")))
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_table() {
        for (key, secret) in [
            ("KONG_PG_PASSWORD", true),
            ("password", true),
            ("client-secret", true),
            ("GITHUB_TOKEN", true),
            ("aws_access_key_id", true),
            ("certificate_arn", false),
            ("KONG_PG_HOST", false),
            ("lambda_arn", false),
        ] {
            assert_eq!(looks_like_secret(key), secret, "{key}");
        }
    }

    #[test]
    fn secret_reference_table() {
        for (value, ok) in [
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                true,
            ),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::",
                true,
            ),
            (
                "arn:aws:ssm:us-east-1:123456789012:parameter/gateway/key",
                true,
            ),
            ("hunter2", false),
            ("arn:aws:s3:::bucket", false),
            ("arn:aws:secretsmanager:us-east-1:1234:secret:x", false),
        ] {
            assert_eq!(is_secret_reference(value), ok, "{value}");
        }
    }
}
