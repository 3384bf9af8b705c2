//! What the datastore drivers share: the names they pre-filter on, what an adopted resource still
//! needs changed, and the clock for final snapshot names.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::aws::attrs::Attrs;
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
