//! `keyward keys get` and `keyward keys owners`

use super::{block_on, Session};
use crate::cli::GetArgs;
use crate::output::{self, Exit};
use keyward_core::{ApiKey, Result};

pub fn run(session: &Session, args: GetArgs, json: bool) -> Result<Exit> {
    let id = super::key_id(&args.id)?;
    let backend = session.open()?;
    let host = session.host();
    let marked = block_on(keyward_ops::list::get(backend.as_ref(), &host, id))?;
    if json {
        output::print_json(&marked)?;
    } else {
        let mut text = render(&marked.key);
        if marked.saved_in_keychain {
            text.push_str(&format!("{:<12} saved\n", "Keychain"));
        }
        output::print(&text)?;
    }
    Ok(Exit::Ok)
}

/// `keyward keys owners`: the distinct owners of the profile's keys, one a line.
pub fn owners(session: &Session, json: bool) -> Result<Exit> {
    let backend = session.open()?;
    let owners: Vec<String> = block_on(backend.owners())?
        .iter()
        .map(ToString::to_string)
        .collect();
    if json {
        output::print_json(&serde_json::json!({ "owners": owners }))?;
    } else {
        let text: String = owners
            .iter()
            .map(|owner| format!("{}\n", output::clean(owner)))
            .collect();
        output::print(&text)?;
    }
    Ok(Exit::Ok)
}

/// One `Label  value` line per field that has a value.
pub(super) fn render(key: &ApiKey) -> String {
    let time = |at| format!("{} UTC", output::time(at));
    let mut fields: Vec<(&str, String)> = vec![
        ("ID", output::clean(&key.id)),
        ("Name", output::clean(&key.name)),
        ("Status", key.status.as_str().to_owned()),
        ("Created", time(key.created_at)),
        (
            "Expires",
            key.expires_at.map_or_else(|| "never".to_owned(), time),
        ),
        (
            "Last used",
            key.last_used_at.map_or_else(|| "never".to_owned(), time),
        ),
    ];
    let optional = [
        ("Owner", key.owner.as_ref().map(|o| o.to_string())),
        ("Revoked", key.revoked_at.map(time)),
        ("Reason", key.revocation_reason.clone()),
        ("Level", key.level.map(|l| l.to_string())),
        (
            "Scopes",
            (!key.scopes.is_empty()).then(|| key.scopes.join(" ")),
        ),
        ("Description", key.description.clone()),
        ("Stub", key.stub.clone()),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            fields.push((label, output::clean(&value)));
        }
    }
    let mut text = String::new();
    for (label, value) in fields {
        text.push_str(&format!("{label:<12} {value}\n"));
    }
    text
}
