//! Small pieces the EC2 network drivers share: observed entries, ids out of answers, and the
//! tags-only update of kinds with nothing else to change.

use crate::aws::attrs::{s, Attrs};
use crate::aws::{AwsError, Cx};
use crate::core::{Observed, ResourceKind};

use super::lifecycle::Lifecycle;
use super::tagging::{owned, pairs, retag, Ec2};
use super::{Goal, Progress};
use aws_sdk_ec2::types::Tag;

/// An EC2 resource as `observe` reads it: its id and its tags.
pub trait Ec2Item {
    fn item_id(&self) -> Option<&str>;
    fn item_tags(&self) -> &[Tag];
}

macro_rules! ec2_item {
    ($($item:ty => $id:ident),* $(,)?) => {$(
        impl Ec2Item for $item {
            fn item_id(&self) -> Option<&str> {
                self.$id()
            }
            fn item_tags(&self) -> &[Tag] {
                self.tags()
            }
        }
    )*};
}

ec2_item!(
    aws_sdk_ec2::types::Vpc => vpc_id,
    aws_sdk_ec2::types::Subnet => subnet_id,
    aws_sdk_ec2::types::InternetGateway => internet_gateway_id,
    aws_sdk_ec2::types::Address => allocation_id,
    aws_sdk_ec2::types::NatGateway => nat_gateway_id,
    aws_sdk_ec2::types::RouteTable => route_table_id,
    aws_sdk_ec2::types::SecurityGroup => group_id,
);

/// The described items the stack owns, each with its logical name, id, and observed attributes
/// begun with `id` and `tags`.
pub fn owned_items<'a, T: Ec2Item>(
    stack: &str,
    items: &'a [T],
) -> Vec<(String, &'a str, Attrs, &'a T)> {
    let owned_item = |item: &'a T| {
        let (logical, tags) = owned(stack, &pairs(item.item_tags()))?;
        let id = item.item_id()?;
        let attrs = Attrs::from([("id".to_string(), s(id)), ("tags".to_string(), tags)]);
        Some((logical, id, attrs, item))
    };
    items.iter().filter_map(owned_item).collect()
}

/// Every item of a paginated EC2 describe call (`$call`, filtered by `$filter`) for the resources
/// tagged as `cx.stack`'s.
macro_rules! describe_owned {
    ($cx:expr, $call:ident, $filter:ident, $operation:literal) => {
        $cx.aws
            .ec2
            .$call()
            .$filter($crate::aws::kinds::ec2_tags::owner_filter(&$cx.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err($crate::aws::api($operation))
    };
}
pub(crate) use describe_owned;

/// One `observe` entry.
pub fn entry(kind: ResourceKind, logical: String, attrs: Attrs) -> (String, Observed) {
    (logical, Observed { kind, attrs })
}

/// The id a create call answered with, or an error naming the call and the resource.
pub fn answered_id(
    id: Option<&str>,
    operation: &'static str,
    logical: &str,
) -> Result<String, AwsError> {
    id.map(str::to_string).ok_or_else(|| AwsError::Unexpected {
        operation,
        message: format!("{logical}: no id in the answer"),
    })
}

/// The id a create call answered with, noted as just created: EC2 may answer `NotFound` for it
/// a while (see [`crate::aws::fresh`]).
pub fn created_id(
    cx: &Cx,
    kind: ResourceKind,
    id: Option<&str>,
    operation: &'static str,
    logical: &str,
) -> Result<String, AwsError> {
    let id = answered_id(id, operation, logical)?;
    cx.aws.fresh.record(&id, kind);
    Ok(id)
}

/// Kinds with no status of their own are ready once EC2's reads see them, which they may not
/// for a while after the create (eventual consistency), and gone once they do not.
const VISIBLE: Lifecycle = Lifecycle::ready_when("the resource", &["visible"]);

/// Progress towards `goal` of a resource EC2's reads do or do not see.
pub fn seen(goal: Goal, visible: bool) -> Progress {
    VISIBLE.progress(goal, visible.then_some("visible"))
}

/// `want` plus the id AWS gave it: the observed form right after a create.
pub fn with_id(want: &Attrs, id: &str) -> Attrs {
    let mut out = want.clone();
    out.insert("id".into(), s(id));
    out
}

/// Update of a kind whose only in-place change is its tags; anything else is a model error
/// (the core marks those attributes as forcing a replacement).
pub async fn update_tags_only(
    cx: &Cx,
    logical: &str,
    have: &Attrs,
    want: &Attrs,
    changed: &[String],
) -> Result<Attrs, AwsError> {
    use crate::aws::attrs::AttrsExt;
    let id = have.str("id")?;
    for key in changed {
        if key != "tags" {
            return Err(AwsError::Model(format!(
                "{logical}: `{key}` cannot change in place"
            )));
        }
    }
    if !changed.is_empty() {
        retag(&Ec2, cx, id, have, want).await?;
    }
    let mut out = with_id(want, id);
    // Computed attributes (public IPs, states) stay as they were observed.
    for (key, value) in have {
        out.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::resource::{LOGICAL_TAG, STACK_TAG};

    #[test]
    fn owned_items_need_the_owner_tag_and_an_id() {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let ours = aws_sdk_ec2::types::Vpc::builder()
            .vpc_id("vpc-1")
            .tags(tag(STACK_TAG, "demo"))
            .tags(tag(LOGICAL_TAG, "vpc"))
            .build();
        let theirs = aws_sdk_ec2::types::Vpc::builder()
            .vpc_id("vpc-2")
            .tags(tag(STACK_TAG, "other"))
            .build();
        let items = [ours, theirs];
        let owned = owned_items("demo", &items);
        assert_eq!(owned.len(), 1);
        let (logical, id, attrs, _) = &owned[0];
        assert_eq!((logical.as_str(), *id), ("vpc", "vpc-1"));
        assert_eq!(attrs["id"], s("vpc-1"));
    }
}
