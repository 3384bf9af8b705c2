//! Versioned schema migrations, embedded in the binary. Safe when several nodes run them at
//! once: every run holds a PostgreSQL advisory lock, and each migration applies in its own
//! transaction together with its bookkeeping row.

use sqlx::{Connection, Executor, PgConnection, Row};

/// Embedded migrations, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_core", include_str!("../../migrations/0001_core.sql")),
    (
        "0002_one_version_per_transaction",
        include_str!("../../migrations/0002_one_version_per_transaction.sql"),
    ),
    ("0003_acls", include_str!("../../migrations/0003_acls.sql")),
    (
        "0004_rate_limiting",
        include_str!("../../migrations/0004_rate_limiting.sql"),
    ),
];

/// Arbitrary but fixed: the advisory lock all gateway nodes agree on.
const LOCK_KEY: i64 = 0x0067_6174_6577_6179;
/// How long to wait for another node's migrations (Kong's `--lock-timeout` default).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot reach the database: {0}")]
    Connect(sqlx::Error),
    #[error("migration {name} failed: {source}")]
    Failed {
        name: &'static str,
        source: sqlx::Error,
    },
    #[error("another node has been running migrations for over {0} s; try again later")]
    Locked(u64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// What `migrations status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub executed: Vec<String>,
    pub pending: Vec<String>,
}

impl MigrationStatus {
    pub fn bootstrapped(&self) -> bool {
        !self.executed.is_empty()
    }
}

/// Apply every pending migration; returns the names applied now (empty when up to date).
pub async fn up(url: &str) -> Result<Vec<&'static str>, MigrationError> {
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(MigrationError::Connect)?;
    lock(&mut conn).await?;
    let result = apply_pending(&mut conn).await;
    // Unlock even after a failure; closing the connection would release it too.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut conn)
        .await;
    result
}

/// Take the migration lock, waiting at most [`LOCK_WAIT`] for the node that holds it.
async fn lock(conn: &mut PgConnection) -> Result<(), MigrationError> {
    let wait = format!("SET lock_timeout = '{}s'", LOCK_WAIT.as_secs());
    sqlx::query(&wait).execute(&mut *conn).await?;
    let locked = sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *conn)
        .await;
    // Migrations themselves may wait on locks as long as they need.
    sqlx::query("SET lock_timeout = 0")
        .execute(&mut *conn)
        .await?;
    match locked {
        Ok(_) => Ok(()),
        // 55P03: lock_not_available.
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("55P03") => {
            Err(MigrationError::Locked(LOCK_WAIT.as_secs()))
        }
        Err(e) => Err(e.into()),
    }
}

async fn apply_pending(conn: &mut PgConnection) -> Result<Vec<&'static str>, MigrationError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS gateway_migrations (
             name text PRIMARY KEY,
             executed_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&mut *conn)
    .await?;
    let done = executed(conn).await?;
    let mut applied = Vec::new();
    for (name, sql) in MIGRATIONS {
        if done.iter().any(|d| d == name) {
            continue;
        }
        let mut tx = conn.begin().await?;
        // Through `Executor` rather than `RawSql::execute`, whose future is not `Send` for
        // every lifetime, which would keep callers from spawning `up`.
        let script: &mut PgConnection = &mut tx;
        script
            .execute(sqlx::raw_sql(sql))
            .await
            .map_err(|source| MigrationError::Failed { name, source })?;
        sqlx::query("INSERT INTO gateway_migrations (name) VALUES ($1)")
            .bind(*name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        applied.push(*name);
    }
    Ok(applied)
}

async fn executed(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let exists: bool = sqlx::query("SELECT to_regclass('gateway_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = sqlx::query("SELECT name FROM gateway_migrations ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

pub async fn status(url: &str) -> Result<MigrationStatus, MigrationError> {
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(MigrationError::Connect)?;
    let executed = executed(&mut conn).await?;
    let pending = MIGRATIONS
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| !executed.contains(n))
        .collect();
    Ok(MigrationStatus { executed, pending })
}
