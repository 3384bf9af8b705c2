//! EC2's eventual consistency: the ids this run just created, and the `NotFound` answers naming
//! one of them within its kind's window, which are worth another try (a `NotFound` for any
//! other id is a real error).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::AwsError;
use super::retry::{with_backoff, Backoff};
use super::Cx;
use crate::core::ResourceKind;

/// The codes EC2 answers for an id its reads do not see yet.
const NOT_FOUND: &[&str] = &[
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidSecurityGroupID.NotFound",
    "InvalidAllocationID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidNatGatewayID.NotFound",
    "NatGatewayNotFound",
];

/// Ids created by this process, each with the end of its window; shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct FreshIds(Arc<Mutex<HashMap<String, Instant>>>);

// === impl FreshIds ===

impl FreshIds {
    /// Notes that `id`, of `kind`, was created just now.
    pub fn record(&self, id: &str, kind: ResourceKind) {
        let window = Duration::from_secs_f64(kind.spec().not_found_window);
        if !window.is_zero() {
            self.lock().insert(id.to_string(), Instant::now() + window);
        }
    }

    /// Whether `error` is a `NotFound` naming an id created less than its window ago.
    pub fn covers(&self, error: &AwsError) -> bool {
        let AwsError::Api { code, message, .. } = error else {
            return false;
        };
        if !NOT_FOUND.contains(&code.as_str()) {
            return false;
        }
        let now = Instant::now();
        let mut ids = self.lock();
        ids.retain(|_, until| *until > now);
        ids.keys().any(|id| names(message, id))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        // Inserts and removals are single calls: a poisoned map is still whole.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether `message` names `id` as a whole word (`vpc-1` is not named by `vpc-12`).
fn names(message: &str, id: &str) -> bool {
    message.match_indices(id).any(|(at, _)| {
        let next = message[at + id.len()..].chars().next();
        let before = message[..at].chars().next_back();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        !part(next) && !part(before)
    })
}

/// Runs `call` again while it fails with a `NotFound` for a just-created id: for the calls a
/// driver makes right after its own create (attach, modify, associate), which the engine cannot
/// retry without making the resource twice.
pub async fn settle<T, F, Fut>(cx: &Cx, call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    // `covers` stops holding once the id's window has passed, so the budget is only a backstop.
    let backoff = Backoff {
        first: Duration::from_millis(250),
        max: Duration::from_secs(5),
        budget: Duration::from_secs(180),
    };
    with_backoff(backoff, |e| cx.aws.fresh.covers(e), call, |_, _| {}).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(code: &str, id: &str) -> AwsError {
        AwsError::Api {
            operation: "ec2:ModifyVpcAttribute",
            code: code.into(),
            message: format!("The vpc ID '{id}' does not exist"),
        }
    }

    #[test]
    fn only_a_just_created_id_is_covered() {
        let fresh = FreshIds::default();
        fresh.record("vpc-12", ResourceKind::Vpc);
        assert!(fresh.covers(&not_found("InvalidVpcID.NotFound", "vpc-12")));
        assert!(!fresh.covers(&not_found("InvalidVpcID.NotFound", "vpc-1")));
        assert!(!fresh.covers(&not_found("InvalidVpcID.NotFound", "vpc-123")));
        assert!(!fresh.covers(&not_found("ValidationError", "vpc-12")));
    }

    #[test]
    fn kinds_without_a_window_are_never_covered() {
        let fresh = FreshIds::default();
        fresh.record("arn:aws:ecs:svc", ResourceKind::EcsService);
        let error = not_found("InvalidVpcID.NotFound", "arn:aws:ecs:svc");
        assert!(!fresh.covers(&error));
    }

    #[test]
    fn names_whole_ids_only() {
        assert!(names("The ID 'subnet-9' does not exist", "subnet-9"));
        assert!(names("Nat gateway nat-9 was not found", "nat-9"));
        assert!(!names("subnet-99", "subnet-9"));
    }
}
