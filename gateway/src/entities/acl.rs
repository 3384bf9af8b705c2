//! ACL group membership of a consumer (Kong's `acls`), which the `acl` plugin checks.

use super::{check_tags, coerce, now_seconds, FieldErrors, Reference};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A consumer's membership in one group; a consumer is in a group at most once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    #[serde(default = "Uuid::new_v4")]
    pub id: Uuid,
    #[serde(default = "now_seconds", deserialize_with = "coerce::i64")]
    pub created_at: i64,
    #[serde(default)]
    pub consumer: Option<Reference>,
    pub group: String,
    #[serde(default, deserialize_with = "coerce::opt_strings")]
    pub tags: Option<Vec<String>>,
}

impl Acl {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        check_tags(&mut errors, &self.tags);
        if self.consumer.is_none() {
            errors.add("consumer", "required field missing");
        }
        if self.group.is_empty() {
            errors.add("group", "length must be at least 1");
        }
        errors.into_result()
    }
}
