//! The window at every size (issue 13): at 1280×800, 1024×700 and 760×480, against a Clerk
//! emulator whose keys have long names and `user_…`/`org_…` owners, the test checks what a user
//! would see and saves a screenshot of each main view:
//!
//! - the keys table with a key's details open, then Verify (a checked secret's verdict), then the
//!   create dialog;
//! - no sideways scrolling (`scrollWidth <= innerWidth`), *New key* wholly inside the window, the
//!   header's parts not overlapping each other, Details and Verify on screen and usable at each
//!   size (a drawer below 1180 px), full names and owners on hover, dates never cut.
//!
//! Ignored by default; it needs a display:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       -s "-screen 0 1280x900x24" \
//!       cargo test -p keyward-tests --test e2e_layout -- --ignored --test-threads=1
//!
//! Screenshots go to target/e2e-screenshots/layout-<width>x<height>-*.png.

#[allow(dead_code)]
mod e2e_support;

use std::time::Duration;

use e2e_support::{
    css, ensure, screenshot, wait_hidden, wait_js, wait_text, wait_visible, AppSession, Outcome,
};
use fantoccini::Client;
use keyward_emulators::{Emulator, Flavor, SeedOwner, SeedSpec};
use serde_json::{json, Value};

const SIZES: [(u32, u32); 3] = [(1280, 800), (1024, 700), (760, 480)];
/// Long enough to be cut in the Name column at every size.
const NAME_PREFIX: &str = "billing-pipeline-production-eu-west-reporting-service-";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn the_main_views_work_at_every_window_size() {
    let emulator = Emulator::start(Flavor::Clerk)
        .await
        .expect("clerk emulator");
    let clerk = emulator.credentials().clerk().unwrap().clone();
    emulator.seed_with(&SeedSpec {
        name_prefix: NAME_PREFIX.into(),
        expiring_within_days: Some(400),
        usage_mix: true,
        owners: 2,
        ..SeedSpec::new(60, SeedOwner::Org)
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_profile = \"acme\"\n\n[profiles.acme]\nbackend = \"clerk\"\nurl = \"{}\"\n\
             subject = \"org:{}\"\n",
            emulator.base_url(),
            clerk.org_id
        ),
    )
    .unwrap();
    let app = AppSession::launch_with(
        &dir.path().join("data"),
        &config,
        &[("KEYWARD_CREDENTIAL_ACME", &clerk.secret_key)],
    )
    .await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let mut result: Outcome = Ok(());
    for (width, height) in SIZES {
        result = at_size(&app.client, width, height)
            .await
            .map_err(|e| format!("at {width}×{height}: {e}").into());
        if result.is_err() {
            let _ = screenshot(&app.client, &format!("layout-{width}x{height}-failure")).await;
            break;
        }
    }
    app.close().await;
    emulator.shutdown().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn at_size(client: &Client, width: u32, height: u32) -> Outcome {
    let name = |view: &str| format!("layout-{width}x{height}-{view}");
    resize(client, width, height).await?;
    wait_visible(client, "#keys-table tbody tr[data-id] .key-name").await?;
    page_fits(client).await?;
    header_fits(client).await?;
    cells_tell_apart(client).await?;

    // Details: a click on a key shows all of its fields, on screen.
    let row = "#keys-table tbody tr[data-index=\"0\"]";
    let key_name = client
        .find(css(&format!("{row} .key-name")))
        .await?
        .text()
        .await?;
    js_click(client, &format!("{row} .key-name")).await?;
    wait_text(client, "#details-list", |t| t.contains(&key_name)).await?;
    on_screen(client, "#details-list").await?;
    page_fits(client).await?;
    screenshot(client, &name("details")).await?;

    // Verify: reachable and usable at this size (in the drawer below 1180 px).
    if drawer(client).await? {
        // Esc closes the drawer; the toolbar's button opens it with Verify focused.
        client
            .execute(
                "document.activeElement.dispatchEvent(new KeyboardEvent('keydown',
                   { key: 'Escape', bubbles: true, cancelable: true }));",
                vec![],
            )
            .await?;
        drawer_closed(client).await?;
        js_click(client, "#side-toggle").await?;
        wait_js(
            client,
            "focus on the Verify box",
            "return document.activeElement?.id === 'verify-input';",
            vec![],
        )
        .await?;
    }
    on_screen(client, "#verify-input").await?;
    on_screen(client, "#verify-submit").await?;
    client
        .execute(
            "document.querySelector('#verify-input').value = arguments[0];",
            vec![json!("sk_test_not_a_key_of_this_profile_0000")],
        )
        .await?;
    js_click(client, "#verify-submit").await?;
    wait_js(
        client,
        "a verdict (or a message) under Verify",
        "const r = document.querySelector('#verify-result');
         const e = document.querySelector('#verify-input-error');
         return (r && r.textContent.trim() !== '') || (e && !e.hidden);",
        vec![],
    )
    .await?;
    on_screen(client, "#verify-panel").await?;
    page_fits(client).await?;
    screenshot(client, &name("verify")).await?;
    if drawer(client).await? {
        js_click(client, "#side-close").await?;
        drawer_closed(client).await?;
    }

    // The create dialog fits the window.
    js_click(client, "#new-key").await?;
    wait_visible(client, "#key-name").await?;
    on_screen(client, "#create-submit").await?;
    on_screen(client, "#create-cancel").await?;
    page_fits(client).await?;
    screenshot(client, &name("create")).await?;
    js_click(client, "#create-cancel").await?;
    wait_hidden(client, "#key-name").await
}

/// Clicks the element at `selector` from the page. After a resize, WebKitWebDriver (no window
/// manager under Xvfb) answers pointer actions with an empty error; the layout is what this
/// test checks, the clicks themselves are covered by the other e2e tests.
async fn js_click(client: &Client, selector: &str) -> Outcome {
    let found = client
        .execute(
            "const e = document.querySelector(arguments[0]);
             if (!e) return false;
             e.click();
             return true;",
            vec![json!(selector)],
        )
        .await?;
    ensure(found == json!(true), format!("no {selector} to click"))
}

/// Resizes the window and waits until the page has the new width.
async fn resize(client: &Client, width: u32, height: u32) -> Outcome {
    // WebKitWebDriver resizes the window but, with no window manager under Xvfb, may report an
    // error (it waits for a configure event that never comes): the page's width decides.
    if let Err(e) = client.set_window_size(width, height).await {
        eprintln!("set_window_size({width}, {height}): {e}");
    }
    wait_js(
        client,
        &format!("the page to be {width} px wide"),
        "return Math.abs(window.innerWidth - arguments[0]) <= 2;",
        vec![json!(width)],
    )
    .await?;
    // One more frame for the table to measure its new viewport.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// Waits until the drawer is closed: out of sight, its controls out of reach.
async fn drawer_closed(client: &Client) -> Outcome {
    wait_js(
        client,
        "the drawer to close",
        "return getComputedStyle(document.querySelector('#verify-input')).visibility === 'hidden';",
        vec![],
    )
    .await
}

/// Whether Verify and Details are the drawer (narrow window) rather than a side column.
async fn drawer(client: &Client) -> Outcome<bool> {
    Ok(client
        .find(css("#side-toggle"))
        .await?
        .is_displayed()
        .await?)
}

/// No sideways scrolling: the page is no wider than the window.
async fn page_fits(client: &Client) -> Outcome {
    let sizes = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth,
                     document.body.scrollWidth];",
            vec![],
        )
        .await?;
    let n = |i: usize| sizes.get(i).and_then(Value::as_f64).unwrap_or(f64::MAX);
    ensure(
        n(0) <= n(1) && n(2) <= n(1),
        format!(
            "the page scrolls sideways: scrollWidth {} / body {} > innerWidth {}",
            n(0),
            n(2),
            n(1)
        ),
    )
}

/// The element at `selector` is displayed and wholly inside the window.
async fn on_screen(client: &Client, selector: &str) -> Outcome {
    let inside = client
        .execute(
            "const e = document.querySelector(arguments[0]);
             if (!e) return 'missing';
             const r = e.getBoundingClientRect();
             if (r.width === 0 || r.height === 0) return 'not displayed';
             if (getComputedStyle(e).visibility === 'hidden') return 'hidden';
             const ok = r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5
               && r.top < innerHeight;
             return ok ? 'ok' : `at ${r.left},${r.top}–${r.right},${r.bottom} in ${innerWidth}×${innerHeight}`;",
            vec![json!(selector)],
        )
        .await?;
    ensure(
        inside == json!("ok"),
        format!("{selector} is not on screen: {inside}"),
    )
}

/// The header: *New key* wholly inside the window, and no two of its parts overlapping.
async fn header_fits(client: &Client) -> Outcome {
    on_screen(client, "#new-key").await?;
    let overlaps = client
        .execute(
            "const parts = [...document.querySelectorAll('.app-header > *')]
               .map((e) => [e.className || e.id || e.tagName, e.getBoundingClientRect()])
               .filter(([, r]) => r.width > 0 && r.height > 0);
             const hits = [];
             for (let i = 0; i < parts.length; i += 1)
               for (let j = i + 1; j < parts.length; j += 1) {
                 const [a, r] = parts[i]; const [b, s] = parts[j];
                 const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
                 const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
                 if (x > 0.5 && y > 0.5) hits.push(`${a} / ${b}`);
               }
             // The profile's name and backend are whole; its location may be shortened.
             for (const id of ['profile-name', 'profile-backend']) {
               const e = document.getElementById(id);
               if (e && e.scrollWidth > e.clientWidth + 1) hits.push(`${id} is cut`);
             }
             return hits;",
            vec![],
        )
        .await?;
    let hits = overlaps.as_array().cloned().unwrap_or_default();
    ensure(hits.is_empty(), format!("header parts overlap: {hits:?}"))?;
    // The location, when shortened, keeps its full text on hover.
    let location = client
        .execute(
            "const e = document.getElementById('profile-location');
             return !e || e.textContent === '' || e.title === e.textContent;",
            vec![],
        )
        .await?;
    ensure(
        location == json!(true),
        "the profile location has no full text on hover",
    )
}

/// Names and owners keep their full text on hover, owners show what tells them apart, and
/// dates are never cut.
async fn cells_tell_apart(client: &Client) -> Outcome {
    let problems = client
        .execute(
            "const rows = [...document.querySelectorAll('#keys-table tbody tr[data-id]')];
             const problems = [];
             if (rows.length === 0) problems.push('no rows');
             for (const row of rows) {
               const name = row.querySelector('.key-name');
               if (name.title !== name.textContent) problems.push(`name ${name.textContent}: no full title`);
               const owner = row.querySelector('.owner-link');
               if (owner) {
                 if (/^(user|org):(user|org)_/.test(owner.textContent)) problems.push(`owner shows its prefix: ${owner.textContent}`);
                 if (!/(user|org):/.test(owner.title)) problems.push(`owner ${owner.textContent}: no full title`);
               }
               for (const cell of row.querySelectorAll('td.col-date')) {
                 if (cell.offsetParent !== null && cell.scrollWidth > cell.clientWidth + 1)
                   problems.push(`date cut: ${cell.textContent}`);
               }
             }
             // The Name column has room: wider than any other.
             const th = (c) => document.querySelector(`#keys-table thead th.${c}`)?.getBoundingClientRect().width ?? 0;
             if (th('col-name') < 150) problems.push(`Name column only ${th('col-name')} px`);
             return problems;",
            vec![],
        )
        .await?;
    let problems = problems.as_array().cloned().unwrap_or_default();
    ensure(problems.is_empty(), format!("table cells: {problems:?}"))
}
