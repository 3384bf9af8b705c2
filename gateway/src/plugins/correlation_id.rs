//! correlation-id: give every request an id header (kept when the client sent one) that the
//! upstream sees and, with `echo_downstream`, the client gets back, as Kong 3.x does.
//!
//! The response phase reads the id back from the request headers in the context (where the
//! access phase put it), so nothing has to be remembered per request.

use super::{typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_header")]
    header_name: String,
    #[serde(default = "default_generator")]
    generator: String,
    #[serde(default)]
    echo_downstream: bool,
}

fn default_header() -> String {
    "Kong-Request-ID".into()
}
fn default_generator() -> String {
    "uuid#counter".into()
}

/// How a missing id is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// A random UUID per request.
    Uuid,
    /// One random UUID per process, then `#1`, `#2`, ...: cheap and unique per node.
    UuidCounter,
    /// Kong's `addr-port-pid-connection-requests-time` shape. The context carries neither the
    /// listener's address nor connection serials, so those parts are `0.0.0.0-0`, a process-wide
    /// request serial and `1`.
    Tracker,
}

impl Generator {
    fn parse(name: &str) -> Option<Generator> {
        match name {
            "uuid" => Some(Generator::Uuid),
            "uuid#counter" => Some(Generator::UuidCounter),
            "tracker" => Some(Generator::Tracker),
            _ => None,
        }
    }

    pub fn generate(self) -> String {
        match self {
            Generator::Uuid => Uuid::new_v4().to_string(),
            Generator::UuidCounter => {
                let (base, counter) = process_counter();
                format!("{base}#{}", counter.fetch_add(1, Ordering::Relaxed) + 1)
            }
            Generator::Tracker => {
                let (_, counter) = process_counter();
                let serial = counter.fetch_add(1, Ordering::Relaxed) + 1;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                format!("0.0.0.0-0-{}-{serial}-1-{now:.3}", std::process::id())
            }
        }
    }
}

/// Kong keeps one UUID and counter per worker; one per process is our equivalent, shared by
/// every instance and snapshot so ids never repeat while the process lives.
fn process_counter() -> &'static (String, AtomicU64) {
    static COUNTER: OnceLock<(String, AtomicU64)> = OnceLock::new();
    COUNTER.get_or_init(|| (Uuid::new_v4().to_string(), AtomicU64::new(0)))
}

#[derive(Debug)]
pub struct CorrelationId {
    header: HeaderName,
    generator: Generator,
    echo_downstream: bool,
}

impl CorrelationId {
    pub fn from_config(config: &Value) -> Result<CorrelationId, FieldErrors> {
        let config: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let header = HeaderName::from_bytes(config.header_name.as_bytes()).ok();
        if header.is_none() {
            errors.add("config.header_name", "invalid header name");
        }
        let generator = Generator::parse(&config.generator);
        if generator.is_none() {
            errors.add(
                "config.generator",
                "expected one of: uuid, uuid#counter, tracker",
            );
        }
        errors.into_result()?;
        Ok(CorrelationId {
            header: header.unwrap_or(HeaderName::from_static("kong-request-id")),
            generator: generator.unwrap_or(Generator::UuidCounter),
            echo_downstream: config.echo_downstream,
        })
    }

    /// The id the client sent, unless empty.
    fn existing<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        headers.get(&self.header).filter(|v| !v.is_empty())
    }

    fn fresh(&self) -> HeaderValue {
        HeaderValue::from_str(&self.generator.generate()).unwrap_or(HeaderValue::from_static("0"))
    }
}

impl Handler for CorrelationId {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            if self.existing(&ctx.headers).is_none() {
                ctx.headers.insert(self.header.clone(), self.fresh());
            }
            None
        })
    }

    fn response_headers(&self, ctx: &RequestCtx, _status: StatusCode, headers: &mut HeaderMap) {
        if !self.echo_downstream {
            return;
        }
        // Absent only when the access phase did not run (an earlier short-circuit); Kong then
        // makes a new one so the answer still carries an id.
        let id = match self.existing(&ctx.headers) {
            Some(id) => id.clone(),
            None => self.fresh(),
        };
        headers.insert(self.header.clone(), id);
    }
}

#[cfg(test)]
mod tests;
