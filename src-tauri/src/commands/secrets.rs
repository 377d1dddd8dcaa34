//! Secret commands: copy (through the one SafeClipboard), save to and copy from the keychain.
//! None of them takes a secret from the webview or returns one: the new key's secret is held in
//! Rust (`NewSecret`) while its show-once panel is open, and saved secrets stay in the keychain.

use crate::state::AppState;
use keyward_core::Result;
use keyward_vault::{ClipboardState, CopyTicket};
use secrecy::SecretString;
use serde::Serialize;
use tauri::State;

/// A copy that started a countdown; the UI follows it through `clipboard` events.
#[derive(Serialize)]
pub struct Copied {
    copy_id: u64,
    clear_after_ms: u64,
}

impl From<CopyTicket> for Copied {
    fn from(ticket: CopyTicket) -> Self {
        Copied {
            copy_id: ticket.copy_id,
            clear_after_ms: u64::try_from(ticket.clear_after.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

fn copy(state: &AppState, secret: &SecretString) -> Result<Copied> {
    Ok(state
        .clipboard
        .copy_secret(secret, Some(state.clear_after()))?
        .into())
}

/// "Copy" in the show-once panel.
#[tauri::command]
pub async fn copy_new_secret(state: State<'_, AppState>, key_id: String) -> Result<Copied> {
    let (_, secret) = state.new_secret.get(&key_id)?;
    copy(&state, &secret)
}

/// "Save to keychain" in the show-once panel: service `keyward`, account `<profile>/<key id>`.
#[tauri::command]
pub async fn save_new_secret(state: State<'_, AppState>, key_id: String) -> Result<()> {
    let (profile, secret) = state.new_secret.get(&key_id)?;
    state
        .keychain
        .save_key_secret(&profile, &key_id, &secret)
        .await
}

/// The show-once panel closed: nothing in the app can reach this secret any more.
#[tauri::command]
pub async fn forget_new_secret(state: State<'_, AppState>, key_id: String) -> Result<bool> {
    Ok(state.new_secret.forget(&key_id))
}

/// "Copy from keychain" on a key with a saved secret.
#[tauri::command]
pub async fn copy_saved_secret(state: State<'_, AppState>, key_id: String) -> Result<Copied> {
    let session = state.session().await?;
    let secret = state.keychain.key_secret(session.name(), &key_id).await?;
    copy(&state, &secret)
}

/// "Clear now": clears the clipboard if it still holds our secret.
#[tauri::command]
pub async fn clear_clipboard(state: State<'_, AppState>) -> Result<bool> {
    state.clipboard.clear_now()
}

/// The clipboard countdown as it stands (later changes arrive as `clipboard` events).
#[tauri::command]
pub async fn clipboard_state(state: State<'_, AppState>) -> Result<ClipboardState> {
    Ok(state.clipboard.subscribe().borrow().clone())
}
