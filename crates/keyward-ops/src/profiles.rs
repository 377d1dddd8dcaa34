//! A profile's credential: checked for its shape, saved in the keychain, then checked against the
//! server by listing one page. Both the CLI's `profiles set-credential` and the app's profile
//! editor answer with what the server said, so a wrong credential is never reported as fine.

use crate::host::SecretKeeper;
use keyward_core::{Error, ListQuery, Result};
use keyward_profiles::{Paths, Profile};
use keyward_remote::HttpOptions;
use secrecy::SecretString;
use serde::Serialize;

/// What became of a credential that was saved.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialSaved {
    /// Whether the server accepted it (a page of keys could be listed with it).
    pub accepted: bool,
    /// Why not: the server's answer (`unauthorized`, `network`, …). The credential stays saved:
    /// the server may be down for a moment, and the user decides.
    pub check_error: Option<Error>,
}

/// Refuses a credential that does not fit `profile` (e.g. FreeSewing's `KEY:SECRET`) without a
/// request and without saving it; otherwise saves it in the keychain and checks it by listing one
/// page. A profile that needs no credential is an error naming `profile`.
pub async fn save_credential(
    profile: &Profile,
    paths: &Paths,
    credential: &SecretString,
    http: HttpOptions,
    secrets: &dyn SecretKeeper,
) -> Result<CredentialSaved> {
    if !profile.needs_credential() {
        return Err(Error::invalid(
            "profile",
            format!(
                "'{}' is a {} profile, which needs no credential",
                profile.name,
                profile.kind().as_str()
            ),
        ));
    }
    // Opening checks the form without a request (and opens no file for a remote profile).
    let backend = profile.open_backend_with_credential(paths, credential, http)?;
    // Stored bound to the profile's backend and origin (keyward_profiles' credential envelope).
    secrets
        .save_credential(&profile.name, &profile.sealed_credential(credential)?)
        .await?;
    let check = backend
        .list(&ListQuery {
            limit: 1,
            ..ListQuery::default()
        })
        .await;
    Ok(CredentialSaved {
        accepted: check.is_ok(),
        check_error: check.err(),
    })
}
