//! `keyward keys expiring`: active keys expiring soon, on the chosen profile or on every profile
//! (`keyward_ops::expiry`, the scan behind the app's "Expiring" view and notifier).

use super::{runtime, Session};
use crate::cli::ExpiringArgs;
use crate::output::{self, Exit};
use keyward_core::{ListQuery, Result};
use keyward_ops::expiry::{self, ExpiringSoon, ProfileBackend, DEFAULT_DAYS};
use keyward_ops::AskOnce;
use keyward_profiles::Config;
use keyward_vault::Keychain;

pub fn run(config: &Config, session: &Session, args: ExpiringArgs, json: bool) -> Result<Exit> {
    let days = match args.within.as_deref() {
        Some(text) => ListQuery::parse_days("within", text)?,
        None => DEFAULT_DAYS,
    };
    let profiles = match args.all_profiles {
        true => {
            let keychain = Keychain::new();
            expiry::open_profiles_with(
                config,
                session.paths,
                &AskOnce::new(&keychain),
                super::http_options()?,
                &|_| None,
            )
        }
        // The chosen profile alone: one that cannot be opened fails the command, as elsewhere.
        false => vec![ProfileBackend {
            profile: session.profile_name().to_owned(),
            backend_kind: session.profile.kind().as_str(),
            backend: Ok(session.open()?),
        }],
    };
    let scan = runtime()?.block_on(expiry::scan(profiles, days, chrono::Utc::now()));
    if json {
        output::print_json(&scan)?;
    } else {
        output::print(&render(&scan, args.all_profiles))?;
    }
    for failed in scan.profiles.iter().filter(|p| p.error.is_some()) {
        if let Some(error) = &failed.error {
            output::note(&format!(
                "profile {}: {}",
                output::clean(&failed.profile),
                output::clean(&error.message)
            ));
        }
    }
    Ok(match scan.profiles.iter().find_map(|p| p.error.as_ref()) {
        Some(error) => Exit::Failed(error.code),
        None => Exit::Ok,
    })
}

fn render(scan: &ExpiringSoon, all_profiles: bool) -> String {
    let rows: Vec<Vec<String>> = scan
        .profiles
        .iter()
        .flat_map(|p| p.keys.iter().map(move |key| (p, key)))
        .map(|(p, key)| {
            let mut row = vec![
                output::clean(&key.id),
                output::cell(&key.name, 40),
                output::expiry(key.expires_at),
            ];
            if all_profiles {
                row.insert(0, output::clean(&p.profile));
            }
            row
        })
        .collect();
    if rows.is_empty() {
        return format!("No active keys expire within {} days.\n", scan.days);
    }
    let headers: &[&str] = if all_profiles {
        &["PROFILE", "ID", "NAME", "EXPIRES"]
    } else {
        &["ID", "NAME", "EXPIRES"]
    };
    let mut text = output::table(headers, &rows);
    let noun = if rows.len() == 1 {
        "key expires"
    } else {
        "keys expire"
    };
    text.push_str(&format!(
        "{} {noun} within {} days\n",
        rows.len(),
        scan.days
    ));
    text
}
