//! Form arguments as curl sends them, decoded into JSON the way Kong's `kong/api/arguments.lua`
//! does: `a.b=1` nests, `a[]=x` and repeated `a=x` build arrays, `a[2]=x` places by index
//! (1-based, compacted), and an empty value means null.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One step of an argument name: `config`, `paths[]`, `paths[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    /// An array position; `None` appends (`a[]`).
    Index(Option<usize>),
}

/// Split an argument name into its path. Like Kong, a name starting or ending with `.` is a
/// plain key, and empty segments (`a..b`) are skipped.
pub(crate) fn parse_name(name: &str) -> Vec<Seg> {
    if name.starts_with('.') || name.ends_with('.') {
        return vec![Seg::Key(name.to_string())];
    }
    let mut path = Vec::new();
    for part in name.split('.').filter(|p| !p.is_empty()) {
        let (base, indexes) = peel_indexes(part);
        path.push(Seg::Key(base.to_string()));
        path.extend(indexes.into_iter().map(Seg::Index));
    }
    path
}

/// `paths[1][]` → (`paths`, [Some(1), None]); the base must stay non-empty.
fn peel_indexes(part: &str) -> (&str, Vec<Option<usize>>) {
    let mut base = part;
    let mut indexes = Vec::new();
    while let Some(open) = base.strip_suffix(']').and_then(|b| b.rfind('[')) {
        let inner = &base[open + 1..base.len() - 1];
        if open == 0 || !inner.chars().all(|c| c.is_ascii_digit()) {
            break;
        }
        indexes.push(inner.parse().ok());
        base = &base[..open];
    }
    indexes.reverse();
    (base, indexes)
}

/// The tree being built: arrays keep their positions until the end, then compact.
#[derive(Debug)]
enum Arg {
    Leaf(Value),
    Map(Vec<(String, Arg)>),
    List(BTreeMap<usize, Arg>),
}

impl Arg {
    fn container_for(seg: &Seg) -> Arg {
        match seg {
            Seg::Key(_) => Arg::Map(Vec::new()),
            Seg::Index(_) => Arg::List(BTreeMap::new()),
        }
    }

    fn fits(&self, seg: &Seg) -> bool {
        matches!(
            (self, seg),
            (Arg::Map(_), Seg::Key(_)) | (Arg::List(_), Seg::Index(_))
        )
    }

    fn into_value(self) -> Value {
        match self {
            Arg::Leaf(v) => v,
            Arg::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, a)| (k, a.into_value()))
                    .collect::<Map<_, _>>(),
            ),
            Arg::List(items) => Value::Array(items.into_values().map(Arg::into_value).collect()),
        }
    }
}

fn next_index(items: &BTreeMap<usize, Arg>) -> usize {
    items.keys().next_back().map_or(1, |last| last + 1)
}

/// Put `value` at `path` below `node` (a map or a list).
fn insert(node: &mut Arg, path: &[Seg], value: Value) {
    let Some((seg, rest)) = path.split_first() else {
        return;
    };
    let slot: &mut Arg = match (node, seg) {
        (Arg::Map(entries), Seg::Key(key)) => {
            let position = entries.iter().position(|(k, _)| k == key);
            let position = position.unwrap_or_else(|| {
                entries.push((key.clone(), Arg::Leaf(Value::Null)));
                entries.len() - 1
            });
            let slot = &mut entries[position].1;
            if rest.is_empty() {
                // A repeated plain key (`paths=/a&paths=/b`) collects into an array.
                return match slot {
                    Arg::Leaf(Value::Null) => *slot = Arg::Leaf(value),
                    Arg::List(items) => {
                        items.insert(next_index(items), Arg::Leaf(value));
                    }
                    Arg::Leaf(_) => {
                        let first = std::mem::replace(slot, Arg::Leaf(Value::Null));
                        *slot = Arg::List(BTreeMap::from([(1, first), (2, Arg::Leaf(value))]));
                    }
                    Arg::Map(_) => *slot = Arg::Leaf(value),
                };
            }
            slot
        }
        (Arg::List(items), Seg::Index(index)) => {
            let index = index.unwrap_or_else(|| next_index(items));
            if rest.is_empty() {
                items.insert(index, Arg::Leaf(value));
                return;
            }
            items.entry(index).or_insert(Arg::Leaf(Value::Null))
        }
        // The caller always hands a container that fits the segment.
        _ => return,
    };
    if !slot.fits(&rest[0]) {
        *slot = Arg::container_for(&rest[0]);
    }
    insert(slot, rest, value);
}

/// Decode name/value pairs (from a form body, a multipart body or a query string).
pub fn decode<I, K, V>(pairs: I) -> Map<String, Value>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let mut root = Arg::Map(Vec::new());
    for (name, value) in pairs {
        let value: String = value.into();
        let value = if value.is_empty() {
            Value::Null
        } else {
            Value::String(value)
        };
        let path = parse_name(name.as_ref());
        if matches!(path.first(), Some(Seg::Key(_))) {
            insert(&mut root, &path, value);
        }
    }
    match root.into_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Decode an `application/x-www-form-urlencoded` body or query string.
pub fn decode_urlencoded(bytes: &[u8]) -> Map<String, Value> {
    decode(url::form_urlencoded::parse(bytes).map(|(k, v)| (k, v.into_owned())))
}

/// Form values are strings; where no schema says otherwise (plugin `config`), a string that
/// reads as a boolean, an integer or a float becomes one.
pub fn coerce_scalars(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(coerce_scalars),
        Value::Array(items) => items.iter_mut().for_each(coerce_scalars),
        Value::String(s) => {
            if let Some(v) = scalar(s) {
                *value = v;
            }
        }
        _ => {}
    }
}

fn scalar(s: &str) -> Option<Value> {
    match s {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(Value::from(n));
    }
    let looks_numeric = s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
    match s.parse::<f64>() {
        Ok(f) if looks_numeric && f.is_finite() => {
            serde_json::Number::from_f64(f).map(Value::Number)
        }
        _ => None,
    }
}
