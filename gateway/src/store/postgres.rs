//! PostgreSQL storage (placeholder; filled in next).

use super::{ListQuery, Page, StoreError};
use crate::config::Config;
use crate::entities::Kind;
use serde_json::Value;
use uuid::Uuid;

#[derive(Clone)]
pub struct PgStore {
    pub pool: sqlx::PgPool,
}

impl PgStore {
    pub async fn list(&self, _kind: Kind, _query: &ListQuery) -> Result<Page, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn get(&self, _kind: Kind, _key: &str) -> Result<Option<Value>, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn insert(&self, _kind: Kind, _value: Value) -> Result<Value, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn upsert(&self, _kind: Kind, _value: Value) -> Result<Value, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn delete(&self, _kind: Kind, _id: Uuid) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn load(&self) -> Result<Config, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn version(&self) -> Result<i64, StoreError> {
        Err(StoreError::Unavailable("unimplemented".into()))
    }
    pub async fn ping(&self) -> bool {
        false
    }
}
