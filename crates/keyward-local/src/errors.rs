//! SQLite errors as Keyward errors: always `store`, always naming the database file.
//!
//! Nothing secret can reach these messages: secrets are never bound to a statement, and the SQL
//! text holds no user input (every value is a bound parameter).

use keyward_core::{Error, Result};
use rusqlite::ErrorCode as SqliteCode;
use std::path::Path;

pub(crate) fn store_error(path: &Path, error: rusqlite::Error) -> Error {
    let file = path.display();
    let message = match error.sqlite_error_code() {
        Some(SqliteCode::NotADatabase) => format!(
            "{file} is not a Keyward database (it is not an SQLite file, or its header is damaged); nothing was changed"
        ),
        Some(SqliteCode::DatabaseCorrupt) => {
            format!("{file} is damaged (SQLite reports corruption); restore it from a backup")
        }
        Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => format!(
            "{file} is busy: another process kept it locked for more than 5 seconds; try again"
        ),
        Some(SqliteCode::ReadOnly | SqliteCode::CannotOpen | SqliteCode::PermissionDenied) => {
            format!("{file} cannot be opened for reading and writing: {error}")
        }
        Some(SqliteCode::DiskFull) => format!("{file} could not be written: the disk is full"),
        _ => format!("the local store {file} failed: {error}"),
    };
    Error::Store(message)
}

/// `.in_file(path)?` on any rusqlite result.
pub(crate) trait InFile<T> {
    fn in_file(self, path: &Path) -> Result<T>;
}

impl<T> InFile<T> for rusqlite::Result<T> {
    fn in_file(self, path: &Path) -> Result<T> {
        self.map_err(|e| store_error(path, e))
    }
}
