//! A line diff of two configuration texts, for `plan`: changed lines with a little context, the
//! way `diff -u` shows them, and credential values hidden.

/// Lines of context kept around each change.
const CONTEXT: usize = 2;

/// One line of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Same(String),
    Removed(String),
    Added(String),
    /// Unchanged lines left out.
    Skipped(usize),
}

/// The diff of `before` and `after`, with unchanged runs cut down to their context; empty when
/// the texts are equal.
pub fn diff(before: &str, after: &str) -> Vec<Line> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    // Common head and tail first: a change is usually a few lines in a long file.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let same = |lines: &[&str]| lines.iter().map(|l| Line::Same(l.to_string())).collect();
    let mut full: Vec<Line> = same(&a[..head]);
    full.extend(middle(&a[head..a.len() - tail], &b[head..b.len() - tail]));
    full.extend(same(&a[a.len() - tail..]));
    trim_context(full)
}

/// Cells of the table beyond which the middle shows as all removed, then all added.
const TABLE_LIMIT: usize = 4_000_000;

/// The differing middle, through a longest-common-subsequence table.
fn middle(a: &[&str], b: &[&str]) -> Vec<Line> {
    if (a.len() + 1).saturating_mul(b.len() + 1) > TABLE_LIMIT {
        let removed = a.iter().map(|l| Line::Removed(l.to_string()));
        return removed
            .chain(b.iter().map(|l| Line::Added(l.to_string())))
            .collect();
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Line::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(Line::Added(b[j].to_string()));
            j += 1;
        } else {
            out.push(Line::Removed(a[i].to_string()));
            i += 1;
        }
    }
    out
}

/// Keeps `CONTEXT` unchanged lines around each change and counts the rest.
fn trim_context(full: Vec<Line>) -> Vec<Line> {
    let changed: Vec<usize> = full
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, Line::Same(_)))
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= CONTEXT);
    let mut out = Vec::new();
    let mut skipped = 0;
    for (i, line) in full.into_iter().enumerate() {
        if matches!(line, Line::Same(_)) && !near(i) {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            out.push(Line::Skipped(skipped));
            skipped = 0;
        }
        out.push(line);
    }
    if skipped > 0 {
        out.push(Line::Skipped(skipped));
    }
    out
}

/// The diff as text, each line indented by `indent`, credential values hidden.
pub fn render(lines: &[Line], indent: &str) -> String {
    let mut out = String::new();
    for line in lines {
        let text = match line {
            Line::Same(l) => format!("  {}", redact(l)),
            Line::Removed(l) => format!("- {}", redact(l)),
            Line::Added(l) => format!("+ {}", redact(l)),
            Line::Skipped(n) => {
                format!("  # ({n} unchanged line{})", if *n == 1 { "" } else { "s" })
            }
        };
        out.push_str(indent);
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// YAML keys whose values are credentials (key-auth keys, passwords): shown as
/// `(sensitive value)` unless the value is a vault reference, which holds no secret.
const SENSITIVE_KEYS: &[&str] = &["key", "password", "secret", "token", "api_key", "apikey"];

/// `line` with the value of a credential key hidden.
pub fn redact(line: &str) -> String {
    let Some(colon) = line.find(':') else {
        return line.to_string();
    };
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let quotes = |c: char| c == '"' || c == '\'';
    let key = head
        .trim()
        .trim_start_matches("- ")
        .trim()
        .trim_matches(quotes);
    let value = value.trim().trim_matches(quotes);
    let sensitive = SENSITIVE_KEYS.contains(&key.to_ascii_lowercase().as_str());
    if !sensitive || value.is_empty() || value.starts_with("{vault://") {
        return line.to_string();
    }
    format!("{head}: (sensitive value)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert!(diff("a\nb\n", "a\nb\n").is_empty());
    }

    #[test]
    fn a_changed_line_shows_with_context() {
        let before = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let after = "1\n2\n3\n4\nfive\n6\n7\n8\n";
        let lines = diff(before, after);
        assert_eq!(
            lines,
            vec![
                Line::Skipped(2),
                Line::Same("3".into()),
                Line::Same("4".into()),
                Line::Removed("5".into()),
                Line::Added("five".into()),
                Line::Same("6".into()),
                Line::Same("7".into()),
                Line::Skipped(1),
            ]
        );
        let text = render(&lines, "    ");
        assert!(text.contains("    - 5\n    + five\n"), "{text}");
        assert!(text.contains("(2 unchanged lines)"), "{text}");
    }

    #[test]
    fn additions_at_the_end() {
        let lines = diff("a\n", "a\nb\nc\n");
        assert_eq!(
            lines,
            vec![
                Line::Same("a".into()),
                Line::Added("b".into()),
                Line::Added("c".into())
            ]
        );
    }

    #[test]
    fn long_texts_stay_cheap() {
        let before: String = (0..30_000).map(|i| format!("line {i}\n")).collect();
        let after = before.replacen("line 15000\n", "line fifteen thousand\n", 1);
        let lines = diff(&before, &after);
        assert!(lines.contains(&Line::Removed("line 15000".into())));
        assert!(lines.contains(&Line::Added("line fifteen thousand".into())));
        assert_eq!(lines.len(), 2 * CONTEXT + 2 + 2, "{lines:?}");
    }

    #[test]
    fn credential_values_are_hidden_but_vault_references_are_not() {
        assert_eq!(
            redact("      - key: demo-key"),
            "      - key: (sensitive value)"
        );
        assert_eq!(
            redact("    password: hunter2"),
            "    password: (sensitive value)"
        );
        assert_eq!(
            redact("  - key: \"{vault://env/gateway-admin-key}\""),
            "  - key: \"{vault://env/gateway-admin-key}\""
        );
        assert_eq!(redact("    key_names: [apikey]"), "    key_names: [apikey]");
        assert_eq!(redact("minute: 60"), "minute: 60");
    }
}
