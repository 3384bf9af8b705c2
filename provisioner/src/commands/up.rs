//! `provision up`: take the stack's lock, plan (or check a saved plan still holds), ask, then run
//! the [`Phase`]s in order (infrastructure, migrations, configuration, roll, finish; a stack
//! without a deploy has the first and the last only); the lock is released however the apply
//! ends, except on SIGKILL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::plan::{print, PlanOptions};
use super::{approve, saved, CommandError, Session};
use crate::core::{Action, Observed, Plan};
use crate::deploy::{DeployPlan, Prepared};
use crate::engine::{self, lock, Options};

#[derive(Debug, Default, Clone)]
pub struct UpOptions {
    pub auto_approve: bool,
    pub plan_file: Option<PathBuf>,
    pub parallelism: Option<usize>,
    /// Simulated-latency factor (see `engine::Options::simulate`).
    pub simulate: Option<f64>,
    pub no_color: bool,
    /// Allow a plan that replaces or deletes the database (its data goes with it).
    pub replace_database: bool,
}

/// Kinds whose replacement or deletion loses data: never done without being told.
const DATA_KINDS: &[crate::core::ResourceKind] = &[
    crate::core::ResourceKind::AuroraCluster,
    crate::core::ResourceKind::AuroraInstance,
];

fn refuse_data_loss(plan: &crate::core::Plan, options: &UpOptions) -> Result<(), CommandError> {
    use crate::core::Action;
    let risky: Vec<String> = plan
        .actions
        .iter()
        .filter(|a| DATA_KINDS.contains(&a.kind))
        .filter(|a| matches!(a.action, Action::Replace { .. } | Action::Delete))
        .map(|a| a.logical.clone())
        .collect();
    if risky.is_empty() || options.replace_database {
        return Ok(());
    }
    Err(CommandError::Other(format!(
        "the plan replaces or deletes {} (the database and its data); nothing was changed. \
         Undo the change in the stack file, or pass --replace-database to do it anyway \
         (a final snapshot is taken only by `destroy`)",
        risky.join(", ")
    )))
}

pub async fn run(session: &Session, options: &UpOptions) -> Result<u8, CommandError> {
    let held = lock::acquire(&session.cx, "up").await?;
    let result = tokio::select! {
        result = locked(session, options) => result,
        _ = tokio::signal::ctrl_c() => Err(CommandError::Other(
            "interrupted: resources in flight carry their ownership tags; run `provision up` again to converge".into(),
        )),
    };
    if let Err(e) = held.release(&session.cx).await {
        eprintln!("provision: {e}");
    }
    result
}

/// What `up` does once approved, in order. Without a deploy it is the infrastructure (the whole
/// plan) and the finish; with one, the service waits for the migrations and the configuration,
/// so no task of the new revision ever meets an old schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Everything the plan changes; with a deploy, everything but the service and what
    /// depends on it (replaced resources' old halves kept for now).
    Infrastructure,
    /// The gateway's database migrations, with the new task definition revision.
    Migrations,
    /// The gateway's configuration synced from the rendered template.
    Configuration,
    /// The service (and its dependents) rolled onto the new revision; then the old halves go.
    Roll,
    /// The report; with a deploy, the local data plane rolled and the deploy recorded.
    Finish,
}

const WITH_DEPLOY: &[Phase] = &[
    Phase::Infrastructure,
    Phase::Migrations,
    Phase::Configuration,
    Phase::Roll,
    Phase::Finish,
];
const WITHOUT_DEPLOY: &[Phase] = &[Phase::Infrastructure, Phase::Finish];

/// What the phases of one `up` share.
struct Run<'a> {
    session: &'a Session,
    options: &'a UpOptions,
    engine: Options,
    plan: &'a Plan,
    observed: &'a BTreeMap<String, Observed>,
    deploy: Option<&'a DeployPlan>,
    report: engine::Report,
    prepared: Option<Prepared>,
}

async fn locked(session: &Session, options: &UpOptions) -> Result<u8, CommandError> {
    super::status::prerequisites(session).await?;
    let (observed, plan) = session.plan().await?;
    let deploy = crate::deploy::plan(&session.deploy(), &observed, &plan).await?;
    if !approved(session, options, &plan, deploy.as_ref())? {
        eprintln!("Apply cancelled.");
        return Ok(1);
    }
    let mut engine = Options {
        simulate: options.simulate,
        progress: session.progress.clone(),
        ..Options::default()
    };
    if let Some(n) = options.parallelism {
        engine.parallelism = n;
    }
    let mut run = Run {
        session,
        options,
        engine,
        plan: &plan,
        observed: &observed,
        deploy: deploy.as_ref(),
        report: engine::Report::default(),
        prepared: None,
    };
    let phases = if deploy.is_some() {
        WITH_DEPLOY
    } else {
        WITHOUT_DEPLOY
    };
    for phase in phases {
        run.phase(*phase).await?;
    }
    Ok(0)
}

/// Checks a saved plan still holds, prints the plan, refuses data loss unless told, and asks
/// (unless approved beforehand); false when the operator said no.
fn approved(
    session: &Session,
    options: &UpOptions,
    plan: &Plan,
    deploy: Option<&DeployPlan>,
) -> Result<bool, CommandError> {
    if let Some(path) = &options.plan_file {
        let saved = saved::load(path).map_err(CommandError::Other)?;
        let stale = saved::staleness(&saved, &session.stack.region, plan, deploy);
        if let Some(why) = stale {
            return Err(CommandError::Other(format!(
                "refusing {}: {why}",
                path.display()
            )));
        }
    }
    let plan_options = PlanOptions {
        no_color: options.no_color,
        ..PlanOptions::default()
    };
    print(session, plan, deploy, &plan_options)?;
    refuse_data_loss(plan, options)?;
    let deploy_changes = deploy.is_some_and(|d| d.has_changes());
    let approved_by_file = options.plan_file.is_some();
    // Nothing to change still applies: a run that died may have left resources coming up, and
    // the apply waits for them (one readiness check each).
    Ok(!(plan.has_changes() || deploy_changes)
        || options.auto_approve
        || approved_by_file
        || approve::confirm("Do you want to perform these actions?"))
}

// === impl Run ===

impl Run<'_> {
    async fn phase(&mut self, phase: Phase) -> Result<(), CommandError> {
        let dc = self.session.deploy();
        match (phase, self.deploy) {
            (Phase::Infrastructure, _) => self.infrastructure().await,
            (Phase::Migrations, Some(deploy)) => {
                self.prepared = Some(crate::deploy::migrate(&dc, deploy).await?);
                Ok(())
            }
            (Phase::Configuration, Some(deploy)) => match &self.prepared {
                Some(prepared) => Ok(crate::deploy::configure(&dc, deploy, prepared).await?),
                None => Ok(()),
            },
            (Phase::Roll, Some(_)) => self.roll().await,
            (Phase::Finish, _) => {
                println!("\nApply complete! Resources: {}.", summary(&self.report));
                if let Some(prepared) = self.prepared.take() {
                    crate::deploy::finish(&dc, prepared).await?;
                }
                Ok(())
            }
            // The deploy's phases are not in the list of a stack without one.
            (Phase::Migrations | Phase::Configuration | Phase::Roll, None) => Ok(()),
        }
    }

    /// The whole plan, or (a deploy following) all of it but the rollout set and the deletions.
    async fn infrastructure(&mut self) -> Result<(), CommandError> {
        let cx = &self.session.cx;
        let graph = &self.session.graph;
        if self.deploy.is_none() {
            let report =
                engine::apply(cx, graph, self.plan, self.observed, self.engine.clone()).await;
            if let Some(scale) = self.options.simulate {
                let elapsed = report.elapsed.as_secs_f64();
                simulation_report(self.session, self.plan, scale, elapsed);
            }
            self.report = report;
            return self.ok();
        }
        let rollout = rollout_set(graph);
        let first = Plan {
            stack: self.plan.stack.clone(),
            actions: self
                .plan
                .actions
                .iter()
                .filter(|a| !rollout.contains(&a.logical))
                .filter(|a| !matches!(a.action, Action::Delete))
                .cloned()
                .collect(),
        };
        let keep = Options {
            keep_retired: true,
            ..self.engine.clone()
        };
        self.report = engine::apply(cx, graph, &first, self.observed, keep).await;
        self.ok()?;
        println!(
            "\nInfrastructure ready ({}); the service rolls after the migrations.",
            summary(&self.report)
        );
        Ok(())
    }

    /// The rest of the plan, made again from what exists now; then the replaced resources' old
    /// halves go, as the service runs the new revision.
    async fn roll(&mut self) -> Result<(), CommandError> {
        let (cx, graph) = (&self.session.cx, &self.session.graph);
        let (observed, rest) = self.session.plan().await?;
        let second = engine::apply(cx, graph, &rest, &observed, self.engine.clone()).await;
        self.report.absorb(second);
        self.ok()?;
        let retired = std::mem::take(&mut self.report.retired);
        let outcome = engine::delete_all(cx, &retired, &self.engine).await;
        self.report.deleted.extend(outcome.done);
        self.report.failed.extend(outcome.failed);
        self.report.skipped.extend(outcome.skipped);
        self.ok()
    }

    fn ok(&self) -> Result<(), CommandError> {
        if self.report.ok() {
            Ok(())
        } else {
            Err(incomplete(&self.report))
        }
    }
}

/// The service and everything that depends on it: applied after the deploy's migrations.
fn rollout_set(graph: &crate::core::Graph) -> BTreeSet<String> {
    let mut set = BTreeSet::from([SERVICE.to_string()]);
    loop {
        let before = set.len();
        for resource in graph.resources.values() {
            if resource.depends_on.iter().any(|d| set.contains(d)) {
                set.insert(resource.logical.clone());
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

const SERVICE: &str = "service.gateway";

fn summary(report: &engine::Report) -> String {
    format!(
        "{} added, {} changed, {} replaced, {} destroyed in {:.1}s",
        report.created.len(),
        report.updated.len(),
        report.replaced.len(),
        report.deleted.len(),
        report.elapsed.as_secs_f64()
    )
}

/// Reports an apply that stopped, and the error `up` ends with.
fn incomplete(report: &engine::Report) -> CommandError {
    for (name, error) in &report.failed {
        eprintln!("error: {name}: {error}");
    }
    if !report.skipped.is_empty() {
        eprintln!("not started: {}", report.skipped.join(", "));
    }
    CommandError::Other(format!(
        "apply incomplete ({}); everything made so far is tagged: fix the cause and run `provision up` again",
        summary(report)
    ))
}

/// Simulated-latency mode: the sum of all waits, the graph's critical path and what the parallel
/// apply took, so the engine's parallelism is measured against its bound.
fn simulation_report(session: &Session, plan: &crate::core::Plan, scale: f64, measured: f64) {
    use crate::core::Action;
    let created: std::collections::BTreeSet<&str> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.action, Action::Create | Action::Replace { .. }))
        .map(|a| a.logical.as_str())
        .collect();
    let weight = |r: &crate::core::Resource| {
        if created.contains(r.logical.as_str()) {
            r.kind.typical_create_seconds() * scale
        } else {
            0.0
        }
    };
    let sum: f64 = session.graph.resources.values().map(weight).sum();
    let Ok(critical) = session.graph.critical_path(&weight) else {
        return;
    };
    println!(
        "\nsimulated latency x{scale}: sum of waits {sum:.1}s, critical path {:.1}s ({}), measured {measured:.1}s = {:.2}x the critical path",
        critical.total,
        critical.path.join(" -> "),
        if critical.total > 0.0 { measured / critical.total } else { 0.0 }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_deploy_up_runs_fewer_phases_of_the_same_list() {
        let mut with = WITH_DEPLOY.iter();
        for phase in WITHOUT_DEPLOY {
            assert!(with.any(|p| p == phase), "{phase:?} out of order");
        }
        assert_eq!(WITH_DEPLOY.first(), Some(&Phase::Infrastructure));
        assert_eq!(WITHOUT_DEPLOY.last(), Some(&Phase::Finish));
    }

    #[test]
    fn the_service_and_what_needs_it_wait_for_the_migrations() {
        let stack = crate::test_support::stack_from("prod");
        let set = rollout_set(&crate::core::desired(&stack));
        for name in ["service.gateway", "scaling.target", "scaling.cpu"] {
            assert!(set.contains(name), "{name} missing from {set:?}");
        }
        for name in [
            "task_def.gateway",
            "aurora.writer",
            "redis",
            "nlb",
            "ecs.cluster",
        ] {
            assert!(
                !set.contains(name),
                "{name} must come before the migrations"
            );
        }
    }
}
