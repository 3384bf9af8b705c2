//! Small pieces the EC2 network drivers share: observed entries, ids out of answers, and the
//! tags-only update of kinds with nothing else to change.

use crate::aws::attrs::{s, Attrs};
use crate::aws::{AwsError, Cx};
use crate::core::{Observed, ResourceKind};

use super::tagging::{retag, Ec2};

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
