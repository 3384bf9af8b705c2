//! Asking before a change: Terraform's habit of accepting only the word `yes`.

use std::io::{BufRead, IsTerminal, Write};

/// True when the user typed `yes`; end of input or anything else is no.
pub fn confirm(question: &str) -> bool {
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = err.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    if !std::io::stdin().is_terminal() {
        // Echo what a script piped in, so logs show what was approved.
        let _ = writeln!(err, "{}", answer.trim());
    }
    answer.trim() == "yes"
}

/// Colours a rendered plan the way Terraform does, when `color` is on.
pub fn colorize(text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        let trimmed = line.trim_start();
        let code = if trimmed.starts_with("-/+") || trimmed.starts_with("+/-") {
            Some("\x1b[33m")
        } else if trimmed.starts_with('+') {
            Some("\x1b[32m")
        } else if trimmed.starts_with('-') {
            Some("\x1b[31m")
        } else if trimmed.starts_with('~') {
            Some("\x1b[33m")
        } else if trimmed.starts_with("Plan:") || trimmed.starts_with('#') {
            Some("\x1b[1m")
        } else {
            None
        };
        let line = line.replace(
            "# forces replacement",
            "\x1b[31m# forces replacement\x1b[0m",
        );
        match code {
            Some(code) => out.push_str(&format!("{code}{line}\x1b[0m\n")),
            None => {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::colorize;

    #[test]
    fn colours_only_when_asked() {
        let text = "  + vpc {\n      ~ a = 1 -> 2 # forces replacement\nPlan: 1 to add\n";
        assert_eq!(colorize(text, false), text);
        let coloured = colorize(text, true);
        assert!(coloured.contains("\x1b[32m  + vpc {"));
        assert!(coloured.contains("\x1b[31m# forces replacement"));
        assert!(coloured.contains("\x1b[1mPlan: 1 to add"));
    }
}
