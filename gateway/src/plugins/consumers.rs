//! Who a key belongs to: an index of key-auth credentials and consumers, built once per snapshot
//! so an API-key lookup costs one hash probe, however many keys there are. Each consumer carries
//! its ACL groups, so the `acl` plugin never looks them up per request.

use crate::config::Config;
use http::HeaderValue;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A consumer as the request path needs it: ids and names, with their header values ready.
#[derive(Debug)]
pub struct ConsumerInfo {
    pub id: Uuid,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    pub id_header: HeaderValue,
    pub username_header: Option<HeaderValue>,
    pub custom_id_header: Option<HeaderValue>,
    /// ACL groups, in the order they were added.
    pub groups: Vec<String>,
    /// `X-Consumer-Groups`: the groups joined by `, ` as Kong writes them; `None` without groups.
    pub groups_header: Option<HeaderValue>,
}

impl ConsumerInfo {
    fn new(c: &crate::entities::Consumer, groups: Vec<String>) -> ConsumerInfo {
        let header = |v: &Option<String>| v.as_deref().and_then(|s| HeaderValue::from_str(s).ok());
        let joined = (!groups.is_empty()).then(|| groups.join(", "));
        ConsumerInfo {
            id: c.id,
            username: c.username.clone(),
            custom_id: c.custom_id.clone(),
            id_header: HeaderValue::from_str(&c.id.to_string())
                .unwrap_or(HeaderValue::from_static("")),
            username_header: header(&c.username),
            custom_id_header: header(&c.custom_id),
            groups_header: header(&joined),
            groups,
        }
    }
}

/// One key-auth credential.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub consumer: Arc<ConsumerInfo>,
    pub credential_id: Uuid,
    /// Seconds since the epoch after which the key no longer works (`ttl`).
    pub expires_at: Option<i64>,
}

/// Consumers and their keys, for one snapshot.
#[derive(Debug, Default)]
pub struct Consumers {
    by_id: HashMap<Uuid, Arc<ConsumerInfo>>,
    by_username: HashMap<String, Uuid>,
    keys: HashMap<Box<str>, KeyEntry>,
}

impl Consumers {
    pub fn build(config: &Config) -> Consumers {
        let mut groups: HashMap<Uuid, Vec<String>> = HashMap::new();
        for acl in &config.acls {
            if let Some(consumer) = acl.consumer {
                groups
                    .entry(consumer.id)
                    .or_default()
                    .push(acl.group.clone());
            }
        }
        let mut by_id = HashMap::with_capacity(config.consumers.len());
        let mut by_username = HashMap::new();
        for c in &config.consumers {
            let own = groups.remove(&c.id).unwrap_or_default();
            by_id.insert(c.id, Arc::new(ConsumerInfo::new(c, own)));
            if let Some(name) = &c.username {
                by_username.insert(name.clone(), c.id);
            }
        }
        let mut keys = HashMap::with_capacity(config.keyauth_credentials.len());
        for cred in &config.keyauth_credentials {
            let Some(consumer) = cred.consumer.and_then(|r| by_id.get(&r.id)) else {
                continue;
            };
            let expires_at = cred.ttl.filter(|t| *t > 0).map(|t| cred.created_at + t);
            let entry = KeyEntry {
                consumer: consumer.clone(),
                credential_id: cred.id,
                expires_at,
            };
            keys.insert(cred.key.as_str().into(), entry);
        }
        Consumers {
            by_id,
            by_username,
            keys,
        }
    }

    /// The credential for `key`, unless it has expired.
    pub fn key(&self, key: &str, now: i64) -> Option<&KeyEntry> {
        self.keys
            .get(key)
            .filter(|e| e.expires_at.is_none_or(|at| now < at))
    }

    /// A consumer by id or username (how `anonymous` is configured).
    pub fn consumer(&self, id_or_username: &str) -> Option<Arc<ConsumerInfo>> {
        let id = Uuid::parse_str(id_or_username)
            .ok()
            .or_else(|| self.by_username.get(id_or_username).copied())?;
        self.by_id.get(&id).cloned()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
