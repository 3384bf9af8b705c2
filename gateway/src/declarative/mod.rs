//! Kong's declarative configuration format (`_format_version: "3.0"`, YAML or JSON) to and
//! from a [`Config`], with `file:line:column` errors, and the decK-style diff behind
//! `gateway config sync`.
//!
//! Reading a file goes: [`yaml`] (a tree that remembers positions) → [`document`] (top-level
//! keys, nested children flattened into entries) → [`build`] (references resolved,
//! deterministic ids, each entity validated, uniqueness checked) → [`Config`].
//! [`export`] goes the other way; [`diff`] compares two configs and applies the changes.
//! Files and `KONG_DECLARATIVE_CONFIG_STRING` get Kong's `{vault://env/NAME}` references
//! resolved on the tree by [`vault`] first; text from the Admin API does not.
//! decK's `_info.select_tags` ([`info`]) become tags on every entity of the file, and
//! [`select_tags`] limits a sync to the database entities that carry them all.

mod build;
mod diff;
mod document;
mod export;
mod ids;
mod info;
mod select_tags;
mod vault;
mod yaml;

#[cfg(test)]
mod select_tags_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vault_tests;

pub use diff::{apply, diff, render, Change};
pub use export::to_document;
pub use select_tags::{plan, scope_line};
pub use vault::{process_env, Env, Secrets, HIDDEN};

use crate::config::Config;
use crate::entities::Kind;
use std::collections::HashMap;
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

    /// A problem with the whole source rather than a place in it.
    fn whole(message: impl Into<String>) -> Self {
        Problem {
            line: None,
            column: None,
            path: String::new(),
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

/// Kong's variable for a declarative configuration given as text rather than as a file.
pub const CONFIG_STRING_VAR: &str = "KONG_DECLARATIVE_CONFIG_STRING";

/// A configuration as read by [`load`].
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// The file name, or [`CONFIG_STRING_VAR`].
    pub origin: String,
    /// What its vault references resolved to, for reports to hide.
    pub secrets: Secrets,
    /// decK's `_info.select_tags`: empty unless the file scopes `config sync` (see [`plan`]).
    pub select_tags: Vec<String>,
    /// Where each entity was written, for problems that [`plan`] finds against a database.
    places: Places,
}

/// Each entity's (kind, id) → where it starts and its document path.
type Places = HashMap<(Kind, uuid::Uuid), (yaml::Position, String)>;

/// What [`parse`] makes of a text.
struct Parsed {
    config: Config,
    secrets: Secrets,
    select_tags: Vec<String>,
    places: Places,
}

/// Read `file`, or without one the text of `KONG_DECLARATIVE_CONFIG_STRING`, with env vault
/// references resolved; `env` supplies both variables and references.
pub fn load(file: Option<&Path>, env: Env<'_>) -> Result<Loaded, DeclarativeError> {
    let (text, origin) = match file {
        Some(path) => (read(path)?, path.display().to_string()),
        None => (config_string(env)?, CONFIG_STRING_VAR.to_string()),
    };
    let parsed = parse(&text, &origin, Some(env))?;
    Ok(Loaded {
        config: parsed.config,
        origin,
        secrets: parsed.secrets,
        select_tags: parsed.select_tags,
        places: parsed.places,
    })
}

/// Read and parse a declarative file, env vault references resolved from the process
/// environment; the file name appears in every message.
pub fn parse_file(path: &Path) -> Result<Config, DeclarativeError> {
    load(Some(path), &process_env).map(|loaded| loaded.config)
}

/// Parse a declarative document (YAML or JSON) as written: vault references stay text, so
/// whoever sends it (the Admin API's `/config`) cannot read the node's environment. `origin`
/// names it in messages.
pub fn parse_str(text: &str, origin: &str) -> Result<Config, DeclarativeError> {
    parse(text, origin, None).map(|parsed| parsed.config)
}

fn read(path: &Path) -> Result<String, DeclarativeError> {
    std::fs::read_to_string(path).map_err(|err| DeclarativeError {
        origin: path.display().to_string(),
        problems: vec![Problem::whole(format!("cannot read the file: {err}"))],
    })
}

/// The text of `KONG_DECLARATIVE_CONFIG_STRING`; unset and empty alike are an error.
fn config_string(env: Env<'_>) -> Result<String, DeclarativeError> {
    env(CONFIG_STRING_VAR)
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| DeclarativeError {
            origin: CONFIG_STRING_VAR.to_string(),
            problems: vec![Problem::whole(
                "not set and no FILE given: pass a declarative configuration file, \
                 or put the configuration's text in this variable",
            )],
        })
}

/// Parse, resolving vault references when given an `env`. Messages never show what a
/// reference resolved to.
fn parse(text: &str, origin: &str, env: Option<Env<'_>>) -> Result<Parsed, DeclarativeError> {
    let mut secrets = Secrets::default();
    let fail = |mut problems: Vec<Problem>, secrets: &Secrets| {
        problems.sort_by_key(|p| (p.line, p.column));
        for p in &mut problems {
            p.message = secrets.redact(&p.message);
        }
        DeclarativeError {
            origin: origin.to_string(),
            problems,
        }
    };
    let mut root =
        yaml::parse(text).map_err(|e| fail(vec![Problem::at(e.at, "", e.message)], &secrets))?;
    let mut unresolved = Vec::new();
    if let Some(env) = env {
        vault::resolve(&mut root, "", env, &mut secrets, &mut unresolved);
    }
    let mut problems = Vec::new();
    let select_tags = info::select_tags(&root, &mut problems);
    let mut entries = document::collect(&root, &mut problems);
    info::add_tags(&mut entries, &select_tags);
    let (config, ids) = build::build(&entries, &mut problems);
    // What a reference left as text then broke is not worth a second message.
    problems.retain(|p| !unresolved.iter().any(|u| within(&p.path, &u.path)));
    problems.extend(unresolved);
    if problems.is_empty() {
        let places = places(&entries, &ids);
        Ok(Parsed {
            config,
            secrets,
            select_tags,
            places,
        })
    } else {
        Err(fail(problems, &secrets))
    }
}

fn places(entries: &[document::Entry<'_>], ids: &[Option<uuid::Uuid>]) -> Places {
    entries
        .iter()
        .zip(ids)
        .filter_map(|(e, id)| Some(((e.kind, (*id)?), (e.node.at, e.path.clone()))))
        .collect()
}

/// Whether document path `path` is `at` or inside it.
fn within(path: &str, at: &str) -> bool {
    path.strip_prefix(at)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}
