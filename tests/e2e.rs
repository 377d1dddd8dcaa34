//! End-to-end tests of the desktop app: the real `keyward-app` binary, driven through its window
//! by tauri-driver + WebKitWebDriver. Ignored by default (they need a display):
//!
//!     cargo build -p keyward-app && xvfb-run -a cargo test -p keyward-tests --test e2e -- --ignored
//!
//! Every step saves a screenshot under target/e2e-screenshots/.

// Each test target uses its own part of the shared helpers.
#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    css, ensure, field_value, finish_revoke, screenshot, type_and_confirm_revoke, wait_js,
    wait_match_count, wait_text, wait_visible, AppSession, Outcome,
};
use fantoccini::key::Key;
use fantoccini::Client;
use serde_json::json;

/// One app at a time: the two scenarios share the display and two CPU cores.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const KEY_NAME: &str = "ci-deploy e2e";
const REVOKE_REASON: &str = "rotated by the e2e test";

#[tokio::test]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn create_show_once_search_verify_revoke() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let app = AppSession::launch(&dir.path().join("data"), &dir.path().join("config.toml")).await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = key_lifecycle(&app.client).await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn key_lifecycle(client: &Client) -> Outcome {
    ensure(
        client.title().await? == "Keyward",
        "the window title is not Keyward",
    )?;

    // An empty store says what to do next.
    let empty = wait_visible(client, "#empty-state").await?;
    ensure(
        empty.contains("No keys yet"),
        format!("empty state: {empty:?}"),
    )?;
    ensure(
        empty.contains("New key"),
        "the empty state does not point at New key",
    )?;
    screenshot(client, "01-empty-state").await?;

    // Create a key with a preset.
    client.find(css("#new-key")).await?.click().await?;
    wait_visible(client, "#key-name").await?;
    client
        .find(css("#key-name"))
        .await?
        .send_keys(KEY_NAME)
        .await?;
    client
        .find(css("#key-expires"))
        .await?
        .select_by_value("ThreeMonths")
        .await?;
    screenshot(client, "02-create-dialog").await?;
    client.find(css("#create-submit")).await?.click().await?;

    // The show-once panel: the secret, the warning, and no way out but the acknowledgement.
    wait_visible(client, "#secret-value").await?;
    let secret = field_value(client, "#secret-value").await?;
    ensure(
        secret.starts_with("kw_") && secret.len() == 41,
        format!("unexpected secret shape ({} chars)", secret.len()),
    )?;
    let warning = wait_visible(client, "#secret-warning").await?;
    ensure(
        warning.contains("This is the only time this secret is shown"),
        format!("warning: {warning:?}"),
    )?;
    let close = client.find(css("#secret-close")).await?;
    ensure(
        !close.is_enabled().await?,
        "the close button works before the acknowledgement",
    )?;
    client
        .active_element()
        .await?
        .send_keys(&Key::Escape.to_string())
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    ensure(
        client
            .find(css("#secret-dialog"))
            .await?
            .attr("open")
            .await?
            .is_some(),
        "Esc closed the show-once panel",
    )?;
    screenshot(client, "03-secret-shown-once").await?;
    client.find(css("#secret-ack")).await?.click().await?;
    close.click().await?;

    // Once closed, the secret is nowhere in the page.
    wait_js(
        client,
        "the show-once panel to close",
        "return !document.querySelector('#secret-dialog').open && !document.querySelector('#secret-value');",
        vec![],
    )
    .await?;
    let still_there = client
        .execute(
            "const s = arguments[0];
             return document.documentElement.outerHTML.includes(s)
                 || document.body.innerText.includes(s)
                 || [...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(s));",
            vec![json!(secret)],
        )
        .await?;
    ensure(
        still_there == json!(false),
        "the secret is still in the page after closing",
    )?;
    wait_match_count(client, 1).await?;
    screenshot(client, "04-key-listed").await?;

    // Find it through the (server-side) search.
    client
        .find(css("#search"))
        .await?
        .send_keys("deploy e2e")
        .await?;
    let row_selector = "#keys-table tbody tr[data-id]";
    // The table is painted for the search (the UI notes each paint's query).
    wait_js(
        client,
        "the table to be painted for the search",
        "return window.__keyward?.lastPaint?.query === 'deploy e2e';",
        vec![],
    )
    .await?;
    wait_text(client, row_selector, |t| t.contains(KEY_NAME)).await?;
    let rows = e2e_support::rendered_rows(client).await?;
    ensure(rows.len() == 1, format!("search found {} rows", rows.len()))?;
    let id = rows[0].0.clone();
    let row = format!("#keys-table tbody tr[data-id=\"{id}\"]");
    screenshot(client, "05-search").await?;

    // Verify the secret: valid, with the key's name.
    verify(client, &secret).await?;
    let result = wait_text(client, "#verify-result", |t| t.contains("Valid")).await?;
    ensure(
        result.contains(KEY_NAME),
        format!("verify result: {result:?}"),
    )?;
    screenshot(client, "06-verify-valid").await?;

    // Revoke it with a reason.
    client
        .find(css(&format!("{row} .revoke")))
        .await?
        .click()
        .await?;
    wait_visible(client, "#revoke-reason").await?;
    client
        .find(css("#revoke-reason"))
        .await?
        .send_keys(REVOKE_REASON)
        .await?;
    // The button stays disabled until the key's name is typed.
    let confirm = client.find(css("#revoke-confirm")).await?;
    ensure(
        !confirm.is_enabled().await?,
        "Revoke is enabled before the name is typed",
    )?;
    client
        .find(css("#revoke-typed"))
        .await?
        .send_keys("ci-deploy")
        .await?;
    ensure(
        !confirm.is_enabled().await?,
        "Revoke is enabled with part of the name typed",
    )?;
    client.find(css("#revoke-typed")).await?.clear().await?;
    screenshot(client, "07-revoke-dialog").await?;
    type_and_confirm_revoke(client, KEY_NAME).await?;
    finish_revoke(client).await?;
    wait_text(client, &format!("{row} .badge"), |t| t == "Revoked").await?;
    ensure(
        client.find(css(&format!("{row} .revoke"))).await.is_err(),
        "a revoked key still offers Revoke",
    )?;

    // Its details show the reason.
    client
        .find(css(&format!("{row} .key-name")))
        .await?
        .click()
        .await?;
    wait_text(client, "#details-list", |t| t.contains(REVOKE_REASON)).await?;
    screenshot(client, "08-revoked-details").await?;

    // Verify again: revoked.
    verify(client, &secret).await?;
    let result = wait_text(client, "#verify-result", |t| t.contains("Revoked")).await?;
    ensure(
        result.contains(KEY_NAME),
        format!("verify result: {result:?}"),
    )?;
    screenshot(client, "09-verify-revoked").await?;

    // A malformed secret: the message sits next to the field.
    verify(client, "kw_not-a-key").await?;
    let error = wait_visible(client, "#verify-input-error").await?;
    ensure(
        error.contains("Keyward key"),
        format!("verify error: {error:?}"),
    )?;
    screenshot(client, "10-verify-malformed").await?;

    // Bad input: an empty name is refused next to the name field, and nothing is created.
    client.find(css("#search")).await?.clear().await?;
    client.find(css("#new-key")).await?.click().await?;
    wait_visible(client, "#key-name").await?;
    client.find(css("#create-submit")).await?.click().await?;
    let error = wait_visible(client, "#key-name-error").await?;
    ensure(error.contains("empty"), format!("name error: {error:?}"))?;
    ensure(
        client
            .find(css("#key-name"))
            .await?
            .attr("aria-invalid")
            .await?
            == Some("true".into()),
        "the name field is not marked invalid",
    )?;
    screenshot(client, "11-create-empty-name").await?;
    client.find(css("#create-cancel")).await?.click().await?;
    wait_match_count(client, 1).await?;
    screenshot(client, "12-main-window").await?;
    Ok(())
}

async fn verify(client: &Client, secret: &str) -> Outcome {
    let input = client.find(css("#verify-input")).await?;
    input.clear().await?;
    input.send_keys(secret).await?;
    client.find(css("#verify-submit")).await?.click().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn a_broken_config_opens_the_window_and_names_the_problem() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[profiles.local]\nbackend = \"ftp\"\n").unwrap();
    let app = AppSession::launch(&dir.path().join("data"), &config).await;
    let result = async {
        let message = wait_visible(&app.client, "#startup-error-message").await?;
        for part in [
            &config.display().to_string(),
            "line 2",
            "profiles.local.backend",
        ] {
            ensure(
                message.contains(part),
                format!("startup error {message:?} lacks {part:?}"),
            )?;
        }
        ensure(
            !app.client
                .find(css("#workspace"))
                .await?
                .is_displayed()
                .await?,
            "the key table is shown without a profile",
        )?;
        screenshot(&app.client, "20-broken-config").await?;
        Ok::<_, e2e_support::Failure>(())
    }
    .await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}
