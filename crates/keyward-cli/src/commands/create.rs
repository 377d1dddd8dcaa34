//! `keyward keys create`: the one command that prints a secret (unless it goes to the clipboard).

use super::clipboard::{self, Copier};
use super::{block_on, Session};
use crate::cli::CreateArgs;
use crate::output::{self, Exit};
use chrono::Utc;
use keyward_core::model::validate_name;
use keyward_core::{ApiKey, Capabilities, CreatedKey, Error, Expiration, NewKey, Result, Subject};
use keyward_local::{ActivityAction, NewActivity};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

/// Where the new secret goes besides (or instead of) stdout.
struct Destinations {
    save_to_keychain: bool,
    copy: Option<std::time::Duration>,
}

pub fn run(session: &Session, args: CreateArgs, json: bool) -> Result<Exit> {
    let destinations = Destinations {
        save_to_keychain: args.save_to_keychain,
        copy: args
            .copy
            .then(|| {
                clipboard::clear_after(args.clear_after.as_deref(), session.clipboard_clear_after)
            })
            .transpose()?,
    };
    let new = new_key(args)?;
    let backend = session.open()?;
    fits(backend.kind(), &backend.capabilities(), &new)?;
    // The keychain and the clipboard are checked before the key exists, so that a secret is never
    // made that cannot go where it was asked to.
    let keychain = match destinations.save_to_keychain {
        true => {
            let keychain = session.keychain()?;
            keychain.status_blocking()?;
            Some(keychain)
        }
        false => None,
    };
    let copier = destinations.copy.map(Copier::open).transpose()?;

    let created = block_on(backend.create(new))?;
    session.record_activity(&[NewActivity {
        profile: session.profile_name().to_owned(),
        backend: backend.kind().to_owned(),
        action: ActivityAction::Created,
        key_id: created.key.id.clone(),
        key_name: Some(created.key.name.clone()),
        reason: None,
        error: None,
    }]);

    let saved = keychain.as_ref().map(|keychain| {
        keychain.save_key_secret_blocking(session.profile_name(), &created.key.id, &created.secret)
    });
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

/// Checks everything that can be checked without the backend, in the order of the flags.
fn new_key(args: CreateArgs) -> Result<NewKey> {
    let name = validate_name(&args.name)?;
    let expiration = match args.expires.as_deref() {
        Some(text) => Expiration::parse(text)?,
        None => Expiration::default(),
    };
    // The backend checks this again at creation; checking now refuses a date in the past before
    // any store is opened.
    expiration.resolve(Utc::now())?;
    let owner = args.owner.as_deref().map(Subject::parse).transpose()?;
    let level = args
        .level
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<u8>()
                .map_err(|_| Error::invalid("level", "must be a whole number, e.g. 1"))
        })
        .transpose()?;
    NewKey {
        owner,
        level,
        scopes: args.scopes.iter().map(|s| s.trim().to_owned()).collect(),
        description: args.description.filter(|d| !d.trim().is_empty()),
        ..NewKey::named(name, expiration)
    }
    .validated()
    .map_err(|error| match error {
        // Named after the flag, `--scope`.
        Error::InvalidInput { field, message } if field == "scopes" => {
            Error::invalid("scope", message)
        }
        other => other,
    })
}

/// Refuses what the profile's backend cannot keep, naming the flag and the backend, before any
/// request is sent.
fn fits(kind: &str, capabilities: &Capabilities, new: &NewKey) -> Result<()> {
    if let Some(level) = new.level {
        match capabilities.levels {
            None => {
                return Err(Error::invalid(
                    "level",
                    format!("the {kind} backend has no levels"),
                ))
            }
            Some((low, high)) if !(low..=high).contains(&level) => {
                return Err(Error::invalid(
                    "level",
                    format!("the {kind} backend takes levels {low} to {high}"),
                ))
            }
            Some(_) => {}
        }
    }
    if !new.scopes.is_empty() && !capabilities.scopes {
        return Err(Error::invalid(
            "scope",
            format!("the {kind} backend has no scopes"),
        ));
    }
    if new.description.is_some() && !capabilities.descriptions {
        return Err(Error::invalid(
            "description",
            format!("the {kind} backend keeps no description with a key"),
        ));
    }
    match &new.owner {
        Some(Subject::User(_)) if !capabilities.user_keys => Err(Error::invalid(
            Subject::FIELD,
            format!("the {kind} backend has no user-owned keys"),
        )),
        Some(Subject::Org(_)) if !capabilities.org_keys => Err(Error::invalid(
            Subject::FIELD,
            format!("the {kind} backend has no organization keys"),
        )),
        _ => Ok(()),
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

    fn capabilities() -> Capabilities {
        Capabilities {
            server_search: false,
            server_paging: false,
            sorts: Vec::new(),
            user_keys: true,
            org_keys: false,
            owner_is_label: false,
            levels: Some((1, 8)),
            scopes: false,
            descriptions: false,
            revoke_reason: false,
            revoke_kind: keyward_core::RevokeKind::Delete,
            last_used: false,
            verify: true,
            expiry_presets: Vec::new(),
            custom_expiry: true,
            never_expires: false,
            names_kept_locally: false,
        }
    }

    #[test]
    fn flags_the_backend_cannot_keep_are_refused_naming_it() {
        let field = |new: NewKey, caps: &Capabilities| {
            let error = fits("freesewing", caps, &new).unwrap_err();
            (error.field().unwrap().to_owned(), error.message())
        };
        let caps = capabilities();
        let base = || NewKey::named("k", Expiration::default());
        assert!(fits(
            "freesewing",
            &caps,
            &NewKey {
                level: Some(8),
                ..base()
            }
        )
        .is_ok());
        assert_eq!(
            field(
                NewKey {
                    level: Some(9),
                    ..base()
                },
                &caps
            ),
            (
                "level".into(),
                "the freesewing backend takes levels 1 to 8".into()
            )
        );
        let no_levels = Capabilities {
            levels: None,
            ..capabilities()
        };
        assert_eq!(
            field(
                NewKey {
                    level: Some(1),
                    ..base()
                },
                &no_levels
            ),
            (
                "level".into(),
                "the freesewing backend has no levels".into()
            )
        );
        assert_eq!(
            field(
                NewKey {
                    scopes: vec!["read".into()],
                    ..base()
                },
                &caps
            )
            .0,
            "scope"
        );
        assert_eq!(
            field(
                NewKey {
                    description: Some("d".into()),
                    ..base()
                },
                &caps
            )
            .0,
            "description"
        );
        assert_eq!(
            field(
                NewKey {
                    owner: Some(Subject::Org("acme".into())),
                    ..base()
                },
                &caps
            )
            .0,
            "owner"
        );
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
