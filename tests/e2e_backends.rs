//! End-to-end tests of the real window against each remote backend's emulator, started
//! in-process: profiles in the header's switcher, a key created with each backend's own field
//! (Clerk scopes and description, FreeSewing level, PropelAuth organisation owner), listed, then
//! revoked, deleted or archived as the backend does it. Credentials come three ways: from
//! `KEYWARD_CREDENTIAL_<PROFILE>` (Clerk, PropelAuth backend API), typed into the profile editor's
//! credential field and kept in the real keychain (FreeSewing), and from PropelAuth's sign-in
//! window, driven through WebDriver against the emulator's login page (PropelAuth frontend API).
//! Ignored by default; they need a display and a Secret Service:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       cargo test -p keyward-tests --test e2e_backends -- --ignored --test-threads=1
//!
//! Every step saves a screenshot under target/e2e-screenshots/.

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    click, css, ensure, field_value, fill, finish_revoke, listed_key_id, other_window, screenshot,
    submit_sign_in, type_and_confirm_revoke, wait_hidden, wait_match_count, wait_text,
    wait_visible, AppSession, Outcome,
};
use fantoccini::Client;
use keyward_emulators::{Emulator, Flavor, SeedOwner, SeedSpec};
use std::time::{Duration, Instant};

struct Emulators {
    clerk: Emulator,
    sewing: Emulator,
    propel: Emulator,
    /// A loopback port nothing listens on: a backend that is down.
    down_port: u16,
}

impl Emulators {
    async fn start() -> Emulators {
        let emulators = Emulators {
            clerk: Emulator::start(Flavor::Clerk)
                .await
                .expect("clerk emulator"),
            sewing: Emulator::start(Flavor::FreeSewing)
                .await
                .expect("freesewing emulator"),
            propel: Emulator::start(Flavor::PropelAuth)
                .await
                .expect("propelauth emulator"),
            down_port: std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port(),
        };
        // A few keys for the Clerk user, so its table looks like one in use.
        for prefix in ["ci-deploy-", "staging-worker-", "laptop-"] {
            emulators.clerk.seed_with(&SeedSpec {
                name_prefix: prefix.into(),
                expiring_within_days: Some(90),
                ..SeedSpec::new(2, SeedOwner::User)
            });
        }
        emulators
    }

    fn config(&self) -> String {
        let clerk = self.clerk.credentials().clerk().unwrap();
        format!(
            r#"default_profile = "local"

[profiles.local]
backend = "local"

[profiles.clerk]
backend = "clerk"
url = "{clerk_url}"
subject = "user:{clerk_user}"

[profiles.sewing]
backend = "freesewing"
url = "{sewing_url}"
auth = "key"

[profiles.propel]
backend = "propelauth"
url = "{propel_url}"
api = "backend"

[profiles.propel-web]
backend = "propelauth"
url = "{propel_url}"
api = "frontend"

[profiles.down]
backend = "clerk"
url = "http://127.0.0.1:{down_port}"
subject = "user:{clerk_user}"
"#,
            clerk_url = self.clerk.base_url(),
            clerk_user = clerk.user_id,
            sewing_url = self.sewing.base_url(),
            propel_url = self.propel.base_url(),
            down_port = self.down_port,
        )
    }

    async fn shutdown(self) {
        self.clerk.shutdown().await;
        self.sewing.shutdown().await;
        self.propel.shutdown().await;
    }
}

/// The emulators run on this test's runtime: it needs worker threads of its own to serve them
/// while the test waits on WebDriver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), a Secret Service, tauri-driver and WebKitWebDriver; run with --ignored"]
async fn every_backend_through_its_profile() {
    let emulators = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, emulators.config()).unwrap();
    let clerk_key = emulators
        .clerk
        .credentials()
        .clerk()
        .unwrap()
        .secret_key
        .clone();
    let propel_key = emulators
        .propel
        .credentials()
        .propelauth()
        .unwrap()
        .integration_key
        .clone();
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &config,
        &[
            ("KEYWARD_CREDENTIAL_CLERK", &clerk_key),
            ("KEYWARD_CREDENTIAL_PROPEL", &propel_key),
            ("KEYWARD_CREDENTIAL_DOWN", &clerk_key),
        ],
    )
    .await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = scenario(&app.client, &emulators).await;
    app.close().await;
    emulators.shutdown().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn scenario(client: &Client, emulators: &Emulators) -> Outcome {
    // The header names the profile, its backend and where its keys live.
    wait_text(client, "#profile-name", |t| t == "local").await?;
    wait_visible(client, "#empty-state").await?;
    let location = header_location(client).await?;
    ensure(
        location.ends_with("keyward.db"),
        format!("local location: {location:?}"),
    )?;

    // The switcher lists every profile with its backend.
    click(client, "#profile-button").await?;
    // Backend chips are upper-cased by CSS, which WebDriver's text follows.
    let menu = wait_visible(client, "#profile-menu").await?.to_lowercase();
    for part in [
        "clerk",
        "sewing",
        "propel",
        "propel-web",
        "freesewing",
        "propelauth",
    ] {
        ensure(
            menu.contains(part),
            format!("the menu lacks {part:?}: {menu:?}"),
        )?;
    }
    screenshot(client, "40-profile-switcher").await?;
    client
        .active_element()
        .await?
        .send_keys(&fantoccini::key::Key::Escape.to_string())
        .await?;
    wait_hidden(client, "#profile-menu").await?;

    backend_down(client, emulators).await?;
    clerk(client, emulators).await?;
    freesewing(client, emulators).await?;
    propelauth_backend(client, emulators).await?;
    propelauth_frontend(client, emulators).await?;

    // Back to Clerk, through the switcher (for the README: the switcher over a table in use).
    switch_to(client, "clerk").await?;
    wait_match_count(client, 7).await?;
    click(client, "#profile-button").await?;
    wait_visible(client, "#profile-menu").await?;
    screenshot(client, "56-profile-switcher-in-use").await?;
    Ok(())
}

/// The header's "whose keys, where" line. Read from the DOM: WebKitWebDriver calls this
/// ellipsized span hidden although it is on screen.
async fn header_location(client: &Client) -> Outcome<String> {
    let text = client
        .execute(
            "return document.querySelector('#profile-location').textContent;",
            vec![],
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
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

/// Fills the create dialog's name and submits it after `extra` filled the backend's fields;
/// acknowledges the show-once panel and returns the new key's row selector.
async fn create_key(
    client: &Client,
    name: &str,
    shot: &str,
    extra: impl AsyncFnOnce() -> Outcome,
) -> Outcome<String> {
    click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    fill(client, "#key-name", name).await?;
    extra().await?;
    screenshot(client, shot).await?;
    click(client, "#create-submit").await?;
    wait_visible(client, "#secret-value").await?;
    click(client, "#secret-ack").await?;
    click(client, "#secret-close").await?;
    let row = "#keys-table tbody tr[data-id]";
    wait_text(client, row, |t| t.contains(name)).await?;
    let id = row_id(client, name).await?;
    Ok(format!("#keys-table tbody tr[data-id=\"{id}\"]"))
}

async fn row_id(client: &Client, name: &str) -> Outcome<String> {
    listed_key_id(client, name)
        .await?
        .ok_or_else(|| format!("no row for {name:?}").into())
}

/// A backend that is down: a clean `network` message in the window, no credential in it, and
/// the app keeps working on the other profiles.
async fn backend_down(client: &Client, emulators: &Emulators) -> Outcome {
    let credential = &emulators.clerk.credentials().clerk().unwrap().secret_key;
    switch_to(client, "down").await?;
    let message = wait_visible(client, "#list-error").await?;
    ensure(
        message.contains("cannot reach")
            && message.contains(&format!("127.0.0.1:{}", emulators.down_port)),
        format!("backend-down message: {message:?}"),
    )?;
    ensure(
        !message.contains(credential.as_str()),
        "the message shows the credential",
    )?;
    ensure(
        !client
            .find(css("#empty-state"))
            .await?
            .is_displayed()
            .await?,
        "a backend that is down is shown as empty",
    )?;
    screenshot(client, "39-backend-down").await?;
    switch_to(client, "local").await?;
    wait_visible(client, "#empty-state").await?;
    wait_hidden(client, "#list-error").await?;
    Ok(())
}

async fn clerk(client: &Client, emulators: &Emulators) -> Outcome {
    let user = &emulators.clerk.credentials().clerk().unwrap().user_id;
    switch_to(client, "clerk").await?;
    wait_text(client, "#profile-backend", |t| {
        t.eq_ignore_ascii_case("Clerk")
    })
    .await?;
    let location = header_location(client).await?;
    ensure(
        location.contains(&format!("user:{user}"))
            && location.contains(&emulators.clerk.base_url()),
        format!("clerk location: {location:?}"),
    )?;
    // The seeded keys of the profile's subject.
    wait_match_count(client, 6).await?;
    screenshot(client, "41-clerk-profile").await?;

    // Clerk keys take scopes and a description; there is no level.
    let row = create_key(client, "clerk e2e", "42-clerk-create", async || {
        ensure(
            !client.find(css("#key-level")).await?.is_displayed().await?,
            "Clerk offers a level",
        )?;
        fill(client, "#key-scopes", "read:keys, write:keys").await?;
        fill(client, "#key-description", "made by the e2e test").await?;
        Ok(())
    })
    .await?;
    click(client, &format!("{row} .key-name")).await?;
    let details = wait_text(client, "#details-list", |t| t.contains("read:keys")).await?;
    ensure(
        details.contains("write:keys") && details.contains("made by the e2e test"),
        format!("clerk details: {details:?}"),
    )?;

    // Revoke with a reason: it stays listed as revoked.
    click(client, &format!("{row} .revoke")).await?;
    wait_visible(client, "#revoke-reason").await?;
    let title = wait_visible(client, "#revoke-heading").await?;
    ensure(
        title.starts_with("Revoke"),
        format!("revoke title: {title:?}"),
    )?;
    fill(client, "#revoke-reason", "rotated").await?;
    type_and_confirm_revoke(client, "clerk e2e").await?;
    finish_revoke(client).await?;
    wait_text(client, &format!("{row} .badge"), |t| t == "Revoked").await?;
    screenshot(client, "43-clerk-revoked").await?;
    Ok(())
}

async fn freesewing(client: &Client, emulators: &Emulators) -> Outcome {
    let sewing = emulators.sewing.credentials().freesewing().unwrap();
    switch_to(client, "sewing").await?;
    wait_text(client, "#profile-backend", |t| {
        t.eq_ignore_ascii_case("FreeSewing")
    })
    .await?;

    // No credential yet: the window says so and offers the profile editor.
    let message = wait_visible(client, "#backend-error-message").await?;
    ensure(
        message.contains("no credential") && message.contains("KEY:SECRET"),
        format!("sewing error: {message:?}"),
    )?;
    screenshot(client, "44-sewing-needs-credential").await?;
    click(client, "#backend-error-edit").await?;
    wait_text(client, "#profile-form-heading", |t| t.contains("sewing")).await?;
    wait_text(client, "#pf-credential-status", |t| {
        t.contains("No credential")
    })
    .await?;
    ensure(
        !client
            .find(css("#pf-subject"))
            .await?
            .is_displayed()
            .await?,
        "FreeSewing offers a default owner",
    )?;

    // A malformed credential is refused next to the field; nothing is stored.
    fill(client, "#pf-credential", "no-colon").await?;
    click(client, "#pf-save").await?;
    let error = wait_visible(client, "#pf-credential-error").await?;
    ensure(
        error.contains("KEY:SECRET") && !error.contains("no-colon"),
        format!("bad credential error: {error:?}"),
    )?;
    wait_text(client, "#pf-credential-status", |t| {
        t.contains("No credential")
    })
    .await?;
    screenshot(client, "45-profile-editor-bad-credential").await?;

    // The right credential, through the field, into the real keychain.
    fill(
        client,
        "#pf-credential",
        &format!("{}:{}", sewing.api_key, sewing.api_secret),
    )
    .await?;
    screenshot(client, "46-profile-editor-credential").await?;
    click(client, "#pf-save").await?;
    wait_text(client, "#pf-credential-status", |t| {
        t == "Stored in the OS keychain."
    })
    .await?;
    let typed = field_value(client, "#pf-credential").await?;
    ensure(
        typed.is_empty(),
        "the credential stays in the field after saving",
    )?;
    screenshot(client, "46b-profile-editor-stored").await?;
    click(client, "#profiles-close").await?;
    wait_hidden(client, "#backend-error").await?;
    wait_visible(client, "#keys-table").await?;

    // FreeSewing keys have a level and must expire (no Never); there is no owner choice.
    let row = create_key(client, "sewing e2e", "47-sewing-create", async || {
        ensure(
            !client.find(css("#key-owner-kind-field")).await?.is_displayed().await?,
            "FreeSewing offers an owner",
        )?;
        let never = client
            .execute(
                "return [...document.querySelectorAll('#key-expires option')].some((o) => o.value === 'Never');",
                vec![],
            )
            .await?;
        ensure(never == false, "FreeSewing offers Never")?;
        client
            .find(css("#key-level"))
            .await?
            .select_by_value("3")
            .await?;
        Ok(())
    })
    .await?;
    click(client, &format!("{row} .key-name")).await?;
    wait_text(client, "#details-list", |t| t.contains("Level3")).await?;

    // "Delete": the key is gone for good.
    let label = wait_visible(client, &format!("{row} .revoke")).await?;
    ensure(label == "Delete", format!("sewing revoke label: {label:?}"))?;
    click(client, &format!("{row} .revoke")).await?;
    let title = wait_visible(client, "#revoke-heading").await?;
    ensure(
        title.starts_with("Delete"),
        format!("delete title: {title:?}"),
    )?;
    // FreeSewing stores no reason; Keyward keeps one in its own audit log, and says so.
    let hint = wait_visible(client, "#revoke-reason-hint").await?;
    ensure(
        hint.contains("does not store a reason") && hint.contains("audit log"),
        format!("FreeSewing's reason hint: {hint:?}"),
    )?;
    type_and_confirm_revoke(client, "sewing e2e").await?;
    finish_revoke(client).await?;
    wait_hidden(client, &row).await?;
    // Only the emulator's seeded key (the one Keyward signs in with) is left.
    wait_match_count(client, 1).await?;
    screenshot(client, "48-sewing-deleted").await?;
    Ok(())
}

async fn propelauth_backend(client: &Client, emulators: &Emulators) -> Outcome {
    let org = &emulators.propel.credentials().propelauth().unwrap().org_id;
    switch_to(client, "propel").await?;
    wait_text(client, "#profile-backend", |t| {
        t.eq_ignore_ascii_case("PropelAuth")
    })
    .await?;
    wait_visible(client, "#empty-state").await?;

    // An organisation's key.
    let row = create_key(client, "propel e2e", "49-propel-create-org", async || {
        client
            .find(css("#key-owner-kind"))
            .await?
            .select_by_value("org")
            .await?;
        fill(client, "#key-owner-org", org).await?;
        Ok(())
    })
    .await?;
    // Read from the DOM: WebKitWebDriver calls the ellipsized owner link hidden. The link shows
    // the owner's distinguishing tail; the full owner is its data-owner (and its title).
    let owner = client
        .execute(
            "return document.querySelector(arguments[0]).dataset.owner;",
            vec![serde_json::json!(format!("{row} .owner"))],
        )
        .await?;
    ensure(
        owner.as_str() == Some(format!("org:{org}").as_str()),
        format!("owner: {owner}"),
    )?;
    let last_used = client
        .find(css(&format!("{row} td.col-last-used span")))
        .await?;
    ensure(
        last_used.text().await? == "—"
            && last_used
                .attr("title")
                .await?
                .is_some_and(|t| t.contains("does not report")),
        "PropelAuth's last-used column does not say it is unknown",
    )?;

    // "Archive": PropelAuth keeps deleted keys in an archive.
    let label = wait_visible(client, &format!("{row} .revoke")).await?;
    ensure(
        label == "Archive",
        format!("propel revoke label: {label:?}"),
    )?;
    click(client, &format!("{row} .revoke")).await?;
    let title = wait_visible(client, "#revoke-heading").await?;
    ensure(
        title.starts_with("Archive"),
        format!("archive title: {title:?}"),
    )?;
    screenshot(client, "50-propel-archive-dialog").await?;
    type_and_confirm_revoke(client, "propel e2e").await?;
    finish_revoke(client).await?;
    wait_text(client, &format!("{row} .badge"), |t| t == "Archived").await?;
    screenshot(client, "51-propel-archived").await?;
    Ok(())
}

async fn propelauth_frontend(client: &Client, emulators: &Emulators) -> Outcome {
    let propel = emulators.propel.credentials().propelauth().unwrap();
    switch_to(client, "propel-web").await?;
    let message = wait_visible(client, "#backend-error-message").await?;
    ensure(
        message.contains("signed-in session"),
        format!("propel-web error: {message:?}"),
    )?;
    click(client, "#backend-error-edit").await?;
    wait_text(client, "#profile-form-heading", |t| {
        t.contains("propel-web")
    })
    .await?;
    wait_visible(client, "#pf-sign-in").await?;

    // Sign in through the sign-in window: the emulator's login page, driven like a user would.
    let main = client.window().await?;
    click(client, "#pf-sign-in").await?;
    let sign_in = other_window(client, &main).await?;
    client.switch_to_window(sign_in).await?;
    wait_visible(client, "#email").await?;
    submit_sign_in(
        client,
        main,
        &propel.user_email,
        &propel.user_password,
        "52-propel-sign-in-window",
    )
    .await?;
    screenshot(client, "53-propel-signed-in").await?;
    click(client, "#profiles-close").await?;
    wait_hidden(client, "#backend-error").await?;

    // The frontend API: presets only (no custom expiry), no description; a personal key.
    let row = create_key(client, "propel web e2e", "54-propel-web-create", async || {
        let custom = client
            .execute(
                "return [...document.querySelectorAll('#key-expires option')].some((o) => o.value === 'custom');",
                vec![],
            )
            .await?;
        ensure(custom == false, "the frontend API offers a custom expiry")?;
        ensure(
            !client.find(css("#key-description-field")).await?.is_displayed().await?,
            "the frontend API offers a description",
        )?;
        Ok(())
    })
    .await?;
    click(client, &format!("{row} .revoke")).await?;
    wait_visible(client, "#revoke-heading").await?;
    type_and_confirm_revoke(client, "propel web e2e").await?;
    // The frontend API lists only live keys: the archived key shows as such, or leaves the table
    // once it is read again.
    e2e_support::wait_js(
        client,
        "the archive to finish",
        "const d = document.querySelector('#revoke-dialog');
         return !d.open || document.querySelectorAll('#revoke-results li[data-status]').length > 0;",
        vec![],
    )
    .await?;
    let outcome = client
        .execute(
            "const li = document.querySelector('#revoke-results li[data-status]');
             return li ? li.dataset.status : 'closed';",
            vec![],
        )
        .await?;
    ensure(
        outcome == "revoked" || outcome == "closed",
        format!("archive outcome: {outcome}"),
    )?;
    finish_revoke(client).await?;
    e2e_support::wait_js(
        client,
        "the row to show Archived or leave the table",
        "const row = document.querySelector(arguments[0]);
         return !row || row.querySelector('.badge')?.textContent === 'Archived';",
        vec![serde_json::json!(row)],
    )
    .await?;
    screenshot(client, "55-propel-web-archived").await?;
    Ok(())
}

/// The window stays blank until its first page of keys is drawn (so the first paint shows them),
/// but never longer than a moment: against a backend that takes 3 s to answer, the window is
/// shown first, with the table still loading, and the keys follow when the answer arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), a Secret Service, tauri-driver and WebKitWebDriver; run with --ignored"]
async fn a_slow_backend_shows_the_window_before_its_keys() {
    const LATENCY: Duration = Duration::from_secs(3);
    let clerk = Emulator::start(Flavor::Clerk)
        .await
        .expect("clerk emulator");
    clerk.seed_with(&SeedSpec {
        name_prefix: "slow-".into(),
        ..SeedSpec::new(2, SeedOwner::User)
    });
    clerk.set_faults(keyward_emulators::Faults {
        latency: LATENCY,
        ..Default::default()
    });
    let credentials = clerk.credentials().clerk().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_profile = \"clerk\"\n\n[profiles.clerk]\nbackend = \"clerk\"\nurl = \"{}\"\nsubject = \"user:{}\"\n",
            clerk.base_url(),
            credentials.user_id
        ),
    )
    .unwrap();
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &config,
        &[("KEYWARD_CREDENTIAL_CLERK", &credentials.secret_key)],
    )
    .await;
    let result = async {
        let client = &app.client;
        let launched = Instant::now();
        wait_visible(client, "#new-key").await?;
        let shown_after = launched.elapsed();
        // Shown while the first listing is still on its way (it takes LATENCY at the least).
        let loading = client
            .execute(
                "return document.querySelector('#keys-table').getAttribute('aria-busy') === 'true'
                   && !document.querySelector('#keys-table tbody tr[data-id]');",
                vec![],
            )
            .await?;
        ensure(
            loading == serde_json::Value::Bool(true),
            format!("the window was shown {shown_after:?} after launch, but not before its keys"),
        )?;
        screenshot(client, "slow-backend-01-shown-while-loading").await?;
        wait_text(client, "#keys-table tbody", |t| t.contains("slow-")).await?;
        screenshot(client, "slow-backend-02-keys-arrived").await?;
        Ok::<_, e2e_support::Failure>(())
    }
    .await;
    app.close().await;
    clerk.shutdown().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}
