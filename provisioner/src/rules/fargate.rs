//! The gateway's Fargate task and service: CPU/memory pairs, counts, environment, secrets.

use super::Findings;
use crate::env::is_var_name;
use crate::secrets::is_secret_reference;
use crate::stack::Gateway;

/// Fargate task sizes: CPU units, then the memory range (MiB) and its step.
const SIZES: &[(u32, u32, u32, u32)] = &[
    (256, 512, 2048, 512), // and not 1536: see below
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

/// `None` when the pair is valid, else why not.
pub fn fargate_size_problem(cpu: u32, memory: u32) -> Option<(&'static str, String)> {
    let Some(&(_, low, high, step)) = SIZES.iter().find(|(c, ..)| *c == cpu) else {
        let all: Vec<String> = SIZES.iter().map(|(c, ..)| c.to_string()).collect();
        let message = format!(
            "{cpu} is not a Fargate CPU size: use one of {}",
            all.join(", ")
        );
        return Some(("gateway.cpu", message));
    };
    // 256 CPU is the odd one: 512, 1024 and 2048 MiB only, no 1536.
    let on_step =
        (memory - low.min(memory)).is_multiple_of(step) && !(cpu == 256 && memory == 1536);
    if memory < low || memory > high || !on_step {
        let message = format!(
            "{memory} MiB is not valid with cpu {cpu}: Fargate allows {low}-{high} MiB in steps of \
             {step}"
        );
        return Some(("gateway.memory", message));
    }
    None
}

pub fn check(gateway: &Gateway, findings: &mut Findings) {
    if gateway.image.trim().is_empty() || gateway.image.contains(char::is_whitespace) {
        findings.add(
            "gateway.image",
            "an image reference like `repo/name:tag` is required",
        );
    }
    if let Some((path, message)) = fargate_size_problem(gateway.cpu, gateway.memory) {
        findings.add_reading(path, &["gateway.cpu", "gateway.memory"], message);
    }
    check_counts(gateway, findings);
    for name in gateway.environment.keys() {
        if !is_var_name(name) {
            let path = format!("gateway.environment.{name}");
            findings.add(
                &path,
                format!("`{name}` is not a valid environment variable name"),
            );
        }
    }
    for (name, reference) in &gateway.secrets {
        let path = format!("gateway.secrets.{name}");
        if !is_var_name(name) {
            findings.add(
                &path,
                format!("`{name}` is not a valid environment variable name"),
            );
        } else if !is_secret_reference(reference) {
            findings.add(
                &path,
                "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:\
                 secret:NAME) or an SSM parameter ARN, never the secret itself",
            );
        }
        if gateway.environment.contains_key(name) {
            findings.add(
                &path,
                format!("`{name}` is also set in [gateway.environment]"),
            );
        }
    }
}

fn check_counts(gateway: &Gateway, findings: &mut Findings) {
    let scaling = &gateway.autoscaling;
    if scaling.min < 1 {
        findings.add(
            "gateway.autoscaling.min",
            "at least 1 task must run behind the NLB",
        );
    }
    if scaling.min > scaling.max {
        findings.add_reading(
            "gateway.autoscaling.max",
            &["gateway.autoscaling.min"],
            format!("max {} is below min {}", scaling.max, scaling.min),
        );
    } else if !(scaling.min..=scaling.max).contains(&gateway.desired_count) {
        findings.add_reading(
            "gateway.desired_count",
            &["gateway.autoscaling.min", "gateway.autoscaling.max"],
            format!(
                "{} is outside autoscaling bounds {}..={}",
                gateway.desired_count, scaling.min, scaling.max
            ),
        );
    }
    if !(1..=100).contains(&scaling.cpu_target) {
        findings.add(
            "gateway.autoscaling.cpu_target",
            format!(
                "{}% is not a CPU percentage between 1 and 100",
                scaling.cpu_target
            ),
        );
    }
}
