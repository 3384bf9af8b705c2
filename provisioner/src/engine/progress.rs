//! What `up` and `destroy` print while they work: one line per step, elapsed time, and a line
//! now and then during long waits, so a 15-minute Aurora create is never silent.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Prints progress lines to stderr, coloured when stderr is a terminal.
#[derive(Debug, Clone)]
pub struct Progress {
    started: Instant,
    color: bool,
    /// How often a long wait reports that it is still waiting.
    pub heartbeat: Duration,
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            started: Instant::now(),
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            heartbeat: Duration::from_secs(10),
        }
    }

    fn line(&self, color: &str, logical: &str, text: &str) {
        let at = self.started.elapsed().as_secs_f64();
        let (on, off) = if self.color {
            (color, "\x1b[0m")
        } else {
            ("", "")
        };
        // One write per line keeps lines whole when jobs print at once.
        let line = format!("[{at:7.1}s] {on}{logical}{off}: {text}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// `verb` in the present participle: "creating", "updating", "deleting".
    pub fn begin(&self, logical: &str, verb: &str) {
        self.line("\x1b[1m", logical, &format!("{verb}..."));
    }

    pub fn still(&self, logical: &str, verb: &str, since: Instant, status: &str) {
        let secs = since.elapsed().as_secs();
        self.line(
            "\x1b[1m",
            logical,
            &format!(
                "still {verb} [{}m{:02}s elapsed, {status}]",
                secs / 60,
                secs % 60
            ),
        );
    }

    /// `what` in the past tense: "created", "updated", "deleted".
    pub fn finish(&self, logical: &str, what: &str, since: Instant, detail: &str) {
        let secs = since.elapsed().as_secs_f64();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" [{detail}]")
        };
        self.line(
            "\x1b[32m",
            logical,
            &format!("{what} after {secs:.1}s{detail}"),
        );
    }

    pub fn retry(&self, logical: &str, error: &dyn std::fmt::Display, pause: Duration) {
        self.line(
            "\x1b[33m",
            logical,
            &format!("{error}; retrying in {:.1}s", pause.as_secs_f64()),
        );
    }

    pub fn fail(&self, logical: &str, error: &dyn std::fmt::Display) {
        self.line("\x1b[31m", logical, &format!("failed: {error}"));
    }

    pub fn note(&self, text: &str) {
        self.line("\x1b[1m", "provision", text);
    }
}
