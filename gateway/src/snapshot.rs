//! An immutable, precompiled view of the configuration: what a request is served from.

use crate::config::Config;
use std::sync::Arc;

pub struct Snapshot {
    pub version: i64,
    pub config: Arc<Config>,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            version: 0,
            config: Arc::new(Config::default()),
        }
    }

    pub fn compile(config: Config, version: i64) -> Snapshot {
        Snapshot {
            version,
            config: Arc::new(config),
        }
    }
}
