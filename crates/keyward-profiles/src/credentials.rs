//! Where a profile's credential comes from: an environment variable for scripts and CI, else the
//! OS keychain (through a [`CredentialStore`] the caller provides).

use keyward_core::Result;
use secrecy::SecretString;

/// A place credentials are kept, e.g. the OS keychain. Calls may block.
pub trait CredentialStore: Send + Sync {
    /// The stored credential of `profile`, if there is one.
    fn credential(&self, profile: &str) -> Result<Option<SecretString>>;
}

/// No store: credentials come from the environment only.
pub struct EnvOnly;

impl CredentialStore for EnvOnly {
    fn credential(&self, _profile: &str) -> Result<Option<SecretString>> {
        Ok(None)
    }
}

/// The OS keychain: where the app and `keyward profiles set-credential` keep credentials.
impl CredentialStore for keyward_vault::Keychain {
    fn credential(&self, profile: &str) -> Result<Option<SecretString>> {
        self.credential_blocking(profile)
    }
}

/// `KEYWARD_CREDENTIAL_<PROFILE>`: the profile name upper-cased, `-` turned into `_`.
pub fn credential_env_var(profile: &str) -> String {
    let suffix: String = profile
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("KEYWARD_CREDENTIAL_{suffix}")
}

/// The credential from the environment, if set and not empty.
pub(crate) fn from_env(profile: &str) -> Option<SecretString> {
    std::env::var(credential_env_var(profile))
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| SecretString::from(v.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        assert_eq!(
            credential_env_var("acme-clerk"),
            "KEYWARD_CREDENTIAL_ACME_CLERK"
        );
        assert_eq!(
            credential_env_var("sewing_2"),
            "KEYWARD_CREDENTIAL_SEWING_2"
        );
    }
}
