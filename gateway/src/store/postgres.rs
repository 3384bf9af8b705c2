//! PostgreSQL storage: one table per kind (see `migrations/`), rows hold canonical JSON, and
//! PostgreSQL enforces uniqueness, foreign keys and cascades. Every write bumps a version and
//! notifies the `gateway_config` channel (a trigger does it), which other nodes listen to.

use super::{BatchOp, ListQuery, Page, StoreError};
use crate::config::Config;
use crate::entities::Kind;
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::Row;
use std::time::Duration;
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// The channel nodes LISTEN on.
pub const CHANNEL: &str = "gateway_config";

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A lazily connecting pool: the gateway starts, and serves its last snapshot, even while the
    /// database is down; calls fail fast rather than hang.
    pub fn connect_lazy(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy(url)
            .map_err(unavailable)?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn list(&self, kind: Kind, query: &ListQuery) -> Result<Page, StoreError> {
        let after: i64 = match &query.offset {
            Some(o) => o.parse().map_err(|_| StoreError::InvalidOffset)?,
            None => 0,
        };
        let size = query.size.clamp(1, 1000);
        // Every parameter is always referenced, so one statement shape serves all filters.
        let parent = match query.parent {
            Some((field, _)) => format!("{field}_id = $2"),
            None => "$2::uuid IS NULL".to_string(),
        };
        let op = if query.tags_any { "?|" } else { "?&" };
        let sql = format!(
            "SELECT seq, data FROM {} WHERE seq > $1 AND {parent} \
             AND (cardinality($3::text[]) = 0 OR data->'tags' {op} $3)",
            kind.table()
        );
        let sql = format!("{sql} ORDER BY seq LIMIT {}", size + 1);
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(query.parent.map(|(_, id)| id))
            .bind(&query.tags)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let more = rows.len() > size;
        let rows = &rows[..rows.len().min(size)];
        let offset = more
            .then(|| rows.last().map(|r| r.get::<i64, _>(0).to_string()))
            .flatten();
        let data = rows.iter().map(|r| r.get::<Value, _>(1)).collect();
        Ok(Page { data, offset })
    }

    pub async fn get(&self, kind: Kind, key: &str) -> Result<Option<Value>, StoreError> {
        // Every endpoint key is a generated column with a unique index (see the migrations), so
        // a lookup by name or key is an index scan, not a scan of every row's JSON.
        let row = match (Uuid::parse_str(key), kind.endpoint_key()) {
            (Ok(id), _) => {
                let sql = format!("SELECT data FROM {} WHERE id = $1", kind.table());
                sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await
            }
            (Err(_), Some(field)) => {
                // Quoted: `group` (ACLs) is an SQL keyword.
                let sql = format!(
                    "SELECT data FROM {} WHERE \"{field}\" = $1 ORDER BY seq LIMIT 1",
                    kind.table()
                );
                sqlx::query(&sql).bind(key).fetch_optional(&self.pool).await
            }
            (Err(_), None) => return Ok(None),
        };
        Ok(row.map_err(unavailable)?.map(|r| r.get(0)))
    }

    pub async fn insert(&self, kind: Kind, value: Value) -> Result<Value, StoreError> {
        let sql = format!(
            "INSERT INTO {} (id, data) VALUES ($1, $2) RETURNING data",
            kind.table()
        );
        self.write(kind, &sql, value).await
    }

    pub async fn upsert(&self, kind: Kind, value: Value) -> Result<Value, StoreError> {
        let sql = format!(
            "INSERT INTO {} (id, data) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data RETURNING data",
            kind.table()
        );
        self.write(kind, &sql, value).await
    }

    async fn write(&self, kind: Kind, sql: &str, value: Value) -> Result<Value, StoreError> {
        let id = value["id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(StoreError::NotFound)?;
        sqlx::query(sql)
            .bind(id)
            .bind(&value)
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(|e| conflict(kind, &value, e))
    }

    pub async fn delete(&self, kind: Kind, id: Uuid) -> Result<(), StoreError> {
        let sql = format!("DELETE FROM {} WHERE id = $1", kind.table());
        let done = sqlx::query(&sql)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| refused(kind, e))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Several writes as one transaction: all of them land, or none (`config sync`).
    pub async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for op in ops {
            match op {
                BatchOp::Upsert(kind, value) => {
                    let sql = format!(
                        "INSERT INTO {} (id, data) VALUES ($1, $2) \
                         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data",
                        kind.table()
                    );
                    let id = value["id"]
                        .as_str()
                        .and_then(|s| Uuid::parse_str(s).ok())
                        .ok_or(StoreError::NotFound)?;
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(&value)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict(kind, &value, e))?;
                }
                BatchOp::Delete(kind, id) => {
                    // Already gone (a cascade took it) is fine.
                    let sql = format!("DELETE FROM {} WHERE id = $1", kind.table());
                    sqlx::query(&sql)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| refused(kind, e))?;
                }
            }
        }
        tx.commit().await.map_err(unavailable)
    }

    /// Every entity, and the version they make up, read in one consistent transaction.
    pub async fn load(&self) -> Result<(Config, i64), StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        // Read first: every later statement sees the same snapshot, so the version labels
        // exactly this configuration even while writers carry on.
        let version: i64 = sqlx::query("SELECT version FROM config_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?
            .get(0);
        let mut config = Config::default();
        for kind in Kind::ALL {
            let sql = format!("SELECT data::text FROM {} ORDER BY seq", kind.table());
            let rows = sqlx::query(&sql)
                .fetch_all(&mut *tx)
                .await
                .map_err(unavailable)?;
            let values = rows.iter().map(|r| r.get::<&str, _>(0));
            config.extend_raw(kind, values).map_err(|e| {
                StoreError::Unavailable(format!("corrupt {} row: {e}", kind.table()))
            })?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok((config, version))
    }

    /// A listener on [`CHANNEL`] over its own connection, outside the pool: it is held for as
    /// long as the node runs, and must neither starve requests of a connection nor be handed one
    /// that a request is using.
    pub async fn listen(&self) -> Result<PgListener, StoreError> {
        let options = (*self.pool.connect_options()).clone();
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await.map_err(unavailable)?;
        listener.listen(CHANNEL).await.map_err(unavailable)?;
        Ok(listener)
    }

    pub async fn version(&self) -> Result<i64, StoreError> {
        sqlx::query("SELECT version FROM config_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(unavailable)
    }

    pub async fn ping(&self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(_))
        )
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Turn PostgreSQL's constraint violations on a write of `value` into Kong's errors.
fn conflict(kind: Kind, value: &Value, e: sqlx::Error) -> StoreError {
    let Some(db) = e.as_database_error() else {
        return unavailable(e);
    };
    let field = constraint_field(kind.table(), db.constraint().unwrap_or_default());
    match db.code().as_deref() {
        Some("23505") => unique(&field, value),
        Some("23503") => {
            let table = kind
                .foreign_keys()
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, k)| k.table())
                .unwrap_or("unknown");
            let id = value[field.as_str()]["id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_default();
            StoreError::ForeignKey { field, table, id }
        }
        _ => unavailable(e),
    }
}

/// A delete blocked by children that do not cascade (a service still used by routes).
fn refused(kind: Kind, e: sqlx::Error) -> StoreError {
    let Some(db) = e.as_database_error() else {
        return unavailable(e);
    };
    if db.code().as_deref() != Some("23503") {
        return unavailable(e);
    }
    // The violation is reported on the child's table.
    let child = db
        .table()
        .and_then(Kind::from_table)
        .map_or("routes", Kind::table);
    StoreError::Referenced {
        parent: kind.table(),
        child,
    }
}

/// The entity field a constraint guards, from the names the migrations give them:
/// `{table}_{field}_key` (unique), `{table}_{field}_fkey` (foreign key), `{table}_pkey`.
pub(crate) fn constraint_field(table: &str, constraint: &str) -> String {
    let rest = constraint
        .strip_prefix(table)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(constraint);
    if rest == "pkey" {
        return "id".to_string();
    }
    let field = rest
        .strip_suffix("_fkey")
        .or_else(|| rest.strip_suffix("_key"))
        .unwrap_or(rest);
    field.to_string()
}

fn unique(field: &str, value: &Value) -> StoreError {
    if field == "scope" {
        // `plugins_scope_key`: one instance of a plugin per (name, route, service, consumer).
        return StoreError::Unique {
            field: "name".into(),
            value: format!(
                "{} (already configured on this scope)",
                value["name"].as_str().unwrap_or("")
            ),
        };
    }
    StoreError::Unique {
        field: field.to_string(),
        value: value[field].as_str().unwrap_or_default().to_string(),
    }
}
