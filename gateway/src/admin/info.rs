//! The node-level endpoints: `GET /` (what decK and UIs read first), `GET /status`, the plugin
//! lists and the schema endpoints.
//!
//! Approximated shapes (no nginx underneath): `timers` are zeros; `pids` are this process;
//! `server` counts only Admin API requests; `memory` reports the process's resident size;
//! `configuration` holds only non-secret facts (`database`, `role`); `configuration_hash`
//! fingerprints the served snapshot rather than being Kong's md5 of a declarative file.

use super::error::ApiError;
use super::plugins;
use super::schema;
use crate::entities::Kind;
use crate::node::Node;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

pub use crate::KONG_VERSION;

pub fn root(node: &Node) -> Value {
    let snapshot = node.snapshot();
    let enabled: BTreeSet<&str> = snapshot
        .config
        .plugins
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let pid = std::process::id();
    json!({
        "version": KONG_VERSION,
        "edition": "community",
        "tagline": "Welcome to gateway",
        "gateway_version": env!("CARGO_PKG_VERSION"),
        "lua_version": concat!("gateway ", env!("CARGO_PKG_VERSION"), " (Rust)"),
        "hostname": hostname(),
        "node_id": node.id,
        "pids": { "master": pid, "workers": [pid] },
        "timers": { "running": 0, "pending": 0 },
        "plugins": {
            "available_on_server": plugins::available_on_server(KONG_VERSION),
            "disabled_on_server": {},
            "enabled_in_cluster": enabled,
        },
        "configuration": {
            "database": if node.store.is_dbless() { "off" } else { "postgres" },
            "role": "traditional",
        },
    })
}

pub async fn status(node: &Node, admin_requests: u64) -> Value {
    let reachable = node.store.reachable().await;
    let snapshot = node.snapshot();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&*snapshot.config)
        .unwrap_or_default()
        .hash(&mut hasher);
    let hash = format!("{:016x}{:016x}", hasher.finish(), snapshot.version as u64);
    json!({
        "database": { "reachable": reachable },
        "server": {
            "total_requests": admin_requests,
            "connections_accepted": admin_requests,
            "connections_handled": admin_requests,
            "connections_active": 1,
            "connections_reading": 0,
            "connections_writing": 1,
            "connections_waiting": 0,
        },
        "memory": {
            "workers_lua_vms": [{ "pid": std::process::id(), "http_allocated_gc": resident_mib() }],
            "lua_shared_dicts": {},
        },
        "configuration_hash": hash,
    })
}

pub fn enabled_plugins() -> Value {
    let names: Vec<&str> = plugins::known().into_iter().map(|(n, _)| n).collect();
    json!({ "enabled_plugins": names })
}

/// `/schemas/{entity}`: by table name (`keyauth_credentials`) or endpoint (`key-auths`).
pub fn entity_schema(name: &str) -> Result<Value, ApiError> {
    let kind = Kind::from_table(name).or_else(|| Kind::from_endpoint(name));
    kind.map(schema::to_kong)
        .ok_or_else(|| ApiError::NotFoundMessage(format!("No entity named '{name}'")))
}

/// `/schemas/{entity}/validate`: check a body without storing it.
pub fn validate(name: &str, input: super::body::Input) -> Result<Value, ApiError> {
    let kind = Kind::from_table(name)
        .or_else(|| Kind::from_endpoint(name))
        .ok_or_else(|| ApiError::NotFoundMessage(format!("No entity named '{name}'")))?;
    let mut fields = input.fields;
    if input.form {
        schema::infer_form(kind, &mut fields);
    }
    schema::canonical(kind, Value::Object(fields))?;
    Ok(json!({ "message": "schema validation successful" }))
}

/// `/schemas/plugins/{name}`: the plugin entity's fields. Per-plugin `config` schemas are not
/// described yet, so `config` is an open record.
pub fn plugin_schema(name: &str) -> Result<Value, ApiError> {
    if !plugins::is_known(name) {
        return Err(ApiError::NotFoundMessage(format!(
            "No plugin named '{name}'"
        )));
    }
    let mut schema = schema::to_kong(Kind::Plugin);
    if let Some(fields) = schema["fields"].as_array_mut() {
        for field in fields.iter_mut().filter(|f| f.get("config").is_some()) {
            *field = json!({ "config": { "type": "record", "required": true, "fields": [] } });
        }
    }
    Ok(schema)
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

fn resident_mib() -> String {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    format!("{:.2} MiB", (pages * 4096) as f64 / 1_048_576.0)
}
