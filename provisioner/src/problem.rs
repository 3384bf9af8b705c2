//! Problems found in a stack file, located as `file:line:column: path: message`.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One thing wrong with a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted field path, e.g. `gateway.cpu` (empty for the whole file).
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.line, self.column, self.path, self.message
            )
        }
    }
}

/// Every problem of one stack file, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The file as the user named it, e.g. `stacks/prod.toml`.
    pub file: String,
    pub problems: Vec<Problem>,
}

impl ValidationError {
    /// One `file:line:column: path: message` line per problem.
    pub fn lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| format!("{}:{p}", self.file))
            .collect()
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        let noun = if count == 1 { "problem" } else { "problems" };
        write!(f, "{}: {count} {noun}", self.file)?;
        for line in self.lines() {
            write!(f, "\n{line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Why a stack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read stack file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stack name `{0}` must be letters, digits, `-` or `_` (it names stacks/NAME.toml)")]
    BadName(String),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Maps byte offsets of one text to 1-based line and column.
pub struct Locator {
    line_starts: Vec<usize>,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let breaks = text.match_indices('\n').map(|(at, _)| at + 1);
        Self {
            line_starts: std::iter::once(0).chain(breaks).collect(),
        }
    }

    /// Line and column of `span.start` in `text` (the text given to `new`).
    pub fn position(&self, text: &str, span: &Range<usize>) -> (usize, usize) {
        let offset = span.start.min(text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let text = "a = 1\n\"é\" = 2\n\nb = 3";
        let locator = Locator::new(text);
        let cases = [
            (0, (1, 1)),
            (4, (1, 5)),
            (6, (2, 1)),
            (11, (2, 5)),
            (15, (3, 1)),
            (16, (4, 1)),
        ];
        for (offset, want) in cases {
            assert_eq!(
                locator.position(text, &(offset..offset)),
                want,
                "offset {offset}"
            );
        }
    }
}
