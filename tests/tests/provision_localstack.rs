//! `provision` end to end against LocalStack: the real binary, real SDK calls, a stack file of
//! its own per test (unique name prefix and DNS zone, so tests run side by side).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use provisioner::aws::Cx;
use stack_tests::cli::{assert_success, provision, text};
use stack_tests::scratch::ScratchDir;
use stack_tests::{localstack, unique_stack};

/// A copy of stacks/local.toml renamed for one test.
struct TestStack {
    name: String,
    file: PathBuf,
    _dir: ScratchDir,
    base: String,
}

impl TestStack {
    fn new(tag: &str) -> TestStack {
        let endpoint = localstack();
        let name = unique_stack(tag);
        let dir = ScratchDir::new("provision-test").expect("scratch dir");
        let base = stack_tests::stackfile::infra_only(&name, endpoint);
        let stack = TestStack {
            file: dir.path().join(format!("{name}.toml")),
            name,
            _dir: dir,
            base,
        };
        stack.edit(&[]);
        stack
    }

    /// Rewrites the stack file: the base text with each `(from, to)` replaced once.
    fn edit(&self, edits: &[(&str, &str)]) {
        let mut text = self.base.clone();
        for (from, to) in edits {
            assert!(text.contains(from), "stack file has no `{from}`");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(&self.file, text).expect("write stack file");
    }

    fn command(&self, args: &[&str]) -> Command {
        provision(&self.file, args)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run provision")
    }

    fn up(&self) -> Output {
        let out = self.run(&["up", "--auto-approve"]);
        assert_success(&out, "up");
        out
    }

    fn plan_exit(&self) -> (i32, String) {
        let out = self.run(&["plan", "--detailed-exitcode"]);
        (out.status.code().unwrap_or(-1), text(&out))
    }

    async fn cx(&self) -> Cx {
        Cx::for_endpoint(localstack(), &self.name).await
    }

    /// Everything the stack owns, as `plan` and `destroy` see it (kinds found by name, such as
    /// DNS records, are looked for where the stack file says).
    async fn owned(&self) -> Vec<String> {
        stack_tests::owned::owned(&self.cx().await, &self.file).await
    }

    fn destroy(&self) {
        let out = self.run(&["destroy", "--auto-approve", "--delete-data"]);
        assert_success(&out, "destroy");
    }
}

/// VPCs carrying the stack's ownership tag, listed straight through the SDK.
async fn tagged_vpcs(cx: &Cx) -> usize {
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("tag:provisioner:stack")
        .values(&cx.stack)
        .build();
    let found = cx
        .aws
        .ec2
        .describe_vpcs()
        .filters(filter)
        .send()
        .await
        .expect("DescribeVpcs");
    found.vpcs().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_from_zero_converges_and_destroy_leaves_nothing() {
    let stack = TestStack::new("up");
    let graph = provisioner::core::desired(&provisioner::load_file(&stack.file).expect("load"));
    let out = stack.up();
    assert!(text(&out).contains("Apply complete!"), "{}", text(&out));

    // Every desired resource exists, found through its tags.
    let owned = stack.owned().await;
    let wanted: Vec<String> = graph.resources.keys().cloned().collect();
    assert_eq!(owned, wanted);
    let cx = stack.cx().await;
    assert_eq!(tagged_vpcs(&cx).await, 1);
    let clusters = cx
        .aws
        .ecs
        .list_clusters()
        .send()
        .await
        .expect("ListClusters");
    assert!(clusters
        .cluster_arns()
        .iter()
        .any(|a| a.ends_with(&format!("/{}", stack.name))));

    // Nothing to do the second time.
    let (code, plan) = stack.plan_exit();
    assert_eq!(code, 0, "a fresh stack should plan no changes:\n{plan}");
    assert!(plan.contains("No changes"), "{plan}");

    // One field in place: the desired count.
    stack.edit(&[
        ("desired_count = 1", "desired_count = 2"),
        ("max = 1", "max = 2"),
    ]);
    let (code, plan) = stack.plan_exit();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("~ desired_count = 1 -> 2"), "{plan}");
    assert!(
        plan.contains("service.gateway (EcsService) will be updated in place"),
        "{plan}"
    );
    assert!(!plan.contains("must be replaced"), "{plan}");
    stack.up();
    assert_eq!(stack.plan_exit().0, 0);

    // A field that forces replacement: the task size registers a new task definition.
    stack.edit(&[
        ("cpu = 256", "cpu = 512"),
        ("memory = 512", "memory = 1024"),
    ]);
    let (code, plan) = stack.plan_exit();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("task_def.gateway (TaskDefinition) must be replaced"),
        "{plan}"
    );
    assert!(plan.contains("# forces replacement"), "{plan}");
    stack.up();
    let (code, plan) = stack.plan_exit();
    assert_eq!(code, 0, "{plan}");

    stack.destroy();
    assert_eq!(stack.owned().await, Vec::<String>::new());
    assert_eq!(tagged_vpcs(&cx).await, 0);
    let (code, plan) = stack.plan_exit();
    assert_eq!(
        code, 2,
        "after destroy everything is to create again:\n{plan}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn up_killed_at_several_points_converges_without_duplicates() {
    let stack = TestStack::new("kill");
    for kill_after in [1, 6, 15] {
        let mut child = stack
            .command(&["up", "--auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn up");
        let stderr = child.stderr.take().expect("stderr");
        let mut created = 0;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(": created after") {
                created += 1;
                if created == kill_after {
                    // SIGKILL: no cleanup, no lock release, calls possibly in flight.
                    child.kill().expect("kill");
                    break;
                }
            }
        }
        let _ = child.wait();
    }
    let out = stack.up();
    assert!(
        text(&out).contains("breaking the stale lock") || text(&out).contains("Apply complete")
    );
    let (code, plan) = stack.plan_exit();
    assert_eq!(code, 0, "after the re-run nothing is left to do:\n{plan}");
    let cx = stack.cx().await;
    assert_eq!(tagged_vpcs(&cx).await, 1, "one VPC, never two");
    stack.destroy();
    assert!(stack.owned().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_is_refused_and_names_the_holder() {
    let stack = TestStack::new("lock");
    let cx = stack.cx().await;
    let held = provisioner::engine::lock::acquire(&cx, "up (test)")
        .await
        .expect("lock");
    let out = stack.run(&["up", "--auto-approve"]);
    assert!(!out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("is locked by `up (test)`"), "{said}");
    assert!(said.contains(&held.holder.id), "{said}");
    assert!(
        said.contains(&format!("pid {}", std::process::id())),
        "{said}"
    );
    // The refused run changed nothing.
    assert!(stack.owned().await.is_empty());

    // `unlock` with another id leaves it; with the holder's id, breaks it.
    let wrong = stack.run(&["unlock", "00000000-0000-0000-0000-000000000000"]);
    assert!(!wrong.status.success());
    let unlocked = stack.run(&["unlock", &held.holder.id]);
    assert_success(&unlocked, "unlock");
    let again = provisioner::engine::lock::acquire(&cx, "up (test)")
        .await
        .expect("free again");
    again.release(&cx).await.expect("release");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_once_the_stack_changed() {
    let stack = TestStack::new("saved");
    let dir = ScratchDir::new("saved-plan").expect("dir");
    let saved = dir.path().join("plan.json");
    let out = stack.run(&["plan", "--out", saved.to_str().unwrap()]);
    assert_success(&out, "plan --out");
    // Someone else creates part of the stack meanwhile: here, a whole run.
    stack.up();
    let stale = stack.run(&["up", "--plan", saved.to_str().unwrap()]);
    assert!(!stale.status.success(), "{}", text(&stale));
    assert!(
        text(&stale).contains("changed since the plan was saved"),
        "{}",
        text(&stale)
    );
    // A plan saved now applies.
    let out = stack.run(&["plan", "--out", saved.to_str().unwrap()]);
    assert_success(&out, "plan --out");
    let fresh = stack.run(&["up", "--plan", saved.to_str().unwrap()]);
    assert_success(&fresh, "up --plan");
    stack.destroy();
}

#[test]
fn plan_output_never_shows_the_database_password() {
    let stack = TestStack::new("secret");
    let out = stack.run(&["plan", "--json"]);
    assert_success(&out, "plan --json");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let cluster = json["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["logical"] == "aurora.cluster"))
        .expect("aurora.cluster in the plan");
    assert_eq!(
        cluster["attrs"]["master_password"]["type"], "secret",
        "{cluster}"
    );
    let out = stack.run(&["plan"]);
    let said = text(&out);
    assert!(
        said.contains("master_password = (sensitive value)"),
        "{said}"
    );
}
