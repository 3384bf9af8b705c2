//! AWS's documented limits, checked before any call: LocalStack accepts shapes AWS rejects.
//!
//! Each rule reads the decoded [`Stack`] and reports [`Finding`]s naming the field to point at and
//! the fields it read, so a rule never piles onto a value that failed to decode.

mod aurora;
mod deploy;
mod dns;
mod fargate;
mod general;
mod naming;
mod network;

use crate::stack::Stack;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The field the message is about.
    pub path: String,
    pub message: String,
    /// Every field the rule read (including `path`).
    pub inputs: Vec<String>,
}

/// Findings of one run, in the order the rules found them.
#[derive(Debug, Default)]
pub struct Findings(Vec<Finding>);

impl Findings {
    /// A problem with `path` alone.
    pub fn add(&mut self, path: &str, message: impl Into<String>) {
        self.add_reading(path, &[], message);
    }

    /// A problem with `path` that also depends on `others`.
    pub fn add_reading(&mut self, path: &str, others: &[&str], message: impl Into<String>) {
        let mut inputs = vec![path.to_string()];
        inputs.extend(others.iter().map(|s| s.to_string()));
        self.0.push(Finding {
            path: path.to_string(),
            message: message.into(),
            inputs,
        });
    }
}

/// Runs every rule.
pub fn check(stack: &Stack) -> Vec<Finding> {
    let mut findings = Findings::default();
    general::check(stack, &mut findings);
    naming::check(stack, &mut findings);
    network::check(stack, &mut findings);
    aurora::check(&stack.database, &mut findings);
    general::check_cache(&stack.cache, &mut findings);
    fargate::check(&stack.gateway, &mut findings);
    dns::check(stack, &mut findings);
    deploy::check(stack, &mut findings);
    findings.0
}

#[cfg(test)]
mod tests;
