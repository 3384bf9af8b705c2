//! `provision up` on the production deploy path, end to end against LocalStack with the plugin's
//! ECS task runner: a stack with `[endpoints]` but no `[local]`, so the migrations and the
//! configuration sync run as one-off Fargate tasks of the new task definition revision. The
//! runner runs the task's `gateway` container as the workspace's `gateway` binary; a
//! [`TempPostgres`] stands in for Aurora, with the role and the password `provision` generated.
//! Then a second `up` that runs no task, a failing migration that rolls nothing forward, and a
//! destroy that leaves nothing.

use std::path::PathBuf;
use std::process::Output;

use aws_sdk_ecs::types::DesiredStatus;
use provisioner::aws::Cx;
use serde_json::json;
use stack_tests::cli::{assert_success, provision, text};
use stack_tests::scratch::ScratchDir;
use stack_tests::stackfile::on_ecs;
use stack_tests::{cargo_bin, free_port, localstack, unique_stack, TempPostgres};

/// One test's stack on ECS, its stand-in database and the task runner's settings.
struct EcsStack {
    name: String,
    file: PathBuf,
    template: String,
    image: String,
    pg: TempPostgres,
    _dir: ScratchDir,
}

impl EcsStack {
    fn new(tag: &str) -> EcsStack {
        let name = unique_stack(tag);
        let dir = ScratchDir::new("deploy-ecs-test").expect("scratch dir");
        let template = stack_tests::bins::workspace_root().join("templates/gateway.yaml");
        let file = dir.path().join(format!("{name}.toml"));
        EcsStack {
            image: format!("registry.test/{name}/gateway:dev"),
            template: template.display().to_string(),
            pg: TempPostgres::start().expect("postgres"),
            name,
            file,
            _dir: dir,
        }
    }

    /// Writes the stack file: the infrastructure alone, or with the deploy phase.
    fn write(&self, with_config: bool) {
        let text = on_ecs(
            &self.name,
            localstack(),
            &self.image,
            &self.template,
            with_config,
        );
        std::fs::write(&self.file, text).expect("write the stack file");
    }

    fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.file).expect("stack file");
        assert!(text.contains(from), "the stack file has no `{from}`");
        std::fs::write(&self.file, text.replacen(from, to, 1)).expect("edit the stack file");
    }

    fn run(&self, args: &[&str]) -> Output {
        provision(&self.file, args).output().expect("run provision")
    }

    async fn cx(&self) -> Cx {
        Cx::for_endpoint(localstack(), &self.name).await
    }

    fn log_group(&self) -> String {
        format!("/ecs/{}-gateway", self.name)
    }

    /// The task runner: our image is the `gateway` binary; the database's endpoint (Aurora's
    /// on AWS) leads to the test's PostgreSQL on `pg_port`, Redis to loopback.
    fn set_runner(&self, pg_port: u16) {
        let settings = json!({
            "images": {
                self.image.as_str(): {"entrypoint": [cargo_bin("gateway").display().to_string()]}
            },
            "environment": {
                "KONG_PG_HOST": "127.0.0.1",
                "KONG_PG_PORT": pg_port.to_string(),
                "GATEWAY_REDIS_HOST": "127.0.0.1",
            },
            "timeout": 300,
        });
        runner_settings(&settings);
    }

    /// What Aurora does with the generated master password: the `gateway` role and database.
    async fn create_role_with_generated_password(&self) {
        let password = self
            .cx()
            .await
            .aws
            .secrets
            .get_secret_value()
            .secret_id(format!("{}/db-password", self.name))
            .send()
            .await
            .expect("the database password secret")
            .secret_string
            .expect("a string secret");
        let quoted = password.replace('\'', "''");
        let sql = format!("CREATE ROLE gateway LOGIN PASSWORD '{quoted}'");
        self.pg.psql("postgres", &sql).expect("create the role");
        let sql = "CREATE DATABASE gateway OWNER gateway";
        self.pg.psql("postgres", sql).expect("create the database");
        self.pg.require_password("gateway").expect("pg_hba.conf");
    }

    fn names(&self, table: &str) -> Vec<String> {
        let sql = format!("SELECT name FROM {table} WHERE name IS NOT NULL ORDER BY name");
        let out = self.pg.psql("gateway", &sql).expect("psql");
        out.lines().map(str::to_string).collect()
    }

    /// The stack's one-off tasks (stopped or not), each as (last status, gateway exit code).
    async fn one_off_tasks(&self) -> Vec<(String, Option<i32>)> {
        let cx = self.cx().await;
        let mut arns = Vec::new();
        for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let listed = cx
                .aws
                .ecs
                .list_tasks()
                .cluster(&self.name)
                .desired_status(status)
                .send()
                .await
                .expect("ListTasks");
            arns.extend(listed.task_arns().iter().cloned());
        }
        if arns.is_empty() {
            return Vec::new();
        }
        let described = cx
            .aws
            .ecs
            .describe_tasks()
            .cluster(&self.name)
            .set_tasks(Some(arns))
            .send()
            .await
            .expect("DescribeTasks");
        described
            .tasks()
            .iter()
            .filter(|t| t.started_by().is_some_and(|s| s.starts_with("provision/")))
            .map(|t| {
                let code = t
                    .containers()
                    .iter()
                    .find(|c| c.name() == Some("gateway"))
                    .and_then(|c| c.exit_code());
                (t.last_status().unwrap_or("?").to_string(), code)
            })
            .collect()
    }

    /// The task definition the service runs, and the family's newest revision.
    async fn service_and_newest_revision(&self) -> (Option<String>, String) {
        let cx = self.cx().await;
        let services = cx
            .aws
            .ecs
            .describe_services()
            .cluster(&self.name)
            .services(format!("{}-gateway", self.name))
            .send()
            .await
            .expect("DescribeServices");
        let running = services
            .services()
            .iter()
            .find(|s| s.status() == Some("ACTIVE"))
            .and_then(|s| s.task_definition())
            .map(str::to_string);
        let newest = cx
            .aws
            .ecs
            .describe_task_definition()
            .task_definition(format!("{}-gateway", self.name))
            .send()
            .await
            .expect("DescribeTaskDefinition");
        let arn = newest
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .expect("a task definition arn");
        (running, arn.to_string())
    }

    /// Every line the one-off tasks wrote to the service's log group.
    async fn logged(&self) -> (usize, String) {
        let cx = self.cx().await;
        let streams = cx
            .aws
            .logs
            .describe_log_streams()
            .log_group_name(self.log_group())
            .send()
            .await
            .expect("DescribeLogStreams");
        let events = cx
            .aws
            .logs
            .filter_log_events()
            .log_group_name(self.log_group())
            .send()
            .await
            .expect("FilterLogEvents");
        let lines: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
        (streams.log_streams().len(), lines.join("\n"))
    }
}

impl Drop for EcsStack {
    /// A failed test still removes what it made, and leaves the runner as it found it.
    fn drop(&mut self) {
        if self.file.exists() {
            let _ = self.run(&["destroy", "--auto-approve", "--delete-data"]);
        }
        runner_settings(&json!({}));
    }
}

/// `POST /_localstack/provision/tasks`: the task runner's settings, replaced whole.
fn runner_settings(settings: &serde_json::Value) {
    stack_tests::localstack::plugin_call("POST", "tasks", &settings.to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn up_runs_migrations_and_sync_as_one_off_tasks_and_rolls_nothing_after_a_failure() {
    let stack = EcsStack::new("ecs");
    stack.set_runner(stack.pg.port());

    // Aurora's master password exists once the infrastructure does: a first `up` without the
    // deploy phase, then the role as Aurora would make it.
    stack.write(false);
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "infrastructure up");
    assert!(out.contains("Apply complete!"), "{out}");
    stack.create_role_with_generated_password().await;

    // The deploy: migrations, then the configuration sync, each a one-off task that exits 0.
    stack.write(true);
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "deploying up");
    assert!(out.contains("migrations: done (one-off task of"), "{out}");
    assert!(
        out.contains("configuration sync: done (one-off task of"),
        "{out}"
    );
    assert!(out.contains("Deploy complete."), "{out}");
    let tasks = stack.one_off_tasks().await;
    let stopped_ok = ("STOPPED".to_string(), Some(0));
    assert_eq!(tasks, vec![stopped_ok.clone(), stopped_ok.clone()], "{out}");
    // The schema and the template's routes and plugins are in the database.
    let routes = stack.names("routes");
    for route in ["admin-api", "forecast", "health"] {
        assert!(routes.contains(&route.to_string()), "{routes:?}");
    }
    let plugins = stack.names("plugins");
    for plugin in ["key-auth", "rate-limiting", "request-transformer"] {
        assert!(plugins.contains(&plugin.to_string()), "{plugins:?}");
    }
    let (streams, logged) = stack.logged().await;
    assert_eq!(streams, 2, "one log stream per task:\n{logged}");
    assert!(!logged.trim().is_empty(), "the tasks logged nothing");
    // ECS rolled the service to the new revision (its own tasks are not run by the task
    // runner: only one-off tasks are, so the service is checked through its definition).
    let (service, newest) = stack.service_and_newest_revision().await;
    assert_eq!(service.as_deref(), Some(newest.as_str()), "{out}");

    // No change: the plan says so, and `up` runs no task (the configuration is the one synced).
    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "second up");
    assert_eq!(stack.one_off_tasks().await.len(), 2, "{out}");

    // A new revision whose migrations fail (the database unreachable): `up` stops, names the
    // log group, and the service stays on the revision it ran.
    let closed = free_port();
    stack.set_runner(closed);
    stack.edit("KONG_LOG_LEVEL = \"notice\"", "KONG_LOG_LEVEL = \"warn\"");
    let failed = stack.run(&["up", "--auto-approve"]);
    let said = text(&failed);
    assert!(!failed.status.success(), "{said}");
    assert!(said.contains("migrations"), "{said}");
    assert!(said.contains(&stack.log_group()), "{said}");
    assert!(!said.contains("Deploy complete."), "{said}");
    let (running, newest_now) = stack.service_and_newest_revision().await;
    assert_eq!(running.as_deref(), Some(newest.as_str()), "{said}");
    assert_ne!(
        newest_now, newest,
        "the new revision was registered: {said}"
    );
    let tasks = stack.one_off_tasks().await;
    assert_eq!(tasks.len(), 3, "{said}");
    assert!(
        tasks
            .iter()
            .any(|(s, code)| s == "STOPPED" && *code != Some(0)),
        "{tasks:?}"
    );
    let (streams, logged) = stack.logged().await;
    assert_eq!(streams, 3, "{logged}");
    assert!(
        logged.contains("cannot reach the database"),
        "the failed task's output is not in the log group:\n{logged}"
    );

    // The database back: the next `up` runs the migrations again and rolls forward.
    stack.set_runner(stack.pg.port());
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "up after the fix");
    assert!(out.contains("migrations: done"), "{out}");
    let (running, newest) = stack.service_and_newest_revision().await;
    assert_eq!(running.as_deref(), Some(newest.as_str()), "{out}");
    assert!(
        out.contains("Deregistered task definition revisions no service runs"),
        "the revision the service ran before stays active:\n{out}"
    );

    // Destroy leaves nothing the stack owns, also right after a failed deploy (two active
    // revisions: the one the service runs and the one whose migrations failed).
    stack.set_runner(closed);
    stack.edit("KONG_LOG_LEVEL = \"warn\"", "KONG_LOG_LEVEL = \"info\"");
    let failed = stack.run(&["up", "--auto-approve"]);
    let said = text(&failed);
    assert!(!failed.status.success(), "{said}");
    assert!(said.contains(&stack.log_group()), "{said}");
    assert_success(
        &stack.run(&["destroy", "--auto-approve", "--delete-data"]),
        "destroy",
    );
    let owned = stack_tests::owned::owned(&stack.cx().await, &stack.file).await;
    assert_eq!(owned, Vec::<String>::new());
    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
}
