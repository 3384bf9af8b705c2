//! The `${...}` placeholder syntax shared by stack files (`${env:NAME}`) and configuration
//! templates (`${name}`): a text splits into literal runs and placeholders; `$${` is a literal
//! `${`. What a placeholder means is the caller's business.

/// One run of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// `${inner}`, its `$` at byte `at` of the text.
    Placeholder {
        inner: &'a str,
        at: usize,
    },
    /// A `${` with no `}` after it (on its line, when asked); scanning goes on after the `${`.
    Unterminated {
        at: usize,
    },
}

/// The pieces of `text`, in order. With `one_line`, a placeholder must close on its own line.
pub fn pieces(text: &str, one_line: bool) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push(Piece::Text(&rest[..dollar]));
        let tail = &rest[dollar..];
        let at = text.len() - tail.len();
        if let Some(after) = tail.strip_prefix("$${") {
            out.push(Piece::Text(&tail[1..3]));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            match after.find('}') {
                Some(end) if !(one_line && after[..end].contains('\n')) => {
                    out.push(Piece::Placeholder {
                        inner: &after[..end],
                        at,
                    });
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push(Piece::Unterminated { at });
                    rest = after;
                }
            }
        } else {
            out.push(Piece::Text("$"));
            rest = &tail[1..];
        }
    }
    out.push(Piece::Text(rest));
    out.retain(|p| *p != Piece::Text(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_placeholders_and_escapes() {
        assert_eq!(
            pieces("a ${x} $5 $${y} ${z", false),
            vec![
                Piece::Text("a "),
                Piece::Placeholder { inner: "x", at: 2 },
                Piece::Text(" "),
                Piece::Text("$"),
                Piece::Text("5 "),
                Piece::Text("${"),
                Piece::Text("y} "),
                Piece::Unterminated { at: 16 },
                Piece::Text("z"),
            ]
        );
    }

    #[test]
    fn one_line_placeholders_close_on_their_line() {
        assert_eq!(
            pieces("${a\n}", false),
            vec![Piece::Placeholder {
                inner: "a\n",
                at: 0
            }]
        );
        assert_eq!(
            pieces("${a\n}", true),
            vec![Piece::Unterminated { at: 0 }, Piece::Text("a\n}")]
        );
    }
}
