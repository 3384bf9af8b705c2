//! EC2's tag shapes: tag specifications on create, the owner filter on describe, tags read back.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use crate::aws::attrs::{owned_logical, tags_attr, Attrs, AttrsExt};
use crate::core::resource::{Attr, STACK_TAG};

/// `TagSpecifications` carrying every tag of `want` (ownership included) for a new resource.
pub fn spec(kind: ResourceType, want: &Attrs) -> TagSpecification {
    let tags = want
        .tag_pairs()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build());
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags.collect()))
        .build()
}

/// The describe filter matching resources owned by `stack`.
pub fn owner_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack)
        .build()
}

/// The logical name and `tags` attribute of a described resource owned by `stack`.
pub fn owned(stack: &str, tags: &[Tag]) -> Option<(String, Attr)> {
    let pairs = || {
        tags.iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))
    };
    let logical = owned_logical(stack, pairs())?;
    Some((logical, tags_attr(pairs())))
}

/// Brings the tags of EC2 resource `id` from `have` to `want` (added, changed and removed keys).
pub async fn retag(
    cx: &crate::aws::Cx,
    id: &str,
    have: &Attrs,
    want: &Attrs,
) -> Result<(), crate::aws::AwsError> {
    use crate::aws::api;
    let old = have.tag_pairs();
    let new = want.tag_pairs();
    let stale: Vec<Tag> = old
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !new.iter().any(|(n, _)| n == k))
        .map(|(k, _)| Tag::builder().key(k).build())
        .collect();
    if !stale.is_empty() {
        cx.aws
            .ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(stale))
            .send()
            .await
            .map_err(api("ec2:DeleteTags"))?;
    }
    let fresh: Vec<Tag> = new
        .iter()
        .filter(|pair| !old.contains(pair))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !fresh.is_empty() {
        cx.aws
            .ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(fresh))
            .send()
            .await
            .map_err(api("ec2:CreateTags"))?;
    }
    Ok(())
}
