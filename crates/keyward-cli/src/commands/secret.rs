//! `keyward keys copy` and `keyward keys secret`: a key's secret, back out of the keychain.
//!
//! Neither needs the backend: the secret lives in the OS keychain (service `keyward`, account
//! `<profile>/<key id>`), saved there by `keys create --save-to-keychain` or the app.

use super::clipboard::{self, Copier};
use super::Session;
use crate::cli::{CopyArgs, SecretArgs};
use crate::output::{self, Exit};
use keyward_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

/// `keys copy ID`: copies the saved secret and waits until the clipboard is cleared.
pub fn copy(session: &Session, args: CopyArgs, json: bool) -> Result<Exit> {
    let id = super::key_id(&args.id)?;
    let clear_after =
        clipboard::clear_after(args.clear_after.as_deref(), session.clipboard_clear_after)?;
    // The clipboard first: no point in taking the secret out of the keychain for nothing.
    let copier = Copier::open(clear_after)?;
    let secret = saved_secret(session, id)?;
    copier.copy(&secret)?;
    drop(secret);
    if json {
        output::print_json(&CopiedJson {
            id,
            copied_to_clipboard: true,
            clear_after: clear_after.as_secs(),
        })?;
    } else {
        output::print(&format!(
            "Copied the secret of key {} from the keychain\n",
            output::clean(id)
        ))?;
    }
    copier.finish(json)?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct CopiedJson<'a> {
    id: &'a str,
    copied_to_clipboard: bool,
    clear_after: u64,
}

/// `keys secret ID --print-secret`: prints the saved secret, for scripts.
pub fn print(session: &Session, args: SecretArgs, json: bool) -> Result<Exit> {
    let id = super::key_id(&args.id)?;
    if !args.print_secret {
        return Err(Error::invalid(
            "print-secret",
            "this prints a secret, which then stays in terminal scrollback, logs and CI output; \
             pass --print-secret to confirm, or use `keyward keys copy ID` to copy it safely",
        ));
    }
    let secret = saved_secret(session, id)?;
    let mut text = Zeroizing::new(Vec::with_capacity(secret.expose_secret().len() * 2 + 64));
    if json {
        serde_json::to_writer(
            &mut *text,
            &SecretJson {
                id,
                secret: secret.expose_secret(),
            },
        )
        .map_err(|e| Error::Unexpected(format!("cannot encode JSON: {e}")))?;
    } else {
        text.extend_from_slice(secret.expose_secret().as_bytes());
    }
    text.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(output::write_failed)?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct SecretJson<'a> {
    id: &'a str,
    secret: &'a str,
}

/// The secret saved for `id` in this profile, with a message that says what to do when there is
/// none.
fn saved_secret(session: &Session, id: &str) -> Result<SecretString> {
    let keychain = session.keychain()?;
    keychain
        .key_secret_blocking(session.profile_name(), id)
        .map_err(|error| match error {
            Error::NotFound(_) => Error::NotFound(format!(
                "no saved secret for key {} in profile {}; only keys saved at creation can be \
                 copied later (keys create --save-to-keychain, or Save to keychain in the app)",
                output::clean(id),
                session.profile_name()
            )),
            other => other,
        })
}
