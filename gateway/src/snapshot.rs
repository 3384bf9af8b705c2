//! An immutable, precompiled view of the configuration: what a request is served from. Built
//! once per configuration change (router, per-route plugin chains, service lookup), then only
//! read, by every request, without locks.

use crate::config::Config;
use crate::entities::Service;
use crate::plugins::chain::Compiled;
use crate::plugins::consumers::Consumers;
use crate::plugins::registry::{BuildContext, Shared};
use crate::plugins::{registry, Chain};
use crate::router::Router;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

pub struct Snapshot {
    pub version: i64,
    /// False only for the placeholder a node holds before its first load.
    pub loaded: bool,
    pub config: Arc<Config>,
    pub router: Router,
    pub services: HashMap<Uuid, Service>,
    /// The plugin chain of each route, by the route's index in `config.routes`.
    pub chains: Vec<Chain>,
    /// Consumers and their API keys.
    pub consumers: Arc<Consumers>,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            version: 0,
            loaded: false,
            config: Arc::new(Config::default()),
            router: Router::default(),
            services: HashMap::new(),
            chains: Vec::new(),
            consumers: Arc::default(),
        }
    }

    pub fn compile(config: Config, version: i64, shared: &Shared) -> Snapshot {
        let services: HashMap<Uuid, Service> =
            config.services.iter().map(|s| (s.id, s.clone())).collect();
        let service_enabled = |r: &crate::entities::Route| {
            r.service
                .and_then(|s| services.get(&s.id))
                .is_none_or(|s| s.enabled)
        };
        let router = Router::with_filter(&config.routes, service_enabled);
        let consumers = Arc::new(Consumers::build(&config));
        let cx = BuildContext {
            consumers: consumers.clone(),
            shared: shared.clone(),
            ..BuildContext::default()
        };
        let compiled: Vec<Compiled> = config
            .plugins
            .iter()
            .filter(|p| p.enabled)
            .filter_map(|p| match registry::build(&p.name, &p.config, &cx.for_plugin(p)) {
                Ok(handler) => Some(Compiled { plugin: p.clone(), handler }),
                Err(e) => {
                    tracing::warn!(plugin = %p.id, name = %p.name, error = %e, "plugin instance skipped");
                    None
                }
            })
            .collect();
        let chains = config
            .routes
            .iter()
            .map(|r| Chain::resolve(&compiled, Some(r.id), r.service.map(|s| s.id)))
            .collect();
        Snapshot {
            version,
            loaded: true,
            config: Arc::new(config),
            router,
            services,
            chains,
            consumers,
        }
    }
}
