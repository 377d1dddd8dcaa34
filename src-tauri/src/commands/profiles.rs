//! Profile commands: list, switch, the profile editor (add, edit, remove, default), credentials
//! in the keychain, and PropelAuth's sign-in window.

use super::{blocking, AppInfo};
use crate::signin;
use crate::state::AppState;
use keyward_core::{Error, Result};
use keyward_ops::profiles::CredentialSaved;
use keyward_profiles::{
    add_profile, edit_profile, remove_profile as remove_from_config,
    set_default_profile as set_default_in_config, Config, CredentialDropped, CredentialSource,
    Paths, ProfileSpec, ProfileSummary,
};
use keyward_vault::Keychain;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tauri::{AppHandle, State};
use zeroize::Zeroize;

/// Every profile of the config file, and which one the window works on.
#[derive(Serialize)]
pub struct ProfileList {
    /// `None` when no profile could be opened (a broken config).
    active: Option<String>,
    profiles: Vec<ProfileSummary>,
}

async fn profile_list(state: &AppState) -> Result<ProfileList> {
    let active = state.session().await.ok().map(|s| s.name().to_owned());
    let profiles = blocking(|| {
        let paths = Paths::from_env()?;
        Ok(Config::load(&paths)?.summaries(&paths))
    })
    .await?;
    Ok(ProfileList { active, profiles })
}

/// Read fresh from the config file, so edits made by the CLI meanwhile show up.
#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<ProfileList> {
    profile_list(&state).await
}

/// Makes `name` the active profile, reopening its backend on a blocking thread.
#[tauri::command]
pub async fn switch_profile(state: State<'_, AppState>, name: String) -> Result<AppInfo> {
    let session = state.switch(name).await?;
    Ok(AppInfo::new(&session, &state))
}

/// The profile editor's view of a profile: its settings and where its credential comes from.
/// Never the credential itself.
#[derive(Serialize)]
pub struct ProfileForm {
    spec: ProfileSpec,
    credential: Option<CredentialSource>,
    /// Why the credential's state is unknown (e.g. the keychain is unavailable).
    credential_error: Option<Error>,
}

#[tauri::command]
pub async fn profile_form(state: State<'_, AppState>, name: String) -> Result<ProfileForm> {
    let keychain = state.keychain.clone();
    blocking(move || {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        let profile = config.profile(Some(&name))?;
        let (credential, credential_error) = split(profile.credential_source(&keychain));
        Ok(ProfileForm {
            spec: ProfileSpec::from(profile),
            credential,
            credential_error,
        })
    })
    .await
}

#[derive(Serialize)]
pub struct SavedProfile {
    profiles: ProfileList,
    credential: Option<CredentialSource>,
    /// Why `credential` is unknown (e.g. the keychain is unavailable).
    credential_source_error: Option<Error>,
    /// The profile was saved, but the credential typed with it was not (malformed, or the
    /// keychain refused it), or it was saved and the server did not accept it.
    credential_error: Option<Error>,
    /// What the server said of a credential that was saved (`keyward_ops::profiles`).
    credential_check: Option<CredentialSaved>,
    /// The edit moved the profile to another origin or backend: its stored credential was deleted
    /// (or could not be), with a sentence saying so.
    credential_dropped: Option<CredentialDropped>,
}

/// Adds a profile (or, with `replace`, changes one) in the config file; a non-blank
/// `credential` goes through `keyward_ops::profiles::save_credential`, as the CLI's
/// `set-credential` does: refused without a request if it does not fit the profile, else saved in
/// the keychain (never the file) and checked by listing one page. Errors name their field
/// (`name`, `backend`, `url`, or `profiles.NAME.url` from the config check); a credential that
/// was refused or rejected comes back as `credential_error`.
#[tauri::command]
pub async fn save_profile(
    state: State<'_, AppState>,
    spec: serde_json::Value,
    replace: bool,
    credential: Option<String>,
) -> Result<SavedProfile> {
    // Into a SecretString at once; the String IPC handed us is wiped.
    let credential = credential
        .map(|mut typed| {
            let secret = SecretString::from(typed.trim());
            typed.zeroize();
            secret
        })
        .filter(|c| !c.expose_secret().is_empty());
    let spec: ProfileSpec = super::argument("spec", spec)?;
    let name = spec.name.clone();
    let keychain = state.keychain.clone();
    let (paths, profile, credential_dropped) = blocking(move || {
        let paths = Paths::from_env()?;
        // A changed origin or backend drops the stored credential (it was bound to the old one).
        let (config, credential_dropped) = if replace {
            let edited = edit_profile(&paths, &spec, &keychain)?;
            (edited.config, edited.credential_dropped)
        } else {
            (add_profile(&paths, &spec, false)?, None)
        };
        let profile = config.profile(Some(&spec.name))?.clone();
        Ok((paths, profile, credential_dropped))
    })
    .await?;
    // The local store takes no credential: one typed for it is dropped, not stored.
    let (credential_error, credential_check) = match credential {
        Some(credential) if profile.needs_credential() => {
            // A bad KEYWARD_HTTP_TIMEOUT_MS is the credential's error: the profile is saved.
            let saved = match keyward_ops::settings::http_options() {
                Ok(http) => {
                    keyward_ops::profiles::save_credential(
                        &profile,
                        &paths,
                        &credential,
                        http,
                        &state.keychain,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match saved {
                Ok(check) => (rejected(&check), Some(check)),
                Err(e) => (Some(e), None),
            }
        }
        _ => (None, None),
    };
    let (credential, source_error) = credential_source(&state.keychain, name).await;
    Ok(SavedProfile {
        profiles: profile_list(&state).await?,
        credential,
        credential_source_error: source_error,
        credential_error,
        credential_check,
        credential_dropped,
    })
}

/// A saved credential the server did not accept, as an error for the credential field.
fn rejected(check: &CredentialSaved) -> Option<Error> {
    let error = check.check_error.as_ref()?;
    let message = format!(
        "saved in the keychain, but the server did not accept it: {}",
        error.message()
    );
    Some(match error {
        Error::InvalidInput { .. } => Error::invalid("credential", message),
        Error::Unauthorized(_) => Error::Unauthorized(message),
        Error::PermissionDenied(_) => Error::PermissionDenied(message),
        Error::Network(_) => Error::Network(message),
        _ => Error::Backend(message),
    })
}

/// Deletes the profile's credential from the keychain.
#[tauri::command]
pub async fn forget_credential(
    state: State<'_, AppState>,
    name: String,
) -> Result<Option<CredentialSource>> {
    state.keychain.forget_credential(&name).await?;
    let (credential, error) = credential_source(&state.keychain, name).await;
    match error {
        Some(e) => Err(e),
        None => Ok(credential),
    }
}

#[derive(Serialize)]
pub struct RemovedProfile {
    profiles: ProfileList,
    /// The profile is gone from the config, but its credential could not be deleted.
    keychain_error: Option<Error>,
}

/// Removes a profile from the config and its credential from the keychain. The profile in use
/// cannot be removed.
#[tauri::command]
pub async fn remove_profile(state: State<'_, AppState>, name: String) -> Result<RemovedProfile> {
    if state.session().await.is_ok_and(|s| s.name() == name) {
        return Err(Error::invalid(
            "profile",
            format!("'{name}' is the profile in use: switch to another profile first"),
        ));
    }
    let removed = name.clone();
    blocking(move || {
        remove_from_config(&Paths::from_env()?, &removed)?;
        Ok(())
    })
    .await?;
    let keychain_error = state.keychain.forget_credential(&name).await.err();
    Ok(RemovedProfile {
        profiles: profile_list(&state).await?,
        keychain_error,
    })
}

#[tauri::command]
pub async fn set_default_profile(state: State<'_, AppState>, name: String) -> Result<ProfileList> {
    blocking(move || {
        set_default_in_config(&Paths::from_env()?, &name)?;
        Ok(())
    })
    .await?;
    profile_list(&state).await
}

/// Opens the sign-in window of a frontend (signed-in) profile, PropelAuth's or Clerk's, and waits
/// until the session works; what the backend needs of its cookies is then saved as the profile's
/// credential in the keychain (signin.rs).
#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<Option<CredentialSource>> {
    let looked_up = name.clone();
    let (paths, profile) = blocking(move || {
        let paths = Paths::from_env()?;
        let profile = Config::load(&paths)?.profile(Some(&looked_up))?.clone();
        Ok((paths, profile))
    })
    .await?;
    signin::sign_in(&app, &paths, &profile, &state.keychain).await?;
    let (credential, error) = credential_source(&state.keychain, name).await;
    match error {
        Some(e) => Err(e),
        None => Ok(credential),
    }
}

async fn credential_source(
    keychain: &Keychain,
    name: String,
) -> (Option<CredentialSource>, Option<Error>) {
    let keychain = keychain.clone();
    split(
        blocking(move || {
            let paths = Paths::from_env()?;
            Config::load(&paths)?
                .profile(Some(&name))?
                .credential_source(&keychain)
        })
        .await,
    )
}

fn split<T>(result: Result<T>) -> (Option<T>, Option<Error>) {
    match result {
        Ok(value) => (Some(value), None),
        Err(e) => (None, Some(e)),
    }
}
