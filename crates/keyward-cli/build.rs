//! Records the commit the CLI is built from, for `keyward --version`: `KEYWARD_COMMIT` from the
//! environment if set (a packager building from a tarball), else `git rev-parse --short HEAD`,
//! else "unknown". A build never needs git or a `.git` directory.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=KEYWARD_COMMIT");
    let commit = std::env::var("KEYWARD_COMMIT")
        .ok()
        .filter(|commit| !commit.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KEYWARD_COMMIT={}", commit.trim());
}

fn git_commit() -> Option<String> {
    let git_dir = git_output(&["rev-parse", "--git-dir"])?;
    let git_dir = Path::new(&git_dir);
    // Rebuild when HEAD moves: HEAD itself (checkout) and the branch it names (commit). Only
    // files that exist are watched, as cargo reruns the script every time for a missing one.
    let head = git_dir.join("HEAD");
    watch(&head);
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(reference) = text.strip_prefix("ref:") {
            watch(&git_dir.join(reference.trim()));
        }
    }
    watch(&git_dir.join("packed-refs"));
    git_output(&["rev-parse", "--short", "HEAD"])
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git_output(args: &[&str]) -> Option<String> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let output = Command::new("git")
        .args(args)
        .current_dir(manifest_dir)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}
