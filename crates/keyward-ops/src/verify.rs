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

/// Whether `secret` is a valid key of `backend`, after the offline check.
pub async fn verify(backend: &dyn KeyBackend, secret: &SecretString) -> Result<Verification> {
    precheck(backend.kind(), secret)?;
    backend.verify(secret).await
}
