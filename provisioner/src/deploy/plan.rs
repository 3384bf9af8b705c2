//! What the deploy phase of `up` will do, worked out for `plan` from the stack, what exists and
//! the last deploy's record: whether migrations are due and why, the configuration diff, and the
//! local processes to start or restart; rendered after the infrastructure's plan.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::record::{self, Deployed};
use super::template::Rendered;
use super::{plane, textdiff, values, DeployContext, DeployError};
use crate::aws::AttrsExt;
use crate::core::{Action, Observed, Plan};

/// What the deploy phase will do, for `plan` and `up`.
#[derive(Debug, Clone)]
pub struct DeployPlan {
    pub template: PathBuf,
    pub rendered: Rendered,
    pub previous: Option<Deployed>,
    /// Why the migrations run, when they do.
    pub migrations: Option<String>,
    pub config_diff: Vec<textdiff::Line>,
    /// Local data plane processes that are not running.
    pub not_running: Vec<String>,
    /// Local gateway processes running an older environment or binary.
    pub outdated: Vec<String>,
    /// The database is created or replaced by this `up`: migrations and the configuration are
    /// due whatever the record says.
    pub database_new: bool,
}

impl DeployPlan {
    pub fn has_changes(&self) -> bool {
        self.migrations.is_some()
            || !self.config_diff.is_empty()
            || !self.not_running.is_empty()
            || !self.outdated.is_empty()
            || self.database_new
    }

    /// A short fingerprint of what this deploy would do (the rendered configuration and the
    /// steps due), saved with `plan --out` so `up --plan` refuses a deploy that changed since.
    pub fn digest(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.rendered.text.hash(&mut hasher);
        self.migrations.hash(&mut hasher);
        self.database_new.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// The deploy section of the plan, after the infrastructure's.
    pub fn render(&self) -> String {
        let mut out = String::from("\nDeploy (after the infrastructure):\n");
        if !self.has_changes() {
            out.push_str("  No changes. The gateway runs the deployed configuration.\n");
            return out;
        }
        if let Some(why) = &self.migrations {
            let _ = writeln!(out, "  ~ database migrations will run ({why})");
        }
        if !self.config_diff.is_empty() {
            let verb = if self.previous.is_some() {
                "will be synced"
            } else {
                "will be applied"
            };
            let _ = writeln!(
                out,
                "  ~ gateway configuration {verb} ({}):",
                self.template.display()
            );
            out.push_str(&textdiff::render(&self.config_diff, "      "));
        } else if self.database_new {
            let _ = writeln!(
                out,
                "  ~ gateway configuration will be applied again (the database is new)"
            );
        }
        if !self.outdated.is_empty() {
            let _ = writeln!(
                out,
                "  ~ local gateways will be restarted (environment or binary changed): {}",
                self.outdated.join(", ")
            );
        }
        if !self.not_running.is_empty() {
            let _ = writeln!(
                out,
                "  + local data plane will be started: {}",
                self.not_running.join(", ")
            );
        }
        out
    }
}

/// The deploy plan of a stack with `[gateway.config]`; `None` without it.
pub async fn plan(
    dc: &DeployContext<'_>,
    observed: &BTreeMap<String, Observed>,
    infra: &Plan,
) -> Result<Option<DeployPlan>, DeployError> {
    let Some(config) = &dc.stack.gateway.config else {
        return Ok(None);
    };
    let plane = plane::for_context(dc)?;
    let template = values::template_path(dc, &config.template);
    let rendered = values::render(dc, plane.as_ref(), observed, &template)?;
    let previous = record::read(dc.cx).await?;
    let database_new = ["aurora.cluster", "aurora.writer"].iter().any(|name| {
        infra
            .get(name)
            .is_some_and(|a| matches!(a.action, Action::Create | Action::Replace { .. }))
    });
    let migrations = migrations_reason(previous.as_ref(), observed, infra, database_new);
    if !rendered.text.contains("select_tags") {
        dc.progress.note(&format!(
            "warning: {} has no `_info.select_tags`: each sync deletes every entity the file does not list, \
             consumers and keys created through the Admin API included",
            template.display()
        ));
    }
    let before = previous.as_ref().map_or("", |p| p.config.as_str());
    let config_diff = textdiff::diff(before, &rendered.text);
    let (not_running, outdated) = plane.drift(dc, observed).await;
    Ok(Some(DeployPlan {
        template,
        rendered,
        previous,
        migrations,
        config_diff,
        not_running,
        outdated,
        database_new,
    }))
}

/// Why the migrations run, `None` when they are not due: a first deploy, a new database, or a
/// task definition revision other than the one they last ran with.
fn migrations_reason(
    previous: Option<&Deployed>,
    observed: &BTreeMap<String, Observed>,
    infra: &Plan,
    database_new: bool,
) -> Option<String> {
    let task_def_changes = infra
        .get("task_def.gateway")
        .is_some_and(|a| !matches!(a.action, Action::NoOp));
    let observed_task_def = observed
        .get("task_def.gateway")
        .and_then(|o| o.attrs.opt_str("arn"));
    let reason = match previous {
        None => "first deploy",
        Some(_) if database_new => "the database is new",
        Some(_) if task_def_changes => "new task definition revision",
        Some(p) if Some(p.task_definition.as_str()) != observed_task_def => {
            "the task definition changed since the last deploy"
        }
        Some(_) => return None,
    };
    Some(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Attr, PlannedAction, ResourceKind};

    fn task_def_plan(action: Action) -> Plan {
        Plan {
            stack: "s".into(),
            actions: vec![PlannedAction {
                logical: "task_def.gateway".into(),
                kind: ResourceKind::TaskDefinition,
                action,
                attrs: BTreeMap::new(),
            }],
        }
    }

    #[test]
    fn migrations_run_when_the_revision_or_the_database_is_new() {
        let deployed = Deployed {
            task_definition: "arn:td:1".into(),
            config: String::new(),
            at: 0,
        };
        let observed: BTreeMap<String, Observed> = BTreeMap::from([(
            "task_def.gateway".to_string(),
            Observed {
                kind: ResourceKind::TaskDefinition,
                attrs: BTreeMap::from([("arn".to_string(), Attr::Str("arn:td:1".into()))]),
            },
        )]);
        let same = task_def_plan(Action::NoOp);
        let reason =
            |previous, infra: &Plan, db_new| migrations_reason(previous, &observed, infra, db_new);
        assert_eq!(reason(None, &same, false).as_deref(), Some("first deploy"));
        assert_eq!(
            reason(Some(&deployed), &same, true).as_deref(),
            Some("the database is new")
        );
        assert_eq!(
            reason(Some(&deployed), &task_def_plan(Action::Create), false).as_deref(),
            Some("new task definition revision")
        );
        assert_eq!(reason(Some(&deployed), &same, false), None);
        let older = Deployed {
            task_definition: "arn:td:0".into(),
            ..deployed.clone()
        };
        assert_eq!(
            reason(Some(&older), &same, false).as_deref(),
            Some("the task definition changed since the last deploy")
        );
    }

    #[test]
    fn plan_text_says_what_the_deploy_does() {
        let planned = DeployPlan {
            template: PathBuf::from("templates/gateway.yaml"),
            rendered: Rendered {
                text: "a: 2\n".into(),
                complete: true,
            },
            previous: None,
            migrations: Some("first deploy".into()),
            config_diff: textdiff::diff("", "a: 2\nkey: secret-value\n"),
            not_running: vec!["gateway-0".into()],
            outdated: Vec::new(),
            database_new: false,
        };
        let text = planned.render();
        assert!(
            text.contains("~ database migrations will run (first deploy)"),
            "{text}"
        );
        assert!(
            text.contains("gateway configuration will be applied (templates/gateway.yaml)"),
            "{text}"
        );
        assert!(text.contains("+ a: 2"), "{text}");
        assert!(text.contains("+ key: (sensitive value)"), "{text}");
        assert!(!text.contains("secret-value"), "{text}");
        assert!(
            text.contains("local data plane will be started: gateway-0"),
            "{text}"
        );
        let quiet = DeployPlan {
            migrations: None,
            config_diff: Vec::new(),
            not_running: Vec::new(),
            ..planned
        };
        let restart = DeployPlan {
            outdated: vec!["gateway-1".into()],
            ..quiet.clone()
        };
        assert!(restart.has_changes());
        assert!(restart
            .render()
            .contains("restarted (environment or binary changed): gateway-1"));
        assert!(!quiet.has_changes());
        assert!(quiet.render().contains("No changes."));
    }
}
