//! End-to-end tests of a new secret leaving the app safely: the OS keychain (a real
//! gnome-keyring Secret Service) and the clipboard (a real X clipboard, read with xclip), driven
//! through the real window. Ignored by default; they need a display and a Secret Service:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       cargo test -p keyward-tests --test e2e_secrets -- --ignored --test-threads=1
//!
//! The clipboard countdown is shortened to 3 s through `KEYWARD_CLEAR_AFTER`. Every step
//! saves a screenshot under target/e2e-screenshots/.

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    click, css, ensure, field_value, fill, finish_revoke, focused, listed_key_id, press_with,
    screenshot, type_and_confirm_revoke, wait_clipboard, wait_hidden, wait_js, wait_match_count,
    wait_text, wait_visible, AppSession, Outcome,
};
use fantoccini::Client;
use std::process::Command;

/// One app at a time: there is one clipboard per display, and two CPU cores.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CLEAR_AFTER_SECS: &str = "3";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), a Secret Service, tauri-driver and WebKitWebDriver; run with --ignored"]
async fn save_to_keychain_copy_countdown_then_copy_from_keychain() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &dir.path().join("config.toml"),
        &[("KEYWARD_CLEAR_AFTER", CLEAR_AFTER_SECS)],
    )
    .await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = keychain_and_clipboard(&app.client).await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn keychain_and_clipboard(client: &Client) -> Outcome {
    wait_visible(client, "#empty-state").await?;
    record_ipc_responses(client).await?;

    // Create a key with "Save the secret to the OS keychain" ticked.
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    client
        .find(css("#key-name"))
        .await?
        .send_keys("laptop")
        .await?;
    click(client, "#key-save-keychain").await?;
    screenshot(client, "30-create-save-to-keychain").await?;
    click(client, "#create-submit").await?;

    // The show-once panel says it is saved; the keychain has it under keyward / local/<id>.
    wait_visible(client, "#secret-value").await?;
    let secret = field_value(client, "#secret-value").await?;
    ensure(
        secret.starts_with("kw_"),
        "no secret in the show-once panel",
    )?;
    wait_text(client, "#secret-keychain-status", |t| {
        t.contains("In the OS keychain")
    })
    .await?;
    let button = wait_visible(client, "#secret-save").await?;
    ensure(
        button == "Saved to keychain",
        format!("save button: {button:?}"),
    )?;
    let id = key_id_of(client, "laptop").await?;
    let found = secret_tool_search()?;
    ensure(
        found.contains(&format!("local/{id}")),
        format!("secret-tool search does not list local/{id}"),
    )?;

    // Copy: the secret is on the X clipboard, and the countdown shows, then clears it.
    click(client, "#secret-copy").await?;
    wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t.starts_with("Clipboard clears in") && t.ends_with(" s")
    })
    .await?;
    screenshot(client, "31-secret-copied-countdown").await?;
    wait_clipboard("the new secret", |t| t == Some(secret.as_str())).await?;
    wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t == "Clipboard cleared."
    })
    .await?;
    wait_clipboard("nothing of ours", |t| t != Some(secret.as_str())).await?;
    screenshot(client, "32-clipboard-cleared").await?;

    // Close the panel: the secret is gone from the page, and Rust has forgotten its copy.
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    wait_js(
        client,
        "the show-once panel to close",
        "return !document.querySelector('#secret-dialog').open && !document.querySelector('#secret-value');",
        vec![],
    )
    .await?;
    let forgotten = client
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('copy_new_secret', { keyId: arguments[0] })
                 .then(() => 'copied', (e) => e.code);",
            vec![serde_json::json!(id)],
        )
        .await?;
    ensure(
        forgotten == "not_found",
        format!("copy_new_secret after close: {forgotten}"),
    )?;

    // The row is marked and offers Copy from the keychain.
    let row = format!("#keys-table tbody tr[data-id=\"{id}\"]");
    wait_text(client, &format!("{row} .saved-mark"), |t| t == "Keychain").await?;
    click(client, &format!("{row} .copy-saved")).await?;
    wait_text(client, "#clipboard-toast .clipboard-text", |t| {
        t.starts_with("Clipboard clears in")
    })
    .await?;
    screenshot(client, "33-copied-from-keychain").await?;
    wait_clipboard("the secret from the keychain", |t| {
        t == Some(secret.as_str())
    })
    .await?;
    // "Clear now" clears at once.
    click(client, "#clipboard-toast .clipboard-clear").await?;
    wait_text(client, "#clipboard-toast .clipboard-text", |t| {
        t == "Clipboard cleared."
    })
    .await?;
    wait_clipboard("nothing of ours", |t| t != Some(secret.as_str())).await?;

    // Revoking offers to delete the saved secret (ticked), and does.
    click(client, &format!("{row} .revoke")).await?;
    wait_visible(client, "#revoke-forget-field").await?;
    ensure(
        client
            .find(css("#revoke-forget"))
            .await?
            .is_selected()
            .await?,
        "deleting the saved secret is not ticked by default",
    )?;
    screenshot(client, "34-revoke-forget-secret").await?;
    type_and_confirm_revoke(client, "laptop").await?;
    finish_revoke(client).await?;
    wait_text(client, &format!("{row} .badge"), |t| t == "Revoked").await?;
    wait_hidden(client, &format!("{row} .saved-mark")).await?;
    ensure(
        !secret_tool_search()?.contains(&format!("local/{id}")),
        "the keychain still holds the revoked key's secret",
    )?;
    screenshot(client, "35-revoked-secret-forgotten").await?;

    // Of every IPC response of the scenario (create, save, copy, list, copy from the keychain,
    // revoke), only the one create response carried the secret.
    let carried = client
        .execute(
            "return window.__keywardIpcLog.filter((e) => e.body.includes(arguments[0])).map((e) => e.command);",
            vec![serde_json::json!(secret)],
        )
        .await?;
    let commands = client
        .execute(
            "return window.__keywardIpcLog.map((e) => e.command);",
            vec![],
        )
        .await?;
    ensure(
        carried == serde_json::json!(["create_key"]),
        format!("responses carrying the secret: {carried} (of {commands})"),
    )?;
    for command in [
        "create_key",
        "copy_new_secret",
        "list_keys",
        "copy_saved_secret",
        "revoke_keys",
    ] {
        ensure(
            commands
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == command)),
            format!("the IPC log missed {command}: {commands}"),
        )?;
    }
    Ok(())
}

/// Ctrl+C in the show-once panel's secret field (focused, its text selected) copies through the
/// safe clipboard, as the Copy button does: the countdown shows, and when it ends the secret is
/// gone from the X clipboard. WebKit's own copy would leave it there with no countdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn ctrl_c_on_the_secret_copies_through_the_safe_clipboard() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &dir.path().join("config.toml"),
        &[("KEYWARD_CLEAR_AFTER", CLEAR_AFTER_SECS)],
    )
    .await;
    let result = ctrl_c_on_the_secret(&app.client).await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn ctrl_c_on_the_secret(client: &Client) -> Outcome {
    use fantoccini::key::Key;
    wait_visible(client, "#empty-state").await?;
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    fill(client, "#key-name", "ctrl c").await?;
    click(client, "#create-submit").await?;
    wait_visible(client, "#secret-value").await?;
    let secret = field_value(client, "#secret-value").await?;
    ensure(
        secret.starts_with("kw_"),
        "no secret in the show-once panel",
    )?;
    wait_clipboard("anything but the new secret", |t| {
        t != Some(secret.as_str())
    })
    .await?;

    // The panel focuses the field and selects it all; Ctrl+C as a user presses it.
    click(client, "#secret-value").await?;
    let focus = focused(client).await?;
    ensure(focus == "secret-value", format!("focus is on {focus}"))?;
    let selected = client
        .execute(
            "const f = document.querySelector('#secret-value');
             return f.selectionEnd - f.selectionStart === f.value.length;",
            vec![],
        )
        .await?;
    ensure(
        selected == serde_json::Value::Bool(true),
        "the secret is not selected",
    )?;
    press_with(client, Key::Control, "c").await?;

    wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t.starts_with("Clipboard clears in") && t.ends_with(" s")
    })
    .await?;
    screenshot(client, "39-ctrl-c-countdown").await?;
    wait_clipboard("the new secret", |t| t == Some(secret.as_str())).await?;
    wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t == "Clipboard cleared."
    })
    .await?;
    wait_clipboard("nothing of ours after the countdown", |t| {
        t != Some(secret.as_str())
    })
    .await?;

    // The field refuses to be dragged out and shows no context menu (whose Copy would also end
    // up in Rust's copy, through the same `copy` event).
    let refused = client
        .execute(
            "const f = document.querySelector('#secret-value');
             const drag = new DragEvent('dragstart', { bubbles: true, cancelable: true });
             const menu = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
             return [!f.dispatchEvent(drag), !f.dispatchEvent(menu)];",
            vec![],
        )
        .await?;
    ensure(
        refused == serde_json::json!([true, true]),
        format!("dragstart / contextmenu refused: {refused}"),
    )?;
    Ok(())
}

/// Records every IPC response the webview receives, so the test can read them afterwards. Tauri's
/// `invoke` is not replaceable, but on Linux it sends each command as a `fetch` to
/// `ipc://localhost/<command>`, looked up on each call: wrapping `fetch` sees every answer.
async fn record_ipc_responses(client: &Client) -> Outcome {
    client
        .execute(
            "const send = window.fetch.bind(window);
             window.__keywardIpcLog = [];
             window.fetch = async (input, init) => {
                 const response = await send(input, init);
                 const url = String(input && input.url ? input.url : input);
                 const command = decodeURIComponent(url.split('/').pop().split('?')[0]);
                 const body = await response.clone().text();
                 window.__keywardIpcLog.push({ command, body });
                 return response;
             };",
            vec![],
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn without_a_keychain_a_create_that_would_save_is_refused_and_the_panel_says_why() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // A session bus that does not exist: no Secret Service.
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &dir.path().join("config.toml"),
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/keyward-e2e-bus",
        )],
    )
    .await;
    let result = async {
        let client = &app.client;
        wait_visible(client, "#empty-state").await?;
        click(client, "#new-key").await?;
        wait_visible(client, "#key-name").await?;
        client
            .find(css("#key-name"))
            .await?
            .send_keys("no keychain")
            .await?;
        // Asked to save, the create asks the keychain first and refuses: nothing is made whose
        // secret could not be kept (the rule the CLI follows too, keyward_ops::create).
        click(client, "#key-save-keychain").await?;
        click(client, "#create-submit").await?;
        let refused = wait_visible(client, "#create-error").await?;
        ensure(
            refused.contains("not created")
                && refused.contains("keychain")
                && refused.contains("Secret Service"),
            format!("create refusal: {refused:?}"),
        )?;
        screenshot(client, "36-keychain-unavailable").await?;
        // Without saving, the key is made; the panel's "Save to keychain" then says why not.
        click(client, "#key-save-keychain").await?;
        click(client, "#create-submit").await?;
        wait_visible(client, "#secret-value").await?;
        click(client, "#secret-save").await?;
        let message = wait_visible(client, "#secret-keychain-error").await?;
        ensure(
            message.starts_with("Not saved to the keychain") && message.contains("Secret Service"),
            format!("keychain message: {message:?}"),
        )?;
        ensure(
            wait_visible(client, "#secret-save").await? == "Save to keychain",
            "the panel claims the secret was saved",
        )?;
        // Copy still works, and the key was created.
        click(client, "#secret-copy").await?;
        wait_text(client, "#secret-clipboard .clipboard-text", |t| {
            t.starts_with("Clipboard clears in")
        })
        .await?;
        click(client, "#secret-ack").await?;
        click(client, "#secret-close").await?;
        wait_match_count(client, 1).await?;
        Ok::<_, e2e_support::Failure>(())
    }
    .await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn settings_change_the_clipboard_countdown_and_the_config_file() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config.toml");
    std::fs::write(
        &config_file,
        "# my keys\ndefault_profile = \"local\"\n\n[profiles.local]\nbackend = \"local\"\n",
    )
    .unwrap();
    // An empty KEYWARD_CLEAR_AFTER is no override, whatever the test's own environment says.
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &config_file,
        &[("KEYWARD_CLEAR_AFTER", "")],
    )
    .await;
    let result = settings_countdown(&app.client, &config_file).await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn settings_countdown(client: &Client, config_file: &std::path::Path) -> Outcome {
    wait_visible(client, "#empty-state").await?;
    let value_is = |want: &'static str| {
        wait_js(
            client,
            "the countdown setting to load",
            "return document.querySelector('#settings-clear-after').value === arguments[0];",
            vec![serde_json::json!(want)],
        )
    };

    // The gear opens Settings on today's countdown (20 s); Esc closes it and saves nothing.
    click(client, "#settings-button").await?;
    wait_visible(client, "#settings-clear-after").await?;
    value_is("20").await?;
    client
        .find(css("#settings-clear-after"))
        .await?
        .send_keys(&fantoccini::key::Key::Escape.to_string())
        .await?;
    wait_js(
        client,
        "Esc to close Settings",
        "return !document.querySelector('#settings-dialog').open;",
        vec![],
    )
    .await?;

    // Out of range: the error sits next to the field, and the dialog stays open.
    click(client, "#settings-button").await?;
    value_is("20").await?;
    fill(client, "#settings-clear-after", "0").await?;
    click(client, "#settings-save").await?;
    let error = wait_visible(client, "#settings-clear-after-error").await?;
    ensure(error.contains("1 to 3600"), format!("error: {error:?}"))?;
    screenshot(client, "37-settings-out-of-range").await?;

    // 4 s: saved in the config file, comments kept.
    fill(client, "#settings-clear-after", "4").await?;
    click(client, "#settings-save").await?;
    wait_js(
        client,
        "Settings to close after saving",
        "return !document.querySelector('#settings-dialog').open;",
        vec![],
    )
    .await?;
    let text = std::fs::read_to_string(config_file)?;
    ensure(
        text.contains("clipboard_clear_seconds = 4") && text.contains("# my keys"),
        format!("config file after saving: {text:?}"),
    )?;

    // The next copy counts down from 4 s.
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    fill(client, "#key-name", "short countdown").await?;
    click(client, "#create-submit").await?;
    wait_visible(client, "#secret-value").await?;
    click(client, "#secret-copy").await?;
    let shown = wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t.starts_with("Clipboard clears in")
    })
    .await?;
    let secs: u64 = shown
        .trim_start_matches("Clipboard clears in ")
        .trim_end_matches(" s")
        .parse()
        .map_err(|_| format!("countdown text: {shown:?}"))?;
    ensure((1..=4).contains(&secs), format!("countdown: {shown:?}"))?;
    screenshot(client, "38-settings-countdown-4s").await?;
    wait_text(client, "#secret-clipboard .clipboard-text", |t| {
        t == "Clipboard cleared."
    })
    .await?;

    // Reopened, Settings shows the saved value.
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    wait_js(
        client,
        "the show-once panel to close",
        "return !document.querySelector('#secret-dialog').open;",
        vec![],
    )
    .await?;
    click(client, "#settings-button").await?;
    value_is("4").await?;
    Ok(())
}

/// The id of the listed key named `name`.
async fn key_id_of(client: &Client, name: &str) -> Outcome<String> {
    match listed_key_id(client, name).await? {
        Some(id) => Ok(id),
        // The table reloads when the panel closes; before that, ask the backend.
        None => {
            let page = client
                .execute_async(
                    "const done = arguments[1];
                     window.__TAURI_INTERNALS__.invoke('list_keys', { query: { search: arguments[0],
                         status: 'all', sort: 'created', descending: true, page: 0, limit: 5 } })
                       .then((p) => done(p.items.find((k) => k.name === arguments[0])?.id ?? null),
                             () => done(null));",
                    vec![serde_json::json!(name)],
                )
                .await?;
            page.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no key named {name:?}").into())
        }
    }
}

/// The keychain as another program sees it: `secret-tool search --all service keyward`.
/// secret-tool prints attributes (the account) on stderr and the rest on stdout.
fn secret_tool_search() -> Outcome<String> {
    let output = Command::new("timeout")
        .args(["10", "secret-tool", "search", "--all", "service", "keyward"])
        .output()?;
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}
