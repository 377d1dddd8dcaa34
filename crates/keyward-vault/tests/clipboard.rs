//! The safe clipboard against a real X server, read back from another process with xclip.
//!
//!     xvfb-run -a cargo test -p keyward-vault --test clipboard -- --ignored --test-threads=1
//!
//! One test at a time: there is one clipboard per X display. No assertion is about speed; the
//! waits are generous deadlines for things that happen within a second or two.

use keyward_core::ErrorCode;
use keyward_vault::{ClearResult, SafeClipboard, DEFAULT_CLEAR_AFTER};
use secrecy::SecretString;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HINT_TARGET: &str = "x-kde-passwordManagerHint";

fn secret(value: &str) -> SecretString {
    SecretString::from(value)
}

/// The clipboard's text as another program sees it; `None` when nobody offers any.
fn xclip_read(target: Option<&str>) -> Option<String> {
    let mut args = vec!["10", "xclip", "-o", "-selection", "clipboard"];
    if let Some(target) = target {
        args.extend(["-t", target]);
    }
    let output = Command::new("timeout")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs (apt-get install xclip)");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Another program copies `text` (xclip stays in the background to serve it).
fn xclip_copy(text: &str) {
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("xclip runs");
    use std::io::Write;
    xclip
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(xclip.wait().unwrap().success());
}

/// Waits (up to a generous limit) for `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let limit = Duration::from_secs(15);
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the clipboard tests need an X display: run them with \
         `xvfb-run -a cargo test -p keyward-vault --test clipboard -- --ignored --test-threads=1`"
    );
}

#[test]
#[ignore = "needs an X display; run under xvfb-run"]
fn a_copy_is_offered_with_the_password_manager_hint_then_cleared() {
    require_display();
    let clipboard = SafeClipboard::new();
    let ticket = clipboard
        .copy_secret(&secret("kw_clip_secret_one"), Some(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(ticket.clear_after, Duration::from_secs(1));
    assert!(clipboard.countdown().is_some());

    assert_eq!(xclip_read(None).as_deref(), Some("kw_clip_secret_one"));
    let targets = xclip_read(Some("TARGETS")).unwrap();
    assert!(
        targets.lines().any(|t| t == HINT_TARGET),
        "targets:\n{targets}"
    );
    assert_eq!(xclip_read(Some(HINT_TARGET)).as_deref(), Some("secret"));

    wait_for("the countdown clears the clipboard", || {
        xclip_read(None).is_none()
    });
    assert_eq!(clipboard.countdown(), None);
    let state = clipboard.subscribe().borrow().clone();
    assert_eq!(state.copy_id, Some(ticket.copy_id));
    assert_eq!(state.last_result, Some(ClearResult::Cleared));
}

#[test]
#[ignore = "needs an X display; run under xvfb-run"]
fn what_another_program_copied_meanwhile_is_left_alone() {
    require_display();
    let clipboard = SafeClipboard::new();
    clipboard
        .copy_secret(&secret("kw_clip_secret_two"), Some(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(xclip_read(None).as_deref(), Some("kw_clip_secret_two"));
    xclip_copy("other");

    // Past the countdown: it found someone else's text and left it.
    assert_eq!(clipboard.wait_until_cleared(), Some(ClearResult::NotOurs));
    assert_eq!(xclip_read(None).as_deref(), Some("other"));
    assert!(!clipboard.clear_now().unwrap());
    drop(clipboard);
    assert_eq!(xclip_read(None).as_deref(), Some("other"));
}

#[test]
#[ignore = "needs an X display; run under xvfb-run"]
fn quitting_clears_what_is_ours() {
    require_display();
    let clipboard = SafeClipboard::new();
    let ticket = clipboard
        .copy_secret(&secret("kw_clip_secret_three"), None)
        .unwrap();
    assert_eq!(ticket.clear_after, DEFAULT_CLEAR_AFTER);
    assert_eq!(xclip_read(None).as_deref(), Some("kw_clip_secret_three"));
    assert!(clipboard.on_quit().unwrap());
    assert_eq!(xclip_read(None), None);
    assert_eq!(clipboard.countdown(), None);

    // Dropping the clipboard (the end of the app) does the same.
    let clipboard = SafeClipboard::new();
    clipboard
        .copy_secret(&secret("kw_clip_secret_four"), None)
        .unwrap();
    assert_eq!(xclip_read(None).as_deref(), Some("kw_clip_secret_four"));
    drop(clipboard);
    assert_eq!(xclip_read(None), None);
}

#[test]
#[ignore = "needs an X display; run under xvfb-run"]
fn clear_now_clears_at_once() {
    require_display();
    let clipboard = SafeClipboard::new();
    clipboard
        .copy_secret(&secret("kw_clip_secret_five"), None)
        .unwrap();
    assert!(clipboard.clear_now().unwrap());
    assert_eq!(xclip_read(None), None);
    assert_eq!(
        clipboard.subscribe().borrow().last_result,
        Some(ClearResult::Cleared)
    );
    assert!(!clipboard.clear_now().unwrap(), "nothing left to clear");
}

#[test]
#[ignore = "needs an X display; run under xvfb-run"]
fn a_new_copy_restarts_the_countdown() {
    require_display();
    let clipboard = SafeClipboard::new();
    let first = clipboard
        .copy_secret(&secret("kw_clip_secret_six"), Some(Duration::from_secs(3)))
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let second = clipboard
        .copy_secret(
            &secret("kw_clip_secret_seven"),
            Some(Duration::from_secs(4)),
        )
        .unwrap();
    assert!(second.copy_id > first.copy_id);

    // Past the first copy's deadline (3 s), well before the second's (6 s).
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(xclip_read(None).as_deref(), Some("kw_clip_secret_seven"));
    let state = clipboard.subscribe().borrow().clone();
    assert_eq!(state.copy_id, Some(second.copy_id));
    assert!(
        state.remaining_ms.is_some() && state.last_result.is_none(),
        "{state:?}"
    );

    assert_eq!(clipboard.wait_until_cleared(), Some(ClearResult::Cleared));
    assert_eq!(xclip_read(None), None);
}

#[tokio::test]
#[ignore = "needs an X display; run under xvfb-run"]
async fn subscribers_see_the_countdown_and_the_end() {
    require_display();
    let clipboard = SafeClipboard::new();
    let mut states = clipboard.subscribe();
    clipboard
        .copy_secret(
            &secret("kw_clip_secret_eight"),
            Some(Duration::from_secs(3)),
        )
        .unwrap();
    let mut remaining = Vec::new();
    let last = loop {
        tokio::time::timeout(Duration::from_secs(15), states.changed())
            .await
            .expect("a state change within 15 s")
            .unwrap();
        let state = states.borrow_and_update().clone();
        if let Some(result) = state.last_result {
            break result;
        }
        remaining.extend(state.remaining_ms);
    };
    println!("measured: countdown states (ms left): {remaining:?}");
    assert_eq!(last, ClearResult::Cleared);
    // At least one tick between the copy and the end, counting down.
    assert!(remaining.len() >= 2, "{remaining:?}");
    assert!(remaining.windows(2).all(|w| w[0] >= w[1]), "{remaining:?}");
    assert!(remaining[0] <= 3000, "{remaining:?}");
}

/// Not ignored: needs no display. A child process without one, so this process's clipboard
/// connection (if any) cannot answer for it.
#[test]
fn without_a_display_copying_is_a_clear_error() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_copy_without_display",
            "--ignored",
            "--nocapture",
        ])
        .env("KEYWARD_VAULT_TEST_SCENARIO", "no-display")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run by without_a_display_copying_is_a_clear_error in a child process"]
fn child_copy_without_display() {
    if std::env::var("KEYWARD_VAULT_TEST_SCENARIO").as_deref() != Ok("no-display") {
        return;
    }
    let clipboard = SafeClipboard::new();
    let error = clipboard
        .copy_secret(&secret("kw_clip_never_copied"), None)
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unexpected);
    let message = error.to_string();
    assert!(
        message.starts_with("the clipboard is not available"),
        "{message}"
    );
    assert!(!message.contains("kw_clip_never_copied"), "{message}");
    assert_eq!(clipboard.countdown(), None);
    println!("measured: without a display: {message}");
}
