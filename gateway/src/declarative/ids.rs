//! Natural keys (what identifies an entity besides its id) and the deterministic ids given to
//! entities a file declares without one, so loading or syncing the same file twice changes
//! nothing.

use crate::entities::Kind;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Our own namespace for version-5 ids; never change it, or every derived id changes.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f3c_2a41_9b7e_4d0c_8a55_1e2f_7c90_d4b3);

/// What identifies an entity of `kind` apart from its id, when it has such a thing: the name
/// of a service, route or upstream; a consumer's username (else custom_id); a credential's
/// key; a target within its upstream; an ACL group within its consumer; a plugin's instance name, else its name within its
/// scope (service, route, consumer), which Kong also keeps unique.
pub fn natural_key(kind: Kind, value: &Value) -> Option<String> {
    let text = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let reference = |field: &str| {
        value
            .get(field)
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match kind {
        Kind::Service | Kind::Route | Kind::Upstream => text("name").map(str::to_string),
        Kind::Consumer => text("username")
            .map(|u| format!("username:{u}"))
            .or_else(|| text("custom_id").map(|c| format!("custom_id:{c}"))),
        Kind::KeyAuth => text("key").map(str::to_string),
        Kind::Target => text("target").map(|t| format!("{}/{t}", reference("upstream"))),
        Kind::Acl => text("group").map(|g| format!("{}/{g}", reference("consumer"))),
        Kind::Plugin => text("instance_name")
            .map(|i| format!("instance:{i}"))
            .or_else(|| {
                text("name").map(|n| {
                    let scope = ["service", "route", "consumer"].map(reference).join("/");
                    format!("{n}@{scope}")
                })
            }),
    }
}

/// The id an entity gets when the file gives none, from its [`identity`].
pub fn derive(kind: Kind, value: &Value) -> Uuid {
    let name = format!("{}:{}", kind.table(), identity(kind, value));
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The natural key, else the whole content without id and timestamps (so an unnamed route
/// keeps its id until it is edited).
pub fn identity(kind: Kind, value: &Value) -> String {
    natural_key(kind, value).unwrap_or_else(|| {
        let mut content = canonical(value);
        if let Value::Object(map) = &mut content {
            for field in ["id", "created_at", "updated_at"] {
                map.remove(field);
            }
        }
        format!("content:{content}")
    })
}

/// `value` with every object's keys sorted, so equal content serializes equally.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> = keys
                .into_iter()
                .map(|k| (k.clone(), canonical(&map[k])))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}
