//! A YAML (and so JSON) document as a tree that remembers where each node was written, so
//! every later problem can point at a line and column.

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// A position in the source, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn of(span: &Span) -> Position {
        Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// One node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Position,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// null, boolean, number or string.
    Scalar(Value),
    Seq(Vec<Node>),
    /// Entries in written order; keys are unique (checked while building).
    Map(Vec<Entry>),
}

/// A mapping entry: the key, where the key was written, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub at: Position,
    pub value: Node,
}

/// A syntax problem: where, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: Position,
    pub message: String,
}

impl Node {
    pub fn to_json(&self) -> Value {
        match &self.body {
            Body::Scalar(v) => v.clone(),
            Body::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Body::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.body {
            Body::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// Where the deepest existing node along `segments` was written: map keys point at the
    /// key, list items at the item. Stops at the last node found, so a missing field points
    /// at its entity.
    pub fn locate(&self, segments: &[Segment]) -> Position {
        let mut node = self;
        let mut at = self.at;
        for segment in segments {
            let next = match (segment, &node.body) {
                (Segment::Key(k), Body::Map(_)) => node.entry(k).map(|e| (e.at, &e.value)),
                (Segment::Index(i), Body::Seq(items)) => items.get(*i).map(|n| (n.at, n)),
                _ => None,
            };
            match next {
                Some((pos, child)) => {
                    at = pos;
                    node = child;
                }
                None => break,
            }
        }
        at
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Parse one YAML document (JSON included). An empty text gives a null node.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| SyntaxError {
            at: Position {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: e.info().to_string(),
        })?;
        builder.on_event(event, span)?;
    }
    Ok(builder.root.unwrap_or(Node {
        at: Position { line: 1, column: 1 },
        body: Body::Scalar(Value::Null),
    }))
}

/// An open collection: the node under construction, its anchor, and for maps the key
/// waiting for its value.
struct Open {
    node: Node,
    anchor: usize,
    pending_key: Option<(String, Position)>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let at = Position::of(&span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError {
                        at,
                        message: "only one YAML document is allowed per file".into(),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref());
                self.finish(
                    Node {
                        at,
                        body: Body::Scalar(value),
                    },
                    anchor,
                )?;
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    at,
                    message: "unknown anchor".into(),
                })?;
                self.finish(node, 0)?;
            }
            Event::SequenceStart(anchor, _) => self.open(at, anchor, Body::Seq(Vec::new())),
            Event::MappingStart(anchor, _) => self.open(at, anchor, Body::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(mut open) = self.stack.pop() {
                    expand_merge(&mut open.node);
                    self.finish(open.node, open.anchor)?;
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn open(&mut self, at: Position, anchor: usize, body: Body) {
        self.stack.push(Open {
            node: Node { at, body },
            anchor,
            pending_key: None,
        });
    }

    /// A complete node: remember its anchor and hand it to the enclosing collection.
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut parent.node.body {
            Body::Seq(items) => items.push(node),
            Body::Map(entries) => match parent.pending_key.take() {
                None => parent.pending_key = Some((key_text(&node)?, node.at)),
                Some((key, at)) => {
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        return Err(SyntaxError {
                            at,
                            message: format!(
                                "duplicate key '{key}' (first at line {})",
                                first.at.line
                            ),
                        });
                    }
                    entries.push(Entry {
                        key,
                        at,
                        value: node,
                    });
                }
            },
            Body::Scalar(_) => unreachable!("scalars are never opened"),
        }
        Ok(())
    }
}

/// YAML's merge key (`<<: *defaults`, or a list of them): the merged maps' entries that the
/// map does not set itself. Anything else under `<<` stays, to be reported as unknown.
fn expand_merge(node: &mut Node) {
    let Body::Map(entries) = &mut node.body else {
        return;
    };
    let Some(index) = entries.iter().position(|e| e.key == "<<") else {
        return;
    };
    let sources = match &entries[index].value.body {
        Body::Map(_) => vec![entries[index].value.clone()],
        Body::Seq(items) if items.iter().all(|i| matches!(i.body, Body::Map(_))) => items.clone(),
        _ => return,
    };
    entries.remove(index);
    for source in sources {
        if let Body::Map(extra) = source.body {
            for entry in extra {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
}

/// Mapping keys must be scalars; numbers and booleans are read as their text.
fn key_text(node: &Node) -> Result<String, SyntaxError> {
    match &node.body {
        Body::Scalar(Value::String(s)) => Ok(s.clone()),
        Body::Scalar(Value::Null) => Ok(String::new()),
        Body::Scalar(other) => Ok(other.to_string()),
        _ => Err(SyntaxError {
            at: node.at,
            message: "mapping keys must be plain values, not lists or maps".into(),
        }),
    }
}

/// YAML 1.2 core schema: quoted scalars are strings; plain ones may be null, booleans or
/// numbers. Explicit `!!str` (and friends) tags win.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let string = || Value::String(text.to_string());
    if let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => string(),
            _ => plain_scalar(text).unwrap_or_else(string),
        };
    }
    if tag.is_some() || style != ScalarStyle::Plain {
        return string();
    }
    plain_scalar(text).unwrap_or_else(string)
}

fn plain_scalar(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Value::from);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Value::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Value::from(n));
        }
        return text.parse::<u64>().ok().map(Value::from);
    }
    let numeric = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if numeric {
        return text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    None
}
