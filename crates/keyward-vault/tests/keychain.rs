//! The keychain against a real Secret Service: gnome-keyring in a private D-Bus session.
//!
//!     scripts/with-secret-service cargo test -p keyward-vault --test keychain
//!
//! What is stored is checked from outside with `secret-tool` (libsecret-tools). The failure cases
//! (no bus, a bus without a Secret Service, a bus that never answers, a locked keyring) run in
//! child processes of this test binary, each with its own D-Bus environment: the keychain reads
//! the bus address from the environment, which a test must not change under its siblings.

use keyward_core::{Error, ErrorCode};
use keyward_vault::{Keychain, SavedSecretIndex, DEFAULT_TIMEOUT};
use secrecy::{ExposeSecret, SecretString};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set in a child process to the scenario it runs.
const CHILD_SCENARIO: &str = "KEYWARD_VAULT_TEST_SCENARIO";

/// Fails (rather than silently passing) outside the private session, and keeps these tests away
/// from the user's own keyring.
fn require_secret_service() {
    assert!(
        std::env::var_os("KEYWARD_IN_SECRET_SESSION").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the keychain tests need a real Secret Service in a private D-Bus session: run them as \
         `scripts/with-secret-service cargo test -p keyward-vault` (or the whole suite with scripts/test)"
    );
}

/// A service name no other test (or earlier run) uses.
fn test_keychain(name: &str) -> Keychain {
    Keychain::with_service(format!("keyward-test-{}-{name}", std::process::id()))
}

fn secret(value: &str) -> SecretString {
    SecretString::from(value)
}

/// `secret-tool search --all service S username U`: the items' fields, secrets included (these
/// are test values). secret-tool prints attributes on stderr and the rest on stdout.
fn secret_tool_search(service: &str, username: &str) -> String {
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", service, "username", username])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    assert!(
        output.status.success(),
        "secret-tool search failed: {output:?}"
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn secret_tool_clear(service: &str, username: &str) {
    let status = Command::new("secret-tool")
        .args(["clear", "service", service, "username", username])
        .status()
        .expect("secret-tool runs");
    assert!(status.success());
}

fn assert_code<T: std::fmt::Debug>(result: Result<T, Error>, code: ErrorCode) -> Error {
    match result {
        Err(e) if e.code() == code => e,
        other => panic!("expected {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn key_secret_round_trip_is_visible_from_outside() {
    require_secret_service();
    let keychain = test_keychain("round-trip");
    let value = secret("kw_test_0123456789abcdef");

    keychain
        .save_key_secret("work", "key_1", &value)
        .await
        .unwrap();
    let read = keychain.key_secret("work", "key_1").await.unwrap();
    assert_eq!(read.expose_secret(), value.expose_secret());

    let found = secret_tool_search(keychain.service(), "work/key_1");
    for line in [
        format!("attribute.service = {}", keychain.service()),
        "attribute.username = work/key_1".to_owned(),
        "label = Keyward: secret of key key_1 (profile work)".to_owned(),
        format!("secret = {}", value.expose_secret()),
    ] {
        assert!(found.contains(&line), "missing {line:?} in:\n{found}");
    }
    assert_eq!(
        found.matches("attribute.service").count(),
        1,
        "one item:\n{found}"
    );

    // Saving again replaces the secret instead of adding a second entry.
    let replacement = secret("kw_test_replacement");
    keychain
        .save_key_secret("work", "key_1", &replacement)
        .await
        .unwrap();
    let found = secret_tool_search(keychain.service(), "work/key_1");
    assert_eq!(
        found.matches("attribute.service").count(),
        1,
        "one item:\n{found}"
    );
    assert!(found.contains("secret = kw_test_replacement"), "{found}");

    assert!(keychain.forget_key_secret("work", "key_1").await.unwrap());
    assert_eq!(secret_tool_search(keychain.service(), "work/key_1"), "");
    let missing = assert_code(
        keychain.key_secret("work", "key_1").await,
        ErrorCode::NotFound,
    );
    assert!(missing.to_string().contains("key_1"), "{missing}");
    assert!(!keychain.forget_key_secret("work", "key_1").await.unwrap());
}

#[tokio::test]
async fn the_index_lists_which_keys_have_a_saved_secret() {
    require_secret_service();
    let data_dir = tempfile::tempdir().unwrap();
    let index = SavedSecretIndex::open(data_dir.path()).unwrap();
    let keychain = test_keychain("index").with_index(index.clone());

    for id in ["key_b", "key_a", "key_c"] {
        let value = secret(&format!("kw_index_secret_{id}"));
        keychain.save_key_secret("work", id, &value).await.unwrap();
    }
    keychain
        .save_key_secret("home", "key_h", &secret("kw_index_secret_home"))
        .await
        .unwrap();
    assert_eq!(index.ids("work"), ["key_a", "key_b", "key_c"]);
    assert!(index.has("home", "key_h"));

    assert!(keychain.forget_key_secret("work", "key_b").await.unwrap());
    assert_eq!(index.ids("work"), ["key_a", "key_c"]);
    let reopened = SavedSecretIndex::open(data_dir.path()).unwrap();
    assert_eq!(reopened.ids("work"), ["key_a", "key_c"]);

    // Metadata only: no secret reaches the data directory.
    let on_disk = std::fs::read_to_string(index.path()).unwrap();
    assert!(!on_disk.contains("kw_index_secret"), "{on_disk}");

    // Deleted behind our back: reading says NotFound and corrects the index.
    secret_tool_clear(keychain.service(), "work/key_c");
    assert!(index.has("work", "key_c"));
    assert_code(
        keychain.key_secret("work", "key_c").await,
        ErrorCode::NotFound,
    );
    assert!(!index.has("work", "key_c"));

    // Saved by someone without the index (an older build, another data dir): a read records it.
    test_keychain("index")
        .save_key_secret("work", "key_d", &secret("kw_index_secret_d"))
        .await
        .unwrap();
    assert!(!index.has("work", "key_d"));
    keychain.key_secret("work", "key_d").await.unwrap();
    assert!(index.has("work", "key_d"));

    for (profile, id) in [("work", "key_a"), ("work", "key_d"), ("home", "key_h")] {
        assert!(keychain.forget_key_secret(profile, id).await.unwrap());
    }
    assert!(index.ids("work").is_empty() && index.ids("home").is_empty());
}

/// The CLI's path: the blocking variants, no runtime.
#[test]
fn profile_credential_round_trip() {
    require_secret_service();
    let keychain = test_keychain("credential");
    let credential_service = keychain.credential_service();
    assert_eq!(
        credential_service,
        format!("{}-credential", keychain.service())
    );

    assert!(keychain.credential_blocking("clerk-dev").unwrap().is_none());
    keychain
        .save_credential_blocking("clerk-dev", &secret("sk_test_credential_one"))
        .unwrap();
    let read = keychain.credential_blocking("clerk-dev").unwrap().unwrap();
    assert_eq!(read.expose_secret(), "sk_test_credential_one");

    let found = secret_tool_search(&credential_service, "clerk-dev");
    assert!(found.contains("attribute.username = clerk-dev"), "{found}");
    assert!(
        found.contains("label = Keyward: credential of profile clerk-dev"),
        "{found}"
    );
    assert!(found.contains("secret = sk_test_credential_one"), "{found}");
    // A credential and a key secret never share an entry.
    assert_eq!(secret_tool_search(keychain.service(), "clerk-dev"), "");

    keychain
        .save_credential_blocking("clerk-dev", &secret("sk_test_credential_two"))
        .unwrap();
    let read = keychain.credential_blocking("clerk-dev").unwrap().unwrap();
    assert_eq!(read.expose_secret(), "sk_test_credential_two");

    assert!(keychain.forget_credential_blocking("clerk-dev").unwrap());
    assert!(keychain.credential_blocking("clerk-dev").unwrap().is_none());
    assert_eq!(secret_tool_search(&credential_service, "clerk-dev"), "");
    assert!(!keychain.forget_credential_blocking("clerk-dev").unwrap());
}

#[tokio::test]
async fn status_is_ok_and_leaves_no_probe_behind() {
    require_secret_service();
    let keychain = test_keychain("status");
    keychain.status().await.unwrap();
    keychain.status_blocking().unwrap();
    assert_eq!(
        secret_tool_search(keychain.service(), "keyward-status-probe"),
        ""
    );
}

#[tokio::test]
async fn bad_names_are_refused_before_the_keychain_is_asked() {
    let keychain = test_keychain("names");
    let error = assert_code(
        keychain
            .save_key_secret("a/b", "c", &secret("kw_never_stored"))
            .await,
        ErrorCode::InvalidInput,
    );
    assert_eq!(error.field(), Some("profile"));
    assert!(!error.to_string().contains("kw_never_stored"));
}

// ---- Failure cases, each in a child process with its own D-Bus environment. ----

#[test]
fn no_session_bus_is_unavailable_fast() {
    require_secret_service();
    let output = run_child(
        "child_expect_unreachable",
        Command::new(std::env::current_exe().unwrap()).env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/keyward-test-bus",
        ),
    );
    assert_child_passed(&output);
}

#[test]
fn a_bus_without_a_secret_service_is_unavailable_fast() {
    require_secret_service();
    // A bare session bus with no service directories, so nothing can be activated either.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("session.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let output = run_child(
        "child_expect_unreachable",
        Command::new("dbus-run-session")
            .arg(format!("--config-file={}", config.display()))
            .arg("--")
            .arg(std::env::current_exe().unwrap()),
    );
    assert_child_passed(&output);
}

#[test]
fn a_bus_that_never_answers_times_out() {
    require_secret_service();
    // Accepts connections (the kernel queues them) but never answers the D-Bus handshake.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let _listener = UnixListener::bind(&socket).unwrap();
    let output = run_child(
        "child_expect_timeout",
        Command::new(std::env::current_exe().unwrap()).env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        ),
    );
    assert_child_passed(&output);
}

#[test]
fn a_locked_keyring_is_unavailable_fast_without_a_prompt() {
    require_secret_service();
    // Locking needs a prompt to undo, so this runs in a fresh session of its own, thrown away after.
    let output = run_child(
        "child_lock_then_expect_locked",
        Command::new(repo_root().join("scripts/with-secret-service"))
            .env_remove("KEYWARD_IN_SECRET_SESSION")
            .arg(std::env::current_exe().unwrap()),
    );
    assert_child_passed(&output);
}

/// The limit for a whole child run: far above what a passing one takes, low enough that a hang
/// fails the test instead of stalling the suite.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

fn run_child(scenario: &str, command: &mut Command) -> Output {
    let mut child = command
        .args([
            "--exact",
            scenario,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_SCENARIO, scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > CHILD_LIMIT {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{scenario} hung for {CHILD_LIMIT:?}:\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    // Shown with --nocapture: the measured times.
    println!("{}", String::from_utf8_lossy(&output.stdout));
    output
}

fn assert_child_passed(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether this process is the child running `scenario`; the scenarios pass trivially otherwise.
fn is_child(scenario: &str) -> bool {
    std::env::var(CHILD_SCENARIO).is_ok_and(|s| s == scenario)
}

/// Times one call: `(name, result without its value, elapsed)`.
macro_rules! timed {
    ($call:expr) => {{
        let started = Instant::now();
        let result = $call.map(drop);
        (stringify!($call), result, started.elapsed())
    }};
}

/// Runs every kind of call, async and blocking, and checks that each fails with
/// `expected_message` within `limit`.
async fn expect_every_call_unavailable(
    keychain: &Keychain,
    expected_message: &str,
    limit: Duration,
) {
    let value = secret("kw_must_not_leak_0001");
    let results = [
        timed!(keychain.status().await),
        timed!(keychain.save_key_secret("work", "key_1", &value).await),
        timed!(keychain.key_secret("work", "key_1").await),
        timed!(keychain.forget_key_secret("work", "key_1").await),
        timed!(keychain.save_credential("work", &value).await),
        timed!(keychain.credential("work").await),
        timed!(keychain.status_blocking()),
        timed!(keychain.key_secret_blocking("work", "key_1")),
    ];
    for (call, result, elapsed) in results {
        let error = assert_code(result, ErrorCode::KeychainUnavailable);
        let message = error.to_string();
        println!("measured: {call} failed in {elapsed:?}: {message}");
        assert!(message.contains(expected_message), "{call}: {message}");
        assert!(!message.contains("kw_must_not_leak"), "{call}: {message}");
        assert!(elapsed <= limit, "{call} took {elapsed:?}, limit {limit:?}");
    }
}

#[tokio::test]
#[ignore = "run by no_session_bus_is_unavailable_fast in a child process"]
async fn child_expect_unreachable() {
    if !is_child("child_expect_unreachable") {
        return;
    }
    let keychain = test_keychain("unreachable");
    // Fast: well within the time limit, so it is the connection failing, not the timeout.
    expect_every_call_unavailable(
        &keychain,
        "No Secret Service is running",
        DEFAULT_TIMEOUT / 5,
    )
    .await;
}

#[tokio::test]
#[ignore = "run by a_bus_that_never_answers_times_out in a child process"]
async fn child_expect_timeout() {
    if !is_child("child_expect_timeout") {
        return;
    }
    let limit = Duration::from_millis(500);
    let keychain = test_keychain("timeout").with_timeout(limit);
    expect_every_call_unavailable(&keychain, "did not answer within 0.5 s", limit * 4).await;
}

#[tokio::test]
#[ignore = "run by a_locked_keyring_is_unavailable_fast_without_a_prompt in a child process"]
async fn child_lock_then_expect_locked() {
    if !is_child("child_lock_then_expect_locked") {
        return;
    }
    assert!(
        std::env::var_os("DISPLAY").is_none(),
        "no display: no unlock prompt can appear"
    );
    let keychain = test_keychain("locked");
    keychain
        .save_key_secret("work", "key_1", &secret("kw_saved_before_locking"))
        .await
        .unwrap();

    let collection = "/org/freedesktop/secrets/collection/login";
    let lock = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            &format!("array:objpath:{collection}"),
        ])
        .output()
        .unwrap();
    assert!(lock.status.success(), "{lock:?}");
    let locked = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            collection,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&locked.stdout).contains("boolean true"),
        "{locked:?}"
    );

    expect_every_call_unavailable(&keychain, "The keyring is locked", DEFAULT_TIMEOUT / 5).await;
}
