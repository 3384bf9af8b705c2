//! request-transformer: rewrite the upstream request's path, method, headers, body and query
//! string as Kong 3.x does, with `$(...)` templates compiled once per snapshot.
//!
//! Order (Kong's `access.lua`): uri, method, headers, body, querystring; within each: remove,
//! rename, replace (only if present), add (only if absent), append. Every template is rendered
//! against the request as it reached this plugin, before any edit.
//!
//! What the proxy honours after the access phase: `ctx.method`; `ctx.upstream_path` (the whole
//! upstream path, as Kong's `set_path`: no strip_path, no service path); `ctx.query`;
//! `ctx.headers`; `ctx.body` when `Some`, sent with its `Content-Length`.

mod params;

use super::header_edit::{header_entries, list, name_of, pair, parse_config, Edit, HeaderEdit};
use super::template::{Env, Template};
use super::{Handler, RequestCtx, ShortCircuit};
use crate::entities::FieldErrors;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderName, HeaderValue, Method};
use params::Params;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Lists {
    #[serde(deserialize_with = "list")]
    headers: Vec<String>,
    #[serde(deserialize_with = "list")]
    querystring: Vec<String>,
    #[serde(deserialize_with = "list")]
    body: Vec<String>,
    /// Only under `replace`.
    uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    http_method: Option<String>,
    remove: Option<Lists>,
    rename: Option<Lists>,
    replace: Option<Lists>,
    add: Option<Lists>,
    append: Option<Lists>,
}

/// Where a value's template sits in [`RequestTransformer::templates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot(usize);

#[derive(Debug)]
pub struct RequestTransformer {
    templates: Vec<Template>,
    uri: Option<Slot>,
    method: Option<Method>,
    headers: HeaderEdit<Slot>,
    body: Edit<String, Slot>,
    query: Edit<String, Slot>,
}

impl RequestTransformer {
    pub fn from_config(config: &Value) -> Result<RequestTransformer, FieldErrors> {
        let config: Config = parse_config(config)?;
        let mut b = Builder::default();
        let method = config.http_method.as_deref().and_then(|m| b.method(m));
        let empty = Lists::default();
        let lists = [
            ("remove", config.remove.as_ref().unwrap_or(&empty)),
            ("rename", config.rename.as_ref().unwrap_or(&empty)),
            ("replace", config.replace.as_ref().unwrap_or(&empty)),
            ("add", config.add.as_ref().unwrap_or(&empty)),
            ("append", config.append.as_ref().unwrap_or(&empty)),
        ];
        let mut headers = HeaderEdit::default();
        let mut body = Edit::default();
        let mut query = Edit::default();
        let mut uri = None;
        for (op, lists) in lists {
            b.headers(op, &lists.headers, &mut headers);
            b.params(&format!("{op}.body"), op, &lists.body, &mut body);
            b.params(
                &format!("{op}.querystring"),
                op,
                &lists.querystring,
                &mut query,
            );
            if let Some(u) = &lists.uri {
                match op {
                    "replace" => uri = b.template(u, "config.replace.uri"),
                    _ => b.errors.add(&format!("config.{op}.uri"), "unknown field"),
                }
            }
        }
        b.errors.into_result()?;
        Ok(RequestTransformer {
            templates: b.templates,
            uri,
            method,
            headers,
            body,
            query,
        })
    }

    /// Every template's value for this request, rendered before anything changes.
    fn render(&self, ctx: &RequestCtx) -> Vec<Cow<'_, str>> {
        let env = Env {
            headers: &ctx.headers,
            query: ctx.query.as_deref(),
            uri_captures: &ctx.uri_captures,
        };
        self.templates.iter().map(|t| t.render(&env)).collect()
    }

    fn transform(&self, ctx: &mut RequestCtx) {
        let values = self.render(ctx);
        let value = |slot: &Slot| values[slot.0].as_ref();
        if let Some(slot) = self.uri {
            set_path(ctx, value(&slot));
        }
        if let Some(method) = &self.method {
            set_method(ctx, method);
        }
        self.headers.apply(&mut ctx.headers, |slot| {
            HeaderValue::from_str(value(slot)).ok()
        });
        if !self.body.is_empty() {
            transform_body(ctx, &self.body, value);
        }
        if !self.query.is_empty() {
            let mut query = Params::parse(ctx.query.as_deref().unwrap_or(""));
            query.apply(&self.query, value);
            ctx.query = (!query.is_empty()).then(|| query.encode(true));
        }
    }
}

/// Kong's `set_path`: the rendered path replaces the upstream path. One that is not a path
/// (Kong fails the request there) leaves it unchanged.
fn set_path(ctx: &mut RequestCtx, path: &str) {
    if path.starts_with('/') {
        ctx.upstream_path = Some(params::escape_path(path));
    } else {
        tracing::warn!(
            path,
            "request-transformer: replace.uri did not render a path"
        );
    }
}

/// A form body sent with GET, HEAD or TRACE moves into the query string too (Kong keeps the
/// body as well).
fn set_method(ctx: &mut RequestCtx, method: &Method) {
    ctx.method = method.clone();
    let bodiless = [Method::GET, Method::HEAD, Method::TRACE].contains(method);
    if !bodiless || body_kind(ctx) != Some(BodyKind::Form) {
        return;
    }
    let Some(body) = ctx.body.as_deref() else {
        return;
    };
    let form = Params::parse(&String::from_utf8_lossy(body));
    if form.is_empty() {
        return;
    }
    let mut query = Params::parse(ctx.query.as_deref().unwrap_or(""));
    query.merge(form);
    ctx.query = Some(query.encode(true));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
}

fn body_kind(ctx: &RequestCtx) -> Option<BodyKind> {
    let content_type = ctx.headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let content_type = content_type.to_ascii_lowercase();
    if content_type.contains("application/json") {
        Some(BodyKind::Json)
    } else if content_type.contains("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else {
        None
    }
}

/// JSON and urlencoded bodies; others (multipart included) are left alone. An empty body only
/// gains what `add` and `append` bring.
fn transform_body<'v>(
    ctx: &mut RequestCtx,
    edit: &'v Edit<String, Slot>,
    value: impl Fn(&'v Slot) -> &'v str,
) {
    let Some(kind) = body_kind(ctx) else { return };
    let body = ctx.body.clone().unwrap_or_default();
    if body.is_empty() && edit.add.is_empty() && edit.append.is_empty() {
        return;
    }
    let rewritten = match kind {
        BodyKind::Json => {
            let parsed = if body.is_empty() {
                Ok(Value::Object(Default::default()))
            } else {
                serde_json::from_slice::<Value>(&body)
            };
            // Kong leaves a body that is not a JSON object as it came.
            let Ok(Value::Object(mut object)) = parsed else {
                return;
            };
            edit.apply_json(&mut object, |slot| {
                Some(Value::String(value(slot).to_string()))
            });
            Value::Object(object).to_string()
        }
        BodyKind::Form => {
            let mut form = Params::parse(&String::from_utf8_lossy(&body));
            form.apply(edit, value);
            form.encode(false)
        }
    };
    ctx.headers.insert(
        http::header::CONTENT_LENGTH,
        HeaderValue::from(rewritten.len()),
    );
    ctx.body = Some(Bytes::from(rewritten));
}

impl Handler for RequestTransformer {
    fn access<'a>(&'a self, ctx: &'a mut RequestCtx) -> BoxFuture<'a, Option<ShortCircuit>> {
        Box::pin(async move {
            self.transform(ctx);
            None
        })
    }

    /// Body edits read the body; so does a switch to GET/HEAD/TRACE (a form body joins the query).
    fn needs_body(&self) -> bool {
        let bodiless = [Method::GET, Method::HEAD, Method::TRACE];
        !self.body.is_empty() || self.method.as_ref().is_some_and(|m| bodiless.contains(m))
    }
}

// === building ===

/// Collects compiled templates and every config error at once.
#[derive(Default)]
struct Builder {
    templates: Vec<Template>,
    errors: FieldErrors,
}

impl Builder {
    fn template(&mut self, source: &str, field: &str) -> Option<Slot> {
        compile(&mut self.templates, source)
            .map_err(|message| self.errors.add(field, message))
            .ok()
    }

    fn method(&mut self, method: &str) -> Option<Method> {
        let parsed = method
            .bytes()
            .all(|b| b.is_ascii_uppercase())
            .then(|| Method::from_bytes(method.as_bytes()).ok())
            .flatten();
        if parsed.is_none() || method.is_empty() {
            self.errors
                .add("config.http_method", format!("invalid value: {method}"));
        }
        parsed
    }

    fn headers(&mut self, op: &str, entries: &[String], edit: &mut HeaderEdit<Slot>) {
        let templates = &mut self.templates;
        let value = |value: &str, _: &str| compile(templates, value);
        header_entries(
            op,
            entries,
            edit,
            &mut self.errors,
            host_only_by_replace,
            value,
        );
    }

    fn params(&mut self, list: &str, op: &str, entries: &[String], edit: &mut Edit<String, Slot>) {
        for (i, entry) in entries.iter().enumerate() {
            let field = format!("config.{list}.{}", i + 1);
            if op == "remove" {
                edit.remove.push(name_of(entry).to_string());
                continue;
            }
            let Some((name, value)) = pair(entry, &field, &mut self.errors) else {
                continue;
            };
            if op == "rename" {
                if !value.is_empty() {
                    edit.rename.push((name.to_string(), value.to_string()));
                }
                continue;
            }
            if value.is_empty() {
                continue;
            }
            let Some(slot) = self.template(value, &field) else {
                continue;
            };
            let target = match op {
                "replace" => &mut edit.replace,
                "add" => &mut edit.add,
                _ => &mut edit.append,
            };
            target.push((name.to_string(), slot));
        }
    }
}

/// Compiles a template into the next slot.
fn compile(templates: &mut Vec<Template>, source: &str) -> Result<Slot, String> {
    let template = Template::compile(source).map_err(|e| e.to_string())?;
    templates.push(template);
    Ok(Slot(templates.len() - 1))
}

/// Kong's header edits never touch `Host` except `replace` (which changes the upstream Host);
/// a rename *to* Host is allowed.
fn host_only_by_replace(op: &str, name: &HeaderName) -> bool {
    name != http::header::HOST || op == "replace"
}

#[cfg(test)]
mod tests;
