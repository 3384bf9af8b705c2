//! A service autoscaling moved: `plan` notes its task count but changes nothing, and `up` leaves
//! it where autoscaling put it (LocalStack, the real binary).

use provisioner::aws::Cx;
use stack_tests::cli::{assert_success, text};
use stack_tests::localstack;
use stack_tests::stackfile::StackFile;

/// The infrastructure-only local stack, able to scale between 1 and 6 tasks.
struct ScaledStack(StackFile);

impl ScaledStack {
    fn new(tag: &str) -> ScaledStack {
        ScaledStack(StackFile::new(tag, |name| {
            let base = stack_tests::stackfile::infra_only(name, localstack());
            assert!(base.contains("max = 1"), "{base}");
            base.replacen("max = 1", "max = 6", 1)
        }))
    }

    /// The service's desired count as ECS reports it.
    async fn tasks(&self, cx: &Cx) -> i32 {
        let found = cx
            .aws
            .ecs
            .describe_services()
            .cluster(&self.0.name)
            .services(format!("{}-gateway", self.0.name))
            .send()
            .await
            .expect("DescribeServices");
        found.services()[0].desired_count()
    }
}

impl Drop for ScaledStack {
    fn drop(&mut self) {
        let out = self.0.run(&["destroy", "--auto-approve", "--delete-data"]);
        if !out.status.success() && !std::thread::panicking() {
            panic!("destroy failed:\n{}", text(&out));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scaled_out_service_plans_no_change_and_up_keeps_its_count() {
    let stack = ScaledStack::new("scaled");
    assert_success(&stack.0.run(&["up", "--auto-approve"]), "up");
    let cx = Cx::for_endpoint(localstack(), &stack.0.name).await;
    assert_eq!(stack.tasks(&cx).await, 1);

    // Autoscaling (here: the SDK, behind the tool's back) scales the service out.
    cx.aws
        .ecs
        .update_service()
        .cluster(&stack.0.name)
        .service(format!("{}-gateway", stack.0.name))
        .desired_count(4)
        .send()
        .await
        .expect("UpdateService");

    let out = stack.0.run(&["plan", "--detailed-exitcode"]);
    let plan = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a scaled service is no change:\n{plan}"
    );
    assert!(
        plan.contains("Note: service.gateway.desired_count is 4 (the stack's 1 applies"),
        "{plan}"
    );

    let up = assert_success(&stack.0.run(&["up", "--auto-approve"]), "up again");
    assert_eq!(
        stack.tasks(&cx).await,
        4,
        "up scaled the service back in:\n{up}"
    );
}
