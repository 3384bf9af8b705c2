//! Tags, one shape for every service: ownership read from tag pairs, one delta, one `retag`
//! generic over a per-service [`TagApi`] (list / tag / untag).

use std::collections::HashMap;

use async_trait::async_trait;

use crate::aws::attrs::{owned_logical, tags_attr, Attrs, AttrsExt};
use crate::aws::{AwsError, Cx};
use crate::core::resource::Attr;

pub use super::tag_services::{
    ApiGateway, AutoScaling, Ec2, Ecs, ElastiCache, Elb, HealthChecks, IamRoles, Logs, Rds, Secrets,
};

/// Tag pairs as every SDK hands them over: key, value.
pub type Pairs = Vec<(String, String)>;

/// How one service reads and writes the tags of a resource named by `id` (an id, ARN or name,
/// as the service takes it).
#[async_trait]
pub trait TagApi: Send + Sync {
    async fn list(&self, cx: &Cx, id: &str) -> Result<Pairs, AwsError>;
    async fn tag(&self, cx: &Cx, id: &str, fresh: Pairs) -> Result<(), AwsError>;
    async fn untag(&self, cx: &Cx, id: &str, stale: Vec<String>) -> Result<(), AwsError>;
}

/// Brings the tags of resource `id` from `have`'s to `want`'s: stale keys removed first (AWS's own
/// `aws:` keys are left alone), then new or changed pairs written.
pub async fn retag(
    service: &dyn TagApi,
    cx: &Cx,
    id: &str,
    have: &Attrs,
    want: &Attrs,
) -> Result<(), AwsError> {
    let delta = tag_delta(&have.tag_pairs(), &want.tag_pairs());
    if !delta.stale.is_empty() {
        service.untag(cx, id, delta.stale).await?;
    }
    if !delta.fresh.is_empty() {
        service.tag(cx, id, delta.fresh).await?;
    }
    Ok(())
}

/// Like [`retag`], from the tags AWS holds now rather than observed ones (observe may have read
/// ownership from somewhere else, e.g. a caller reference).
pub async fn retag_listed(
    service: &dyn TagApi,
    cx: &Cx,
    id: &str,
    want: &Attrs,
) -> Result<(), AwsError> {
    let have = Attrs::from([("tags".to_string(), pairs_attr(&service.list(cx, id).await?))]);
    retag(service, cx, id, &have, want).await
}

/// Tag keys to remove and pairs to add so that `old` becomes `new`.
#[derive(Debug, PartialEq)]
pub struct TagDelta {
    pub stale: Vec<String>,
    pub fresh: Pairs,
}

pub fn tag_delta(old: &[(String, String)], new: &[(String, String)]) -> TagDelta {
    TagDelta {
        stale: old
            .iter()
            .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
            .map(|(k, _)| k.clone())
            .collect(),
        fresh: new.iter().filter(|p| !old.contains(p)).cloned().collect(),
    }
}

/// The logical name and `tags` attribute of a resource whose tag pairs name `stack` as owner.
pub fn owned(stack: &str, pairs: &[(String, String)]) -> Option<(String, Attr)> {
    let refs = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let logical = owned_logical(stack, refs())?;
    Some((logical, tags_attr(refs())))
}

/// Adopt or refuse: a name that is taken may be adopted only when its tags say it is this
/// stack's resource `logical` (a create whose answer was lost); anything else is refused. The
/// answer is the adopted resource's `tags` attribute.
pub fn claim(
    cx: &Cx,
    what: &'static str,
    name: &str,
    logical: &str,
    pairs: &[(String, String)],
) -> Result<Attr, AwsError> {
    match owned(&cx.stack, pairs) {
        Some((owner, tags)) if owner == logical => Ok(tags),
        _ => Err(not_ours(cx, what, name)),
    }
}

/// The refusal for `name`, held by a resource this stack does not own.
pub fn not_ours(cx: &Cx, what: &'static str, name: &str) -> AwsError {
    not_ours_hinted(
        cx,
        what,
        name,
        "delete or rename it, or choose another name_prefix",
    )
}

/// [`not_ours`] for a name the stack file does not derive from `name_prefix`.
pub fn not_ours_hinted(cx: &Cx, what: &'static str, name: &str, hint: &'static str) -> AwsError {
    AwsError::NotOurs {
        what,
        name: name.to_string(),
        stack: cx.stack.clone(),
        hint,
    }
}

/// A `tags` attribute from owned string pairs.
pub fn pairs_attr(pairs: &[(String, String)]) -> Attr {
    tags_attr(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// One SDK's `Tag` type, read and built the same way whatever the service.
pub trait SdkTag: Sized {
    fn pair(&self) -> Option<(String, String)>;
    fn make(key: String, value: String) -> Option<Self>;
}

macro_rules! sdk_tag {
    ($($tag:ty),* $(,)?) => {$(
        impl SdkTag for $tag {
            fn pair(&self) -> Option<(String, String)> {
                Some((self.key()?.to_string(), self.value().unwrap_or_default().to_string()))
            }
            fn make(key: String, value: String) -> Option<Self> {
                Some(<$tag>::builder().key(key).value(value).build())
            }
        }
    )*};
}

sdk_tag!(
    aws_sdk_ec2::types::Tag,
    aws_sdk_ecs::types::Tag,
    aws_sdk_rds::types::Tag,
    aws_sdk_elasticache::types::Tag,
    aws_sdk_elasticloadbalancingv2::types::Tag,
    aws_sdk_secretsmanager::types::Tag,
    aws_sdk_route53::types::Tag,
);

impl SdkTag for aws_sdk_iam::types::Tag {
    fn pair(&self) -> Option<(String, String)> {
        Some((self.key().to_string(), self.value().to_string()))
    }
    fn make(key: String, value: String) -> Option<Self> {
        Self::builder().key(key).value(value).build().ok()
    }
}

/// Key/value pairs of SDK tags.
pub fn pairs<T: SdkTag>(tags: &[T]) -> Pairs {
    tags.iter().filter_map(SdkTag::pair).collect()
}

/// Pairs as one SDK's tags.
pub fn sdk_tags<T: SdkTag>(pairs: Pairs) -> Vec<T> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| T::make(k, v))
        .collect()
}

/// Every tag of `want` (ownership included) as one SDK's tags, for a create call.
pub fn tags_of<T: SdkTag>(want: &Attrs) -> Vec<T> {
    sdk_tags(want.tag_pairs())
}

/// Every tag of `want` as a map (API Gateway takes tags so).
pub fn map_tags(want: &Attrs) -> HashMap<String, String> {
    want.tag_pairs().into_iter().collect()
}

/// Pairs of a map-shaped tag answer (API Gateway, Logs, Application Auto Scaling).
pub fn map_pairs(map: Option<&HashMap<String, String>>) -> Pairs {
    map.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Pairs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn delta_removes_stale_keys_but_not_aws_ones_and_writes_changed_pairs() {
        let old = p(&[("a", "1"), ("b", "2"), ("aws:cloudformation", "x")]);
        let new = p(&[("a", "1"), ("b", "3"), ("c", "4")]);
        assert_eq!(
            tag_delta(&old, &new),
            TagDelta {
                stale: vec![],
                fresh: p(&[("b", "3"), ("c", "4")]),
            }
        );
        let delta = tag_delta(&p(&[("gone", "1")]), &[]);
        assert_eq!(delta.stale, vec!["gone".to_string()]);
    }

    #[test]
    fn ownership_needs_the_stack_tag() {
        let tags = p(&[
            (crate::core::resource::STACK_TAG, "s"),
            (crate::core::resource::LOGICAL_TAG, "vpc"),
        ]);
        assert_eq!(owned("s", &tags).map(|(l, _)| l), Some("vpc".into()));
        assert_eq!(owned("other", &tags), None);
    }

    #[test]
    fn sdk_tags_round_trip() {
        let tags: Vec<aws_sdk_iam::types::Tag> = sdk_tags(p(&[("k", "v")]));
        assert_eq!(pairs(&tags), p(&[("k", "v")]));
        let tags: Vec<aws_sdk_rds::types::Tag> = sdk_tags(p(&[("k", "")]));
        assert_eq!(pairs(&tags), p(&[("k", "")]));
    }
}
