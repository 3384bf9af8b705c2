//! The deploy phase of `up`, after the infrastructure converged: the gateway's database
//! migrations run to completion, its declarative configuration (a template in `templates/`
//! filled with the stack's values) is synced, and the service runs the new task definition.
//!
//! Where it runs is the [`Runtime`]: on AWS, migrations and sync are one-off ECS tasks of the new
//! task definition revision ([`ecs`]) and ECS rolls the service; for a stack pointed at
//! LocalStack, the data plane runs on this machine ([`local`]). What was deployed is recorded in
//! SSM ([`record`]), so `plan` shows the configuration diff ([`textdiff`]) and the steps due.

pub mod ecs;
pub mod local;
pub mod procs;
pub mod record;
pub mod template;
pub mod textdiff;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::aws::{api, Attrs, AttrsExt, AwsError};
use crate::commands::{CommandError, Session};
use crate::core::desired::ADMIN_PORT;
use crate::core::{Action, Attr, Observed, Plan};
use local::LocalPlane;
use record::Deployed;
use template::{Rendered, Value};

/// The environment variable the Admin API key reaches the gateway as (from Secrets Manager);
/// the template refers to it as `{vault://env/gateway-admin-key}`.
pub const ADMIN_KEY_ENV: &str = "GATEWAY_ADMIN_KEY";

/// What went wrong deploying.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{0}")]
    Other(String),
}

impl From<DeployError> for CommandError {
    fn from(error: DeployError) -> Self {
        match error {
            DeployError::Aws(e) => CommandError::Aws(e),
            DeployError::Other(text) => CommandError::Other(format!("deploy: {text}")),
        }
    }
}

/// Where the gateway runs.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// ECS Fargate on AWS.
    Ecs,
    /// This machine (stacks with `[endpoints]`, i.e. LocalStack).
    Local(LocalPlane),
}

impl Runtime {
    pub fn for_session(session: &Session) -> Result<Runtime, DeployError> {
        Ok(match session.stack.endpoints {
            Some(_) => Runtime::Local(LocalPlane::for_stack(&session.stack)?),
            None => Runtime::Ecs,
        })
    }
}

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
    session: &Session,
    observed: &BTreeMap<String, Observed>,
    infra: &Plan,
) -> Result<Option<DeployPlan>, CommandError> {
    let Some(config) = &session.stack.gateway.config else {
        return Ok(None);
    };
    let runtime = Runtime::for_session(session)?;
    let template = template_path(session, &config.template);
    let rendered = render(session, &runtime, observed, &template)?;
    let previous = record::read(&session.cx).await?;
    let task_def_changes = infra
        .get("task_def.gateway")
        .is_some_and(|a| !matches!(a.action, Action::NoOp));
    let observed_task_def = observed
        .get("task_def.gateway")
        .and_then(|o| o.attrs.opt_str("arn"));
    let database_new = ["aurora.cluster", "aurora.writer"].iter().any(|name| {
        infra
            .get(name)
            .is_some_and(|a| matches!(a.action, Action::Create | Action::Replace { .. }))
    });
    let migrations = match &previous {
        None => Some("first deploy".to_string()),
        Some(_) if database_new => Some("the database is new".to_string()),
        Some(_) if task_def_changes => Some("new task definition revision".to_string()),
        Some(p) if Some(p.task_definition.as_str()) != observed_task_def => {
            Some("the task definition changed since the last deploy".to_string())
        }
        Some(_) => None,
    };
    if !rendered.text.contains("select_tags") {
        session.progress.note(&format!(
            "warning: {} has no `_info.select_tags`: each sync deletes every entity the file does not list, \
             consumers and keys created through the Admin API included",
            template.display()
        ));
    }
    let before = previous.as_ref().map_or("", |p| p.config.as_str());
    let config_diff = textdiff::diff(before, &rendered.text);
    let (not_running, outdated) = match &runtime {
        Runtime::Local(plane) => {
            let count = desired_count(session, observed);
            (
                plane.missing(count),
                outdated(session, plane, observed, count).await,
            )
        }
        Runtime::Ecs => (Vec::new(), Vec::new()),
    };
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

/// What the first half of a deploy hands to the second.
#[derive(Debug)]
pub struct Prepared {
    task_def_arn: String,
    config: String,
    /// The gateway container's environment, secrets resolved (local runtime only).
    task_env: BTreeMap<String, String>,
}

/// The first half, after everything but the service converged: the migrations run to
/// completion and the configuration is synced, before any task of the new revision starts.
pub async fn migrate_and_sync(
    session: &Session,
    planned: &DeployPlan,
) -> Result<Prepared, CommandError> {
    let runtime = Runtime::for_session(session)?;
    let observed = session.observe().await?;
    let rendered = render(session, &runtime, &observed, &planned.template)?;
    if !rendered.complete {
        return Err(DeployError::Other(
            "the configuration still has values known only after apply; run `provision up` again"
                .into(),
        )
        .into());
    }
    let task_def = get(&observed, "task_def.gateway")?;
    let task_def_arn = task_def.str("arn")?.to_string();
    println!("\nDeploying the gateway ({task_def_arn}):");
    let task_env = match &runtime {
        Runtime::Local(plane) => {
            let task_env = container_env(session, task_def).await?;
            migrate_and_sync_local(plane, &task_env, &rendered.text).await?;
            task_env
        }
        Runtime::Ecs => {
            migrate_and_sync_ecs(session, planned, &observed, &task_def_arn, &rendered.text)
                .await?;
            BTreeMap::new()
        }
    };
    Ok(Prepared {
        task_def_arn,
        config: rendered.text,
        task_env,
    })
}

/// The second half, once the service runs the new revision (ECS rolled it, its circuit breaker
/// watching): the local gateway processes are rolled, and the deploy is recorded.
pub async fn finish(session: &Session, prepared: Prepared) -> Result<(), CommandError> {
    if let Runtime::Local(plane) = Runtime::for_session(session)? {
        let observed = session.observe().await?;
        let count = desired_count(session, &observed);
        let envs: Vec<_> = (0..count)
            .map(|i| plane.gateway_env(&prepared.task_env, i))
            .collect();
        for line in plane.roll(&envs).await? {
            println!("  {line}");
        }
    }
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let deployed = Deployed {
        task_definition: prepared.task_def_arn,
        config: prepared.config,
        at,
    };
    record::write(&session.cx, &deployed).await.map_err(|e| {
        DeployError::Other(format!(
            "the gateway runs the new configuration, but recording it failed ({e}); \
             `provision up` again repeats the deploy's steps and records it"
        ))
    })?;
    println!("Deploy complete.");
    Ok(())
}

/// `destroy`: the local data plane stops (its data kept unless `delete_data`) and the deploy
/// record goes.
pub async fn teardown(session: &Session, delete_data: bool) -> Result<(), CommandError> {
    if session.stack.local.is_some() {
        let plane = LocalPlane::for_stack(&session.stack)?;
        let stopped = plane.stop_all(delete_data);
        if !stopped.is_empty() {
            println!("Stopped the local data plane: {}.", stopped.join(", "));
        }
    }
    record::delete(&session.cx).await?;
    Ok(())
}

async fn migrate_and_sync_local(
    plane: &LocalPlane,
    task_env: &BTreeMap<String, String>,
    config: &str,
) -> Result<(), DeployError> {
    let env0 = plane.gateway_env(task_env, 0);
    let password = env0.get("KONG_PG_PASSWORD").ok_or_else(|| {
        DeployError::Other("the task definition has no KONG_PG_PASSWORD secret".into())
    })?;
    let pg_user = env0.get("KONG_PG_USER").map_or("kong", String::as_str);
    let pg_db = env0.get("KONG_PG_DATABASE").map_or("kong", String::as_str);
    plane.start_services(pg_user, pg_db, password).await?;
    println!(
        "  postgres 127.0.0.1:{}, redis 127.0.0.1:{}{} (in {})",
        plane.ports.postgres_port,
        plane.ports.redis_port,
        plane
            .ports
            .backend_port
            .map(|p| format!(", backend http://127.0.0.1:{p}/"))
            .unwrap_or_default(),
        plane.dir.display()
    );
    let out = plane.one_off(&["migrations", "bootstrap"], &env0).await?;
    print_indented("migrations", &out);
    let file = plane.dir.join("gateway-config.yaml");
    std::fs::write(&file, config)
        .map_err(|e| DeployError::Other(format!("{}: {e}", file.display())))?;
    let file_arg = file.display().to_string();
    let out = plane.one_off(&["config", "sync", &file_arg], &env0).await?;
    print_indented("configuration", &out);
    Ok(())
}

async fn migrate_and_sync_ecs(
    session: &Session,
    planned: &DeployPlan,
    observed: &BTreeMap<String, Observed>,
    task_def_arn: &str,
    config: &str,
) -> Result<(), DeployError> {
    // The service may not exist yet (it starts after the migrations): its network comes from
    // the desired graph, resolved against what exists.
    let known: BTreeMap<String, Attrs> = observed
        .iter()
        .map(|(k, o)| (k.clone(), o.attrs.clone()))
        .collect();
    let desired = session
        .graph
        .get("service.gateway")
        .ok_or_else(|| DeployError::Other("the stack has no service.gateway".into()))?;
    let service = crate::engine::apply::resolve_all(&known, "service.gateway", &desired.attrs)?;
    let log_group = observed
        .get("logs.gateway")
        .and_then(|o| o.attrs.opt_str("name"))
        .unwrap_or("(the service's log group)")
        .to_string();
    let progress = &session.progress;
    let migrations_due = planned.migrations.is_some()
        || planned
            .previous
            .as_ref()
            .is_none_or(|p| p.task_definition != task_def_arn);
    let synced = planned.previous.as_ref().map(|p| p.config.as_str());
    let steps = [
        (
            migrations_due,
            ecs::OneOff {
                label: "migrations",
                command: &["migrations", "up"],
                environment: &[],
            },
        ),
        (
            synced != Some(config) || planned.database_new,
            ecs::OneOff {
                label: "configuration sync",
                command: &["config", "sync"],
                environment: &[("KONG_DECLARATIVE_CONFIG_STRING", config)],
            },
        ),
    ];
    for (due, one_off) in &steps {
        if !due {
            println!("  {}: nothing to do", one_off.label);
            continue;
        }
        let cx = &session.cx;
        ecs::run(cx, progress, &service, task_def_arn, &log_group, one_off).await?;
        println!("  {}: done (one-off task of {task_def_arn})", one_off.label);
    }
    Ok(())
}

/// The gateway container's environment with its secrets read from Secrets Manager / SSM.
async fn container_env(
    session: &Session,
    task_def: &Attrs,
) -> Result<BTreeMap<String, String>, DeployError> {
    let container = match task_def.get("containers") {
        Some(Attr::List(items)) => items.iter().find_map(|c| match c {
            Attr::Map(m) if m.get("name") == Some(&Attr::Str("gateway".into())) => Some(m),
            _ => None,
        }),
        _ => None,
    }
    .ok_or_else(|| DeployError::Other("the task definition has no `gateway` container".into()))?;
    let mut env: BTreeMap<String, String> = container
        .map("environment")?
        .into_iter()
        .filter_map(|(k, v)| match v {
            Attr::Str(s) => Some((k, s)),
            _ => None,
        })
        .collect();
    if let Some(Attr::List(secrets)) = container.get("secrets") {
        for secret in secrets {
            let Attr::Map(secret) = secret else { continue };
            let (name, from) = (secret.str("name")?, secret.str("value_from")?);
            env.insert(name.to_string(), resolve_secret(session, from).await?);
        }
    }
    Ok(env)
}

/// Where a `valueFrom` points, as ECS reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ValueFrom<'a> {
    /// An SSM parameter (its name, from `arn:...:parameter/NAME`).
    Parameter(String),
    /// A Secrets Manager secret, optionally one JSON key of it, at a version stage or id.
    Secret {
        id: String,
        json_key: Option<&'a str>,
        stage: Option<&'a str>,
        version: Option<&'a str>,
    },
}

fn parse_value_from(value_from: &str) -> ValueFrom<'_> {
    let parts: Vec<&str> = value_from.split(':').collect();
    if parts.get(2) == Some(&"ssm") {
        let name = value_from
            .split_once(":parameter")
            .map(|(_, n)| n.to_string())
            .unwrap_or_default();
        return ValueFrom::Parameter(name);
    }
    let field = |i: usize| parts.get(i).copied().filter(|s| !s.is_empty());
    ValueFrom::Secret {
        id: parts.iter().take(7).copied().collect::<Vec<_>>().join(":"),
        json_key: field(7),
        stage: field(8),
        version: field(9),
    }
}

/// The value behind a `valueFrom`: a Secrets Manager ARN (optionally `:json-key:stage:version`)
/// or an SSM parameter ARN, as ECS resolves it at task start.
async fn resolve_secret(session: &Session, value_from: &str) -> Result<String, DeployError> {
    let aws = &session.cx.aws;
    let (secret_id, json_key, stage, version) = match parse_value_from(value_from) {
        ValueFrom::Parameter(name) => {
            let value = crate::aws::param::get(&session.cx, &name).await?;
            return value.ok_or_else(|| {
                DeployError::Other(format!(
                    "the SSM parameter {name} ({value_from}) does not exist"
                ))
            });
        }
        ValueFrom::Secret {
            id,
            json_key,
            stage,
            version,
        } => (id, json_key, stage, version),
    };
    let value = aws
        .secrets
        .get_secret_value()
        .secret_id(&secret_id)
        .set_version_stage(stage.map(str::to_string))
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .map_err(api("secretsmanager:GetSecretValue"))?
        .secret_string
        .unwrap_or_default();
    let Some(key) = json_key else {
        return Ok(value);
    };
    let json: serde_json::Value = serde_json::from_str(&value).map_err(|_| {
        DeployError::Other(format!(
            "secret {secret_id} is not JSON, so it has no key `{key}`"
        ))
    })?;
    match json.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(DeployError::Other(format!(
            "secret {secret_id} has no key `{key}`"
        ))),
    }
}

fn template_path(session: &Session, template: &str) -> PathBuf {
    let dir = session
        .stack
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let path = dir.join(template);
    path.canonicalize().unwrap_or(path)
}

/// The template filled with the stack's values; problems are `file:line:col: message` lines.
fn render(
    session: &Session,
    runtime: &Runtime,
    observed: &BTreeMap<String, Observed>,
    path: &PathBuf,
) -> Result<Rendered, DeployError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DeployError::Other(format!(
            "gateway.config.template: cannot read {}: {e}",
            path.display()
        ))
    })?;
    template::render(&text, &values(session, runtime, observed)).map_err(|problems| {
        DeployError::Other(
            problems
                .iter()
                .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// Placeholders every template may use beside the stack's `[gateway.config.values]`.
pub const BUILT_IN_VALUES: &[&str] = &[
    "name_prefix",
    "region",
    "redis_host",
    "redis_port",
    "admin_port",
    "health_check_path",
];

/// Every placeholder a template may use: the stack's `[gateway.config.values]` and the built-ins.
fn values(
    session: &Session,
    runtime: &Runtime,
    observed: &BTreeMap<String, Observed>,
) -> BTreeMap<String, Value> {
    let stack = &session.stack;
    let known = |v: String| Value::Known(v);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    values.insert("name_prefix".into(), known(stack.name_prefix.clone()));
    values.insert("region".into(), known(stack.region.clone()));
    let health = stack
        .dns
        .as_ref()
        .map_or("/status", |d| d.health_check_path.as_str());
    values.insert("health_check_path".into(), known(health.to_string()));
    match runtime {
        Runtime::Local(plane) => {
            values.insert("redis_host".into(), known("127.0.0.1".into()));
            values.insert(
                "redis_port".into(),
                known(plane.ports.redis_port.to_string()),
            );
            values.insert(
                "admin_port".into(),
                known(plane.ports.admin_port.to_string()),
            );
        }
        Runtime::Ecs => {
            let redis = observed
                .get("redis")
                .and_then(|o| o.attrs.opt_str("primary_endpoint"))
                .map_or(Value::AfterApply, |h| known(h.to_string()));
            values.insert("redis_host".into(), redis);
            values.insert(
                "redis_port".into(),
                known(crate::core::desired::REDIS_PORT.to_string()),
            );
            values.insert("admin_port".into(), known(ADMIN_PORT.to_string()));
        }
    }
    for (key, value) in stack.gateway.config.iter().flat_map(|c| &c.values) {
        values.insert(key.clone(), known(value.clone()));
    }
    values
}

/// The running local gateways whose environment (the current task definition's, secrets read
/// again) or binary differs from what they started with. Best effort: when the secrets cannot
/// be read (a destroyed stack's are scheduled for deletion), nothing is reported here and `up`
/// still compares for itself.
async fn outdated(
    session: &Session,
    plane: &LocalPlane,
    observed: &BTreeMap<String, Observed>,
    count: u32,
) -> Vec<String> {
    let Some(task_def) = observed.get("task_def.gateway") else {
        return Vec::new();
    };
    let Ok(task_env) = container_env(session, &task_def.attrs).await else {
        return Vec::new();
    };
    let envs: Vec<_> = (0..count)
        .map(|i| plane.gateway_env(&task_env, i))
        .collect();
    plane.outdated(&envs)
}

/// `provision status`'s line about the local data plane, for stacks that have one.
pub fn local_status(session: &Session, observed: &BTreeMap<String, Observed>) -> Option<String> {
    session.stack.local.as_ref()?;
    let plane = LocalPlane::for_stack(&session.stack).ok()?;
    let parts: Vec<String> = plane
        .processes(desired_count(session, observed))
        .into_iter()
        .map(|(name, running)| format!("{name} {}", if running { "running" } else { "STOPPED" }))
        .collect();
    Some(format!(
        "{} (proxy http://127.0.0.1:{}/, in {})",
        parts.join(", "),
        plane.ports.proxy_port,
        plane.dir.display()
    ))
}

fn desired_count(session: &Session, observed: &BTreeMap<String, Observed>) -> u32 {
    observed
        .get("service.gateway")
        .and_then(|o| o.attrs.opt_int("desired_count"))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(session.stack.gateway.desired_count)
}

fn get<'a>(
    observed: &'a BTreeMap<String, Observed>,
    logical: &str,
) -> Result<&'a Attrs, DeployError> {
    observed
        .get(logical)
        .map(|o| &o.attrs)
        .ok_or_else(|| DeployError::Other(format!("`{logical}` does not exist after the apply")))
}

fn print_indented(label: &str, output: &str) {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [] => println!("  {label}: done"),
        [one] => println!("  {label}: {one}"),
        many => {
            println!("  {label}:");
            for line in many {
                println!("    {line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_from_forms() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
        assert_eq!(
            parse_value_from(arn),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: None,
                stage: None,
                version: None
            }
        );
        assert_eq!(
            parse_value_from(&format!("{arn}:password::")),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: Some("password"),
                stage: None,
                version: None
            }
        );
        assert_eq!(
            parse_value_from(&format!("{arn}::AWSPREVIOUS:")),
            ValueFrom::Secret {
                id: arn.into(),
                json_key: None,
                stage: Some("AWSPREVIOUS"),
                version: None
            }
        );
        assert_eq!(
            parse_value_from("arn:aws:ssm:us-east-1:123456789012:parameter/app/key"),
            ValueFrom::Parameter("/app/key".into())
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
