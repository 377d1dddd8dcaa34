//! The background expiry notifier: shortly after start and then every hour, keys expiring within
//! 7 days on any profile get a desktop notification, at most once per key per day (the claims
//! are kept in the activity log, so a restart does not repeat them). What to notify is decided
//! in `keyward_ops::expiry`; this is the Tauri glue.
//!
//! Everything here is best effort: a profile that cannot be opened, a log that cannot be written
//! or a desktop without a notification server costs a line on stderr (an error code and message,
//! never a secret: keyward errors carry none) and nothing else. The keychain is asked at most once
//! per run for profiles the window has not opened (see `KeptBackends`).
//!
//! A notification about one key offers *Rotate* (every backend: a replacement is created, then
//! the key revoked) and *Extend* where the key's backend can change an expiry
//! (`Capabilities::updates.expiry`). Choosing one (or clicking the notification) brings the
//! window up on that key's profile, with the key's Rotate or Edit dialog open: the user still
//! picks the grace period or the new expiry there; nothing is changed from the notification.

use crate::state::AppState;
use keyward_core::{Error, Result};
use keyward_ops::expiry::{self, KeptBackends, NOTIFY_WITHIN_DAYS};
use keyward_profiles::{Config, Paths};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::{Action, ActionPerformed, ActionType, NotificationExt};

/// The event that asks the window to open a key's Rotate or Edit dialog (or just show the key).
pub const NOTIFICATION_ACTION_EVENT: &str = "notification-action";
/// Action types: a key whose backend can extend it, and one whose backend cannot.
const ROTATE_OR_EXTEND: &str = "keyward-expiring-rotate-extend";
const ROTATE_ONLY: &str = "keyward-expiring-rotate";

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
    register_actions(&app);
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
    // Which profiles can extend a key, for the notifications' actions.
    let extendable: HashMap<String, bool> = profiles
        .iter()
        .filter_map(|p| {
            let backend = p.backend.as_ref().ok()?;
            Some((p.profile.clone(), backend.capabilities().updates.expiry))
        })
        .collect();
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
    let texts = expiry::notification_texts(&notices, chrono::Utc::now());
    // One notification per key (the texts follow the notices), or one for many: only a
    // notification about one key has actions.
    let one_each = texts.len() == notices.len();
    for (index, text) in texts.iter().enumerate() {
        let mut builder = app
            .notification()
            .builder()
            .title(&text.title)
            .body(&text.body);
        if let Some(notice) = notices.get(index).filter(|_| one_each) {
            let can_extend = extendable.get(&notice.profile).copied().unwrap_or(false);
            builder = builder
                .action_type_id(action_type(can_extend))
                .extra("profile", &notice.profile)
                .extra("key_id", &notice.key_id);
        }
        // Shown on a background task by the plugin: a missing notification server is ignored.
        if let Err(e) = builder.show() {
            eprintln!("keyward: a desktop notification could not be shown: {e}");
        }
    }
    Ok(())
}

/// The notifications' actions, and what choosing one does: the window comes up and is asked to
/// open the key's dialog.
fn register_actions(app: &AppHandle) {
    let rotate = || {
        Action::builder("rotate", "Rotate…")
            .foreground(true)
            .build()
    };
    let extend = Action::builder("extend", "Extend…")
        .foreground(true)
        .build();
    let types = vec![
        ActionType::builder(ROTATE_OR_EXTEND)
            .actions(vec![rotate(), extend])
            .build(),
        ActionType::builder(ROTATE_ONLY)
            .actions(vec![rotate()])
            .build(),
    ];
    if let Err(e) = app.notification().register_action_types(types) {
        eprintln!("keyward: notification actions are not available: {e}");
        return;
    }
    let handle = app.clone();
    let listening = app.notification().on_action(move |performed| {
        let Some(request) = action_request(performed) else {
            return;
        };
        if let Some(window) = handle.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
        let _ = handle.emit_to("main", NOTIFICATION_ACTION_EVENT, request);
    });
    if let Err(e) = listening {
        eprintln!("keyward: notification actions are not available: {e}");
    }
}

fn action_type(can_extend: bool) -> &'static str {
    match can_extend {
        true => ROTATE_OR_EXTEND,
        false => ROTATE_ONLY,
    }
}

/// What the window is asked to do about a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct ActionRequest {
    /// `rotate`, `extend`, or `show` (the notification itself was clicked).
    action: &'static str,
    profile: String,
    key_id: String,
}

fn action_request(performed: &ActionPerformed) -> Option<ActionRequest> {
    let action = match performed.action_id() {
        "rotate" => "rotate",
        "extend" => "extend",
        "tap" => "show",
        _ => return None,
    };
    let extra = performed.notification()?.extra();
    let text = |name: &str| extra.get(name)?.as_str().map(str::to_owned);
    Some(ActionRequest {
        action,
        profile: text("profile")?,
        key_id: text("key_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn performed(action_id: &str, extra: serde_json::Value) -> ActionPerformed {
        serde_json::from_value(serde_json::json!({
            "actionId": action_id,
            "notification": { "id": 7, "extra": extra },
        }))
        .unwrap()
    }

    #[test]
    fn an_action_on_a_key_notification_asks_the_window_for_that_key() {
        let extra = serde_json::json!({"profile": "work", "key_id": "key_1"});
        let request = |id: &str| action_request(&performed(id, extra.clone()));
        assert_eq!(
            request("rotate"),
            Some(ActionRequest {
                action: "rotate",
                profile: "work".into(),
                key_id: "key_1".into()
            })
        );
        assert_eq!(request("extend").unwrap().action, "extend");
        assert_eq!(request("tap").unwrap().action, "show");
        assert_eq!(request("dismiss"), None);
        // The notification about many keys carries no key: nothing to open.
        assert_eq!(
            action_request(&performed("tap", serde_json::json!({}))),
            None
        );
        assert_eq!(action_type(true), ROTATE_OR_EXTEND);
        assert_eq!(action_type(false), ROTATE_ONLY);
    }

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
