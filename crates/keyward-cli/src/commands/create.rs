//! `keyward keys create`: the one command that prints a secret (unless it goes to the clipboard).

use super::clipboard::{self, Copier};
use super::{block_on, Session};
use crate::cli::CreateArgs;
use crate::output::{self, Exit};
use keyward_core::{ApiKey, CreatedKey, Error, NewKey, Result};
use keyward_ops::create::{self, CreateForm};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

pub fn run(session: &Session, args: CreateArgs, json: bool) -> Result<Exit> {
    let copy = args
        .copy
        .then(|| clipboard::clear_after(args.clear_after.as_deref(), session.clipboard_clear_after))
        .transpose()?;
    let save_to_keychain = args.save_to_keychain;
    let new = new_key(args)?;
    let backend = session.open()?;
    // The clipboard is checked before the key exists, so that a secret is never made that cannot
    // go where it was asked to (the keychain is checked by the operation).
    let copier = copy.map(Copier::open).transpose()?;
    let host = session.host();
    let created = block_on(async {
        let capabilities = keyward_ops::capabilities::learn(backend.as_ref()).await;
        create::create(
            backend.as_ref(),
            &capabilities,
            &host,
            new,
            save_to_keychain,
        )
        .await
    })
    .map_err(as_flag_error)?;
    if let Some(error) = &created.activity_error {
        super::warn_not_recorded(error);
    }
    let saved = created.saved_to_keychain;
    let created = created.created;

    let copied = copier.as_ref().map(|copier| copier.copy(&created.secret));
    // The secret is printed unless it reached the clipboard: a failed copy must not lose it.
    let print_secret = !matches!(copied, Some(Ok(())));
    let report = Report {
        created: &created,
        print_secret,
        saved_in_keychain: saved.as_ref().map(Result::is_ok),
        copied_to_clipboard: copied.as_ref().map(Result::is_ok),
        clear_after: copier.as_ref().map(Copier::clear_after),
    };
    if json {
        print_json(&report)?;
    } else {
        print_human(&report)?;
        // On stderr so that `keyward keys create ... | tail -1` captures only the secret. A closed
        // stderr is no reason to fail a create that has already happened.
        let note = match (print_secret, report.saved_in_keychain) {
            (true, Some(true)) => {
                "This secret is shown once here; it is also saved in the keychain."
            }
            (true, _) => "This secret is shown once. Store it now.",
            (false, Some(true)) => "The secret is saved in the keychain.",
            (false, _) => "The secret is not shown: paste it from the clipboard now.",
        };
        let _ = writeln!(std::io::stderr(), "{note}");
    }
    let report_id = created.key.id.clone();
    drop(created);
    // The key exists: whatever failed after this is reported, with its exit status, once the
    // secret has been delivered wherever it could go.
    if let Some(Err(error)) = copied {
        return Err(error);
    }
    if let Some(copier) = copier {
        copier.finish(json)?;
    }
    if let Some(Err(error)) = saved {
        let message = format!(
            "key {} was created, but its secret could not be saved in the keychain: {}",
            output::clean(&report_id),
            error.message()
        );
        return Err(match error {
            Error::KeychainUnavailable(_) => Error::KeychainUnavailable(message),
            Error::Store(_) => Error::Store(message),
            _ => Error::Unexpected(message),
        });
    }
    Ok(Exit::Ok)
}

/// Checks everything that can be checked without the backend (`keyward_ops::create::new_key`),
/// after parsing what only the command line types as text.
fn new_key(args: CreateArgs) -> Result<NewKey> {
    let level = args
        .level
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<u8>()
                .map_err(|_| Error::invalid("level", "must be a whole number, e.g. 1"))
        })
        .transpose()?;
    if args.scopes.iter().any(|s| s.trim().is_empty()) {
        return Err(Error::invalid("scope", "must not be empty"));
    }
    create::new_key(CreateForm {
        name: args.name,
        expires: args.expires,
        owner: args.owner,
        description: args.description,
        level,
        scopes: args.scopes,
    })
    .map_err(as_flag_error)
}

/// The operation names the key's field (`scopes`); the command line's flag is `--scope`.
fn as_flag_error(error: Error) -> Error {
    match error {
        Error::InvalidInput { field, message } if field == "scopes" => {
            Error::invalid("scope", message)
        }
        other => other,
    }
}

struct Report<'a> {
    created: &'a CreatedKey,
    print_secret: bool,
    saved_in_keychain: Option<bool>,
    copied_to_clipboard: Option<bool>,
    clear_after: Option<std::time::Duration>,
}

fn print_human(report: &Report) -> Result<()> {
    let key = &report.created.key;
    let mut text = Zeroizing::new(format!(
        "Created key {} ({}), expires {}\n",
        output::clean(&key.name),
        output::clean(&key.id),
        key.expires_at.map_or_else(
            || "never".to_owned(),
            |at| format!("{} UTC", output::time(at))
        )
    ));
    if report.print_secret {
        // Reserved up front so the buffer holding the secret never reallocates.
        let secret = report.created.secret.expose_secret();
        text.reserve_exact(secret.len() + 1);
        text.push_str(secret);
        text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output::write_failed)
}

#[derive(Serialize)]
struct CreatedJson<'a> {
    key: &'a ApiKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_in_keychain: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copied_to_clipboard: Option<bool>,
    /// Seconds; 0 = not cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    clear_after: Option<u64>,
}

/// `{"key":ApiKey,"secret":"kw_..."}` (plus what happened to the secret when asked to save or
/// copy it), encoded into a buffer that is wiped after writing. The buffer is sized up front so
/// it never reallocates (which would leave copies behind).
fn print_json(report: &Report) -> Result<()> {
    let created = report.created;
    let encode_failed =
        |e: serde_json::Error| Error::Unexpected(format!("cannot encode JSON: {e}"));
    let key_len = serde_json::to_vec(&created.key)
        .map_err(encode_failed)?
        .len();
    // JSON escaping at most doubles the secret's ASCII; the rest is punctuation and a newline.
    let capacity = key_len + 2 * created.secret.expose_secret().len() + 160;
    let mut line = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(
        &mut *line,
        &CreatedJson {
            key: &created.key,
            secret: report.print_secret.then(|| created.secret.expose_secret()),
            saved_in_keychain: report.saved_in_keychain,
            copied_to_clipboard: report.copied_to_clipboard,
            clear_after: report.clear_after.map(|d| d.as_secs()),
        },
    )
    .map_err(encode_failed)?;
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&line)
        .and_then(|()| out.flush())
        .map_err(output::write_failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::Expiration;

    fn args(name: &str) -> CreateArgs {
        CreateArgs {
            name: name.into(),
            expires: None,
            owner: None,
            description: None,
            level: None,
            scopes: Vec::new(),
            save_to_keychain: false,
            copy: false,
            clear_after: None,
        }
    }

    #[test]
    fn defaults_to_one_month_and_trims_the_name() {
        let new = new_key(args("  laptop ")).unwrap();
        assert_eq!(new.name, "laptop");
        assert_eq!(new.expiration, Expiration::default());
        assert_eq!(new.description, None);
    }

    #[test]
    fn bad_values_name_their_field() {
        let field = |a: CreateArgs| new_key(a).unwrap_err().field().map(str::to_owned);
        assert_eq!(field(args("")).as_deref(), Some("name"));
        let past = CreateArgs {
            expires: Some("2001-01-01".into()),
            ..args("x")
        };
        assert_eq!(field(past).as_deref(), Some("expires"));
        let owner = CreateArgs {
            owner: Some("team:x".into()),
            ..args("x")
        };
        assert_eq!(field(owner).as_deref(), Some("owner"));
        let description = CreateArgs {
            description: Some("a\u{7}b".into()),
            ..args("x")
        };
        assert_eq!(field(description).as_deref(), Some("description"));
    }

    #[test]
    fn levels_and_scopes_are_parsed_here() {
        let level = CreateArgs {
            level: Some("high".into()),
            ..args("x")
        };
        assert_eq!(new_key(level).unwrap_err().field(), Some("level"));
        let scope = CreateArgs {
            scopes: vec!["read write".into()],
            ..args("x")
        };
        assert_eq!(new_key(scope).unwrap_err().field(), Some("scope"));
        let ok = CreateArgs {
            level: Some(" 3 ".into()),
            scopes: vec!["read".into()],
            ..args("x")
        };
        let new = new_key(ok).unwrap();
        assert_eq!((new.level, new.scopes), (Some(3), vec!["read".to_owned()]));
    }
}
