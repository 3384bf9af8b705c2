//! `${env:NAME}` interpolation in stack string values (`${env:NAME:-default}` gives a default).

pub mod placeholders;

use std::collections::HashMap;

use placeholders::Piece;

/// Where variables come from: the process, or a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    #[error("environment variable `{0}` is not set (referenced as ${{env:{0}}})")]
    Missing(String),
    #[error("unterminated `${{` (write `$${{` for a literal `${{`)")]
    Unterminated,
    #[error("unsupported placeholder `${{{0}}}`: only `${{env:NAME}}` and `${{env:NAME:-default}}` exist")]
    Unsupported(String),
    #[error("`{0}` is not a valid environment variable name")]
    BadName(String),
}

/// Replaces every `${env:NAME}` in `text`; `$${` stays a literal `${`.
pub fn interpolate(text: &str, env: &dyn Env) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(text.len());
    for piece in placeholders::pieces(text, false) {
        match piece {
            Piece::Text(run) => out.push_str(run),
            Piece::Placeholder { inner, .. } => out.push_str(&resolve(inner, env)?),
            Piece::Unterminated { .. } => return Err(InterpolationError::Unterminated),
        }
    }
    Ok(out)
}

fn resolve(inner: &str, env: &dyn Env) -> Result<String, InterpolationError> {
    let spec = inner
        .strip_prefix("env:")
        .ok_or_else(|| InterpolationError::Unsupported(inner.to_string()))?;
    let (name, default) = match spec.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (spec, None),
    };
    if !is_var_name(name) {
        return Err(InterpolationError::BadName(name.to_string()));
    }
    match (env.var(name), default) {
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_string()),
        (None, None) => Err(InterpolationError::Missing(name.to_string())),
    }
}

/// A POSIX-style variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
