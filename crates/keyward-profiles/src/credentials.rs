//! Where a profile's credential comes from: an environment variable for scripts and CI, else the
//! OS keychain (through a [`CredentialStore`] the caller provides).

use crate::profile::Profile;
use keyward_core::Result;
use secrecy::SecretString;
use serde::Serialize;

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

/// Where a profile's credential would come from, for front ends to show ("stored in the
/// keychain", "set by KEYWARD_CREDENTIAL_X") without ever handing the credential out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CredentialSource {
    /// The profile needs none (the local store).
    NotNeeded,
    /// `KEYWARD_CREDENTIAL_<PROFILE>` is set; it wins over a stored credential.
    Environment {
        variable: String,
        stored: bool,
    },
    /// Saved in the store (the OS keychain).
    Stored,
    Missing,
}

impl Profile {
    /// Where this profile's credential comes from. Reads the store (so it may block, and fails
    /// with `keychain_unavailable` when the keychain does), but returns no secret.
    pub fn credential_source(&self, store: &dyn CredentialStore) -> Result<CredentialSource> {
        if !self.needs_credential() {
            return Ok(CredentialSource::NotNeeded);
        }
        let stored = store.credential(&self.name)?.is_some();
        Ok(match from_env(&self.name) {
            Some(_) => CredentialSource::Environment {
                variable: credential_env_var(&self.name),
                stored,
            },
            None if stored => CredentialSource::Stored,
            None => CredentialSource::Missing,
        })
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
    use crate::profile::{BackendSettings, ClerkApiPath};
    use keyward_core::Error;

    struct Fixed(Result<Option<&'static str>>);

    impl CredentialStore for Fixed {
        fn credential(&self, _profile: &str) -> Result<Option<SecretString>> {
            self.0.clone().map(|c| c.map(SecretString::from))
        }
    }

    #[test]
    fn credential_sources() {
        let clerk = |name: &str| Profile {
            name: name.into(),
            settings: BackendSettings::Clerk {
                url: "https://api.clerk.com".into(),
                api_path: ClerkApiPath::Root,
                subject: None,
            },
        };
        let local = Profile {
            name: "local".into(),
            settings: BackendSettings::Local { data_dir: None },
        };
        assert_eq!(
            local.credential_source(&EnvOnly).unwrap(),
            CredentialSource::NotNeeded
        );
        let missing = clerk("source-test-missing");
        assert_eq!(
            missing.credential_source(&EnvOnly).unwrap(),
            CredentialSource::Missing
        );
        assert_eq!(
            missing
                .credential_source(&Fixed(Ok(Some("sk_test_1"))))
                .unwrap(),
            CredentialSource::Stored
        );
        let unavailable = Fixed(Err(Error::KeychainUnavailable("no keychain".into())));
        assert_eq!(
            missing.credential_source(&unavailable).unwrap_err().code(),
            keyward_core::ErrorCode::KeychainUnavailable
        );
        // A unique name: tests run in parallel and share the environment.
        let from_env = clerk("source-test-env");
        std::env::set_var("KEYWARD_CREDENTIAL_SOURCE_TEST_ENV", "sk_test_2");
        let source = from_env
            .credential_source(&Fixed(Ok(Some("sk_test_1"))))
            .unwrap();
        std::env::remove_var("KEYWARD_CREDENTIAL_SOURCE_TEST_ENV");
        assert_eq!(
            source,
            CredentialSource::Environment {
                variable: "KEYWARD_CREDENTIAL_SOURCE_TEST_ENV".into(),
                stored: true
            }
        );
    }

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
