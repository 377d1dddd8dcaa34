//! `keyward settings`: what the app's Settings dialog shows and saves (the clipboard countdown,
//! `clipboard_clear_seconds` in the config file).

use crate::cli::SettingsArgs;
use crate::output::{self, Exit};
use keyward_core::{Error, Result};
use keyward_profiles::{set_clipboard_clear_seconds, Config, Paths};
use keyward_vault::DEFAULT_CLEAR_AFTER;

pub fn run(args: SettingsArgs, paths: &Paths, json: bool) -> Result<Exit> {
    let config = match args.clipboard_clear_seconds.as_deref() {
        Some(text) => {
            let secs = text.trim().parse::<u64>().map_err(|_| {
                Error::invalid(
                    "clipboard-clear-seconds",
                    "must be a whole number of seconds from 1 to 3600",
                )
            })?;
            set_clipboard_clear_seconds(paths, secs).map_err(|e| match e {
                Error::InvalidInput { message, .. } => {
                    Error::invalid("clipboard-clear-seconds", message)
                }
                other => other,
            })?
        }
        None => Config::load(paths)?,
    };
    let secs = config
        .clipboard_clear_after()
        .unwrap_or(DEFAULT_CLEAR_AFTER)
        .as_secs();
    if json {
        output::print_json(&serde_json::json!({ "clipboard_clear_seconds": secs }))?;
    } else {
        output::print(&format!("clipboard_clear_seconds = {secs}\n"))?;
    }
    Ok(Exit::Ok)
}
