//! The "Audit log" view: what was created and revoked, searched and paged, and exported to the
//! Downloads folder.

use super::{argument, blocking};
use crate::state::AppState;
use keyward_core::Result;
use keyward_local::{ActivityPage, ActivityQuery, ExportFormat};
use keyward_ops::export;
use serde::Serialize;
use tauri::State;

/// A page of the activity log, newest first.
#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    query: serde_json::Value,
) -> Result<ActivityPage> {
    let query: ActivityQuery = argument("query", query)?;
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
        let at = chrono::Local::now().naive_local();
        let (path, count) = export::export_activity(&log, search.as_deref(), format, &dir, at)?;
        Ok(Exported {
            path: path.display().to_string(),
            count,
        })
    })
    .await
}
