//! Where counters live (`local`, `cluster`, `redis`) behind one operation: count this request
//! against every configured window, atomically, and say whether it is admitted.

pub mod cluster;
pub mod local;
pub mod redis;
pub mod resp;

use uuid::Uuid;

/// Whose counters: the plugin's scope (route and service, nil when unset: Kong's key) and the
/// identifier `limit_by` chose.
#[derive(Debug, Clone, Copy)]
pub struct CounterKey<'a> {
    pub route: Uuid,
    pub service: Uuid,
    pub identifier: &'a str,
}

/// What counting one request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Each window's count after this request (without it when refused), in config order.
    pub counts: Vec<u64>,
    pub admitted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("redis {address}: {source}")]
    Redis {
        address: String,
        source: resp::RespError,
    },
    #[error("cluster policy: no database (DB-less nodes cannot use it)")]
    NoDatabase,
    #[error("cluster policy: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("cluster policy: no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("cluster policy: no counter row returned for {0}")]
    MissingRow(&'static str),
}
