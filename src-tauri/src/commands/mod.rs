//! One thin command per operation: parse what the webview sent, call a crate, return its answer.
//! Errors cross IPC as keyward-core's `{code, message, field?, retry_after?}`, so the UI can
//! place each message next to the field it names.

pub mod audit;
pub mod expiring;
pub mod keys;
pub mod profiles;
pub mod secrets;
pub mod settings;

use crate::host::AppHost;
use crate::state::{AppState, Session};
use keyward_core::{Capabilities, Error, Expiration, ExpiryPreset};
use keyward_profiles::ProfileSummary;
use serde::Serialize;

/// What the window needs to draw itself for the active profile.
#[derive(Serialize)]
pub struct AppInfo {
    version: &'static str,
    profile: ProfileSummary,
    /// The UI adapts to these (owner, level, scopes and description fields, expiry presets,
    /// revoke wording, columns); `None` when the backend could not be opened.
    capabilities: Option<Capabilities>,
    /// Why the profile's backend could not be opened (e.g. no credential yet).
    backend_error: Option<Error>,
    /// The preset the create dialog starts on, when the backend offers it.
    default_expiry: Option<ExpiryPreset>,
    /// The clipboard countdown, in seconds.
    clear_after_secs: u64,
    /// A `KEYWARD_CLEAR_AFTER` that could not be read (the countdown above is used instead).
    clear_after_error: Option<Error>,
    /// Where Keyward keeps its files (the About view); `None` if it cannot be worked out.
    data_dir: Option<String>,
}

impl AppInfo {
    fn new(session: &Session, state: &AppState) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            profile: session.profile.clone(),
            capabilities: session.capabilities().ok(),
            backend_error: session.backend_error().cloned(),
            default_expiry: Expiration::default().preset(),
            clear_after_secs: state.clear_after().as_secs(),
            clear_after_error: state.clear_after_error.clone(),
            data_dir: keyward_profiles::Paths::from_env()
                .ok()
                .map(|paths| paths.data_dir.display().to_string()),
        }
    }
}

/// Runs blocking work (config files, the local store, the keychain's sync API) off the async
/// runtime's worker threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> keyward_core::Result<T> + Send + 'static,
) -> keyward_core::Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| Error::Unexpected(format!("a background task failed: {e}")))?
}

/// The app's host for an operation on `session`'s profile.
fn host<'a>(state: &'a AppState, session: &'a Session) -> AppHost<'a> {
    AppHost::new(session.name(), &state.activity, &state.keychain)
}

/// An argument the webview sent, read strictly: an unknown field (a misspelled filter) is
/// refused as `invalid_input` naming it, never ignored. Commands take their struct arguments as
/// JSON and read them here, because Tauri's own decoding answers with a bare string the UI cannot
/// place next to a field.
fn argument<T: serde::de::DeserializeOwned>(
    name: &str,
    value: serde_json::Value,
) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| keyward_ops::args::refused(name, &e))
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}
