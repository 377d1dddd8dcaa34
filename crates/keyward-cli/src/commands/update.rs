//! `keyward keys update`: change a key's name, description, expiry or scopes. A flag for a field
//! the backend cannot change is refused by name before anything is sent
//! (`keyward_ops::update::checked`).

use super::{block_on, Session};
use crate::cli::UpdateArgs;
use crate::output::{self, Exit};
use keyward_core::{Error, Expiration, KeyUpdate, Result};
use keyward_ops::update;

pub fn run(session: &Session, args: UpdateArgs, json: bool) -> Result<Exit> {
    let change = change(
        args.name,
        args.expires,
        args.description,
        args.scopes,
        args.no_scopes,
    )?;
    let id = super::key_id(&args.id)?.to_owned();
    let backend = session.open()?;
    // Checked on the backend's declared capabilities, so a refusal sends nothing.
    let change = update::checked(backend.as_ref(), change).map_err(as_flag_error)?;
    let host = session.host();
    let updated =
        block_on(update::update(backend.as_ref(), &host, &id, change)).map_err(as_flag_error)?;
    if let Some(error) = &updated.activity_error {
        super::warn_not_recorded(error);
    }
    if json {
        output::print_json(&serde_json::json!({ "key": updated.key }))?;
    } else {
        output::print(&format!(
            "Updated key {} ({})\n{}",
            output::clean(&updated.key.name),
            output::clean(&updated.key.id),
            super::get::render(&updated.key)
        ))?;
    }
    Ok(Exit::Ok)
}

/// The flags as a [`KeyUpdate`]: the expiry parsed here (an error names `expires`), a blank
/// `--scope` refused naming `scope`. The rest is checked by the operation.
fn change(
    name: Option<String>,
    expires: Option<String>,
    description: Option<String>,
    scopes: Vec<String>,
    no_scopes: bool,
) -> Result<KeyUpdate> {
    if scopes.iter().any(|s| s.trim().is_empty()) {
        return Err(Error::invalid("scope", "must not be empty"));
    }
    let scopes = match (no_scopes, scopes.is_empty()) {
        (true, _) => Some(Vec::new()),
        (false, true) => None,
        (false, false) => Some(scopes.iter().map(|s| s.trim().to_owned()).collect()),
    };
    let change = KeyUpdate {
        name,
        description,
        expiration: expires.as_deref().map(Expiration::parse).transpose()?,
        scopes,
    };
    if change.is_empty() {
        return Err(Error::invalid(
            KeyUpdate::FIELD,
            "give at least one of --name, --expires, --description, --scope or --no-scopes",
        ));
    }
    Ok(change)
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

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::ExpiryPreset;

    #[test]
    fn flags_become_a_change_and_bad_ones_name_their_flag() {
        let change = change(
            None,
            Some("OneYear".into()),
            Some(String::new()),
            vec![],
            false,
        )
        .unwrap();
        assert_eq!(
            change.expiration,
            Some(Expiration::Preset(ExpiryPreset::OneYear))
        );
        assert_eq!(change.description.as_deref(), Some(""));
        assert_eq!(change.scopes, None);
        let cleared = super::change(None, None, None, vec![], true).unwrap();
        assert_eq!(cleared.scopes, Some(vec![]));
        let field = |e: Error| e.field().map(str::to_owned);
        assert_eq!(
            field(super::change(None, None, None, vec![], false).unwrap_err()).as_deref(),
            Some("update")
        );
        assert_eq!(
            field(super::change(None, Some("soon".into()), None, vec![], false).unwrap_err())
                .as_deref(),
            Some("expires")
        );
        assert_eq!(
            field(super::change(None, None, None, vec![" ".into()], false).unwrap_err()).as_deref(),
            Some("scope")
        );
    }
}
