//! One way to wait for something: an async condition polled at an interval until it holds, fails
//! or runs out of time. Every wait loop in the crate goes through [`until`], so none blocks the
//! runtime (a Ctrl-C is seen at the next poll) and each one states its own timeout.

use std::future::Future;
use std::time::{Duration, Instant};

/// Why a wait ended without its value.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<E> {
    /// The condition did not hold within the timeout; how long was waited.
    TimedOut(Duration),
    /// The check itself failed; waiting stopped at once.
    Failed(E),
}

/// How often a wait polls: first after `first`, each pause twice the last, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub first: Duration,
    pub max: Duration,
}

impl Pace {
    /// The same pause every time.
    pub const fn every(interval: Duration) -> Pace {
        Pace {
            first: interval,
            max: interval,
        }
    }
}

/// Calls `check` until it answers `Some(value)` (returned), an error (returned as
/// [`Waited::Failed`]) or `timeout` has passed since the first call ([`Waited::TimedOut`]).
/// `check` runs at least once, and once more at the deadline, so a condition that became true
/// during the last pause is not missed.
pub async fn until<T, E, F, Fut>(
    timeout: Duration,
    interval: Duration,
    check: F,
) -> Result<T, Waited<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    until_paced(timeout, Pace::every(interval), check).await
}

/// [`until`] with a pause that grows (for conditions that take minutes, such as AWS resources).
pub async fn until_paced<T, E, F, Fut>(
    timeout: Duration,
    pace: Pace,
    mut check: F,
) -> Result<T, Waited<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let start = Instant::now();
    let mut pause = pace.first;
    loop {
        if let Some(value) = check().await.map_err(Waited::Failed)? {
            return Ok(value);
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(Waited::TimedOut(elapsed));
        }
        tokio::time::sleep(pause.min(timeout - elapsed)).await;
        pause = (pause * 2).min(pace.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn returns_the_value_once_the_condition_holds() {
        let calls = Cell::new(0);
        let got = until(Duration::from_secs(5), MS, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { Ok::<_, ()>((n == 3).then_some(n)) }
        })
        .await;
        assert_eq!(got, Ok(3));
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn stops_at_the_first_error() {
        let calls = Cell::new(0);
        let got: Result<(), _> = until(Duration::from_secs(5), MS, || {
            calls.set(calls.get() + 1);
            async { Err("denied") }
        })
        .await;
        assert_eq!(got, Err(Waited::Failed("denied")));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn times_out_after_checking_at_the_deadline() {
        let calls = Cell::new(0);
        let got: Result<(), Waited<()>> = until(20 * MS, 50 * MS, || {
            calls.set(calls.get() + 1);
            async { Ok(None) }
        })
        .await;
        assert!(
            matches!(got, Err(Waited::TimedOut(d)) if d >= 20 * MS),
            "{got:?}"
        );
        // The first check, then one at the deadline (the pause is cut to what remains).
        assert_eq!(calls.get(), 2);
    }

    #[tokio::test]
    async fn a_paced_wait_doubles_its_pause_up_to_the_max() {
        let seen = std::cell::RefCell::new(Vec::new());
        let start = Instant::now();
        let pace = Pace {
            first: 10 * MS,
            max: 40 * MS,
        };
        let got: Result<(), Waited<()>> = until_paced(150 * MS, pace, || {
            seen.borrow_mut().push(start.elapsed());
            async { Ok(None) }
        })
        .await;
        assert!(matches!(got, Err(Waited::TimedOut(_))), "{got:?}");
        let seen = seen.borrow();
        let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1] - w[0]).collect();
        // 10, 20, 40, 40, ... ms: never shorter than the pace asks, capped at the max.
        assert!(
            gaps[0] >= 10 * MS && gaps[1] >= 20 * MS && gaps[2] >= 40 * MS,
            "{gaps:?}"
        );
        assert!(gaps.len() >= 4, "{gaps:?}");
    }
}
