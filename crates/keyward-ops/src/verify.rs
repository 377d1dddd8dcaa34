//! Checking a secret someone holds.

use keyward_core::{key_format, KeyBackend, Result, Verification};
use secrecy::{ExposeSecret, SecretString};

/// The offline check of a secret for a backend of kind `kind`: the local store issues `kw_`
/// secrets with a checksum, so a mistyped one is refused without opening (or creating) the store.
pub fn precheck(kind: &str, secret: &SecretString) -> Result<()> {
    if kind == "local" {
        key_format::check(secret.expose_secret())?;
    }
    Ok(())
}

/// Why a secret is being checked, which decides whether it counts as a use of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A service checking a key a client presented (`keyward keys verify`): the backend records
    /// the use where it tracks last use.
    Use,
    /// A person checking a key they hold (the window's Verify box): the key's last use is left as
    /// it was, except on backends whose server counts every check as a use
    /// ([`keyward_core::Capabilities::verify_counts_as_use`]).
    Check,
}

/// Whether `secret` is a valid key of `backend`, after the offline check.
pub async fn verify(
    backend: &dyn KeyBackend,
    secret: &SecretString,
    purpose: Purpose,
) -> Result<Verification> {
    precheck(backend.kind(), secret)?;
    match purpose {
        Purpose::Use => backend.verify(secret).await,
        Purpose::Check => backend.check(secret).await,
    }
}
