//! EC2's tag shapes: tag specifications on create and the owner filter on describe.

use aws_sdk_ec2::types::{Filter, ResourceType, TagSpecification};

use super::tagging::tags_of;
use crate::aws::attrs::Attrs;
use crate::core::resource::STACK_TAG;

/// `TagSpecifications` carrying every tag of `want` (ownership included) for a new resource.
pub fn spec(kind: ResourceType, want: &Attrs) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags_of(want)))
        .build()
}

/// The describe filter matching resources owned by `stack`.
pub fn owner_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack)
        .build()
}
