//! key-auth: identify the consumer by an API key in a header, the query string or the body,
//! as Kong 3.x does (its messages, `WWW-Authenticate`, upstream headers, `anonymous`).

use super::consumers::{ConsumerInfo, Consumers};
use super::{kong_response, typed_config, Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use futures_util::future::BoxFuture;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_key_names")]
    key_names: Vec<String>,
    #[serde(default)]
    hide_credentials: bool,
    #[serde(default)]
    anonymous: Option<String>,
    #[serde(default = "yes")]
    key_in_header: bool,
    #[serde(default = "yes")]
    key_in_query: bool,
    #[serde(default)]
    key_in_body: bool,
    #[serde(default = "yes")]
    run_on_preflight: bool,
    #[serde(default)]
    realm: Option<String>,
}

fn default_key_names() -> Vec<String> {
    vec!["apikey".into()]
}
fn yes() -> bool {
    true
}

#[derive(Debug)]
pub struct KeyAuth {
    config: Config,
    header_names: Vec<Option<HeaderName>>,
    consumers: Arc<Consumers>,
    anonymous: Option<Arc<ConsumerInfo>>,
    challenge: HeaderValue,
}

impl KeyAuth {
    pub fn from_config(config: &Value, consumers: Arc<Consumers>) -> Result<KeyAuth, FieldErrors> {
        let config: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        if config.key_names.is_empty() {
            errors.add("config.key_names", "length must be at least 1");
        }
        errors.into_result()?;
        // Resolved per snapshot: the consumer may be created after the plugin.
        let anonymous = config
            .anonymous
            .as_deref()
            .and_then(|a| consumers.consumer(a));
        let header_names = config
            .key_names
            .iter()
            .map(|n| HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()).ok())
            .collect();
        let realm = config.realm.as_deref().unwrap_or("kong");
        let challenge = HeaderValue::from_str(&format!("Key realm=\"{realm}\""))
            .unwrap_or(HeaderValue::from_static("Key realm=\"kong\""));
        Ok(KeyAuth {
            config,
            header_names,
            consumers,
            anonymous,
            challenge,
        })
    }

    /// The key, where it was found (for `hide_credentials`), or Kong's 401 reason.
    fn find_key(&self, ctx: &RequestCtx) -> Result<Option<(String, usize, Place)>, &'static str> {
        for (i, name) in self.config.key_names.iter().enumerate() {
            if self.config.key_in_header {
                if let Some(header) = &self.header_names[i] {
                    let mut values = ctx.headers.get_all(header).iter();
                    if let Some(v) = values.next() {
                        if values.next().is_some() {
                            return Err("Duplicate API key found");
                        }
                        return Ok(Some((
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            i,
                            Place::Header,
                        )));
                    }
                }
            }
            if self.config.key_in_query {
                let found: Vec<String> = query_pairs(ctx.query.as_deref())
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect();
                match found.len() {
                    0 => {}
                    1 => return Ok(found.into_iter().next().map(|k| (k, i, Place::Query))),
                    _ => return Err("Duplicate API key found"),
                }
            }
            if self.config.key_in_body {
                match body_field(ctx, name) {
                    Some(Value::String(key)) => return Ok(Some((key, i, Place::Body))),
                    Some(Value::Array(_)) => return Err("Duplicate API key found"),
                    _ => {}
                }
            }
        }
        Ok(None)
    }

    fn hide(&self, ctx: &mut RequestCtx, index: usize, place: Place) {
        let name = &self.config.key_names[index];
        match place {
            Place::Header => {
                if let Some(h) = &self.header_names[index] {
                    ctx.headers.remove(h);
                }
            }
            Place::Body => remove_body_field(ctx, name),
            Place::Query => {
                let kept: Vec<(String, String)> = query_pairs(ctx.query.as_deref())
                    .filter(|(k, _)| k != name)
                    .collect();
                ctx.query = (!kept.is_empty()).then(|| {
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(kept)
                        .finish()
                });
            }
        }
    }

    fn unauthorized(&self, message: &str) -> ShortCircuit {
        let mut response = kong_response(StatusCode::UNAUTHORIZED, message);
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, self.challenge.clone());
        response
    }
}

#[derive(Debug, Clone, Copy)]
enum Place {
    Header,
    Query,
    Body,
}

fn is_json(ctx: &RequestCtx) -> bool {
    ctx.headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A top-level field of a JSON or urlencoded body (repeated form fields become an array).
fn body_field(ctx: &RequestCtx, name: &str) -> Option<Value> {
    let body = ctx.body.as_ref()?;
    if is_json(ctx) {
        return serde_json::from_slice::<Value>(body)
            .ok()?
            .get(name)
            .cloned();
    }
    let values: Vec<Value> = url::form_urlencoded::parse(body)
        .filter(|(k, _)| k == name)
        .map(|(_, v)| Value::String(v.into_owned()))
        .collect();
    match values.len() {
        0 => None,
        1 => values.into_iter().next(),
        _ => Some(Value::Array(values)),
    }
}

fn remove_body_field(ctx: &mut RequestCtx, name: &str) {
    let Some(body) = ctx.body.take() else { return };
    let rewritten = if is_json(ctx) {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(mut map)) => {
                map.remove(name);
                serde_json::to_vec(&map)
                    .map(bytes::Bytes::from)
                    .unwrap_or(body)
            }
            _ => body,
        }
    } else {
        let kept = url::form_urlencoded::parse(&body).filter(|(k, _)| k != name);
        bytes::Bytes::from(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        )
    };
    ctx.body = Some(rewritten);
}

fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
}

impl Handler for KeyAuth {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move { self.authenticate(ctx) })
    }

    fn needs_body(&self) -> bool {
        self.config.key_in_body
    }
}

impl KeyAuth {
    fn authenticate(&self, ctx: &mut RequestCtx) -> Option<ShortCircuit> {
        if !self.config.run_on_preflight && ctx.method == http::Method::OPTIONS {
            return None;
        }
        if self.anonymous.is_some() && ctx.credential_id.is_some() {
            // Another authentication plugin already succeeded: `anonymous` makes them a logical OR.
            return None;
        }
        let failure = match self.find_key(ctx) {
            Err(reason) => reason,
            Ok(None) => "No API key found in request",
            Ok(Some((key, index, place))) => {
                if self.config.hide_credentials {
                    self.hide(ctx, index, place);
                }
                match self.consumers.key(&key, crate::entities::now_seconds()) {
                    Some(entry) => {
                        set_consumer(ctx, Some(entry.consumer.clone()), Some(entry.credential_id));
                        return None;
                    }
                    None => "Unauthorized",
                }
            }
        };
        match (&self.anonymous, &self.config.anonymous) {
            (Some(anonymous), _) => {
                set_consumer(ctx, Some(anonymous.clone()), None);
                None
            }
            (None, Some(missing)) => {
                tracing::error!(anonymous = %missing, "key-auth: the anonymous consumer does not exist");
                Some(kong_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An unexpected error occurred",
                ))
            }
            (None, None) => Some(self.unauthorized(failure)),
        }
    }
}

/// Record the consumer and tell the upstream who it is; clear what the client may have forged.
pub fn set_consumer(
    ctx: &mut RequestCtx,
    consumer: Option<Arc<ConsumerInfo>>,
    credential: Option<uuid::Uuid>,
) {
    // Names built at compile time: this runs on every authenticated request.
    const CONSUMER_ID: HeaderName = HeaderName::from_static("x-consumer-id");
    const CONSUMER_USERNAME: HeaderName = HeaderName::from_static("x-consumer-username");
    const CONSUMER_CUSTOM_ID: HeaderName = HeaderName::from_static("x-consumer-custom-id");
    const CREDENTIAL: HeaderName = HeaderName::from_static("x-credential-identifier");
    const ANONYMOUS: HeaderName = HeaderName::from_static("x-anonymous-consumer");
    let h = &mut ctx.headers;
    for name in [
        &CONSUMER_ID,
        &CONSUMER_USERNAME,
        &CONSUMER_CUSTOM_ID,
        &CREDENTIAL,
        &ANONYMOUS,
    ] {
        h.remove(name);
    }
    if let Some(c) = &consumer {
        h.insert(CONSUMER_ID, c.id_header.clone());
        if let Some(v) = &c.username_header {
            h.insert(CONSUMER_USERNAME, v.clone());
        }
        if let Some(v) = &c.custom_id_header {
            h.insert(CONSUMER_CUSTOM_ID, v.clone());
        }
    }
    match credential {
        Some(id) => {
            let mut text = uuid::Uuid::encode_buffer();
            if let Ok(v) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)) {
                h.insert(CREDENTIAL, v);
            }
        }
        None => {
            h.insert(ANONYMOUS, HeaderValue::from_static("true"));
        }
    }
    ctx.consumer = consumer;
    ctx.credential_id = credential;
}

#[cfg(test)]
mod tests;
