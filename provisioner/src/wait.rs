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

/// Calls `check` until it answers `Some(value)` (returned), an error (returned as
/// [`Waited::Failed`]) or `timeout` has passed since the first call ([`Waited::TimedOut`]).
/// `check` runs at least once, and once more at the deadline, so a condition that became true
/// during the last pause is not missed.
pub async fn until<T, E, F, Fut>(
    timeout: Duration,
    interval: Duration,
    mut check: F,
) -> Result<T, Waited<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await.map_err(Waited::Failed)? {
            return Ok(value);
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(Waited::TimedOut(elapsed));
        }
        tokio::time::sleep(interval.min(timeout - elapsed)).await;
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
}
