//! The "Audit log" view: what was created and revoked, searched and paged, and exported to the
//! Downloads folder.

use super::blocking;
use crate::export;
use crate::state::AppState;
use keyward_core::Result;
use keyward_local::{ActivityPage, ActivityQuery, ExportFormat};
use serde::Serialize;
use std::io::{BufWriter, Write};
use tauri::State;

/// A page of the activity log, newest first.
#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>, query: ActivityQuery) -> Result<ActivityPage> {
    let log = state.activity().await?;
    blocking(move || log.list(&query)).await
}

#[derive(Serialize)]
pub struct Exported {
    /// The file written, e.g. `/home/me/Downloads/keyward-audit-20250601-143000.csv`.
    path: String,
    /// Entries written.
    count: usize,
}

/// Writes every entry matching `search` as `csv` or `json` to a new file in the Downloads
/// folder (see [`export::download_dir`]), never over an existing file.
#[tauri::command]
pub async fn export_audit(
    state: State<'_, AppState>,
    format: String,
    search: Option<String>,
) -> Result<Exported> {
    let format = ExportFormat::parse(&format)?;
    let search = super::non_blank(search);
    let log = state.activity().await?;
    blocking(move || {
        let dir = export::download_dir()?;
        let stem = export::export_stem(chrono::Local::now().naive_local());
        let (file, path) = export::create_unique(&dir, &stem, format.extension())?;
        let mut out = BufWriter::new(file);
        let written = log
            .export(search.as_deref(), format, &mut out)
            .and_then(|count| {
                out.flush().map_err(|e| {
                    keyward_core::Error::Unexpected(format!("cannot write the export: {e}"))
                })?;
                Ok(count)
            });
        match written {
            Ok(count) => Ok(Exported {
                path: path.display().to_string(),
                count,
            }),
            Err(e) => {
                // No half-written export is left behind.
                drop(out);
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    })
    .await
}
