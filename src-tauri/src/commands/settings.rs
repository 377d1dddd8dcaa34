//! App settings: the clipboard countdown, kept in the config file as `clipboard_clear_seconds`.

use super::{argument, blocking};
use crate::state::AppState;
use keyward_core::Result;
use keyward_profiles::{set_clipboard_clear_seconds, Paths};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tauri::State;

/// What the Settings dialog shows and saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Seconds before a copied secret is cleared (1 to 3600).
    clipboard_clear_seconds: u64,
}

/// The settings in effect: the countdown the next copy starts.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings> {
    Ok(Settings {
        clipboard_clear_seconds: state.clear_after().as_secs(),
    })
}

/// Writes the settings to the config file (atomically, keeping comments; a bad value is refused
/// naming its field) and applies them to the next copy.
#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: serde_json::Value,
) -> Result<Settings> {
    let settings: Settings = argument("settings", settings)?;
    let secs = settings.clipboard_clear_seconds;
    let config = blocking(move || set_clipboard_clear_seconds(&Paths::from_env()?, secs)).await?;
    let clear_after = config
        .clipboard_clear_after()
        .unwrap_or(Duration::from_secs(secs));
    state.set_clear_after(clear_after);
    Ok(Settings {
        clipboard_clear_seconds: clear_after.as_secs(),
    })
}
