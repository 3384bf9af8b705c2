//! request-termination: answer every request with a fixed status and message or body,
//! without reaching the upstream (maintenance windows, retired endpoints).

use super::{config_status, kong_response, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Response, StatusCode};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_status")]
    status_code: u16,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    trigger: Option<String>,
}

fn default_status() -> u16 {
    503
}

#[derive(Debug)]
pub struct RequestTermination {
    status: StatusCode,
    config: Config,
}

impl RequestTermination {
    pub fn from_config(config: &Value) -> Result<RequestTermination, FieldErrors> {
        let mut errors = FieldErrors::default();
        let parsed: Config = serde_json::from_value(config.clone()).map_err(|e| {
            let mut errors = FieldErrors::default();
            errors.add("config", e.to_string());
            errors
        })?;
        let status = config_status(parsed.status_code.into(), "config.status_code", &mut errors);
        if parsed.message.is_some() && parsed.body.is_some() {
            errors.add("config", "message cannot be used with content_type or body");
        }
        errors.into_result()?;
        Ok(RequestTermination {
            status: status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            config: parsed,
        })
    }
}

impl Handler for RequestTermination {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            if let Some(trigger) = &self.config.trigger {
                let in_header = ctx.headers.contains_key(trigger.as_str());
                let in_query = ctx.query.as_deref().is_some_and(|q| {
                    url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == trigger.as_str())
                });
                if !in_header && !in_query {
                    return None;
                }
            }
            if let Some(body) = &self.config.body {
                let mut response = Response::new(Bytes::from(body.clone()));
                *response.status_mut() = self.status;
                let content_type = self
                    .config
                    .content_type
                    .as_deref()
                    .unwrap_or("application/json; charset=utf-8");
                if let Ok(v) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(http::header::CONTENT_TYPE, v);
                }
                return Some(response);
            }
            let default_message = self
                .status
                .canonical_reason()
                .unwrap_or("Service unavailable");
            let message = self.config.message.as_deref().unwrap_or(default_message);
            Some(kong_response(self.status, message))
        })
    }
}
