//! The AWS names a stack's resources get, derived from `name_prefix`, with each kind's limits.

/// A named resource kind and AWS's limit on its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRule {
    /// What AWS calls the thing, for messages.
    pub kind: &'static str,
    /// Appended to the prefix.
    pub suffix: &'static str,
    pub max_len: usize,
}

/// Every name the provisioner gives, shortest limit first so the first failure is the binding one.
pub const NAME_RULES: &[NameRule] = &[
    NameRule {
        kind: "NLB name",
        suffix: "-nlb",
        max_len: 32,
    },
    NameRule {
        kind: "target group name",
        suffix: "-gw",
        max_len: 32,
    },
    NameRule {
        kind: "ElastiCache replication group id",
        suffix: "-redis",
        max_len: 40,
    },
    NameRule {
        kind: "RDS cluster identifier",
        suffix: "-db",
        max_len: 63,
    },
    NameRule {
        kind: "IAM role name",
        suffix: "-task-execution",
        max_len: 64,
    },
    NameRule {
        kind: "IAM role name",
        suffix: "-task",
        max_len: 64,
    },
    NameRule {
        kind: "ECS cluster name",
        suffix: "",
        max_len: 255,
    },
    NameRule {
        kind: "ECS service name",
        suffix: "-gateway",
        max_len: 255,
    },
];

/// The full name of `rule`'s resource for `prefix`.
pub fn name(prefix: &str, rule: &NameRule) -> String {
    format!("{prefix}{}", rule.suffix)
}

/// Every rule whose name would be too long with `prefix`.
pub fn too_long(prefix: &str) -> Vec<&'static NameRule> {
    NAME_RULES
        .iter()
        .filter(|rule| name(prefix, rule).len() > rule.max_len)
        .collect()
}

/// The longest prefix every resource name accepts.
pub fn max_prefix_len() -> usize {
    NAME_RULES
        .iter()
        .map(|r| r.max_len - r.suffix.len())
        .min()
        .unwrap_or(0)
}

/// Why `prefix` cannot start every name (the strictest charset of the kinds above: RDS and
/// ElastiCache want a leading letter, no `--`, no trailing `-`; load balancers want
/// alphanumerics and `-`), or `None`.
pub fn prefix_problem(prefix: &str) -> Option<String> {
    let starts_with_letter = prefix.starts_with(|c: char| c.is_ascii_lowercase());
    let charset = prefix
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_with_letter || !charset {
        return Some(format!(
            "`{prefix}` must start with a lowercase letter and hold only lowercase letters, digits \
             and `-` (RDS and ElastiCache identifiers)"
        ));
    }
    if prefix.ends_with('-') || prefix.contains("--") {
        return Some(format!("`{prefix}` must not end with `-` nor contain `--`"));
    }
    if prefix.starts_with("internal-") {
        return Some("load balancer names must not start with `internal-`".to_string());
    }
    None
}
