//! Name prefix: charset and the length of every name derived from it.

use super::Findings;
use crate::names::{max_prefix_len, name, prefix_problem, too_long};
use crate::stack::Stack;

pub fn check(stack: &Stack, findings: &mut Findings) {
    let prefix = &stack.name_prefix;
    if let Some(message) = prefix_problem(prefix) {
        return findings.add("name_prefix", message);
    }
    if let Some(rule) = too_long(prefix).first() {
        findings.add(
            "name_prefix",
            format!(
                "`{prefix}` is too long: the {} `{}` would be {} characters, AWS allows {}; keep \
                 the prefix at {} characters or fewer",
                rule.kind,
                name(prefix, rule),
                name(prefix, rule).len(),
                rule.max_len,
                max_prefix_len()
            ),
        );
    }
}
