//! One table per polled kind: which status strings mean ready, gone or failed, so a kind's
//! status -> [`Progress`] mapping is data and every `poll` reads the same way.

use super::{Goal, Progress};

/// How one kind's status (as AWS spells it) maps to progress towards a [`Goal`].
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle {
    /// How failure messages name the resource ("the cluster").
    pub noun: &'static str,
    /// Statuses in which the resource is usable.
    pub ready: &'static [&'static str],
    /// Statuses it will not leave by itself while going for `Ready` (`absent` included where a
    /// resource that vanished mid-create will not come back).
    pub failed: &'static [&'static str],
    /// When not empty, the only statuses worth waiting through towards `Ready`: any other one
    /// has failed.
    pub pending: &'static [&'static str],
    /// Statuses that count as deleted although AWS still lists the resource.
    pub gone: &'static [&'static str],
}

/// The status shown for a resource AWS does not know (any more, or yet).
pub const ABSENT: &str = "absent";

impl Lifecycle {
    /// A kind that is usable in `ready` states and only absent when gone.
    pub const fn ready_when(noun: &'static str, ready: &'static [&'static str]) -> Self {
        Lifecycle {
            noun,
            ready,
            failed: &[],
            pending: &[],
            gone: &[],
        }
    }

    /// Progress towards `goal` of a resource in `status` (`None`: AWS does not know it). `Done`
    /// carries no attributes; the driver adds the fresh ones it read.
    pub fn progress(&self, goal: Goal, status: Option<&str>) -> Progress {
        let shown = status.unwrap_or(ABSENT);
        let done = match goal {
            Goal::Gone => status.is_none() || self.gone.contains(&shown),
            Goal::Ready => status.is_some() && self.ready.contains(&shown),
        };
        if done {
            Progress::Done(None)
        } else if goal == Goal::Ready && self.has_failed(shown) {
            Progress::Failed(format!("{} is `{shown}`", self.noun))
        } else {
            Progress::Pending(shown.to_string())
        }
    }

    fn has_failed(&self, status: &str) -> bool {
        self.failed.contains(&status)
            || (!self.pending.is_empty() && status != ABSENT && !self.pending.contains(&status))
    }
}

/// `progress` with a `Done` towards `Ready` filled in by `fresh` (the attributes just read).
pub fn with_fresh(
    progress: Progress,
    goal: Goal,
    fresh: impl FnOnce() -> Option<crate::aws::Attrs>,
) -> Progress {
    match (progress, goal) {
        (Progress::Done(None), Goal::Ready) => Progress::Done(fresh()),
        (other, _) => other,
    }
}

/// Test shorthand: progress of `table` in `status` as one line ("done", "failed: why", or the
/// pending status).
#[cfg(test)]
pub fn shown(table: &Lifecycle, goal: Goal, status: Option<&str>) -> String {
    match table.progress(goal, status) {
        Progress::Done(_) => "done".into(),
        Progress::Pending(status) => status,
        Progress::Failed(why) => format!("failed: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: Lifecycle = Lifecycle {
        noun: "the thing",
        ready: &["available"],
        failed: &["broken", ABSENT],
        pending: &[],
        gone: &["deleted"],
    };

    #[test]
    fn ready_gone_failed_and_pending() {
        use Progress::*;
        assert_eq!(TABLE.progress(Goal::Ready, Some("available")), Done(None));
        assert_eq!(
            TABLE.progress(Goal::Ready, Some("creating")),
            Pending("creating".into())
        );
        assert_eq!(
            TABLE.progress(Goal::Ready, None),
            Failed("the thing is `absent`".into())
        );
        assert_eq!(TABLE.progress(Goal::Gone, None), Done(None));
        assert_eq!(TABLE.progress(Goal::Gone, Some("deleted")), Done(None));
        assert_eq!(
            TABLE.progress(Goal::Gone, Some("broken")),
            Pending("broken".into())
        );
    }

    #[test]
    fn a_pending_list_fails_every_other_status() {
        let table = Lifecycle {
            pending: &["updating"],
            ..Lifecycle::ready_when("the domain", &["available"])
        };
        assert_eq!(
            table.progress(Goal::Ready, Some("updating")),
            Progress::Pending("updating".into())
        );
        assert_eq!(
            table.progress(Goal::Ready, None),
            Progress::Pending(ABSENT.into())
        );
        assert!(matches!(
            table.progress(Goal::Ready, Some("odd")),
            Progress::Failed(_)
        ));
    }
}
