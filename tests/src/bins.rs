//! Finding the workspace's binaries (built by `cargo build` before the tests run) for end-to-end
//! tests.

use std::path::{Path, PathBuf};

/// `target/<profile>/<name>` of this build. Panics with a hint when it has not been built.
pub fn cargo_bin(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    if !path.is_file() {
        panic!(
            "binary {} not found: build it first (`cargo build --workspace` or `make test`)",
            path.display()
        );
    }
    path
}

/// The directory cargo puts binaries of the running build in: the parent of `deps/`, where test
/// executables live; else `$CARGO_TARGET_DIR/debug`; else `<workspace>/target/debug`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    if let Some(dir) = exe.as_deref().and_then(profile_dir_of_test_exe) {
        return dir;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// `.../target/debug/deps/harness-0123abcd` -> `.../target/debug`.
pub fn profile_dir_of_test_exe(exe: &Path) -> Option<PathBuf> {
    let deps = exe.parent()?;
    (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
}

/// The workspace root: this crate lives in `<root>/tests`.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
