//! Query strings and urlencoded bodies as an ordered multimap, edited with Lua-table semantics
//! and written back the way nginx encodes arguments (`%20`, not `+`).

use super::super::header_edit::Edit;

/// A parameter's values; `None` is a bare flag (`?debug`), Lua's `true`.
type Values = Vec<Option<String>>;

/// Parameters in first-seen order; a repeated name keeps all its values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Values)>);

impl Params {
    pub fn parse(raw: &str) -> Params {
        let mut params = Params::default();
        for segment in raw.split('&').filter(|s| !s.is_empty()) {
            let Some((name, value)) = url::form_urlencoded::parse(segment.as_bytes()).next() else {
                continue;
            };
            let value = segment.contains('=').then(|| value.into_owned());
            match params.position(&name) {
                Some(i) => params.0[i].1.push(value),
                None => params.0.push((name.into_owned(), vec![value])),
            }
        }
        params
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|(n, _)| n == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    pub fn take(&mut self, name: &str) -> Option<Values> {
        self.position(name).map(|i| self.0.remove(i).1)
    }

    pub fn set(&mut self, name: &str, values: Values) {
        match self.position(name) {
            Some(i) => self.0[i].1 = values,
            None => self.0.push((name.to_string(), values)),
        }
    }

    /// The parameter keeps its place under its new name, replacing any `new` already there.
    pub fn rename(&mut self, old: &str, new: &str) {
        if old == new || !self.contains(old) {
            return;
        }
        self.take(new);
        if let Some(i) = self.position(old) {
            self.0[i].0 = new.to_string();
        }
    }

    /// Kong's `append_value`: strings gain one more; a flag or nothing becomes the one value.
    pub fn append(&mut self, name: &str, value: String) {
        match self.position(name) {
            Some(i) if self.0[i].1.iter().all(Option::is_some) => self.0[i].1.push(Some(value)),
            _ => self.set(name, vec![Some(value)]),
        }
    }

    /// Merge `other` in: a name already here gains the other's values (http_method's move of a
    /// form body into the query string).
    pub fn merge(&mut self, other: Params) {
        for (name, values) in other.0 {
            match self.position(&name) {
                Some(i) => self.0[i].1.extend(values),
                None => self.0.push((name, values)),
            }
        }
    }

    /// Apply edits in Kong's order; `value` gives a slot's rendered text.
    pub fn apply<'v, V>(&mut self, edit: &'v Edit<String, V>, value: impl Fn(&'v V) -> &'v str) {
        for name in &edit.remove {
            self.take(name);
        }
        for (old, new) in &edit.rename {
            self.rename(old, new);
        }
        for (name, v) in &edit.replace {
            if self.contains(name) {
                self.set(name, vec![Some(value(v).to_string())]);
            }
        }
        for (name, v) in &edit.add {
            if !self.contains(name) {
                self.set(name, vec![Some(value(v).to_string())]);
            }
        }
        for (name, v) in &edit.append {
            self.append(name, value(v).to_string());
        }
    }

    /// Encoded in this order (bodies) or, as Kong's `set_query` does, sorted by name.
    pub fn encode(&self, sorted: bool) -> String {
        let mut entries: Vec<&(String, Values)> = self.0.iter().collect();
        if sorted {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let mut out = String::new();
        for (name, values) in entries {
            for value in values {
                if !out.is_empty() {
                    out.push('&');
                }
                escape_into(&mut out, name);
                if let Some(v) = value {
                    out.push('=');
                    escape_into(&mut out, v);
                }
            }
        }
        out
    }
}

/// nginx's `escape_uri` for arguments: everything but RFC 3986 unreserved characters.
fn escape_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// A path for the upstream: characters a URI path cannot carry are percent-encoded, `%` kept
/// (a captured segment arrives still encoded).
pub fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'/' | b'%'
                    | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
