//! Kong's `$(...)` value templates (request-transformer): compiled once per snapshot into
//! lookups over the request's `headers`, `query_params` and `uri_captures`, rendered per request.
//!
//! Kong evaluates the text between `$(` and its balancing `)` as sandboxed Lua. We accept the
//! expressions its documentation shows, and reject anything else when the config is built:
//! - `headers.x_api_key`, `headers['x-api-key']`, `headers["X-Api-Key"]` (case-insensitive; like
//!   nginx, a dotted name's `_` also matches `-`),
//! - `query_params.q`, `query_params['q']`, `uri_captures.apikey`, `uri_captures['apikey']`,
//!   `uri_captures[1]`,
//! - string literals `'...'` / `"..."` (Kong's escape: `$('$(not a template)')`),
//! - `a or b or 'default'`: the first value that exists.
//!
//! A lookup that finds nothing renders as an empty string, as in Kong (`(expr or '')`). A header
//! or parameter given more than once renders its first value (Kong fails the request there).
//! There is no backslash escape: Kong's engine has none.

use http::HeaderMap;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Why a template does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template variable '{0}' (use headers, query_params or uri_captures)")]
    UnknownSource(String),
    #[error("unsupported template expression '{expr}': {reason}")]
    Unsupported { expr: String, reason: &'static str },
}

/// The request a template is rendered against.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub headers: &'a HeaderMap,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub uri_captures: &'a BTreeMap<String, String>,
}

/// A compiled value: literal text with `$(...)` expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// Alternatives joined by `or`: the first that exists wins.
    Expr(Vec<Term>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Literal(String),
    Lookup { source: Source, key: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Headers,
    QueryParams,
    UriCaptures,
}

// === impl Template ===

impl Template {
    /// Compile a configured value. Text without a balanced `$(...)` is literal, as in Kong.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("$(") {
            let Some(len) = balanced(&rest[start + 1..]) else {
                break;
            };
            let inner = &rest[start + 2..start + 1 + len];
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            parts.push(Part::Expr(parse_expr(inner)?));
            rest = &rest[start + 1 + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Does the value depend on the request at all?
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The value for this request; a literal costs no allocation.
    pub fn render<'t>(&'t self, env: &Env<'_>) -> Cow<'t, str> {
        match self.parts.as_slice() {
            [] => Cow::Borrowed(""),
            [Part::Text(text)] => Cow::Borrowed(text),
            parts => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(text) => out.push_str(text),
                        Part::Expr(terms) => {
                            let value = terms.iter().find_map(|t| t.evaluate(env));
                            out.push_str(value.as_deref().unwrap_or(""));
                        }
                    }
                }
                Cow::Owned(out)
            }
        }
    }
}

/// Length of `(...)` at the start of `s`, counting nested parentheses (Lua's `%b()`).
fn balanced(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

// === impl Term ===

impl Term {
    fn evaluate<'e>(&'e self, env: &Env<'e>) -> Option<Cow<'e, str>> {
        match self {
            Term::Literal(text) => Some(Cow::Borrowed(text)),
            Term::Lookup { source, key } => match source {
                Source::UriCaptures => env.uri_captures.get(key).map(|v| Cow::Borrowed(v.as_str())),
                Source::Headers => header(env.headers, key),
                Source::QueryParams => query_param(env.query?, key),
            },
        }
    }
}

/// nginx's header table: exact (lower-cased) name first, then with `_` read as `-`.
fn header<'e>(headers: &'e HeaderMap, key: &str) -> Option<Cow<'e, str>> {
    let lower = key.to_ascii_lowercase();
    let value = headers
        .get(lower.as_str())
        .or_else(|| headers.get(lower.replace('_', "-").as_str()))?;
    Some(String::from_utf8_lossy(value.as_bytes()))
}

fn query_param(query: &str, key: &str) -> Option<Cow<'static, str>> {
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .find_map(|segment| {
            let (name, value) = url::form_urlencoded::parse(segment.as_bytes()).next()?;
            // A bare flag (`?debug`) is Lua's `true`, which has no text: render it empty.
            (name == key).then(|| Cow::Owned(value.into_owned()))
        })
}

// === parsing ===

fn parse_expr(expr: &str) -> Result<Vec<Term>, TemplateError> {
    let mut parser = Parser { src: expr, pos: 0 };
    let mut terms = vec![parser.term()?];
    loop {
        parser.skip_space();
        if parser.done() {
            return Ok(terms);
        }
        if !parser.keyword("or") {
            return Err(parser.unsupported("expected 'or' or the end of the expression"));
        }
        terms.push(parser.term()?);
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn done(&self) -> bool {
        self.rest().is_empty()
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn unsupported(&self, reason: &'static str) -> TemplateError {
        TemplateError::Unsupported {
            expr: self.src.to_string(),
            reason,
        }
    }

    /// A whole word (so `order` is not `or` + `der`).
    fn keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let after = rest.get(word.len()..).and_then(|s| s.chars().next());
        let ends = after.is_none_or(|c| !is_ident(c));
        if rest.starts_with(word) && ends {
            self.pos += word.len();
            return true;
        }
        false
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let rest = &self.src[self.pos..];
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        let first = rest.chars().next()?;
        if len == 0 || first.is_ascii_digit() {
            return None;
        }
        let start = self.pos;
        self.pos += len;
        Some(&self.src[start..self.pos])
    }

    fn term(&mut self) -> Result<Term, TemplateError> {
        self.skip_space();
        if let Some(text) = self.string()? {
            return Ok(Term::Literal(text));
        }
        let name = self
            .identifier()
            .ok_or_else(|| self.unsupported("expected a variable or a string"))?;
        let source = match name {
            "headers" => Source::Headers,
            "query_params" => Source::QueryParams,
            "uri_captures" => Source::UriCaptures,
            other => return Err(TemplateError::UnknownSource(other.to_string())),
        };
        let key = self.key()?;
        Ok(Term::Lookup { source, key })
    }

    /// `.name`, `['name']`, `["name"]` or `[1]`.
    fn key(&mut self) -> Result<String, TemplateError> {
        self.skip_space();
        if self.rest().starts_with('.') {
            self.pos += 1;
            return self
                .identifier()
                .map(str::to_string)
                .ok_or_else(|| self.unsupported("expected a name after '.'"));
        }
        if !self.rest().starts_with('[') {
            return Err(self.unsupported("a variable needs a key: .name or ['name']"));
        }
        self.pos += 1;
        self.skip_space();
        let key = match self.string()? {
            Some(text) => text,
            None => {
                let digits = self.rest().find(|c: char| !c.is_ascii_digit());
                let len = digits.unwrap_or(self.rest().len());
                if len == 0 {
                    return Err(self.unsupported("expected a string or a number in [ ]"));
                }
                self.pos += len;
                self.src[self.pos - len..self.pos].to_string()
            }
        };
        self.skip_space();
        if !self.rest().starts_with(']') {
            return Err(self.unsupported("expected ']'"));
        }
        self.pos += 1;
        Ok(key)
    }

    /// A Lua short string with its common escapes; None when no string starts here.
    fn string(&mut self) -> Result<Option<String>, TemplateError> {
        let Some(quote) = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
        else {
            return Ok(None);
        };
        let mut out = String::new();
        let mut chars = self.rest()[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos += 1 + i + 1;
                    return Ok(Some(out));
                }
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(e @ ('\\' | '\'' | '"')) => out.push(e),
                    _ => return Err(self.unsupported("unknown escape in a string")),
                },
                c => out.push(c),
            }
        }
        Err(self.unsupported("unterminated string"))
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests;
