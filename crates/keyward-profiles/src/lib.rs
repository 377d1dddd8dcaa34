//! Configuration: where Keyward keeps its files, the named profiles, their credentials, and
//! opening the backend of a profile. Shared by the CLI and the desktop app so both read and edit
//! the same file the same way.
//!
//! The config is TOML at the platform config dir (`KEYWARD_CONFIG` overrides the path):
//! ```toml
//! default_profile = "local"
//! clipboard_clear_seconds = 20   # optional: the clipboard countdown, 1 to 3600 s
//! [profiles.local]
//! backend = "local"
//! [profiles.acme-clerk]
//! backend = "clerk"
//! url = "https://api.clerk.com"
//! subject = "user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
//! ```
//! With no file at all, Keyward runs on an implicit `local` profile. A malformed file is an error
//! naming the file, line and field; it is never silently replaced, and edits refuse to touch it.
//! The file holds no secrets: credentials live in the OS keychain, each bound to the origin and
//! backend it was saved for (see the `credentials` module), or in
//! `KEYWARD_CREDENTIAL_<PROFILE>` for scripts and CI.

mod config;
mod credentials;
mod editor;
mod paths;
mod profile;

pub use config::{Config, CLIPBOARD_CLEAR_SECONDS, IMPLICIT_PROFILE};
pub use credentials::{
    credential_env_var, edit_profile, CredentialBinding, CredentialDropped, CredentialSource,
    CredentialStore, EnvOnly, ProfileEdited,
};
pub use editor::{
    add_profile, remove_profile, set_clipboard_clear_seconds, set_default_profile, ProfileSpec,
};
pub use paths::{Paths, CONFIG_ENV, DATA_DIR_ENV};
pub use profile::{
    BackendKind, BackendSettings, ClerkApiPath, FreeSewingAuthKind, Profile, ProfileSummary,
    PropelAuthApiKind,
};
