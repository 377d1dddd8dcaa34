//! The background expiry notifier: shortly after start and then every hour, keys expiring within
//! 7 days on any profile get a desktop notification, at most once per key per day (the claims
//! are kept in the activity log, so a restart does not repeat them). What to notify is decided
//! in `keyward_ops::expiry`; this is the Tauri glue.
//!
//! Everything here is best effort: a profile that cannot be opened, a log that cannot be written
//! or a desktop without a notification server costs a line on stderr (an error code and message,
//! never a secret: keyward errors carry none) and nothing else. The keychain is asked at most once
//! per run for profiles the window has not opened (see `KeptBackends`).

use crate::state::AppState;
use keyward_core::{Error, Result};
use keyward_ops::expiry::{self, KeptBackends, NOTIFY_WITHIN_DAYS};
use keyward_profiles::{Config, Paths};
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// Set to `off` (or `0`, `false`, `no`) to run without the notifier: for scripted sessions and
/// tests that must see only the requests they make themselves.
pub const NOTIFICATIONS_ENV: &str = "KEYWARD_EXPIRY_NOTIFICATIONS";

/// The first scan waits this long, so it does not compete with the window's first paint.
const FIRST_SCAN_AFTER: Duration = Duration::from_secs(5);
const SCAN_EVERY: Duration = Duration::from_secs(60 * 60);

/// Whether `KEYWARD_EXPIRY_NOTIFICATIONS` leaves the notifier on.
fn enabled(setting: Option<&str>) -> bool {
    !setting.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

/// Starts the notifier on the async runtime; it runs for the life of the app.
pub fn start(app: AppHandle) {
    if !enabled(std::env::var(NOTIFICATIONS_ENV).ok().as_deref()) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_SCAN_AFTER).await;
        let mut kept = KeptBackends::default();
        let mut every_hour = tokio::time::interval(SCAN_EVERY);
        // After a suspend, one scan, not one per hour missed.
        every_hour.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_hour.tick().await;
            if let Err(e) = scan_and_notify(&app, &mut kept).await {
                eprintln!(
                    "keyward: expiry notifications skipped: {} ({})",
                    e,
                    e.code().as_str()
                );
            }
        }
    });
}

async fn scan_and_notify(app: &AppHandle, kept: &mut KeptBackends) -> Result<()> {
    let state = app.state::<AppState>();
    // The window's session first: its profile is not opened (nor its credential read) twice.
    let active = state.session().await.ok().and_then(|session| {
        let backend = session.backend().ok()?;
        Some((session.name().to_owned(), Arc::clone(backend)))
    });
    let keychain = state.keychain.clone();
    let mut owned = std::mem::take(kept);
    let (profiles, owned) = tauri::async_runtime::spawn_blocking(move || {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        let active = active
            .as_ref()
            .map(|(name, b)| (name.as_str(), Arc::clone(b)));
        let profiles = owned.open_all(&config, &paths, &keychain, active);
        Ok::<_, Error>((profiles, owned))
    })
    .await
    .map_err(|e| Error::Unexpected(format!("a background task failed: {e}")))??;
    *kept = owned;
    let scan = expiry::scan(profiles, NOTIFY_WITHIN_DAYS, chrono::Utc::now()).await;
    kept.forget_failed(&scan);
    for failed in scan
        .profiles
        .iter()
        .filter_map(|p| Some((&p.profile, p.error.as_ref()?)))
    {
        eprintln!(
            "keyward: expiry check of profile '{}' failed: {} ({})",
            failed.0,
            failed.1.message,
            failed.1.code.as_str()
        );
    }
    let log = state.activity().await?;
    let today = chrono::Local::now().date_naive();
    let notices =
        tauri::async_runtime::spawn_blocking(move || expiry::claim_notices(&log, &scan, today))
            .await
            .map_err(|e| Error::Unexpected(format!("a background task failed: {e}")))??;
    for text in expiry::notification_texts(&notices, chrono::Utc::now()) {
        // Shown on a background task by the plugin: a missing notification server is ignored.
        if let Err(e) = app
            .notification()
            .builder()
            .title(&text.title)
            .body(&text.body)
            .show()
        {
            eprintln!("keyward: a desktop notification could not be shown: {e}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notifier_is_on_unless_switched_off() {
        assert!(enabled(None));
        assert!(enabled(Some("on")));
        assert!(enabled(Some("")));
        for off in ["off", "0", "false", " No ", "OFF"] {
            assert!(!enabled(Some(off)), "{off}");
        }
    }
}
