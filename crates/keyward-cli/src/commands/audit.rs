//! `keyward audit` and `keyward audit export`: the activity log of every profile.

use crate::cli::{AuditArgs, AuditCommand, AuditExportArgs};
use crate::output::{self, Exit};
use keyward_core::{Error, Result};
use keyward_local::{ActivityEntry, ActivityLog, ActivityPage, ActivityQuery, ExportFormat};
use keyward_profiles::Paths;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(args: AuditArgs, paths: &Paths, json: bool) -> Result<Exit> {
    match args.command {
        Some(AuditCommand::Export(export_args)) => export(export_args, paths, json),
        None => list(args, paths, json),
    }
}

fn log_path(paths: &Paths) -> PathBuf {
    paths.data_dir.join(ActivityLog::FILE_NAME)
}

/// The log, if it exists: reading never creates one.
fn open_existing(paths: &Paths) -> Result<Option<ActivityLog>> {
    let path = log_path(paths);
    if !path.is_file() {
        return Ok(None);
    }
    ActivityLog::open(&path).map(Some)
}

fn list(args: AuditArgs, paths: &Paths, json: bool) -> Result<Exit> {
    let query = ActivityQuery {
        search: args.search,
        limit: args.limit,
        offset: 0,
    };
    let page = match open_existing(paths)? {
        Some(log) => log.list(&query)?,
        None => {
            // Check the query the same way, so a bad one fails whether or not there is a log.
            if query.limit == 0 || query.limit > ActivityQuery::MAX_LIMIT {
                return Err(Error::invalid(
                    "limit",
                    format!("must be between 1 and {}", ActivityQuery::MAX_LIMIT),
                ));
            }
            ActivityPage {
                entries: Vec::new(),
                total: 0,
            }
        }
    };
    if json {
        output::print_json(&page)?;
    } else {
        output::print(&render(&page))?;
    }
    Ok(Exit::Ok)
}

fn render(page: &ActivityPage) -> String {
    if page.entries.is_empty() {
        return if page.total == 0 {
            "No activity recorded.\n".to_owned()
        } else {
            format!("No entries on this page · {} in all\n", page.total)
        };
    }
    let rows: Vec<Vec<String>> = page.entries.iter().map(row).collect();
    let mut text = output::table(
        &[
            "AT", "PROFILE", "BACKEND", "ACTION", "KEY", "NAME", "REASON", "ERROR",
        ],
        &rows,
    );
    let noun = if page.total == 1 { "entry" } else { "entries" };
    text.push_str(&format!(
        "{} of {} {noun} (newest first)\n",
        page.entries.len(),
        page.total
    ));
    text
}

fn row(entry: &ActivityEntry) -> Vec<String> {
    let dash = || "-".to_owned();
    vec![
        output::time(entry.at),
        output::cell(&entry.profile, 20),
        output::clean(&entry.backend),
        entry.action.as_str().to_owned(),
        output::clean(&entry.key_id),
        entry
            .key_name
            .as_deref()
            .map_or_else(dash, |name| output::cell(name, 30)),
        entry
            .reason
            .as_deref()
            .map_or_else(dash, |reason| output::cell(reason, 30)),
        match (&entry.error_code, &entry.error_message) {
            (Some(code), Some(message)) => output::cell(&format!("{code}: {message}"), 50),
            (Some(code), None) => output::clean(code),
            _ => dash(),
        },
    ]
}

#[derive(Serialize)]
struct ExportJson<'a> {
    path: &'a Path,
    count: usize,
    format: &'a str,
}

fn export(args: AuditExportArgs, paths: &Paths, json: bool) -> Result<Exit> {
    let format = ExportFormat::parse(&args.format)?;
    let log = match open_existing(paths)? {
        Some(log) => log,
        // Nothing recorded yet: an empty export (a CSV header, or []), without creating a log.
        None => ActivityLog::in_memory()?,
    };
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            log.export(args.search.as_deref(), format, &mut out)
                .map_err(stdout_error)?;
        }
        Some(path) => {
            let count = write_file(&log, path, args.search.as_deref(), format)?;
            if json {
                output::print_json(&ExportJson {
                    path,
                    count,
                    format: format.extension(),
                })?;
            } else {
                let noun = if count == 1 { "entry" } else { "entries" };
                output::print(&format!(
                    "{count} {noun} written to {}\n",
                    output::clean(&path.display().to_string())
                ))?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// A closed stdout is a write error like any other (exit 1), not a panic.
fn stdout_error(error: Error) -> Error {
    match error {
        Error::Unexpected(message) => {
            Error::Unexpected(message.replace("cannot write the export", "cannot write output"))
        }
        other => other,
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path`: a failed export never
/// leaves half a file.
fn write_file(
    log: &ActivityLog,
    path: &Path,
    search: Option<&str>,
    format: ExportFormat,
) -> Result<usize> {
    let cannot = |e: std::io::Error| {
        Error::invalid(
            "output",
            format!(
                "cannot write {}: {e}",
                output::clean(&path.display().to_string())
            ),
        )
    };
    if path.is_dir() {
        return Err(Error::invalid(
            "output",
            format!("{} is a folder", output::clean(&path.display().to_string())),
        ));
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid("output", "must name a file"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    // Owner-only (the log names keys, owners and reasons), and never a file someone left or
    // linked at the temporary name: a leftover of an earlier run is removed, then created anew.
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut file = keyward_core::private_fs::create_new_private_file(&temp).map_err(cannot)?;
        let count = log.export(search, format, &mut file)?;
        file.sync_all().map_err(cannot)?;
        drop(file);
        std::fs::rename(&temp, path).map_err(cannot)?;
        Ok(count)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    let _ = std::io::stdout().flush();
    result
}
