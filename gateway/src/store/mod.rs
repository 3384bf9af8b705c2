//! Where entities live: PostgreSQL (shared by every node) or memory (DB-less, from a
//! declarative file). The Admin API, `config sync` and snapshots all go through [`Store`].
//!
//! Entities travel as canonical JSON (`serde_json::Value` serialized from a validated entity);
//! the store enforces what spans entities: unique fields, foreign keys, cascades.

mod memory;
pub mod migrations;
mod postgres;

pub use memory::MemoryStore;
pub use postgres::{PgStore, CHANNEL};

use crate::config::Config;
use crate::entities::{FieldErrors, Kind};
use serde_json::Value;
use uuid::Uuid;

/// One page of a listing, and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub data: Vec<Value>,
    pub offset: Option<String>,
}

/// Filter and paging for a listing.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only children of this parent: (foreign key field, parent id).
    pub parent: Option<(&'static str, Uuid)>,
    pub size: usize,
    pub offset: Option<String>,
    /// Only entities carrying these tags (all of them, or any with `tags_any`).
    pub tags: Vec<String>,
    pub tags_any: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Kong: `UNIQUE violation detected on '{name="x"}'`.
    #[error("UNIQUE violation detected on '{{{field}=\"{value}\"}}'")]
    Unique { field: String, value: String },
    /// Kong: `the foreign key '{id="..."}' does not reference an existing 'services' entity.`
    #[error("the foreign key '{{id=\"{id}\"}}' does not reference an existing '{table}' entity.")]
    ForeignKey {
        field: String,
        table: &'static str,
        id: Uuid,
    },
    /// Deleting a parent that children still use (a service with routes).
    #[error("an existing '{child}' entity references this '{parent}' entity")]
    Referenced {
        parent: &'static str,
        child: &'static str,
    },
    #[error("{0}")]
    Schema(FieldErrors),
    #[error("cannot change entities in DB-less mode; use POST /config")]
    ReadOnly,
    #[error("invalid offset")]
    InvalidOffset,
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// One write of a batch ([`Store::apply_batch`]).
#[derive(Debug, Clone)]
pub enum BatchOp {
    Upsert(Kind, Value),
    Delete(Kind, Uuid),
}

/// The configured store.
#[derive(Clone)]
pub enum Store {
    Postgres(PgStore),
    Memory(MemoryStore),
}

impl Store {
    pub fn is_dbless(&self) -> bool {
        matches!(self, Store::Memory(_))
    }

    pub async fn list(&self, kind: Kind, query: &ListQuery) -> Result<Page, StoreError> {
        match self {
            Store::Postgres(s) => s.list(kind, query).await,
            Store::Memory(s) => s.list(kind, query),
        }
    }

    /// By id, or by the kind's endpoint key (`name`, `username`, ...) when `key` is no UUID.
    pub async fn get(&self, kind: Kind, key: &str) -> Result<Option<Value>, StoreError> {
        match self {
            Store::Postgres(s) => s.get(kind, key).await,
            Store::Memory(s) => Ok(s.get(kind, key)),
        }
    }

    /// Insert a validated entity; fails on unique and foreign-key conflicts.
    pub async fn insert(&self, kind: Kind, value: Value) -> Result<Value, StoreError> {
        match self {
            Store::Postgres(s) => s.insert(kind, value).await,
            Store::Memory(_) => Err(StoreError::ReadOnly),
        }
    }

    /// Insert, or replace the entity with the same id.
    pub async fn upsert(&self, kind: Kind, value: Value) -> Result<Value, StoreError> {
        match self {
            Store::Postgres(s) => s.upsert(kind, value).await,
            Store::Memory(_) => Err(StoreError::ReadOnly),
        }
    }

    /// Several writes in one transaction: all land or none does.
    pub async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        match self {
            Store::Postgres(s) => s.apply_batch(ops).await,
            Store::Memory(_) => Err(StoreError::ReadOnly),
        }
    }

    /// Delete by id, cascading to children the way Kong does.
    pub async fn delete(&self, kind: Kind, id: Uuid) -> Result<(), StoreError> {
        match self {
            Store::Postgres(s) => s.delete(kind, id).await,
            Store::Memory(_) => Err(StoreError::ReadOnly),
        }
    }

    /// Everything, for compiling a snapshot.
    pub async fn load(&self) -> Result<Config, StoreError> {
        Ok(self.load_versioned().await?.0)
    }

    /// Everything, and the [`Store::version`] it is, read consistently.
    pub async fn load_versioned(&self) -> Result<(Config, i64), StoreError> {
        match self {
            Store::Postgres(s) => s.load().await,
            Store::Memory(s) => Ok(s.snapshot()),
        }
    }

    /// A number that changes whenever the configuration does.
    pub async fn version(&self) -> Result<i64, StoreError> {
        match self {
            Store::Postgres(s) => s.version().await,
            Store::Memory(s) => Ok(s.version()),
        }
    }

    /// Is the database reachable (`GET /status`)?
    pub async fn reachable(&self) -> bool {
        match self {
            Store::Postgres(s) => s.ping().await,
            Store::Memory(_) => true,
        }
    }
}

/// Does `value` carry every tag (or any, with `any`) of `tags`?
pub(crate) fn has_tags(value: &Value, tags: &[String], any: bool) -> bool {
    if tags.is_empty() {
        return true;
    }
    let own: Vec<&str> = value["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut wanted = tags.iter().map(|t| own.contains(&t.as_str()));
    if any {
        wanted.any(|x| x)
    } else {
        wanted.all(|x| x)
    }
}
