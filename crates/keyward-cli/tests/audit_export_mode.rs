//! `keyward audit export --output FILE` writes an owner-only file (0600), under the usual umask
//! (022) too, and over an existing world-readable file as well.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use support::Sandbox;

/// Runs `command` through `sh` with umask 022, so a plain create would make a 0644 file.
fn with_umask_022(command: Command) -> std::process::Output {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell.output().expect("sh runs")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_audit_export_is_owner_only() {
    let sandbox = Sandbox::new();
    sandbox.create("laptop", &[]);
    let fresh = sandbox.root().join("audit.csv");
    let out = with_umask_022(sandbox.command(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--output",
        fresh.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read_to_string(&fresh).unwrap().contains("laptop"));
    assert_eq!(mode(&fresh), 0o600, "{:o}", mode(&fresh));

    let existing = sandbox.root().join("audit.json");
    std::fs::write(&existing, "old").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = with_umask_022(sandbox.command(&[
        "audit",
        "export",
        "--format",
        "json",
        "--output",
        existing.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read_to_string(&existing)
        .unwrap()
        .contains("laptop"));
    assert_eq!(mode(&existing), 0o600, "{:o}", mode(&existing));
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.root())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
