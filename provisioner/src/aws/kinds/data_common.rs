//! What the datastore drivers share: ownership from tag pairs, tag deltas for RDS, ElastiCache and
//! Secrets Manager, "already gone" as success, and the names they pre-filter on.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::aws::attrs::{owned_logical, tags_attr, Attrs, AttrsExt};
use crate::aws::{api, AwsError, Cx};
use crate::core::diff::normalise;
use crate::core::resource::Attr;
use crate::core::Resource;

/// The logical name and `tags` attribute of a resource whose tag pairs name `stack` as owner.
pub fn owned(stack: &str, pairs: &[(String, String)]) -> Option<(String, Attr)> {
    let refs = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let logical = owned_logical(stack, refs())?;
    Some((logical, tags_attr(refs())))
}

/// A `tags` attribute from owned string pairs.
pub fn pairs_attr(pairs: &[(String, String)]) -> Attr {
    tags_attr(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Every name this stack gives (RDS, ElastiCache, Secrets Manager) starts with its prefix, so
/// resources named otherwise need no tag lookup (one call each) to know they are not ours.
pub fn may_be_ours(stack: &str, name: &str) -> bool {
    name.starts_with(stack)
}

/// The desired resource with this logical name, when the engine passed one.
pub fn desired_attrs<'a>(desired: &[&'a Resource], logical: &str) -> Option<&'a Attrs> {
    desired
        .iter()
        .find(|r| r.logical == logical)
        .map(|r| &r.attrs)
}

/// Tag keys to remove and pairs to add so that `have`'s tags become `want`'s (AWS's own `aws:`
/// tags are left alone).
pub struct TagDelta {
    pub stale: Vec<String>,
    pub fresh: Vec<(String, String)>,
}

pub fn tag_delta(have: &Attrs, want: &Attrs) -> TagDelta {
    let old = have.tag_pairs();
    let new = want.tag_pairs();
    TagDelta {
        stale: old
            .iter()
            .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
            .map(|(k, _)| k.clone())
            .collect(),
        fresh: new.into_iter().filter(|pair| !old.contains(pair)).collect(),
    }
}

/// The `keys` whose normalised values differ between `have` and `want` (what an adopted
/// resource still needs changed).
pub fn differing(have: &Attrs, want: &Attrs, keys: &[&str]) -> Vec<String> {
    let norm = |attrs: &Attrs, key: &str| attrs.get(key).and_then(|v| normalise(key, v));
    keys.iter()
        .filter(|key| norm(have, key) != norm(want, key))
        .map(|key| key.to_string())
        .collect()
}

/// A delete's answer where "not found" means done.
pub fn gone_is_ok<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    match result {
        Err(error) if error.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// An answer that lacks what the driver needs.
pub fn missing(operation: &'static str, logical: &str, what: &str) -> AwsError {
    AwsError::Unexpected {
        operation,
        message: format!("{logical}: no {what} in the answer"),
    }
}

/// A name held by something this stack does not own: never adopted, never overwritten.
pub fn foreign(what: &str, name: &str, stack: &str) -> AwsError {
    AwsError::Failed(format!(
        "{what} `{name}` already exists and is not tagged as owned by stack `{stack}`: delete or \
         rename it, or choose another name_prefix"
    ))
}

pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

// === RDS tags ===

pub fn rds_tags(want: &Attrs) -> Vec<aws_sdk_rds::types::Tag> {
    want.tag_pairs()
        .into_iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn rds_pairs(tags: &[aws_sdk_rds::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Tag pairs of any RDS resource (subnet groups report none in their description).
pub async fn rds_list_tags(cx: &Cx, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let found = cx
        .aws
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(api("rds:ListTagsForResource"))?;
    Ok(rds_pairs(found.tag_list()))
}

/// Brings the tags of RDS resource `arn` from `have` to `want`.
pub async fn rds_retag(cx: &Cx, arn: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let delta = tag_delta(have, want);
    if !delta.stale.is_empty() {
        cx.aws
            .rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(delta.stale))
            .send()
            .await
            .map_err(api("rds:RemoveTagsFromResource"))?;
    }
    if !delta.fresh.is_empty() {
        let tags = delta
            .fresh
            .into_iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build());
        cx.aws
            .rds
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .map_err(api("rds:AddTagsToResource"))?;
    }
    Ok(())
}

// === ElastiCache tags ===

pub fn cache_tags(want: &Attrs) -> Vec<aws_sdk_elasticache::types::Tag> {
    want.tag_pairs()
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_elasticache::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// Tag pairs of any ElastiCache resource (its describe answers carry none).
pub async fn cache_list_tags(cx: &Cx, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let found = cx
        .aws
        .elasticache
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(api("elasticache:ListTagsForResource"))?;
    Ok(found
        .tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

/// Brings the tags of ElastiCache resource `arn` from `have` to `want`.
pub async fn cache_retag(cx: &Cx, arn: &str, have: &Attrs, want: &Attrs) -> Result<(), AwsError> {
    let delta = tag_delta(have, want);
    if !delta.stale.is_empty() {
        cx.aws
            .elasticache
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(delta.stale))
            .send()
            .await
            .map_err(api("elasticache:RemoveTagsFromResource"))?;
    }
    if !delta.fresh.is_empty() {
        let tags = delta.fresh.into_iter().map(|(k, v)| {
            aws_sdk_elasticache::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        });
        cx.aws
            .elasticache
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .map_err(api("elasticache:AddTagsToResource"))?;
    }
    Ok(())
}
