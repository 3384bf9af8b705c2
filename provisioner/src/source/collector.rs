//! What decoding a stack file gathers besides the value: problems, spans by path, poisoned paths.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::env::Env;

/// A problem before it is turned into line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProblem {
    pub path: String,
    pub span: Range<usize>,
    pub message: String,
}

/// Shared by every node of one decode; interior mutability because serde passes nodes by value.
pub struct Collector<'e> {
    pub env: &'e dyn Env,
    problems: RefCell<Vec<RawProblem>>,
    value_spans: RefCell<BTreeMap<String, Range<usize>>>,
    key_spans: RefCell<BTreeMap<String, Range<usize>>>,
    poisoned: RefCell<BTreeSet<String>>,
}

impl<'e> Collector<'e> {
    pub fn new(env: &'e dyn Env) -> Self {
        Self {
            env,
            problems: RefCell::default(),
            value_spans: RefCell::default(),
            key_spans: RefCell::default(),
            poisoned: RefCell::default(),
        }
    }

    /// Records a problem and marks `path` so later checks do not pile on a value already wrong.
    pub fn report(&self, path: &str, span: Range<usize>, message: String) {
        self.poisoned.borrow_mut().insert(path.to_string());
        self.problems.borrow_mut().push(RawProblem {
            path: path.to_string(),
            span,
            message,
        });
    }

    /// Remembers where `path` is; for a table pass the key's span as `value` too, since a
    /// table's own span covers its whole body.
    pub fn remember(&self, path: &str, key: Range<usize>, value: Range<usize>) {
        self.key_spans.borrow_mut().insert(path.to_string(), key);
        self.value_spans
            .borrow_mut()
            .insert(path.to_string(), value);
    }

    pub fn into_parts(self) -> (Vec<RawProblem>, Spans) {
        let spans = Spans {
            values: self.value_spans.into_inner(),
            keys: self.key_spans.into_inner(),
            poisoned: self.poisoned.into_inner(),
        };
        (self.problems.into_inner(), spans)
    }
}

/// Where each field path sits in the file, and which paths already have a problem.
#[derive(Debug, Default)]
pub struct Spans {
    values: BTreeMap<String, Range<usize>>,
    keys: BTreeMap<String, Range<usize>>,
    poisoned: BTreeSet<String>,
}

impl Spans {
    /// The value at `path`; for a path not in the file, the nearest enclosing table's key; else
    /// the start of the file.
    pub fn locate(&self, path: &str) -> Range<usize> {
        if let Some(span) = self.values.get(path) {
            return span.clone();
        }
        let mut at = path;
        loop {
            if let Some(span) = self.keys.get(at) {
                return span.clone();
            }
            match at.rfind('.') {
                Some(dot) => at = &at[..dot],
                None => return 0..0,
            }
        }
    }

    /// True when `path`, one of its ancestors or one of its descendants had a problem.
    pub fn is_poisoned(&self, path: &str) -> bool {
        self.poisoned.iter().any(|bad| {
            bad == path || is_ancestor(bad, path) || is_ancestor(path, bad) || bad.is_empty()
        })
    }
}

fn is_ancestor(ancestor: &str, path: &str) -> bool {
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && matches!(path.as_bytes()[ancestor.len()], b'.' | b'[')
}
