//! acl: let a request through only if its consumer is (allow) or is not (deny) in one of the
//! configured groups, as Kong 3.x does. It needs a consumer, which an authentication plugin
//! (key-auth, higher priority) has set; the consumer's groups come with it from the snapshot's
//! index ([`super::consumers`]), so a request costs a scan of a few short lists.
//!
//! No consumer is 401 `Unauthorized` (403 when a credential was somehow seen without one); a
//! consumer the lists refuse is 403 `You cannot consume this service`. Kong also lets groups
//! come from the authentication itself (`authenticated_groups`, set by LDAP or OpenID Connect
//! plugins) and from Enterprise consumer groups; no plugin here sets either, so
//! `always_use_authenticated_groups` and `include_consumer_groups` are accepted and change
//! nothing.

use super::{kong_response, typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::{HeaderName, StatusCode};
use serde::Deserialize;
use serde_json::Value;

const GROUPS_HEADER: HeaderName = HeaderName::from_static("x-consumer-groups");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
    hide_groups_header: bool,
    #[allow(dead_code)]
    always_use_authenticated_groups: bool,
    #[allow(dead_code)]
    include_consumer_groups: bool,
}

/// Whether the listed groups are the ones let in or the ones kept out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Allow,
    Deny,
}

#[derive(Debug)]
pub struct Acl {
    mode: Mode,
    groups: Vec<String>,
    hide_groups_header: bool,
}

impl Acl {
    pub fn from_config(config: &Value) -> Result<Acl, FieldErrors> {
        let config: Config = typed_config(config)?;
        // Kong counts an empty list as not given (`deny: []` next to `allow: [...]` is fine).
        let given = |list: Option<Vec<String>>| list.filter(|l| !l.is_empty());
        let (mode, groups) = match (given(config.allow), given(config.deny)) {
            (Some(allow), None) => (Mode::Allow, allow),
            (None, Some(deny)) => (Mode::Deny, deny),
            (allow, _) => {
                let which = if allow.is_some() {
                    "only one of"
                } else {
                    "at least one of"
                };
                let mut errors = FieldErrors::default();
                errors.entity(format!(
                    "{which} these fields must be non-empty: 'config.allow', 'config.deny'"
                ));
                return Err(errors);
            }
        };
        Ok(Acl {
            mode,
            groups,
            hide_groups_header: config.hide_groups_header,
        })
    }

    fn check(&self, ctx: &mut RequestCtx) -> Option<ShortCircuit> {
        let Some(consumer) = ctx.consumer.clone() else {
            // Kong: 403 when some credential was seen, else the client has not authenticated.
            return Some(match ctx.credential_id {
                Some(_) => forbidden(),
                None => kong_response(StatusCode::UNAUTHORIZED, "Unauthorized"),
            });
        };
        let member = consumer.groups.iter().any(|g| self.groups.contains(g));
        let blocked = match self.mode {
            Mode::Allow => !member,
            Mode::Deny => member,
        };
        if blocked {
            return Some(forbidden());
        }
        // Whatever the client sent is not the consumer's groups.
        ctx.headers.remove(&GROUPS_HEADER);
        if !self.hide_groups_header {
            if let Some(groups) = &consumer.groups_header {
                ctx.headers.insert(GROUPS_HEADER, groups.clone());
            }
        }
        None
    }
}

fn forbidden() -> ShortCircuit {
    kong_response(StatusCode::FORBIDDEN, "You cannot consume this service")
}

impl Handler for Acl {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move { self.check(ctx) })
    }
}

#[cfg(test)]
mod tests;
