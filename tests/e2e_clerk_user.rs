//! Clerk user mode in the real window (issue 15): an end user of a Clerk-powered application adds
//! a user-mode profile (API "Frontend") in the profile editor, signs in through the application's
//! sign-in page in the sign-in window, and manages their own keys and their organization's
//! through the Frontend API: a personal key and an org key (each secret shown once), a search, a
//! revoke with a reason. Session tokens live 3 s here, so they expire between steps and are
//! refreshed without the user seeing anything; the emulator counts the tokens minted. Against
//! the Clerk emulator (in-process). Ignored by default; it needs a display and a Secret Service:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       cargo test -p keyward-tests --test e2e_clerk_user -- --ignored --test-threads=1

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    click, css, ensure, field_value, fill, listed_key_id, other_window, screenshot, submit_sign_in,
    type_and_confirm_revoke, wait_hidden, wait_js, wait_match_count, wait_text, wait_visible,
    AppSession, Outcome, STEP_TIMEOUT,
};
use fantoccini::Client;
use keyward_emulators::{ClerkSignIn, Emulator, Flavor};
use std::time::{Duration, Instant};

/// Short enough that tokens expire several times during the test.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3);
/// Longer than a token lives: whatever the app held before this pause has expired after it.
const PAST_EXPIRY: Duration = Duration::from_secs(7);
/// The emulator's route that mints session tokens, as its stats name it.
const TOKEN_ROUTE: &str = "POST /v1/client/sessions/{session_id}/tokens";

/// The emulator runs on this test's runtime: it needs worker threads of its own to serve it
/// while the test waits on WebDriver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), a Secret Service, tauri-driver and WebKitWebDriver; run with --ignored"]
async fn a_clerk_user_signs_in_and_manages_their_own_and_their_orgs_keys() {
    let clerk = Emulator::start(Flavor::Clerk)
        .await
        .expect("clerk emulator");
    clerk.set_clerk_token_lifetime(TOKEN_LIFETIME);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "default_profile = \"local\"\n\n[profiles.local]\nbackend = \"local\"\n",
    )
    .unwrap();
    let app = AppSession::launch(&dir.path().join("data"), &config).await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = scenario(&app.client, &clerk).await;
    app.close().await;
    let minted = clerk.stats().get(TOKEN_ROUTE).copied().unwrap_or(0);
    clerk.shutdown().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
    // The sign-in's check, then a refresh after each pause at least.
    println!("session tokens minted: {minted}");
    assert!(
        minted >= 3,
        "expected the session token to be refreshed, but only {minted} were minted"
    );
}

async fn scenario(client: &Client, clerk: &Emulator) -> Outcome {
    let user = clerk
        .clerk_sign_in()
        .expect("the Clerk flavor signs users in");
    wait_text(client, "#profile-name", |t| t == "local").await?;
    add_profile(client, clerk).await?;
    sign_in(client, &user).await?;

    // The new profile is the one in use; its table is the signed-in user's (no keys yet).
    click(client, "#profiles-close").await?;
    switch_to(client, "me").await?;
    wait_visible(client, "#empty-state").await?;
    no_error_shown(client).await?;
    // The Frontend API verifies no secret: no verify panel.
    ensure(
        !client
            .find(css("#verify-panel"))
            .await?
            .is_displayed()
            .await?,
        "the verify panel is offered in Clerk user mode",
    )?;
    screenshot(client, "90-clerk-user-signed-in").await?;

    // A personal key, with a description; the FAPI takes no scopes.
    let laptop_secret = create_key(client, "laptop e2e", None).await?;
    let laptop_row = row_of(client, "laptop e2e").await?;

    // The token the app holds expires here; the next call refreshes it unseen.
    tokio::time::sleep(PAST_EXPIRY).await;

    // An org key: the owner is the user's organization.
    let ci_secret = create_key(client, "ci deploy e2e", Some(&user.org_id)).await?;
    ensure(
        laptop_secret != ci_secret,
        "two keys showed the same secret",
    )?;
    no_error_shown(client).await?;

    // The owner filter offers the user's organization (from their memberships); the org's keys.
    let org = format!("org:{}", user.org_id);
    wait_js(
        client,
        "the owner filter to offer the user's organization",
        "return [...document.querySelectorAll('#owner-options option')].some((o) => o.value === arguments[0]);",
        vec![serde_json::json!(org)],
    )
    .await?;
    fill(client, "#owner-filter", &org).await?;
    wait_match_count(client, 1).await?;
    row_of(client, "ci deploy e2e").await?;
    screenshot(client, "93-clerk-user-org-keys").await?;
    click(client, "#owner-clear").await?;
    wait_match_count(client, 1).await?;
    row_of(client, "laptop e2e").await?;

    tokio::time::sleep(PAST_EXPIRY).await;

    // Search (on the server) finds the personal key by a part of its name.
    let another = create_key(client, "staging e2e", None).await?;
    ensure(another != laptop_secret, "a secret was shown twice")?;
    wait_match_count(client, 2).await?;
    fill(client, "#search", "lapt").await?;
    wait_match_count(client, 1).await?;
    row_of(client, "laptop e2e").await?;
    screenshot(client, "94-clerk-user-search").await?;

    tokio::time::sleep(PAST_EXPIRY).await;

    // Revoke with a reason.
    click(client, &format!("{laptop_row} .revoke")).await?;
    let title = wait_visible(client, "#revoke-heading").await?;
    ensure(
        title.starts_with("Revoke"),
        format!("revoke title: {title:?}"),
    )?;
    fill(client, "#revoke-reason", "laptop replaced").await?;
    type_and_confirm_revoke(client, "laptop e2e").await?;
    e2e_support::finish_revoke(client).await?;
    // The status filter is "All": the revoked key stays listed, as revoked.
    wait_text(client, &format!("{laptop_row} .badge"), |t| t == "Revoked").await?;
    let revoked = clerk_key(clerk, &user, "laptop e2e").await?;
    ensure(
        revoked["revoked"] == true && revoked["revocation_reason"] == "laptop replaced",
        format!("the emulator's key after the revoke: {revoked}"),
    )?;
    no_error_shown(client).await?;
    screenshot(client, "95-clerk-user-revoked").await?;
    Ok(())
}

/// Manage profiles… → + Add profile: a Clerk profile with API "Frontend" against the emulator.
async fn add_profile(client: &Client, clerk: &Emulator) -> Outcome {
    click(client, "#profile-button").await?;
    wait_visible(client, "#profile-menu").await?;
    click(client, "#manage-profiles").await?;
    wait_visible(client, "#profile-add").await?;
    click(client, "#profile-add").await?;
    wait_text(client, "#profile-form-heading", |t| t == "New profile").await?;
    fill(client, "#pf-name", "me").await?;
    client
        .find(css("#pf-backend"))
        .await?
        .select_by_value("clerk")
        .await?;
    fill(client, "#pf-url", &clerk.base_url()).await?;
    // Clerk offers both modes, named by what each signs in with.
    let labels = client
        .execute(
            "return [...document.querySelectorAll('#pf-api option')].map((o) => o.textContent);",
            vec![],
        )
        .await?;
    ensure(
        labels
            == serde_json::json!([
                "Backend (instance secret key)",
                "Frontend (signed in as yourself)"
            ]),
        format!("Clerk's API choices: {labels}"),
    )?;
    let hint = wait_visible(client, "#pf-credential-hint").await?;
    ensure(
        hint.contains("sk_live_"),
        format!("backend-mode credential hint: {hint:?}"),
    )?;
    client
        .find(css("#pf-api"))
        .await?
        .select_by_value("frontend")
        .await?;
    let hint = wait_text(client, "#pf-credential-hint", |t| t.contains("Sign in")).await?;
    ensure(
        hint.contains("__client") && !hint.contains("sk_"),
        format!("user-mode credential hint: {hint:?}"),
    )?;
    wait_hidden(client, "#pf-api-path").await?;
    // Sign in needs the profile saved first: its URL comes from the config.
    wait_hidden(client, "#pf-sign-in").await?;
    screenshot(client, "88-clerk-user-profile").await?;
    click(client, "#pf-save").await?;
    wait_text(client, "#profile-notice", |t| t.contains("added")).await?;
    Ok(())
}

/// Sign in… → the application's sign-in page in the sign-in window, filled as a user would; back
/// in the main window the session is in the keychain and the window is gone.
async fn sign_in(client: &Client, user: &ClerkSignIn) -> Outcome {
    wait_visible(client, "#pf-sign-in").await?;
    let main = client.window().await?;
    click(client, "#pf-sign-in").await?;
    let window = other_window(client, &main).await?;
    client.switch_to_window(window).await?;
    wait_visible(client, "#email").await?;
    let page = client.current_url().await?;
    ensure(
        page.as_str() == user.url,
        format!("the sign-in window opened {page}, not {}", user.url),
    )?;
    // The __client cookie is HttpOnly: the page's scripts cannot read it.
    let readable = client
        .execute("return document.cookie.includes('__client=');", vec![])
        .await?;
    ensure(readable == false, "the page's scripts see __client")?;
    submit_sign_in(
        client,
        main,
        &user.email,
        &user.password,
        "89-clerk-user-sign-in-window",
    )
    .await
}

async fn switch_to(client: &Client, profile: &str) -> Outcome {
    click(client, "#profile-button").await?;
    wait_visible(client, "#profile-menu").await?;
    click(
        client,
        &format!("#profile-menu [data-profile=\"{profile}\"]"),
    )
    .await?;
    wait_text(client, "#profile-name", |t| t == profile).await?;
    Ok(())
}

/// Creates a key named `name` (for the organization `org`, else personal) through the create
/// dialog, which offers what the Frontend API takes and no more; returns the secret the
/// show-once panel showed, after checking that closing the panel leaves it nowhere in the window.
async fn create_key(client: &Client, name: &str, org: Option<&str>) -> Outcome<String> {
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    fill(client, "#key-name", name).await?;
    for (field, what) in [
        ("#key-scopes-field", "scopes"),
        ("#key-level-field", "a level"),
    ] {
        ensure(
            !client.find(css(field)).await?.is_displayed().await?,
            format!("Clerk user mode offers {what}"),
        )?;
    }
    fill(
        client,
        "#key-description",
        &format!("{name}, made by the e2e test"),
    )
    .await?;
    if let Some(org) = org {
        client
            .find(css("#key-owner-kind"))
            .await?
            .select_by_value("org")
            .await?;
        fill(client, "#key-owner-org", org).await?;
        screenshot(client, "91-clerk-user-create-org-key").await?;
    }
    click(client, "#create-submit").await?;
    wait_visible(client, "#secret-value").await?;
    let secret = field_value(client, "#secret-value").await?;
    ensure(
        secret.starts_with("ak_"),
        format!(
            "the new key's secret does not look like one ({} chars)",
            secret.len()
        ),
    )?;
    if org.is_some() {
        screenshot(client, "92-clerk-user-secret-once").await?;
    }
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    wait_hidden(client, "#secret-value").await?;
    // Shown once: once the panel is closed, the secret is in no text and no field.
    let still_there = client
        .execute(
            "const s = arguments[0];
             return document.body.textContent.includes(s)
               || [...document.querySelectorAll('input, textarea')].some((f) => f.value.includes(s));",
            vec![serde_json::json!(secret)],
        )
        .await?;
    ensure(
        still_there == false,
        format!("the secret of {name:?} is still in the window"),
    )?;
    no_error_shown(client).await?;
    Ok(secret)
}

/// The row of the key named `name`, waiting for it to be listed.
async fn row_of(client: &Client, name: &str) -> Outcome<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(id) = listed_key_id(client, name).await? {
            return Ok(format!("#keys-table tbody tr[data-id=\"{id}\"]"));
        }
        if Instant::now() > deadline {
            return Err(format!("no row for {name:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Nothing in the window says something went wrong: no list error, no "could not open this
/// profile", no sign-in-again message.
async fn no_error_shown(client: &Client) -> Outcome {
    let shown = client
        .execute(
            "return ['#list-error', '#backend-error', '#startup-error', '#create-error']
               .map((s) => document.querySelector(s))
               .filter((e) => e && e.offsetParent !== null && !e.hidden)
               .map((e) => e.id + ': ' + e.textContent.trim());",
            vec![],
        )
        .await?;
    ensure(
        shown == serde_json::json!([]),
        format!("errors shown: {shown}"),
    )
}

/// The key named `name` as the emulator's Backend API has it (the same store), read with the
/// instance key: what the revoke left on the server.
async fn clerk_key(clerk: &Emulator, user: &ClerkSignIn, name: &str) -> Outcome<serde_json::Value> {
    let secret_key = &clerk.credentials().clerk().unwrap().secret_key;
    let keys: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api_keys", clerk.base_url()))
        .query(&[
            ("subject", user.user_id.as_str()),
            ("include_invalid", "true"),
            ("limit", "100"),
        ])
        .bearer_auth(secret_key)
        .send()
        .await?
        .json()
        .await?;
    keys["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["name"] == name)
        .cloned()
        .ok_or_else(|| format!("the emulator has no key {name:?}: {keys}").into())
}
