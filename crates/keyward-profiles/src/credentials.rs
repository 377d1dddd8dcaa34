//! Where a profile's credential comes from: an environment variable for scripts and CI, else the
//! OS keychain (through a [`CredentialStore`] the caller provides).
//!
//! A stored credential is bound to what it was saved for: the backend (with PropelAuth's API
//! kind) and the origin (scheme, host, port) of the profile's URL, plus PropelAuth's Auth URL when
//! set. The binding is kept inside the keychain entry, with the secret, as a small envelope:
//!
//! ```text
//! keyward-credential-v1
//! <backend>        clerk | propelauth/backend | propelauth/frontend | freesewing
//! <origin>         e.g. https://api.clerk.com or http://127.0.0.1:8787
//! <auth origin>    PropelAuth's Auth URL origin, or an empty line
//! <secret>
//! ```
//!
//! so no other file can be edited to move a credential to another host. [`Profile::credential`]
//! (the one place a stored credential is read for use, so every front end and command goes
//! through it) refuses an entry bound elsewhere with `unauthorized`, naming both origins: the
//! credential is not sent, and stays quarantined in the keychain until it is saved again (or the
//! profile points back at its origin). An entry without the envelope (saved before the binding
//! existed, or by a caller that stores the bare secret) is accepted and re-saved bound to the
//! profile's current origin, when the store can save. `KEYWARD_CREDENTIAL_<PROFILE>` is the
//! user's explicit choice for one run and is not bound.

use crate::config::Config;
use crate::editor::{add_profile, ProfileSpec};
use crate::paths::Paths;
use crate::profile::{BackendSettings, Profile, PropelAuthApiKind};
use keyward_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::fmt;

/// A place credentials are kept, e.g. the OS keychain. Calls may block.
///
/// The values are what [`Profile::sealed_credential`] makes (the secret in its binding
/// envelope), or a bare secret from before the binding existed; read them for use only through
/// [`Profile::credential`], which checks the binding.
pub trait CredentialStore: Send + Sync {
    /// The stored value of `profile`'s credential, if there is one.
    fn credential(&self, profile: &str) -> Result<Option<SecretString>>;

    /// Saves (or replaces) the stored value of `profile`'s credential. Stores that only read
    /// (an environment-only store, a caching wrapper) refuse.
    fn save_credential(&self, profile: &str, _value: &SecretString) -> Result<()> {
        Err(Error::Unexpected(format!(
            "this credential store cannot save the credential of profile '{profile}'"
        )))
    }

    /// Deletes `profile`'s stored credential; `false` when there was none.
    fn forget_credential(&self, profile: &str) -> Result<bool> {
        Err(Error::Unexpected(format!(
            "this credential store cannot delete the credential of profile '{profile}'"
        )))
    }
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

    fn save_credential(&self, profile: &str, value: &SecretString) -> Result<()> {
        self.save_credential_blocking(profile, value)
    }

    fn forget_credential(&self, profile: &str) -> Result<bool> {
        self.forget_credential_blocking(profile)
    }
}

/// What a stored credential was saved for. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialBinding {
    /// `clerk`, `freesewing`, `propelauth/backend` or `propelauth/frontend`.
    pub backend: String,
    /// `scheme://host[:port]` of the profile's URL (the default port left out).
    pub origin: String,
    /// PropelAuth's backend API: the origin of the project's Auth URL, when one is set.
    pub auth_origin: Option<String>,
}

impl fmt::Display for CredentialBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(auth) = &self.auth_origin {
            write!(f, " (Auth URL {auth})")?;
        }
        Ok(())
    }
}

impl CredentialBinding {
    /// "https://a.example", or "a clerk profile at https://a.example" when `other` is of another
    /// backend, so the message says what changed.
    fn describe_against(&self, other: &CredentialBinding) -> String {
        match self.backend == other.backend {
            true => self.to_string(),
            false => format!("a {} profile at {self}", self.backend),
        }
    }
}

const ENVELOPE_V1: &str = "keyward-credential-v1";
const ENVELOPE_PREFIX: &str = "keyward-credential-";

/// A stored value, opened.
enum Stored {
    Bound(CredentialBinding, SecretString),
    /// A bare secret: saved before the binding existed, or by a caller that did not seal it.
    Unbound(SecretString),
}

fn seal(binding: &CredentialBinding, secret: &SecretString) -> SecretString {
    SecretString::from(format!(
        "{ENVELOPE_V1}\n{}\n{}\n{}\n{}",
        binding.backend,
        binding.origin,
        binding.auth_origin.as_deref().unwrap_or(""),
        secret.expose_secret()
    ))
}

/// Opens a stored value. A value that starts like an envelope but is not one Keyward reads is
/// refused (never taken for a bare secret, which would send the envelope's header as a key).
fn open(profile: &str, value: &SecretString) -> Result<Stored> {
    let text = value.expose_secret();
    if !text.starts_with(ENVELOPE_PREFIX) {
        return Ok(Stored::Unbound(value.clone()));
    }
    let mut parts = text.splitn(5, '\n');
    let fields = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    match fields {
        (Some(ENVELOPE_V1), Some(backend), Some(origin), Some(auth), Some(secret))
            if !backend.is_empty() && !origin.is_empty() && !secret.is_empty() =>
        {
            Ok(Stored::Bound(
                CredentialBinding {
                    backend: backend.to_owned(),
                    origin: origin.to_owned(),
                    auth_origin: (!auth.is_empty()).then(|| auth.to_owned()),
                },
                SecretString::from(secret.to_owned()),
            ))
        }
        _ => Err(Error::Unauthorized(format!(
            "the stored credential of profile '{profile}' is in a form this version of Keyward \
             does not read, so it was not sent. Save the credential again: keyward profiles \
             set-credential {profile}"
        ))),
    }
}

/// The origin of a profile URL, as a browser would write it.
fn origin_of(url: &str) -> String {
    match keyward_remote::validate_base_url(url) {
        Ok(parsed) => parsed.origin().ascii_serialization(),
        // The config checks every URL, so this is a profile built in code: compare it as written.
        Err(_) => url.trim().trim_end_matches('/').to_ascii_lowercase(),
    }
}

impl Profile {
    /// What this profile's stored credential must be bound to; `None` for the local store.
    pub fn credential_binding(&self) -> Option<CredentialBinding> {
        let (backend, url, auth_url) = match &self.settings {
            BackendSettings::Local { .. } => return None,
            BackendSettings::PropelAuth {
                url, api, auth_url, ..
            } => (
                match api {
                    PropelAuthApiKind::Backend => "propelauth/backend",
                    PropelAuthApiKind::Frontend => "propelauth/frontend",
                },
                url,
                auth_url.as_deref(),
            ),
            BackendSettings::Clerk { url, .. } => ("clerk", url, None),
            BackendSettings::FreeSewing { url, .. } => ("freesewing", url, None),
        };
        Some(CredentialBinding {
            backend: backend.to_owned(),
            origin: origin_of(url),
            auth_origin: auth_url.map(origin_of),
        })
    }

    /// The value to store for `credential`: the credential bound to this profile's backend and
    /// origin. For callers that save through their own keychain handle (e.g. the async
    /// `Keychain::save_credential`); [`Profile::save_credential`] does both steps.
    pub fn sealed_credential(&self, credential: &SecretString) -> Result<SecretString> {
        let binding = self
            .credential_binding()
            .ok_or_else(|| self.takes_no_credential())?;
        if credential.expose_secret().trim().is_empty() {
            return Err(Error::invalid("credential", "must not be empty"));
        }
        Ok(seal(&binding, credential))
    }

    /// Saves `credential` in `store`, bound to this profile's backend and origin.
    pub fn save_credential(
        &self,
        store: &dyn CredentialStore,
        credential: &SecretString,
    ) -> Result<()> {
        store.save_credential(&self.name, &self.sealed_credential(credential)?)
    }

    /// The stored credential, if one is stored that may be used for this profile as it is now.
    /// `Err(unauthorized)` when one is stored for another origin or backend: it says why, and the
    /// credential is not handed out. A bare (unbound) entry is accepted and re-saved bound, when
    /// `store` can save.
    pub(crate) fn stored_credential(
        &self,
        store: &dyn CredentialStore,
    ) -> Result<Option<SecretString>> {
        self.read_stored_credential(store, true)
    }

    /// [`Profile::stored_credential`]; `bind_unbound` re-saves a bare entry bound (a use does,
    /// a mere look such as `profiles list` does not).
    fn read_stored_credential(
        &self,
        store: &dyn CredentialStore,
        bind_unbound: bool,
    ) -> Result<Option<SecretString>> {
        let Some(binding) = self.credential_binding() else {
            return Ok(None);
        };
        let Some(value) = store.credential(&self.name)? else {
            return Ok(None);
        };
        match open(&self.name, &value)? {
            Stored::Bound(saved, secret) if saved == binding => Ok(Some(secret)),
            Stored::Bound(saved, _) => Err(Error::Unauthorized(format!(
                "the credential of profile '{name}' was saved for {was}; the profile now points \
                 at {now}, so it was not sent. Save the credential again: keyward profiles \
                 set-credential {name} (or in the app's profile editor)",
                name = self.name,
                was = saved.describe_against(&binding),
                now = binding.describe_against(&saved),
            ))),
            Stored::Unbound(secret) => {
                // Best effort: a store that cannot save (a caching wrapper) leaves it unbound
                // until a store that can reads it.
                if bind_unbound {
                    let _ = store.save_credential(&self.name, &seal(&binding, &secret));
                }
                Ok(Some(secret))
            }
        }
    }

    fn takes_no_credential(&self) -> Error {
        Error::invalid(
            "profile",
            format!(
                "'{}' is a {} profile, which needs no credential",
                self.name,
                self.kind().as_str()
            ),
        )
    }
}

/// What [`edit_profile`] did.
#[derive(Debug, Clone)]
pub struct ProfileEdited {
    pub config: Config,
    /// Set when the edit moved the profile to another origin or backend while a credential was
    /// stored for it: for front ends to tell the user.
    pub credential_dropped: Option<CredentialDropped>,
}

/// A stored credential that an edit made unusable, and whether it was deleted.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialDropped {
    /// Where the credential was saved for, and where the profile points now.
    pub saved_for: String,
    pub now: String,
    /// Whether it was deleted from the keychain. When it could not be (`error` says why), it stays
    /// there: [`Profile::credential`] refuses it for the new origin if it was saved bound, but a
    /// bare entry from before the binding would be accepted, so the message asks to delete it.
    pub deleted: bool,
    pub error: Option<Error>,
    /// One sentence for people, e.g. for the CLI to print and the app to show.
    pub message: String,
}

/// Replaces (or adds) a profile, like `add_profile(paths, spec, true)`, and when the profile's
/// origin or backend changed, deletes its stored credential from `store` right away and says so.
/// A credential stored for the new origin already (or none) is left alone.
pub fn edit_profile(
    paths: &Paths,
    spec: &ProfileSpec,
    store: &dyn CredentialStore,
) -> Result<ProfileEdited> {
    let before = Config::load(paths)?
        .profiles
        .get(&spec.name)
        .and_then(Profile::credential_binding);
    let config = add_profile(paths, spec, true)?;
    let after = config.profile(Some(&spec.name))?.credential_binding();
    let credential_dropped = match before {
        Some(saved) if after.as_ref() != Some(&saved) => {
            dropped_credential(&spec.name, &saved, after.as_ref(), store)
        }
        _ => None,
    };
    Ok(ProfileEdited {
        config,
        credential_dropped,
    })
}

/// Deletes the credential stored for `saved`, if it is one (an entry already bound to the new
/// origin is kept); `None` when nothing was stored.
fn dropped_credential(
    name: &str,
    saved: &CredentialBinding,
    now: Option<&CredentialBinding>,
    store: &dyn CredentialStore,
) -> Option<CredentialDropped> {
    let now_text = match now {
        Some(now) => now.describe_against(saved),
        None => "the local store".to_owned(),
    };
    let saved_text = match now {
        Some(now) => saved.describe_against(now),
        None => format!("a {} profile at {saved}", saved.backend),
    };
    let already_bound_to_now = match store.credential(name) {
        Ok(None) => return None,
        Ok(Some(value)) => {
            matches!(open(name, &value), Ok(Stored::Bound(binding, _)) if Some(&binding) == now)
        }
        // Could not look: try to delete all the same.
        Err(_) => false,
    };
    if already_bound_to_now {
        return None;
    }
    let deleted = store.forget_credential(name);
    let tail = match now {
        Some(_) => format!("Save the credential again: keyward profiles set-credential {name}"),
        None => "A local profile needs no credential.".to_owned(),
    };
    let message = match &deleted {
        Ok(_) => format!(
            "Profile '{name}' now points at {now_text} (it was {saved_text}): its saved credential \
             was deleted from the keychain and was not sent. {tail}"
        ),
        Err(e) => format!(
            "Profile '{name}' now points at {now_text} (it was {saved_text}): its saved credential \
             could not be deleted from the keychain ({e}). Delete it with keyward profiles \
             forget-credential {name} before using the profile (one saved bound to the old \
             origin is refused there, one saved before Keyward bound credentials is not). {tail}"
        ),
    };
    Some(CredentialDropped {
        saved_for: saved.to_string(),
        now: now
            .map(ToString::to_string)
            .unwrap_or_else(|| now_text.clone()),
        deleted: deleted.is_ok(),
        error: deleted.err(),
        message,
    })
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
    /// Saved in the store (the OS keychain) for the profile's current origin and backend (or
    /// saved before credentials were bound). One saved for another origin counts as `Missing`.
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
        // A credential stored for another origin or backend is not this profile's: it counts as
        // missing (using it says why).
        let stored = match self.read_stored_credential(store, false) {
            Ok(stored) => stored.is_some(),
            Err(e) if e.code() == keyward_core::ErrorCode::Unauthorized => false,
            Err(e) => return Err(e),
        };
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
