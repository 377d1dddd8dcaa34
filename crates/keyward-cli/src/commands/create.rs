//! `keyward keys create`: the one command that prints a secret.

use super::{block_on, Session};
use crate::cli::CreateArgs;
use crate::output::{self, Exit};
use chrono::Utc;
use keyward_core::model::validate_name;
use keyward_core::{ApiKey, CreatedKey, Error, Expiration, NewKey, Result, Subject};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

pub fn run(session: &Session, args: CreateArgs, json: bool) -> Result<Exit> {
    let new = new_key(args)?;
    let backend = session.open()?;
    let created = block_on(backend.create(new))?;
    if json {
        print_json(&created)?;
    } else {
        print_human(&created)?;
        // On stderr so that `keyward keys create ... | tail -1` captures only the secret. A closed
        // stderr is no reason to fail a create that has already happened.
        let _ = writeln!(
            std::io::stderr(),
            "This secret is shown once. Store it now."
        );
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
    NewKey {
        owner,
        description: args.description.filter(|d| !d.trim().is_empty()),
        ..NewKey::named(name, expiration)
    }
    .validated()
}

fn print_human(created: &CreatedKey) -> Result<()> {
    let key = &created.key;
    let summary = format!(
        "Created key {} ({}), expires {}\n",
        output::clean(&key.name),
        output::clean(&key.id),
        key.expires_at.map_or_else(
            || "never".to_owned(),
            |at| format!("{} UTC", output::time(at))
        )
    );
    let mut out = std::io::stdout().lock();
    out.write_all(summary.as_bytes())
        .and_then(|()| out.write_all(created.secret.expose_secret().as_bytes()))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(output::write_failed)
}

#[derive(Serialize)]
struct CreatedJson<'a> {
    key: &'a ApiKey,
    secret: &'a str,
}

/// `{"key":ApiKey,"secret":"kw_..."}`, encoded into a buffer that is wiped after writing. The
/// buffer is sized up front so it never reallocates (which would leave copies behind).
fn print_json(created: &CreatedKey) -> Result<()> {
    let encode_failed =
        |e: serde_json::Error| Error::Unexpected(format!("cannot encode JSON: {e}"));
    let key_len = serde_json::to_vec(&created.key)
        .map_err(encode_failed)?
        .len();
    // JSON escaping at most doubles the secret's ASCII; the rest is punctuation and a newline.
    let capacity = key_len + 2 * created.secret.expose_secret().len() + 32;
    let mut line = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(
        &mut *line,
        &CreatedJson {
            key: &created.key,
            secret: created.secret.expose_secret(),
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
}
