//! Retries with exponential backoff and full jitter for throttling and eventual consistency,
//! bounded by a deadline; anything not retryable fails at once.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;

use super::error::AwsError;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// Give up when the next attempt would start after this long.
    pub budget: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(200),
            max: Duration::from_secs(10),
            budget: Duration::from_secs(120),
        }
    }
}

impl Backoff {
    /// The pause before attempt `attempt` (1-based): uniform in [0, min(max, first * 2^attempt)].
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
    }
}

/// Runs `call` until it succeeds, fails with an error `retryable` refuses, or the budget is spent
/// (then the last error is returned). `on_retry` hears each retried error (for progress output).
pub async fn with_backoff<T, F, Fut>(
    backoff: Backoff,
    retryable: impl Fn(&AwsError) -> bool,
    mut call: F,
    mut on_retry: impl FnMut(&AwsError, Duration),
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) if retryable(&error) => {
                attempt += 1;
                let pause = backoff.delay(attempt);
                if started.elapsed() + pause > backoff.budget {
                    return Err(error);
                }
                on_retry(&error, pause);
                tokio::time::sleep(pause).await;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn throttled() -> AwsError {
        AwsError::Api {
            operation: "test:Op",
            code: "Throttling".into(),
            message: "slow down".into(),
        }
    }

    fn quick() -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
            budget: Duration::from_millis(500),
        }
    }

    #[tokio::test]
    async fn retries_throttling_until_success() {
        let calls = AtomicU32::new(0);
        let mut retried = 0;
        let result = with_backoff(
            quick(),
            AwsError::is_retryable,
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < 3 {
                    Err(throttled())
                } else {
                    Ok(n)
                }
            },
            |_, _| retried += 1,
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(retried, 3);
    }

    #[tokio::test]
    async fn final_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_backoff(
            quick(),
            AwsError::is_retryable,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(AwsError::Api {
                    operation: "test:Op",
                    code: "ValidationError".into(),
                    message: "bad".into(),
                })
            },
            |_, _| {},
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_when_the_budget_is_spent() {
        let backoff = Backoff {
            budget: Duration::from_millis(30),
            ..quick()
        };
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_backoff(
            backoff,
            AwsError::is_retryable,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(throttled())
            },
            |_, _| {},
        )
        .await;
        assert!(result.unwrap_err().is_throttling());
        assert!(calls.load(Ordering::SeqCst) > 2);
    }

    #[test]
    fn delays_stay_under_the_ceiling() {
        let backoff = Backoff::default();
        for attempt in 1..30 {
            assert!(backoff.delay(attempt) <= backoff.max);
        }
    }
}
