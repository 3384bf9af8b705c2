//! Kong's declarative configuration format (`_format_version: "3.0"`, YAML or JSON) to and
//! from a [`Config`], with `file:line:column` errors, and the decK-style diff behind
//! `gateway config sync`.
//!
//! Reading a file goes: [`yaml`] (a tree that remembers positions) → [`document`] (top-level
//! keys, nested children flattened into entries) → [`build`] (references resolved,
//! deterministic ids, each entity validated, uniqueness checked) → [`Config`].
//! [`export`] goes the other way; [`diff`] compares two configs and applies the changes.

mod build;
mod diff;
mod document;
mod export;
mod ids;
mod yaml;

#[cfg(test)]
mod tests;

pub use diff::{apply, diff, render, Change};
pub use export::to_document;

use crate::config::Config;
use std::fmt;
use std::path::Path;

/// One problem in a declarative file, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Where in the document: `services[0].routes[1].paths[0]`; empty for the file itself.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn at(
        at: yaml::Position,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            line: Some(at.line),
            column: Some(at.column),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Everything wrong with one file, reported at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarativeError {
    /// The file name used in messages.
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for DeclarativeError {
    /// One line per problem: `kong.yaml:12:9: services[0].routes[1].paths[0]: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.origin)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
                if let Some(column) = p.column {
                    write!(f, ":{column}")?;
                }
            }
            if !p.path.is_empty() {
                write!(f, ": {}", p.path)?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for DeclarativeError {}

/// Read and parse a declarative file; the file name appears in every message.
pub fn parse_file(path: &Path) -> Result<Config, DeclarativeError> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_str(&text, &origin),
        Err(err) => Err(DeclarativeError {
            origin,
            problems: vec![Problem {
                line: None,
                column: None,
                path: String::new(),
                message: format!("cannot read the file: {err}"),
            }],
        }),
    }
}

/// Parse a declarative document (YAML or JSON). `origin` names it in messages.
pub fn parse_str(text: &str, origin: &str) -> Result<Config, DeclarativeError> {
    let fail = |mut problems: Vec<Problem>| {
        problems.sort_by_key(|p| (p.line, p.column));
        DeclarativeError {
            origin: origin.to_string(),
            problems,
        }
    };
    let root = yaml::parse(text).map_err(|e| fail(vec![Problem::at(e.at, "", e.message)]))?;
    let mut problems = Vec::new();
    let entries = document::collect(&root, &mut problems);
    let config = build::build(&entries, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(fail(problems))
    }
}
