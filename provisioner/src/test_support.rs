//! A small valid stack and helpers for tests that break it one line at a time.

use std::collections::HashMap;

use crate::parse_stack;

/// A valid stack; tests name lines by their exact text, so keep each line unique.
pub const BASE: &str = r#"region = "us-east-1"
name_prefix = "wx"

[network]
cidr = "10.0.0.0/16"
az_count = 2
nat = "single"

[database]
engine_version = "16.6"
min_acu = 0.5
max_acu = 4
deletion_protection = true
backup_retention_days = 7

[cache]
node_type = "cache.t4g.micro"
replicas = 1

[gateway]
image = "gw:1"
cpu = 512
memory = 1024
architecture = "arm64"
desired_count = 2

[gateway.autoscaling]
min = 2
max = 4
cpu_target = 60

[gateway.environment]
KONG_LOG_LEVEL = "info"

[dns]
zone = "example.com"
record = "api.example.com"
health_check_path = "/status"
interval = 30
failure_threshold = 3
ttl = 60

[fallback]
lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:api"
custom_domain = "api.example.com"
certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
"#;

/// `(line in BASE, replacement)` pairs, or `(position and path, message part)` expectations.
pub type Pairs<'a> = &'a [(&'a str, &'a str)];

/// `BASE` with whole lines replaced; panics when a line is not there, so a typo cannot pass.
pub fn edit(edits: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = BASE.lines().map(str::to_string).collect();
    for (from, to) in edits {
        let at = lines.iter().position(|l| l == from);
        let at = at.unwrap_or_else(|| panic!("line {from:?} is not in BASE"));
        lines[at] = (*to).to_string();
    }
    lines.join("\n") + "\n"
}

/// Every problem of `text` as `line:column: path: message`, with an empty environment.
pub fn problems(text: &str) -> Vec<String> {
    problems_with(text, &HashMap::new())
}

pub fn problems_with(text: &str, env: &HashMap<String, String>) -> Vec<String> {
    match parse_stack("t.toml", text, env) {
        Ok(_) => Vec::new(),
        Err(err) => err.problems.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts `text` has exactly one problem per `(position and path, message part)`, in order.
#[track_caller]
pub fn assert_problems(text: &str, want: &[(&str, &str)]) {
    let got = problems(text);
    let matches = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, (at, part))| g.starts_with(&format!("{at}: ")) && g.contains(part));
    assert!(matches, "want {want:#?}\ngot {got:#?}");
}

/// A shipped stack file (`stacks/NAME.toml`), loaded as `provision` would.
pub fn stack_from(name: &str) -> crate::Stack {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../stacks/{name}.toml"));
    match crate::load_file(&path) {
        Ok(stack) => stack,
        Err(e) => panic!("stacks/{name}.toml must load: {e}"),
    }
}
