//! A profile: which backend, where, as whom, and how to open it.

use crate::credentials::{self, credential_env_var, CredentialStore};
use crate::paths::Paths;
use keyward_core::{Error, KeyBackend, Result, Subject};
use keyward_remote::{
    ClerkBackend, ClerkConfig, ClerkFrontendBackend, ClerkFrontendConfig, ClerkPath,
    FreeSewingAuth, FreeSewingBackend, FreeSewingConfig, HttpOptions, PropelAuthApi,
    PropelAuthBackend, PropelAuthConfig,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The backends a profile can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Local,
    #[serde(rename = "propelauth")]
    PropelAuth,
    Clerk,
    #[serde(rename = "freesewing")]
    FreeSewing,
}

impl BackendKind {
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Local,
        BackendKind::PropelAuth,
        BackendKind::Clerk,
        BackendKind::FreeSewing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
            BackendKind::PropelAuth => "propelauth",
            BackendKind::Clerk => "clerk",
            BackendKind::FreeSewing => "freesewing",
        }
    }

    pub fn parse(text: &str) -> Result<BackendKind> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::invalid(
                    "backend",
                    "must be one of: local, propelauth, clerk, freesewing",
                )
            })
    }
}

/// PropelAuth's two APIs: the backend API with an integration key, or the frontend API with a
/// signed-in user's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PropelAuthApiKind {
    Backend,
    Frontend,
}

/// Which of Clerk's APIs a profile speaks. The Backend API, with the instance secret key, serves
/// its API-key routes at `/api_keys` (what the SDK calls) and `/v1/api_keys`; the Frontend API
/// (`api = "frontend"`, user mode) is the application's own Clerk origin, used with a signed-in
/// end user's session (docs/backends/clerk-frontend.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClerkApiPath {
    #[serde(rename = "/api_keys")]
    Root,
    #[serde(rename = "/v1/api_keys")]
    V1,
    #[serde(rename = "frontend")]
    Frontend,
}

/// FreeSewing's two credential kinds: an API key (`KEY:SECRET`, HTTP Basic) or a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FreeSewingAuthKind {
    Key,
    Jwt,
}

/// Everything about a profile except its name and credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendSettings {
    /// For the local store: its folder (defaults to the data dir).
    Local { data_dir: Option<PathBuf> },
    PropelAuth {
        url: String,
        api: PropelAuthApiKind,
        /// The project's Auth URL when `url` is the shared `https://propelauth-api.com`.
        auth_url: Option<String>,
        subject: Option<Subject>,
    },
    Clerk {
        url: String,
        api_path: ClerkApiPath,
        subject: Option<Subject>,
    },
    FreeSewing {
        url: String,
        auth: FreeSewingAuthKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub settings: BackendSettings,
}

/// What front ends show about a profile. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    pub backend: &'static str,
    /// Where the keys live: a database file or a URL.
    pub location: String,
    pub default: bool,
    /// The default owner of new keys and listings, e.g. `user:user_2x…`.
    pub subject: Option<String>,
    /// Which API or credential kind: `backend`/`frontend` (PropelAuth), `frontend` (Clerk's user
    /// mode; none for its Backend API), `key`/`jwt` (FreeSewing).
    pub mode: Option<&'static str>,
    /// Whether the profile needs a credential at all (remote backends do).
    pub needs_credential: bool,
    /// The environment variable that overrides the stored credential.
    pub credential_env: Option<String>,
}

impl Profile {
    pub fn kind(&self) -> BackendKind {
        match self.settings {
            BackendSettings::Local { .. } => BackendKind::Local,
            BackendSettings::PropelAuth { .. } => BackendKind::PropelAuth,
            BackendSettings::Clerk { .. } => BackendKind::Clerk,
            BackendSettings::FreeSewing { .. } => BackendKind::FreeSewing,
        }
    }

    pub fn needs_credential(&self) -> bool {
        self.kind() != BackendKind::Local
    }

    /// Where this profile's keys live, for display.
    pub fn location(&self, paths: &Paths) -> String {
        match &self.settings {
            BackendSettings::Local { data_dir } => data_dir
                .clone()
                .unwrap_or_else(|| paths.data_dir.clone())
                .join(keyward_local::LocalStore::FILE_NAME)
                .display()
                .to_string(),
            BackendSettings::PropelAuth { url, .. }
            | BackendSettings::Clerk { url, .. }
            | BackendSettings::FreeSewing { url, .. } => url.clone(),
        }
    }

    pub fn summary(&self, paths: &Paths, default: bool) -> ProfileSummary {
        let (subject, mode) = match &self.settings {
            BackendSettings::Local { .. } => (None, None),
            BackendSettings::PropelAuth { api, subject, .. } => (
                subject.as_ref(),
                Some(match api {
                    PropelAuthApiKind::Backend => "backend",
                    PropelAuthApiKind::Frontend => "frontend",
                }),
            ),
            BackendSettings::Clerk {
                subject, api_path, ..
            } => (
                subject.as_ref(),
                (*api_path == ClerkApiPath::Frontend).then_some("frontend"),
            ),
            BackendSettings::FreeSewing { auth, .. } => (
                None,
                Some(match auth {
                    FreeSewingAuthKind::Key => "key",
                    FreeSewingAuthKind::Jwt => "jwt",
                }),
            ),
        };
        ProfileSummary {
            name: self.name.clone(),
            backend: self.kind().as_str(),
            location: self.location(paths),
            default,
            subject: subject.map(Subject::to_string),
            mode,
            needs_credential: self.needs_credential(),
            credential_env: self
                .needs_credential()
                .then(|| credential_env_var(&self.name)),
        }
    }

    /// The profile's credential: `KEYWARD_CREDENTIAL_<PROFILE>` if set (the user's choice for this
    /// run, not bound), else the store's, only if it was saved for this profile's backend and
    /// origin (see [`crate::credentials`]): one saved for another origin is `unauthorized`, naming
    /// both, and is not handed out.
    pub fn credential(&self, store: &dyn CredentialStore) -> Result<SecretString> {
        if let Some(from_env) = credentials::from_env(&self.name) {
            return Ok(from_env);
        }
        self.stored_credential(store)?.ok_or_else(|| {
            let what = match &self.settings {
                BackendSettings::PropelAuth {
                    api: PropelAuthApiKind::Frontend,
                    ..
                } => "a signed-in session (use Sign in in the app, or paste the session cookie)",
                BackendSettings::PropelAuth { .. } => "the project's integration API key",
                BackendSettings::Clerk {
                    api_path: ClerkApiPath::Frontend,
                    ..
                } => "a signed-in Clerk session (Sign in in the app, or KEYWARD_CREDENTIAL_<PROFILE>)",
                BackendSettings::Clerk { .. } => "the instance secret key (sk_…)",
                BackendSettings::FreeSewing {
                    auth: FreeSewingAuthKind::Key,
                    ..
                } => "an API key written KEY:SECRET",
                BackendSettings::FreeSewing { .. } => "a JWT",
                BackendSettings::Local { .. } => "nothing",
            };
            Error::Unauthorized(format!(
                "profile '{}' has no credential: it needs {what}. Save it with `keyward profiles set-credential {}` or in the app, or set {}",
                self.name,
                self.name,
                credential_env_var(&self.name)
            ))
        })
    }

    /// Opens the profile's backend. May block (the local store opens a file and runs its
    /// migrations; the credential may come from the keychain), so async callers should use
    /// `spawn_blocking`.
    pub fn open_backend(
        &self,
        paths: &Paths,
        store: &dyn CredentialStore,
    ) -> Result<Arc<dyn KeyBackend>> {
        self.open_backend_with(paths, store, HttpOptions::default())
    }

    /// [`Profile::open_backend`] with explicit HTTP timeouts and retries (tests shorten them).
    pub fn open_backend_with(
        &self,
        paths: &Paths,
        store: &dyn CredentialStore,
        http: HttpOptions,
    ) -> Result<Arc<dyn KeyBackend>> {
        self.open(paths, &|| self.credential(store), http)
    }

    /// Opens the backend with `credential`, ignoring `KEYWARD_CREDENTIAL_<PROFILE>` and any saved
    /// credential: for checking a credential before (or right after) saving it.
    pub fn open_backend_with_credential(
        &self,
        paths: &Paths,
        credential: &SecretString,
        http: HttpOptions,
    ) -> Result<Arc<dyn KeyBackend>> {
        self.open(paths, &|| Ok(credential.clone()), http)
    }

    fn open(
        &self,
        paths: &Paths,
        credential: &dyn Fn() -> Result<SecretString>,
        http: HttpOptions,
    ) -> Result<Arc<dyn KeyBackend>> {
        Ok(match &self.settings {
            BackendSettings::Local { data_dir } => Arc::new(keyward_local::LocalStore::open(
                data_dir.as_ref().unwrap_or(&paths.data_dir),
            )?),
            BackendSettings::PropelAuth {
                url,
                api,
                auth_url,
                subject,
            } => {
                let credential = credential()?;
                let api = match api {
                    PropelAuthApiKind::Backend => PropelAuthApi::Backend {
                        integration_key: credential,
                        auth_url: auth_url.clone(),
                    },
                    PropelAuthApiKind::Frontend => PropelAuthApi::Frontend {
                        session_cookie: credential,
                    },
                };
                let backend = PropelAuthBackend::new(PropelAuthConfig {
                    base_url: url.clone(),
                    api,
                    default_subject: subject.clone(),
                    http,
                })?;
                // The frontend API keeps no key names: this profile's are kept on this machine.
                if backend.capabilities().names_kept_locally {
                    let names = keyward_local::LocalKeyNames::open(&paths.data_dir, &self.name)?;
                    Arc::new(backend.with_key_names(Arc::new(names)))
                } else {
                    Arc::new(backend)
                }
            }
            // User mode: the credential is the user's session; an instance key is refused, naming it.
            BackendSettings::Clerk {
                url,
                api_path: ClerkApiPath::Frontend,
                subject,
            } => Arc::new(ClerkFrontendBackend::new(ClerkFrontendConfig {
                base_url: url.clone(),
                client_token: credential()?,
                default_subject: subject.clone(),
                http,
            })?),
            BackendSettings::Clerk {
                url,
                api_path,
                subject,
            } => Arc::new(ClerkBackend::new(ClerkConfig {
                base_url: url.clone(),
                secret_key: credential()?,
                path: match api_path {
                    ClerkApiPath::V1 => ClerkPath::V1,
                    ClerkApiPath::Root | ClerkApiPath::Frontend => ClerkPath::Root,
                },
                default_subject: subject.clone(),
                http,
            })?),
            BackendSettings::FreeSewing { url, auth } => {
                let credential = credential()?;
                let auth = match auth {
                    FreeSewingAuthKind::Jwt => FreeSewingAuth::Jwt { token: credential },
                    FreeSewingAuthKind::Key => {
                        let (key, secret) = split_key_credential(&credential)?;
                        FreeSewingAuth::Key { key, secret }
                    }
                };
                Arc::new(FreeSewingBackend::new(FreeSewingConfig {
                    base_url: url.clone(),
                    auth,
                    http,
                })?)
            }
        })
    }
}

/// FreeSewing API-key credentials are written `KEY:SECRET` (like `curl -u`).
fn split_key_credential(credential: &SecretString) -> Result<(String, SecretString)> {
    match credential.expose_secret().split_once(':') {
        Some((key, secret)) if !key.trim().is_empty() && !secret.trim().is_empty() => Ok((
            key.trim().to_owned(),
            SecretString::from(secret.trim().to_owned()),
        )),
        _ => Err(Error::invalid(
            "credential",
            "a FreeSewing API-key credential is written KEY:SECRET (the key id, a colon, the secret)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_credentials_split_at_the_first_colon() {
        let (key, secret) =
            split_key_credential(&SecretString::from("508e97f2-4a06:ab:cd")).unwrap();
        assert_eq!(key, "508e97f2-4a06");
        assert_eq!(secret.expose_secret(), "ab:cd");
        let err = split_key_credential(&SecretString::from("no-colon-here")).unwrap_err();
        assert_eq!(err.field(), Some("credential"));
        assert!(!err.to_string().contains("no-colon-here"));
    }

    #[test]
    fn backend_kinds_parse() {
        assert_eq!(BackendKind::parse("Clerk").unwrap(), BackendKind::Clerk);
        assert_eq!(
            BackendKind::parse("freesewing").unwrap(),
            BackendKind::FreeSewing
        );
        assert_eq!(
            BackendKind::parse("ftp").unwrap_err().field(),
            Some("backend")
        );
    }
}
