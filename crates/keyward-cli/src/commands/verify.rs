//! `keyward keys verify`: checks a secret read from standard input.

use super::{block_on, Session};
use crate::output::{self, Exit};
use keyward_core::{ApiKey, Error, Result, Verification};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal, Read};
use zeroize::Zeroizing;

/// Longer than any real secret or credential (a FreeSewing JWT is well under); a line this long
/// is not one.
const MAX_SECRET_BYTES: usize = 8192;

pub fn run(session: &Session, json: bool) -> Result<Exit> {
    let secret = read_secret()?;
    // A mistyped kw_ secret is refused offline, before the store is opened (or created).
    keyward_ops::verify::precheck(session.profile.kind().as_str(), &secret)?;
    let backend = session.open()?;
    // A service's check of a presented key: it counts as a use (last used is recorded).
    let verification = block_on(keyward_ops::verify::verify(
        backend.as_ref(),
        &secret,
        keyward_ops::verify::Purpose::Use,
    ))?;
    if json {
        output::print_json(&verification)?;
    } else {
        output::print(&describe(&verification))?;
    }
    Ok(if verification.is_valid() {
        Exit::Ok
    } else {
        Exit::SecretNotValid
    })
}

/// The first line of stdin, trimmed. Never from argv: that would leak into shell history and `ps`.
fn read_secret() -> Result<SecretString> {
    read_first_line(
        "secret",
        "Secret (input hidden): ",
        "standard input is empty; pipe the secret in, e.g. printf '%s\\n' \"$KEY\" | keyward keys verify",
    )
}

/// Reads one secret line: from the terminal without echo, else the first line of standard input,
/// trimmed, at most [`MAX_SECRET_BYTES`]. Errors name `field`; an empty line is refused with
/// `if_empty`.
pub fn read_first_line(field: &str, prompt: &str, if_empty: &str) -> Result<SecretString> {
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        let typed = rpassword::prompt_password(prompt)
            .map_err(|e| Error::invalid(field, format!("cannot read from the terminal: {e}")))?;
        Zeroizing::new(typed)
    } else {
        // Sized for the longest accepted line so the buffer never reallocates and leaves copies.
        let mut line = Zeroizing::new(String::with_capacity(MAX_SECRET_BYTES + 1));
        stdin
            .lock()
            .take(MAX_SECRET_BYTES as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| Error::invalid(field, format!("cannot read standard input: {e}")))?;
        if line.len() > MAX_SECRET_BYTES {
            return Err(Error::invalid(
                field,
                format!("the first line of standard input is longer than {MAX_SECRET_BYTES} bytes"),
            ));
        }
        line
    };
    let secret = line.trim();
    if secret.is_empty() {
        return Err(Error::invalid(field, if_empty));
    }
    Ok(SecretString::from(secret))
}

fn describe(verification: &Verification) -> String {
    let key = |key: &ApiKey| format!("{} ({})", output::clean(&key.name), output::clean(&key.id));
    match verification {
        Verification::Valid(k) => format!("valid: {}\n", key(k)),
        Verification::Revoked(k) => format!("not valid: key {} is revoked\n", key(k)),
        Verification::Expired(k) => format!(
            "not valid: key {} expired{}\n",
            key(k),
            k.expires_at
                .map(|at| format!(" on {} UTC", output::time(at)))
                .unwrap_or_default()
        ),
        Verification::Unknown => "not valid: no key matches this secret\n".to_owned(),
    }
}
