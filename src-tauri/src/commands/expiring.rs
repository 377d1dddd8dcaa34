//! The "Expiring" view: keys expiring soon across every profile.

use super::blocking;
use crate::state::AppState;
use keyward_core::Result;
use keyward_ops::expiry::{self, ExpiringSoon};
use keyward_ops::AskOnce;
use keyward_profiles::{Config, Paths, Profile};
use std::sync::Arc;
use tauri::State;

/// Active keys expiring within `days` days (1 to 3650) on every profile (`keyward_ops::expiry`), soonest first. Each
/// profile is opened as a switch would open it (the active one is reused), one after another so
/// that a locked keychain asks at most once; the listings run together. A profile that cannot
/// be opened or listed answers with its error; only a config that cannot be read fails the call.
#[tauri::command]
pub async fn expiring_soon(state: State<'_, AppState>, days: u32) -> Result<ExpiringSoon> {
    let days = expiry::check_days(days)?;
    let active = state.session().await.ok();
    let keychain = state.keychain.clone();
    let profiles = blocking(move || {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        let active = active.as_ref().and_then(|session| {
            let backend = session.backend().ok()?;
            Some((session.name().to_owned(), Arc::clone(backend)))
        });
        let reuse = |profile: &Profile| {
            active
                .as_ref()
                .filter(|(name, _)| *name == profile.name)
                .map(|(_, backend)| Arc::clone(backend))
        };
        Ok(expiry::open_profiles(
            &config,
            &paths,
            &AskOnce::new(&keychain),
            &reuse,
        ))
    })
    .await?;
    Ok(expiry::scan(profiles, days, chrono::Utc::now()).await)
}
