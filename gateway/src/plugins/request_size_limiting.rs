//! request-size-limiting: refuse request bodies over a configured size, as Kong 3.x does:
//! 413 (417 when the client sent `Expect: 100-continue`) `Request size limit exceeded`, judged
//! by `Content-Length`, or by the buffered body when there is no length.
//!
//! Chunked bodies are only checked when another plugin made the proxy buffer the body
//! (`ctx.body`). Enforcing the limit on a streamed chunked body needs a proxy hook: a
//! `Handler::body_limit() -> Option<u64>` that the chain folds to its smallest value, and a
//! counting wrapper around the streamed request body (like the proxy's global `max_body` cap)
//! that ends the upload once the limit is passed; if that happens before the upstream has
//! answered, the proxy answers the client 413 itself and drops the upstream request.

use super::{kong_response, typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::{header, StatusCode};
use serde::Deserialize;
use serde_json::Value;

const UNITS: [(&str, u64); 3] = [("megabytes", 1 << 20), ("kilobytes", 1 << 10), ("bytes", 1)];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_size")]
    allowed_payload_size: u64,
    #[serde(default = "default_unit")]
    size_unit: String,
    #[serde(default)]
    require_content_length: bool,
}

fn default_size() -> u64 {
    128
}
fn default_unit() -> String {
    "megabytes".into()
}

#[derive(Debug)]
pub struct RequestSizeLimiting {
    /// The largest body allowed, in bytes.
    limit: u64,
    require_content_length: bool,
}

impl RequestSizeLimiting {
    pub fn from_config(config: &Value) -> Result<RequestSizeLimiting, FieldErrors> {
        let config: Config = typed_config(config)?;
        let Some((_, factor)) = UNITS.iter().find(|(name, _)| *name == config.size_unit) else {
            let mut errors = FieldErrors::default();
            errors.add(
                "config.size_unit",
                "expected one of: megabytes, kilobytes, bytes",
            );
            return Err(errors);
        };
        Ok(RequestSizeLimiting {
            limit: config.allowed_payload_size.saturating_mul(*factor),
            require_content_length: config.require_content_length,
        })
    }

    fn check(&self, ctx: &RequestCtx) -> Option<ShortCircuit> {
        let declared = ctx
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if self.require_content_length && declared.is_none() {
            return Some(kong_response(
                StatusCode::LENGTH_REQUIRED,
                "A valid Content-Length header is required",
            ));
        }
        let length = match declared {
            Some(n) => n,
            None => ctx.body.as_ref()?.len() as u64,
        };
        if length <= self.limit {
            return None;
        }
        let expects_continue = ctx
            .headers
            .get(header::EXPECT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
        let status = if expects_continue {
            StatusCode::EXPECTATION_FAILED
        } else {
            StatusCode::PAYLOAD_TOO_LARGE
        };
        Some(kong_response(status, "Request size limit exceeded"))
    }
}

impl Handler for RequestSizeLimiting {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move { self.check(ctx) })
    }
}

#[cfg(test)]
mod tests;
