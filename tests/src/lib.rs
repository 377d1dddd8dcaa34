//! Helpers shared by Keyward's cross-crate test suites (the test targets in this folder).

use std::path::PathBuf;

/// The path of a binary built from this workspace, e.g. `keyward`.
///
/// Test executables live in `target/<profile>/deps/`, binaries one level up. Cargo cannot build
/// another package's binary for a test here, so `cargo test` from the workspace root (which
/// builds every member) is the way to run these suites; testing this package alone needs
/// `cargo build --workspace` first.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in target/<profile>/deps");
    let binary = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is not built; run `cargo build --workspace` (or `cargo test` at the workspace root)",
        binary.display()
    );
    binary
}
