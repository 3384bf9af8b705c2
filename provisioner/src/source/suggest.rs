//! "Did you mean" for unknown keys.

/// The message for an unknown key: a near miss is named, otherwise every allowed key.
pub fn unknown_key_message(key: &str, fields: &[&str]) -> String {
    let closest = fields
        .iter()
        .map(|field| (distance(key, field), *field))
        .min()
        .filter(|(d, _)| *d <= 2.max(key.len() / 4));
    match closest {
        Some((_, field)) => format!("unknown key `{key}`; did you mean `{field}`?"),
        None => {
            let all: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            format!("unknown key `{key}`; expected one of {}", all.join(", "))
        }
    }
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_table() {
        let fields = ["cpu", "memory", "desired_count"];
        let cases = [
            ("cpus", "unknown key `cpus`; did you mean `cpu`?"),
            ("memroy", "unknown key `memroy`; did you mean `memory`?"),
            (
                "desired",
                "unknown key `desired`; expected one of `cpu`, `memory`, `desired_count`",
            ),
        ];
        for (key, want) in cases {
            assert_eq!(unknown_key_message(key, &fields), want);
        }
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
