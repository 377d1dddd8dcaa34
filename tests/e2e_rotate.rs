//! Rotate (issue 10) in the real window, on the local store: a key is created, *Rotate…* in its
//! details with a 1 hour grace period shows the replacement's secret once (the show-once panel),
//! the old key shows "Revoke scheduled" in the table and its details, *Cancel scheduled revoke*
//! takes the mark away; then, with Keyward closed, the pending revoke is written into the data
//! dir's `scheduled.db` already due (as if the hour had passed while it was closed), and the next
//! start revokes the old key on its own: the row shows it revoked and the audit log says
//! "rotated (replaced by …)". Ignored by default; it needs a display:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       -s "-screen 0 1280x900x24" \
//!       cargo test -p keyward-tests --test e2e_rotate -- --ignored --test-threads=1
//!
//! Every step saves a screenshot under target/e2e-screenshots/.

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    click, css, ensure, fill, listed_key_id, screenshot, wait_hidden, wait_js, wait_text,
    wait_visible, AppSession, Outcome,
};
use fantoccini::Client;
use keyward_local::{NewScheduledRevoke, ScheduledRevokes};
use std::path::Path;

const KEY_NAME: &str = "rotate-me";
const PROFILE: &str = "local";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn rotate_with_a_grace_period_then_the_old_key_is_revoked_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("default_profile = \"{PROFILE}\"\n\n[profiles.{PROFILE}]\nbackend = \"local\"\n"),
    )
    .unwrap();

    let app = AppSession::launch(&data, &config).await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let first = rotate_and_cancel(&app.client).await;
    app.close().await;
    let (old_id, new_id) = match first {
        Ok(ids) => ids,
        Err(e) => panic!("e2e failed: {e:?}"),
    };

    // Keyward is closed; the grace period ends meanwhile.
    make_due(&data, &old_id, &new_id);

    let app = AppSession::launch(&data, &config).await;
    let second = revoked_on_start(&app.client, &old_id, &new_id).await;
    app.close().await;
    if let Err(e) = second {
        panic!("e2e failed after the restart: {e:?}");
    }
}

/// Creates a key and rotates it with a 1 hour grace period; checks the show-once secret and the
/// marks, then cancels the pending revoke. Answers the old and the new key's ids.
async fn rotate_and_cancel(client: &Client) -> Outcome<(String, String)> {
    wait_visible(client, "#new-key").await?;
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    fill(client, "#key-name", KEY_NAME).await?;
    click(client, "#create-submit").await?;
    wait_visible(client, "#secret-value").await?;
    let first_secret = secret_shown(client).await?;
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    wait_text(client, "#keys-table tbody", |t| t.contains(KEY_NAME)).await?;
    let old_id = listed_key_id(client, KEY_NAME)
        .await?
        .ok_or("no row for the new key")?;
    let old_row = format!("#keys-table tbody tr[data-id=\"{old_id}\"]");

    click(client, &format!("{old_row} .key-name")).await?;
    wait_text(client, "#details-list", |t| t.contains(&old_id)).await?;
    wait_visible(client, "#details-rotate").await?;
    screenshot(client, "rotate-01-details-with-rotate").await?;
    click(client, "#details-rotate").await?;
    wait_visible(client, "#rotate-form").await?;
    client
        .find(css("#rotate-grace"))
        .await?
        .select_by_value("1h")
        .await?;
    screenshot(client, "rotate-02-dialog").await?;
    click(client, "#rotate-submit").await?;
    wait_hidden(client, "#rotate-dialog").await?;

    // The replacement's secret, once, in the show-once panel.
    wait_visible(client, "#secret-value").await?;
    let new_secret = secret_shown(client).await?;
    ensure(
        new_secret.starts_with("kw_") && new_secret != first_secret,
        "the panel does not show a new kw_ secret",
    )?;
    screenshot(client, "rotate-03-new-secret-once").await?;
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    wait_hidden(client, "#secret-dialog").await?;
    wait_js(
        client,
        "the secret to be gone from the page",
        "return !document.body.innerHTML.includes(arguments[0]);",
        vec![new_secret.into()],
    )
    .await?;

    // Two rows of that name now; the old one is marked, the new one is not.
    const REPLACEMENT: &str =
        "const rows = [...document.querySelectorAll('#keys-table tbody tr[data-id]')]
             .filter((r) => r.querySelector('.key-name')?.textContent === arguments[0]
                 && r.dataset.id !== arguments[1]);
         return rows.length === 1 ? rows[0].dataset.id : null;";
    let args = vec![KEY_NAME.into(), old_id.clone().into()];
    wait_js(
        client,
        "the replacement's row",
        &REPLACEMENT.replace("rows[0].dataset.id : null", "true : false"),
        args.clone(),
    )
    .await?;
    let new_id = client.execute(REPLACEMENT, args).await?;
    let new_id = new_id.as_str().ok_or("no replacement row")?.to_owned();
    wait_text(client, &format!("{old_row} .col-name"), |t| {
        t.contains("Revoke scheduled")
    })
    .await?;
    let new_status = client
        .find(css(&format!(
            "#keys-table tbody tr[data-id=\"{new_id}\"] .col-name"
        )))
        .await?
        .text()
        .await?;
    ensure(
        !new_status.contains("Revoke scheduled"),
        "the new key is marked too",
    )?;
    wait_text(client, "#details-list", |t| t.contains("Scheduled for")).await?;
    wait_visible(client, "#details-cancel-revoke").await?;
    screenshot(client, "rotate-04-revoke-scheduled").await?;

    // Cancel: the mark goes, the old key keeps working.
    click(client, "#details-cancel-revoke").await?;
    wait_hidden(client, "#details-cancel-revoke").await?;
    wait_text(client, &format!("{old_row} .col-name"), |t| {
        !t.contains("Revoke scheduled")
    })
    .await?;
    wait_text(client, &format!("{old_row} .col-status"), |t| {
        t.contains("Active")
    })
    .await?;
    screenshot(client, "rotate-05-cancelled").await?;
    Ok((old_id, new_id))
}

/// The value in the show-once panel.
async fn secret_shown(client: &Client) -> Outcome<String> {
    Ok(client
        .find(css("#secret-value"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Writes the old key's pending revoke into the data dir's schedule, due a minute ago: what a
/// 1 hour grace period looks like once the hour has passed with Keyward closed.
fn make_due(data: &Path, old_id: &str, new_id: &str) {
    let schedule = ScheduledRevokes::open(data).expect("scheduled.db");
    schedule
        .schedule(&NewScheduledRevoke {
            profile: PROFILE.into(),
            key_id: old_id.into(),
            key_name: Some(KEY_NAME.into()),
            replaced_by: Some(new_id.into()),
            due_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            reason: "rotated".into(),
        })
        .expect("schedule the revoke");
}

async fn revoked_on_start(client: &Client, old_id: &str, new_id: &str) -> Outcome {
    let old_row = format!("#keys-table tbody tr[data-id=\"{old_id}\"]");
    let new_row = format!("#keys-table tbody tr[data-id=\"{new_id}\"]");
    wait_visible(client, &new_row).await?;
    // The scheduler runs at start and tells the window, which reloads the table.
    wait_js(
        client,
        "the old key to be revoked on start",
        "const row = document.querySelector(arguments[0]);
         return !!row && row.dataset.status === 'revoked';",
        vec![old_row.clone().into()],
    )
    .await?;
    let new_status = client
        .find(css(&new_row))
        .await?
        .attr("data-status")
        .await?;
    ensure(
        new_status.as_deref() == Some("active"),
        "the replacement is not active",
    )?;
    screenshot(client, "rotate-06-revoked-on-start").await?;
    click(client, "#nav-audit").await?;
    wait_js(
        client,
        "the audit log to say the old key was rotated",
        "return [...document.querySelectorAll('#view-audit tr[data-action=\"revoked\"] .col-reason')]
             .some((c) => c.textContent === 'rotated (replaced by ' + arguments[0] + ')');",
        vec![new_id.into()],
    )
    .await?;
    screenshot(client, "rotate-07-audit").await?;
    click(client, "#nav-keys").await?;
    Ok(())
}
