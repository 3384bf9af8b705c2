//! The `cluster` policy: counters in PostgreSQL (`ratelimiting_metrics`, migration 0002),
//! shared by every node of one database. One upsert increments all of a request's windows
//! and returns the new values; a refused request takes its increments back with the same
//! statement and a negative step (same rows, same order, so the two never deadlock).

use super::{CounterKey, Hit, PolicyError};
use crate::plugins::rate_limiting::windows::Window;
use sqlx::postgres::PgPool;
use sqlx::Row;
use std::time::Duration;

/// How often expired rows are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(60);

const UPSERT: &str = "
INSERT INTO ratelimiting_metrics AS m
    (route_id, service_id, identifier, period, period_date, value, expire_at)
SELECT $1, $2, $3, u.period, u.period_date, GREATEST($7, 0), u.expire_at
FROM UNNEST($4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY
    AS u(period, period_date, expire_at, position)
ORDER BY u.position
ON CONFLICT (route_id, service_id, identifier, period, period_date)
DO UPDATE SET value = m.value + $7
RETURNING m.period, m.value";

/// The `cluster` policy's database.
#[derive(Debug, Clone)]
pub struct ClusterCounters {
    pool: PgPool,
}

impl ClusterCounters {
    pub fn new(pool: PgPool) -> ClusterCounters {
        ClusterCounters { pool }
    }

    /// Count one request against every window: increment first, then decide.
    pub async fn hit(
        &self,
        key: &CounterKey<'_>,
        limits: &[(Window, u64)],
        now_ms: i64,
    ) -> Result<Hit, PolicyError> {
        let counts = self.step(key, limits, now_ms, 1).await?;
        let admitted = counts
            .iter()
            .zip(limits)
            .all(|(count, (_, limit))| count <= limit);
        if admitted {
            return Ok(Hit { counts, admitted });
        }
        let counts = self.step(key, limits, now_ms, -1).await?;
        Ok(Hit { counts, admitted })
    }

    /// Add `delta` to each window's counter; the new values, in `limits` order.
    async fn step(
        &self,
        key: &CounterKey<'_>,
        limits: &[(Window, u64)],
        now_ms: i64,
        delta: i64,
    ) -> Result<Vec<u64>, PolicyError> {
        let now_s = now_ms.div_euclid(1000);
        let bounds: Vec<(i64, i64)> = limits.iter().map(|(w, _)| w.bounds(now_s)).collect();
        let rows = sqlx::query(UPSERT)
            .bind(key.route)
            .bind(key.service)
            .bind(key.identifier)
            .bind(limits.iter().map(|(w, _)| w.name()).collect::<Vec<_>>())
            .bind(bounds.iter().map(|b| b.0).collect::<Vec<_>>())
            .bind(bounds.iter().map(|b| b.1).collect::<Vec<_>>())
            .bind(delta)
            .fetch_all(&self.pool)
            .await?;
        let mut counts = Vec::with_capacity(limits.len());
        for (window, _) in limits {
            // RETURNING promises no order: match rows by period.
            let value = rows
                .iter()
                .find(|r| r.get::<&str, _>(0) == window.name())
                .map(|r| r.get::<i64, _>(1))
                .ok_or(PolicyError::MissingRow(window.name()))?;
            counts.push(value.max(0) as u64);
        }
        Ok(counts)
    }

    /// Delete the rows of windows that have ended; how many went.
    pub async fn purge_expired(&self, now_s: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM ratelimiting_metrics WHERE expire_at <= $1")
            .bind(now_s)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Purge expired rows every minute, for as long as the runtime runs.
    pub fn spawn_purger(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("rate-limiting: no runtime, expired cluster counters stay");
            return;
        };
        let counters = self.clone();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = counters.purge_expired(crate::entities::now_seconds()).await {
                    tracing::debug!(error = %e, "rate-limiting: purging expired counters failed");
                }
            }
        });
    }
}
