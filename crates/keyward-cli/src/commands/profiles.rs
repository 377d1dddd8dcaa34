//! `keyward profiles list`

use crate::output::{self, Exit};
use keyward_core::Result;
use keyward_profiles::{Config, Paths, ProfileSummary};
use serde::Serialize;

#[derive(Serialize)]
struct ProfilesJson<'a> {
    profiles: &'a [ProfileSummary],
}

pub fn list(config: &Config, paths: &Paths, json: bool) -> Result<Exit> {
    let profiles = config.summaries(paths);
    if json {
        output::print_json(&ProfilesJson {
            profiles: &profiles,
        })?;
    } else {
        let rows: Vec<Vec<String>> = profiles
            .iter()
            .map(|p| {
                vec![
                    if p.default { "*" } else { "" }.to_owned(),
                    output::clean(&p.name),
                    p.backend.to_owned(),
                    output::clean(&p.location),
                ]
            })
            .collect();
        output::print(&output::table(
            &["DEFAULT", "NAME", "BACKEND", "LOCATION"],
            &rows,
        ))?;
    }
    Ok(Exit::Ok)
}
