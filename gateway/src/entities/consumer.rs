//! Consumer (who calls the API) and its key-auth credentials.

use super::{check_tags, coerce, now_seconds, FieldErrors, Reference};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub updated_at: i64,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub custom_id: Option<String>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
}

impl Consumer {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        let blank = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        if blank(&self.username) && blank(&self.custom_id) {
            errors
                .entity("at least one of these fields must be non-empty: 'custom_id', 'username'");
        }
        errors.into_result()
    }
}

/// An API key belonging to a consumer (Kong's `keyauth_credentials`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAuthCredential {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default)]
    pub consumer: Option<Reference>,
    #[serde(default = "generate_key")]
    pub key: String,
    #[serde(default, deserialize_with = "coerce::opt_i64")]
    pub ttl: Option<i64>,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
}

/// Kong generates a 32-character alphanumeric key when none is given.
pub fn generate_key() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

impl KeyAuthCredential {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        if self.consumer.is_none() {
            errors.add("consumer", "required field missing");
        }
        if self.key.is_empty() {
            errors.add("key", "length must be at least 1");
        }
        if self.ttl.is_some_and(|t| !(0..=100_000_000).contains(&t)) {
            errors.add("ttl", "value should be between 0 and 100000000");
        }
        errors.into_result()
    }

    /// Whether the key has outlived its `ttl` (seconds after `created_at`).
    pub fn expired(&self, now: i64) -> bool {
        matches!(self.ttl, Some(ttl) if ttl > 0 && now >= self.created_at + ttl)
    }
}
