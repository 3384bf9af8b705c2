//! Reading a stack file: parse with spans, decode every field, run the AWS rules, locate problems.

mod collector;
mod de;
mod node;
mod suggest;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use self::collector::{Collector, RawProblem};
use self::node::Node;
use crate::env::{Env, ProcessEnv};
use crate::problem::{LoadError, Locator, Problem, ValidationError};
use crate::rules;
use crate::stack::Stack;

/// Loads `stacks/NAME.toml` under `root` (the workspace), with the process environment.
pub fn load_stack(root: &Path, name: &str) -> Result<Stack, LoadError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(LoadError::BadName(name.to_string()));
    }
    let relative = Path::new("stacks").join(format!("{name}.toml"));
    let text = std::fs::read_to_string(root.join(&relative)).map_err(|source| LoadError::Read {
        path: root.join(&relative),
        source,
    })?;
    let mut stack = parse_stack(&relative.display().to_string(), &text, &ProcessEnv)?;
    stack.dir = Some(root.join("stacks"));
    Ok(stack)
}

/// Loads a stack file by path, with the process environment.
pub fn load_file(path: &Path) -> Result<Stack, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut stack = parse_stack(&path.display().to_string(), &text, &ProcessEnv)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    stack.dir = Some(if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    });
    Ok(stack)
}

/// Parses and checks one stack file's text; `file` only labels the problems.
pub fn parse_stack(file: &str, text: &str, env: &dyn Env) -> Result<Stack, ValidationError> {
    let (raw, stack) = decode(text, env);
    let locator = Locator::new(text);
    let mut problems: Vec<Problem> = raw
        .into_iter()
        .map(|raw| {
            let (line, column) = locator.position(text, &raw.span);
            Problem {
                line,
                column,
                path: raw.path,
                message: raw.message,
            }
        })
        .collect();
    problems.sort_by(|a, b| (a.line, a.column, &a.path).cmp(&(b.line, b.column, &b.path)));
    problems.dedup();
    match stack {
        Some(stack) if problems.is_empty() => Ok(stack),
        _ => Err(ValidationError {
            file: file.to_string(),
            problems,
        }),
    }
}

/// Every raw problem of the text, and the stack when decoding got that far.
fn decode(text: &str, env: &dyn Env) -> (Vec<RawProblem>, Option<Stack>) {
    // Only the earliest syntax error: after it the parser's recovery guesses, and its guesses
    // cascade into dozens of errors (an unclosed `[` swallows the rest of the file).
    let (table, syntax) = DeTable::parse_recoverable(text);
    let earliest = syntax
        .into_iter()
        .min_by_key(|err| err.span().map_or(0, |span| span.start));
    if let Some(err) = earliest {
        let problem = RawProblem {
            path: String::new(),
            span: err.span().unwrap_or(0..0),
            message: format!("invalid TOML: {}", err.message().trim_end()),
        };
        return (vec![problem], None);
    }
    let span = table.span();
    let root = Spanned::new(span, DeValue::Table(table.into_inner()));
    let collector = Collector::new(env);
    let stack = Stack::deserialize(Node::root(&root, &collector)).ok();
    let (mut problems, spans) = collector.into_parts();
    if let Some(stack) = &stack {
        // A rule reading a field another rule already found wrong stays quiet, as after decoding.
        let mut found: Vec<String> = Vec::new();
        for finding in rules::check(stack) {
            let decoded_wrong = finding.inputs.iter().any(|input| spans.is_poisoned(input));
            let others = finding
                .inputs
                .iter()
                .filter(|input| **input != finding.path);
            let ruled_wrong = others.clone().any(|input| found.contains(input));
            if decoded_wrong || ruled_wrong {
                continue;
            }
            found.push(finding.path.clone());
            let span = spans.locate(&finding.path);
            problems.push(RawProblem {
                path: finding.path,
                span,
                message: finding.message,
            });
        }
    }
    (problems, stack)
}

#[cfg(test)]
mod tests;
