//! DB-less storage: the configuration held in memory, replaced as a whole (`POST /config`).

use super::{has_tags, ListQuery, Page, StoreError};
use crate::config::Config;
use crate::entities::Kind;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<RwLock<(Config, i64)>>,
}

impl MemoryStore {
    pub fn new(config: Config) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(RwLock::new((config, 1))),
        }
    }

    pub fn config(&self) -> Config {
        self.read().0.clone()
    }

    /// The configuration and its version, read together.
    pub fn snapshot(&self) -> (Config, i64) {
        let guard = self.read();
        (guard.0.clone(), guard.1)
    }

    pub fn version(&self) -> i64 {
        self.read().1
    }

    /// Replace everything at once.
    pub fn replace(&self, config: Config) {
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        guard.0 = config;
        guard.1 += 1;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (Config, i64)> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn list(&self, kind: Kind, query: &ListQuery) -> Result<Page, StoreError> {
        let all: Vec<Value> = self
            .read()
            .0
            .values(kind)
            .into_iter()
            .filter(|v| match query.parent {
                Some((field, id)) => v[field]["id"].as_str() == Some(&id.to_string()),
                None => true,
            })
            .filter(|v| has_tags(v, &query.tags, query.tags_any))
            .collect();
        let start = match &query.offset {
            Some(o) => o.parse::<usize>().map_err(|_| StoreError::InvalidOffset)?,
            None => 0,
        };
        let size = query.size.max(1);
        let data: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
        let offset = (start + size < all.len()).then(|| (start + size).to_string());
        Ok(Page { data, offset })
    }

    pub fn get(&self, kind: Kind, key: &str) -> Option<Value> {
        let id = Uuid::parse_str(key).ok();
        let field = kind.endpoint_key();
        self.read().0.values(kind).into_iter().find(|v| match id {
            Some(id) => v["id"].as_str() == Some(&id.to_string()),
            None => field.is_some_and(|f| v[f].as_str() == Some(key)),
        })
    }
}
