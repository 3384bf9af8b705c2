//! `provision up` with the deploy phase, end to end on this machine: the control plane in
//! LocalStack, the data plane (PostgreSQL, Redis, the backend, the gateway) started by the
//! provisioner, and real HTTP requests through the deployed gateway. Then a no-op plan, a
//! template change that plans and applies as a configuration diff only, and a destroy that
//! leaves nothing running and nothing tagged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use provisioner::aws::Cx;
use stack_tests::cli::{assert_success, provision, text};
use stack_tests::scratch::ScratchDir;
use stack_tests::stackfile::{with_deploy, LocalPorts};
use stack_tests::{localstack, unique_stack, wait_for_port};

/// One test's stack: its file, its own copy of the template, its ports.
struct Deployed {
    name: String,
    file: PathBuf,
    template: PathBuf,
    ports: LocalPorts,
    _dir: ScratchDir,
}

impl Deployed {
    fn new(tag: &str, requests_per_minute: u32) -> Deployed {
        let endpoint = localstack();
        let name = unique_stack(tag);
        let dir = ScratchDir::new("deploy-test").expect("scratch dir");
        let template = dir.path().join("gateway.yaml");
        let original = stack_tests::bins::workspace_root().join("templates/gateway.yaml");
        std::fs::copy(&original, &template).expect("copy the template");
        let ports = LocalPorts::free();
        let text = with_deploy(&name, endpoint, ports, &template.display().to_string()).replace(
            "requests_per_minute = \"60\"",
            &format!("requests_per_minute = \"{requests_per_minute}\""),
        );
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).expect("write the stack file");
        Deployed {
            name,
            file,
            template,
            ports,
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        provision(&self.file, args).output().expect("run provision")
    }

    fn proxy(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.proxy)
    }

    /// The directory the local data plane lives in.
    fn state_dir(&self) -> PathBuf {
        stack_tests::bins::workspace_root()
            .join(".provision")
            .join(&self.name)
    }

    async fn admin_key(&self) -> String {
        let cx = Cx::for_endpoint(localstack(), &self.name).await;
        cx.aws
            .secrets
            .get_secret_value()
            .secret_id(format!("{}/admin-api-key", self.name))
            .send()
            .await
            .expect("the admin key secret")
            .secret_string
            .expect("a string secret")
    }

    fn plan(&self) -> (i32, String) {
        let out = self.run(&["plan", "--detailed-exitcode"]);
        (out.status.code().unwrap_or(-1), text(&out))
    }
}

impl Drop for Deployed {
    /// A failed test still stops what it started.
    fn drop(&mut self) {
        if self.state_dir().exists() {
            let _ = self.run(&["destroy", "--auto-approve", "--delete-data"]);
        }
    }
}

/// An HTTP answer: status, raw header block (lower-cased names), body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

/// One request with curl over a real socket.
fn http(method: &str, url: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Answer {
    let mut curl = Command::new("curl");
    curl.args(["-s", "-i", "--max-time", "10", "-X", method]);
    for (name, value) in headers {
        curl.arg("-H").arg(format!("{name}: {value}"));
    }
    for (name, value) in form {
        curl.arg("--data-urlencode").arg(format!("{name}={value}"));
    }
    let out = curl.arg(url).output().expect("run curl");
    let raw = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer from {method} {url}: {raw}"));
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn get(url: &str) -> Answer {
    http("GET", url, &[], &[])
}

/// ACTIVE revisions of the stack's gateway task definition family.
async fn active_revisions(stack: &Deployed) -> usize {
    let cx = Cx::for_endpoint(localstack(), &stack.name).await;
    let found = cx
        .aws
        .ecs
        .list_task_definitions()
        .family_prefix(format!("{}-gateway", stack.name))
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("ListTaskDefinitions");
    found.task_definition_arns().len()
}

fn redis_keys(port: u16) -> usize {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--scan"])
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn pids_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pid"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_deploys_a_gateway_that_serves_plans_config_changes_and_destroys_cleanly() {
    let stack = Deployed::new("deploy", 5);
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "up");
    assert!(out.contains("Apply complete!"), "{out}");
    assert!(out.contains("Deploy complete."), "{out}");
    assert!(out.contains("gateway-0: started"), "{out}");
    let admin_key = stack.admin_key().await;
    assert!(
        !out.contains(&admin_key),
        "the Admin API key must never be printed"
    );

    // The developer portal registers a customer through the protected Admin API route.
    let admin = stack.proxy("/admin-api/consumers");
    assert_eq!(http("POST", &admin, &[], &[("username", "x")]).status, 401);
    let created = http(
        "POST",
        &admin,
        &[("apikey", &admin_key)],
        &[("username", "alice")],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let key = http(
        "POST",
        &stack.proxy("/admin-api/consumers/alice/key-auth"),
        &[("apikey", &admin_key)],
        &[("key", "alice-key")],
    );
    assert_eq!(key.status, 201, "{}", key.body);
    // A customer's key does not open the Admin API (ACL group `admin`).
    let forbidden = http("GET", &admin, &[("apikey", "alice-key")], &[]);
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);

    // The key in the URL path: 200 from the backend, with the consumer named.
    let ok = get(&stack.proxy("/forecast/alice-key/52.52,13.40"));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body.contains("\"path\": \"/forecast/52.52,13.40\""),
        "{}",
        ok.body
    );
    assert!(
        ok.body.contains("\"x-consumer-username\": \"alice\""),
        "{}",
        ok.body
    );
    assert!(
        ok.headers.contains("x-ratelimit-limit-minute: 5"),
        "{}",
        ok.headers
    );
    // A wrong key: Kong's 401.
    let wrong = get(&stack.proxy("/forecast/not-a-key/52.52,13.40"));
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Unauthorized"), "{}", wrong.body);
    // The Route53 health check's path answers through the proxy.
    assert_eq!(get(&stack.proxy("/status")).status, 200);

    // Over quota: 429 within a few requests, counted in the local "ElastiCache" Redis.
    let statuses: Vec<u16> = (0..12)
        .map(|_| get(&stack.proxy("/forecast/alice-key/1,2")).status)
        .collect();
    assert!(statuses.contains(&429), "no 429 in {statuses:?}");
    assert!(redis_keys(stack.ports.redis) > 0, "no counters in Redis");

    // Nothing to change now.
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");
    assert!(plan.contains("No changes. The stack matches"), "{plan}");
    assert!(
        plan.contains("No changes. The gateway runs the deployed"),
        "{plan}"
    );

    // A template change is a configuration diff only, and applies without a restart. A plan
    // saved before the change is refused by `up --plan`.
    let saved = stack.template.with_file_name("saved-plan.json");
    let saved_arg = saved.display().to_string();
    assert_success(&stack.run(&["plan", "--out", &saved_arg]), "plan --out");
    let template = std::fs::read_to_string(&stack.template).expect("template");
    let changed = template.replacen(
        "minute: ${requests_per_minute}",
        "minute: ${requests_per_minute}\n              hour: 1000",
        1,
    );
    assert_ne!(
        template, changed,
        "the template has no rate-limiting minute"
    );
    std::fs::write(&stack.template, changed).expect("edit the template");
    let refused = stack.run(&["up", "--plan", &saved_arg]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("what the deploy would do changed since the plan was saved"),
        "{}",
        text(&refused)
    );
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("No changes. The stack matches"), "{plan}");
    assert!(
        plan.contains("gateway configuration will be synced"),
        "{plan}"
    );
    assert!(plan.contains("+               hour: 1000"), "{plan}");
    assert!(!plan.contains("migrations will run"), "{plan}");
    assert!(!plan.contains(&admin_key), "{plan}");
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "second up");
    assert!(out.contains("updating plugin rate-limiting"), "{out}");
    assert!(out.contains("gateway-0: unchanged"), "{out}");
    let after = get(&stack.proxy("/forecast/alice-key/3,4"));
    assert!(
        after.headers.contains("x-ratelimit-limit-hour: 1000"),
        "{}",
        after.headers
    );
    // The portal's customer survived the sync: the file only owns what it tags.
    let alice = http(
        "GET",
        &stack.proxy("/admin-api/consumers/alice"),
        &[("apikey", &admin_key)],
        &[],
    );
    assert_eq!(
        alice.status, 200,
        "alice is gone after the sync: {}",
        alice.body
    );
    assert_eq!(stack.plan().0, 0);

    // A changed environment is a new task definition revision: migrations, then a rolling
    // restart; the previous revision is deregistered only once the new one runs.
    let text = std::fs::read_to_string(&stack.file).expect("stack file");
    std::fs::write(
        &stack.file,
        text.replacen(
            "KONG_LOG_LEVEL = \"notice\"",
            "KONG_LOG_LEVEL = \"warn\"",
            1,
        ),
    )
    .expect("edit the stack file");
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("task_def.gateway (TaskDefinition) must be replaced"),
        "{plan}"
    );
    assert!(
        plan.contains("migrations will run (new task definition revision)"),
        "{plan}"
    );
    assert!(!plan.contains("gateway configuration will be"), "{plan}");
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "third up");
    assert!(out.contains("gateway-0: replaced"), "{out}");
    assert!(
        out.contains("4 migrations") || out.contains("already bootstrapped"),
        "{out}"
    );
    assert_eq!(active_revisions(&stack).await, 1, "{out}");
    assert_eq!(get(&stack.proxy("/status")).status, 200);
    assert_eq!(stack.plan().0, 0);

    // A rotated database password: the running gateway still has the old one, so the plan
    // restarts it, and `up` gives PostgreSQL and the gateway the new one.
    let cx = Cx::for_endpoint(localstack(), &stack.name).await;
    cx.aws
        .secrets
        .put_secret_value()
        .secret_id(format!("{}/db-password", stack.name))
        .secret_string("rotated0password0for0the0test")
        .send()
        .await
        .expect("PutSecretValue");
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains(
            "local gateways will be restarted (environment or binary changed): gateway-0"
        ),
        "{plan}"
    );
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "up after rotation");
    assert!(out.contains("gateway-0: replaced"), "{out}");
    let after = get(&stack.proxy("/forecast/alice-key/7,8"));
    assert!(
        matches!(after.status, 200 | 429),
        "{} {}",
        after.status,
        after.body
    );
    assert_eq!(stack.plan().0, 0);

    // Route53's view, checked here: PRIMARY while the gateway answers its health path, the
    // fallback once it does not.
    let status = assert_success(&stack.run(&["status"]), "status");
    assert!(status.contains("dns        serves PRIMARY"), "{status}");
    assert!(status.contains("gateway-0 running"), "{status}");
    // The pid file holds the pid, then the process's start time.
    let pid_file =
        std::fs::read_to_string(stack.state_dir().join("gateway-0.pid")).expect("gateway-0.pid");
    let gateway_pid = pid_file.split_whitespace().next().expect("a pid");
    let killed = Command::new("kill")
        .args(["-KILL", gateway_pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    let status = assert_success(&stack.run(&["status"]), "status");
    assert!(status.contains("dns        serves SECONDARY"), "{status}");
    assert!(status.contains("gateway-0 STOPPED"), "{status}");
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("local data plane will be started: gateway-0"),
        "{plan}"
    );
    let out = assert_success(&stack.run(&["up", "--auto-approve"]), "up after a crash");
    assert!(out.contains("gateway-0: started"), "{out}");
    assert_eq!(get(&stack.proxy("/status")).status, 200);

    // Destroy without --delete-data: everything stops, the database's files stay, and the next
    // `up` serves the same customers.
    let state = stack.state_dir();
    let out = assert_success(&stack.run(&["destroy", "--auto-approve"]), "destroy");
    assert!(out.contains("Stopped the local data plane"), "{out}");
    assert!(
        pids_in(&state).is_empty(),
        "pid files left in {}",
        state.display()
    );
    for port in [stack.ports.proxy, stack.ports.redis, stack.ports.postgres] {
        assert!(
            !wait_for_port(port, Duration::from_millis(200)),
            "something still listens on {port}"
        );
    }
    assert_success(&stack.run(&["up", "--auto-approve"]), "up after destroy");
    let again = get(&stack.proxy("/forecast/alice-key/5,6"));
    // 429 is alice too: her minute's quota may be spent.
    assert!(
        matches!(again.status, 200 | 429),
        "alice's key did not survive destroy + up: {} {}",
        again.status,
        again.body
    );

    // Destroy with --delete-data: nothing running, nothing on disk, nothing tagged.
    let out = assert_success(
        &stack.run(&["destroy", "--auto-approve", "--delete-data"]),
        "destroy --delete-data",
    );
    assert!(out.contains("Stopped the local data plane"), "{out}");
    assert!(!state.exists(), "{} is still there", state.display());
    for port in [stack.ports.proxy, stack.ports.redis, stack.ports.postgres] {
        assert!(
            !wait_for_port(port, Duration::from_millis(200)),
            "something still listens on {port}"
        );
    }
    let (code, plan) = stack.plan();
    assert_eq!(
        code, 2,
        "after destroy everything is to create again:\n{plan}"
    );
    assert!(plan.contains("first deploy"), "{plan}");
}
