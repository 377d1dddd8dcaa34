//! The clipboard through the CLI, on a real X server, read from another process with `xclip`.
//! Ignored by default (they need a display, and the keychain one the real Secret Service);
//! scripts/test runs them as
//!   scripts/with-secret-service xvfb-run -a cargo test -p keyward-cli --test clipboard -- --ignored --test-threads=1
//! One at a time: the clipboard is one for the whole display.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use support::{require_secret_service, Sandbox};

fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "these tests need an X display: run them under xvfb-run (see scripts/test)"
    );
}

/// `xclip -o -selection clipboard [-t TARGET]`: the text, or `None` when nothing is there.
fn clipboard(target: Option<&str>) -> Option<String> {
    let mut command = Command::new("xclip");
    command.args(["-o", "-selection", "clipboard"]);
    if let Some(target) = target {
        command.args(["-t", target]);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs (apt package xclip)");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Starts the binary and returns it once its first stdout line (printed after the copy) is in.
fn start(sandbox: &Sandbox, args: &[&str]) -> (Child, String) {
    let mut child = sandbox
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyward");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        !first.is_empty(),
        "keyward printed nothing: {:?}",
        finish(child)
    );
    (child, first)
}

/// Waits for the process to exit: its status and stderr.
fn finish(mut child: Child) -> (i32, String) {
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code().expect("exited"), stderr)
}

/// The secret on the clipboard, offered with the password-manager hint clipboard managers honour.
fn assert_copied_as_secret(expected: Option<&str>) -> String {
    let text = clipboard(None).expect("the secret is on the clipboard");
    if let Some(expected) = expected {
        assert_eq!(text, expected);
    }
    let targets = clipboard(Some("TARGETS")).expect("targets");
    assert!(
        targets.lines().any(|t| t == "x-kde-passwordManagerHint"),
        "{targets}"
    );
    assert_eq!(
        clipboard(Some("x-kde-passwordManagerHint")).as_deref(),
        Some("secret")
    );
    text
}

fn assert_clipboard_empty() {
    let left = clipboard(None);
    assert!(
        left.as_deref().is_none_or(str::is_empty),
        "the clipboard still holds {left:?}"
    );
}

#[test]
#[ignore = "needs an X display"]
fn create_copy_puts_the_secret_there_and_clears_it() {
    require_display();
    let sandbox = Sandbox::new();
    let (child, first) = start(
        &sandbox,
        &[
            "keys",
            "create",
            "--name",
            "copied",
            "--copy",
            "--clear-after",
            "2",
            "--json",
        ],
    );
    let created: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(created["copied_to_clipboard"], true);
    assert_eq!(created["clear_after"], 2);
    assert!(created.get("secret").is_none(), "not printed: {created}");
    let id = created["key"]["id"].as_str().unwrap().to_owned();

    let secret = assert_copied_as_secret(None);
    assert!(!first.contains(&secret));
    // It is the new key's secret.
    let verified = sandbox
        .run_with_stdin(&["keys", "verify", "--json"], &secret)
        .json();
    assert_eq!(verified["key"]["id"], id.as_str());

    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(&secret));
    assert_clipboard_empty();

    // Human form: the countdown on stderr, "clipboard cleared" at the end, no secret on stdout.
    let (child, first) = start(
        &sandbox,
        &[
            "keys",
            "create",
            "--name",
            "copied-2",
            "--copy",
            "--clear-after",
            "1",
        ],
    );
    assert!(first.starts_with("Created key copied-2 ("), "{first}");
    let secret = assert_copied_as_secret(None);
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Clearing the clipboard in 1 s"), "{stderr}");
    assert!(stderr.ends_with("clipboard cleared\n"), "{stderr}");
    assert!(!stderr.contains(&secret));
    assert_clipboard_empty();
}

#[test]
#[ignore = "needs an X display"]
fn something_copied_meanwhile_is_left_alone() {
    require_display();
    let sandbox = Sandbox::new();
    let (child, _) = start(
        &sandbox,
        &[
            "keys",
            "create",
            "--name",
            "overwritten",
            "--copy",
            "--clear-after",
            "2",
        ],
    );
    assert_copied_as_secret(None);
    // Another program copies something else; xclip keeps serving it in the background.
    let mut xclip = Command::new("xclip")
        .args(["-i", "-selection", "clipboard"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut xclip.stdin.take().unwrap(), b"my own text").unwrap();
    xclip.wait().unwrap();
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.ends_with("clipboard left alone: something else was copied since\n"),
        "{stderr}"
    );
    assert_eq!(clipboard(None).as_deref(), Some("my own text"));
}

#[test]
#[ignore = "needs an X display"]
fn keys_copy_takes_the_secret_from_the_keychain() {
    require_display();
    require_secret_service();
    let sandbox = Sandbox::new();
    sandbox
        .write_config("default_profile = \"cb-copy\"\n[profiles.cb-copy]\nbackend = \"local\"\n");
    let created = sandbox
        .run(&[
            "keys",
            "create",
            "--name",
            "kept",
            "--save-to-keychain",
            "--json",
        ])
        .json();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();

    let (child, first) = start(&sandbox, &["keys", "copy", &id, "--clear-after", "2"]);
    assert_eq!(
        first,
        format!("Copied the secret of key {id} from the keychain\n")
    );
    assert_copied_as_secret(Some(&secret));
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.ends_with("clipboard cleared\n"), "{stderr}");
    assert!(!stderr.contains(&secret));
    assert_clipboard_empty();

    // A key whose secret was not saved cannot be copied later.
    let (unsaved, _) = sandbox.create("unsaved", &[]);
    let run = sandbox.run(&["keys", "copy", &unsaved]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr
            .contains("only keys saved at creation can be copied later"),
        "{run:?}"
    );
    assert_clipboard_empty();
    let _ = sandbox.run(&["keys", "revoke", &id, "--forget"]);
}
