//! What the datastore drivers share: the names they pre-filter on, what an adopted resource still
//! needs changed, and the clock for final snapshot names.

use std::time::{SystemTime, UNIX_EPOCH};

use super::tagging::claim;
use crate::aws::attrs::Attrs;
use crate::aws::{AwsError, Cx};
use crate::core::diff::normalise;
use crate::core::Resource;

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

/// The `keys` whose normalised values differ between `have` and `want` (what an adopted
/// resource still needs changed).
pub fn differing(have: &Attrs, want: &Attrs, keys: &[&str]) -> Vec<String> {
    let norm = |attrs: &Attrs, key: &str| attrs.get(key).and_then(|v| normalise(key, v));
    keys.iter()
        .filter(|key| norm(have, key) != norm(want, key))
        .map(|key| key.to_string())
        .collect()
}

pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `have` with the `changed` keys taken from `want`: the observed form after an update of kinds
/// whose other attributes AWS computes.
pub fn merged(have: &Attrs, want: &Attrs, changed: &[String]) -> Attrs {
    let mut out = have.clone();
    for key in changed {
        if let Some(value) = want.get(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Nothing left to delete: the resource is gone (`None`), or its deletion is under way.
pub fn nothing_to_delete(status: Option<Option<&str>>) -> bool {
    matches!(status, None | Some(Some("deleting")))
}

/// Adopt or refuse a datastore found under a taken identifier: ours is adopted unless it is
/// still being deleted, which must finish first (`wait` says how long that takes, if known).
pub fn adoptable(
    cx: &Cx,
    (what, id, logical): (&'static str, &str, &str),
    pairs: &[(String, String)],
    status: Option<&str>,
    wait: &str,
) -> Result<(), AwsError> {
    claim(cx, what, id, logical, pairs)?;
    if status == Some("deleting") {
        return Err(AwsError::Failed(format!(
            "{logical}: {what} `{id}` is still being deleted; run again once it is gone{wait}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::aws::attrs::s;

    #[test]
    fn update_keeps_computed_attributes_and_takes_the_changed_ones() {
        let have = Attrs::from([
            ("endpoint".to_string(), s("h")),
            ("class".to_string(), s("a")),
        ]);
        let want = Attrs::from([("class".to_string(), s("b"))]);
        let out = merged(&have, &want, &["class".to_string()]);
        assert_eq!((&out["endpoint"], &out["class"]), (&s("h"), &s("b")));
    }

    #[test]
    fn deleting_or_gone_leaves_nothing_to_delete() {
        assert!(nothing_to_delete(None));
        assert!(nothing_to_delete(Some(Some("deleting"))));
        assert!(!nothing_to_delete(Some(Some("available"))));
    }
}
