//! `up` under EC2's eventual consistency: our LocalStack plugin hides each new VPC, subnet,
//! security group, address, gateway and route table for 3 s after its create (calls naming it
//! answer its `NotFound` code), and `up` from zero still converges in one run.

use std::process::Output;

use provisioner::aws::Cx;
use stack_tests::cli::{assert_success, text};
use stack_tests::localstack;
use stack_tests::stackfile::StackFile;

/// Seconds a new EC2 id stays invisible.
const DELAY: u64 = 3;

/// One call to the plugin's fault endpoint; the answer's body.
fn faults(method: &str, body: &str) -> String {
    stack_tests::localstack::plugin_call(method, "faults", body)
}

/// The infrastructure-only local stack, run with an access key of its own (the faults apply to
/// calls signed with it); on drop the faults are reset and the stack destroyed, also on failure.
struct ChaosStack {
    stack: StackFile,
    key: String,
}

impl ChaosStack {
    fn new(tag: &str) -> ChaosStack {
        let stack = StackFile::new(tag, |name| {
            stack_tests::stackfile::infra_only(name, localstack())
        });
        ChaosStack {
            key: format!("chaos-{}", stack.name),
            stack,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.stack.command(args);
        cmd.env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", "test");
        cmd.output().expect("run provision")
    }

    /// What the stack owns, observed with the ordinary key (no faults).
    async fn owned(&self) -> Vec<String> {
        let cx = Cx::for_endpoint(localstack(), &self.stack.name).await;
        stack_tests::owned::owned(&cx, &self.stack.file).await
    }
}

impl Drop for ChaosStack {
    fn drop(&mut self) {
        faults("DELETE", "");
        if std::thread::panicking() {
            let _ = self
                .stack
                .run(&["destroy", "--auto-approve", "--delete-data"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_converges_in_one_run_while_new_ec2_ids_are_invisible() {
    let stack = ChaosStack::new("ec");
    let settings = format!(
        r#"{{"access_key": "{}", "visibility_delay": {DELAY}}}"#,
        stack.key
    );
    faults("POST", &settings);

    let up = assert_success(&stack.run(&["up", "--auto-approve"]), "up under faults");
    assert!(up.contains("Apply complete!"), "{up}");
    let report: serde_json::Value = serde_json::from_str(&faults("GET", "")).expect("faults JSON");
    let hidden = report["injected"]["visibility_delay"].as_u64().unwrap_or(0);
    assert!(
        hidden > 0,
        "no call met a hidden id, the test proves nothing: {report}"
    );

    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    let destroy = stack.run(&["destroy", "--auto-approve", "--delete-data"]);
    assert_success(&destroy, "destroy under faults");
    assert_eq!(stack.owned().await, Vec::<String>::new());
}
