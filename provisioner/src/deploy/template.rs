//! Fills a gateway configuration template: `${name}` placeholders take the stack's values,
//! `$${` writes a literal `${`. Everything else (Kong's own `$(...)` templates, `{vault://...}`
//! references) passes through untouched.

use std::collections::BTreeMap;

use crate::env::placeholders::{pieces, Piece};

/// What a placeholder stands for: a value, or one only known once the infrastructure exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Known(String),
    AfterApply,
}

/// Text shown in place of a value that only exists after the apply.
pub const AFTER_APPLY: &str = "(known after apply)";

/// A placeholder the template names that no value fills, or one left open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The rendered text, and whether every placeholder had a known value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub complete: bool,
}

/// Renders `template`; every problem is reported, in order.
pub fn render(
    template: &str,
    values: &BTreeMap<String, Value>,
) -> Result<Rendered, Vec<TemplateError>> {
    let mut text = String::with_capacity(template.len());
    let mut problems = Vec::new();
    let mut complete = true;
    for piece in pieces(template, true) {
        match piece {
            Piece::Text(run) => text.push_str(run),
            Piece::Placeholder { inner, at } => match values.get(inner.trim()) {
                Some(Value::Known(value)) => text.push_str(value),
                Some(Value::AfterApply) => {
                    complete = false;
                    text.push_str(AFTER_APPLY);
                }
                None => problems.push(error_at(
                    template,
                    at,
                    format!(
                        "unknown placeholder `${{{}}}`; known: {}",
                        inner.trim(),
                        values.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )),
            },
            Piece::Unterminated { at } => {
                problems.push(error_at(
                    template,
                    at,
                    "`${` opens a placeholder that is not closed on its line (write `$${` for a literal `${`)"
                        .to_string(),
                ));
                text.push_str("${");
            }
        }
    }
    if problems.is_empty() {
        Ok(Rendered { text, complete })
    } else {
        Err(problems)
    }
}

/// Line and column (1-based, in characters) of byte `offset` in `text`.
fn error_at(text: &str, offset: usize, message: String) -> TemplateError {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    TemplateError {
        line,
        column: before[line_start..].chars().count() + 1,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| {
                let value = v.map_or(Value::AfterApply, |v| Value::Known(v.to_string()));
                (k.to_string(), value)
            })
            .collect()
    }

    #[test]
    fn fills_placeholders_and_keeps_kong_templates() {
        let vals = values(&[("host", Some("10.0.0.5")), ("port", Some("6379"))]);
        let out = render(
            "host: ${host}\nport: ${ port }\nuri: $(uri_captures['x'])\nkey: \"{vault://env/k}\"\n",
            &vals,
        )
        .unwrap();
        assert_eq!(
            out.text,
            "host: 10.0.0.5\nport: 6379\nuri: $(uri_captures['x'])\nkey: \"{vault://env/k}\"\n"
        );
        assert!(out.complete);
    }

    #[test]
    fn escaped_dollar_brace_is_literal() {
        let out = render("a: $${not_a_placeholder} $5", &values(&[])).unwrap();
        assert_eq!(out.text, "a: ${not_a_placeholder} $5");
    }

    #[test]
    fn unknown_values_render_as_after_apply() {
        let out = render("host: ${redis_host}", &values(&[("redis_host", None)])).unwrap();
        assert_eq!(out.text, format!("host: {AFTER_APPLY}"));
        assert!(!out.complete);
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let errors = render(
            "ok: ${a}\nbad: ${nope}\n  open: ${b\n",
            &values(&[("a", Some("1")), ("b", Some("2"))]),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (2, 6));
        assert!(errors[0].message.contains("`${nope}`"));
        assert!(errors[0].message.contains("known: a, b"));
        assert_eq!((errors[1].line, errors[1].column), (3, 9));
        assert!(errors[1].message.contains("not closed"));
    }
}
