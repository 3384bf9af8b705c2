//! `up` under EC2's eventual consistency: our LocalStack plugin hides each new VPC, subnet,
//! security group, address, gateway and route table for 3 s after its create (calls naming it
//! answer its `NotFound` code), and `up` from zero still converges in one run.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};

use provisioner::aws::Cx;
use stack_tests::cli::{assert_success, provision, text};
use stack_tests::scratch::ScratchDir;
use stack_tests::{localstack, unique_stack};

/// Seconds a new EC2 id stays invisible.
const DELAY: u64 = 3;

/// One call to the plugin's fault endpoint; the answer's body.
fn faults(method: &str, body: &str) -> String {
    let host = localstack().trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to LocalStack");
    let request = format!(
        "{method} /_localstack/provision/faults HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(head.contains(" 200 "), "{method} faults: {answer}");
    // The plugin answers with a length, but a chunked answer would be one chunk: take the JSON.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |i| i + 1);
    body[start..end].to_string()
}

/// The infrastructure-only local stack, run with an access key of its own (the faults apply to
/// calls signed with it); on drop the faults are reset and the stack destroyed, also on failure.
struct ChaosStack {
    name: String,
    key: String,
    file: PathBuf,
    _dir: ScratchDir,
}

impl ChaosStack {
    fn new(tag: &str) -> ChaosStack {
        let name = unique_stack(tag);
        let dir = ScratchDir::new("provision-test").expect("scratch dir");
        let file = dir.path().join(format!("{name}.toml"));
        let text = stack_tests::stackfile::infra_only(&name, localstack());
        std::fs::write(&file, text).expect("stack file");
        ChaosStack {
            key: format!("chaos-{name}"),
            name,
            file,
            _dir: dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = provision(&self.file, args);
        cmd.env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", "test");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run provision")
    }

    /// What the stack owns, observed with the ordinary key (no faults).
    async fn owned(&self) -> Vec<String> {
        let cx = Cx::for_endpoint(localstack(), &self.name).await;
        let stack = provisioner::load_file(&self.file).expect("stack file");
        let graph = provisioner::core::desired(&stack);
        let observed = provisioner::engine::observe(&cx, &graph)
            .await
            .expect("observe");
        observed.into_keys().collect()
    }
}

impl Drop for ChaosStack {
    fn drop(&mut self) {
        faults("DELETE", "");
        if std::thread::panicking() {
            let _ = provision(&self.file, &["destroy", "--auto-approve", "--delete-data"]).output();
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
