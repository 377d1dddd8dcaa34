//! Helpers shared by Keyward's cross-crate test suites (the test targets in this folder).

use std::path::{Path, PathBuf};

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

/// Bytes a scenario produced (a file's content, a command's stdout or stderr) and where they
/// came from, for the secret-hygiene scans.
pub struct Seen {
    pub source: String,
    pub bytes: Vec<u8>,
}

/// Records every file under `path` (recursively) as seen "after `label`".
pub fn snapshot(path: &Path, label: &str, seen: &mut Vec<Seen>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            snapshot(&entry.unwrap().path(), label, seen);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        seen.push(Seen {
            source: format!("{} after {label}", path.display()),
            bytes,
        });
    }
}

/// Whether `needle` occurs anywhere in `haystack`, byte for byte.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}
