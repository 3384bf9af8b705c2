//! What a stack owns in its LocalStack, found as `plan` and `destroy` find it (kinds found by
//! name, such as DNS records, are looked for where the stack file says).

use std::path::Path;

use provisioner::aws::Cx;

/// The logical names of everything the stack in `file` owns; panics when it cannot be read.
pub async fn owned(cx: &Cx, file: &Path) -> Vec<String> {
    let stack = provisioner::load_file(file).expect("stack file");
    let observed = provisioner::engine::observe(cx, &provisioner::core::desired(&stack))
        .await
        .expect("observe");
    observed.into_keys().collect()
}
