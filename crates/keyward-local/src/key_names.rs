//! The names Keyward keeps for keys whose server keeps none ([`keyward_core::KeyNames`]), in a
//! small SQLite file in the data folder: one row per (profile, key id), the name and nothing else
//! (never a secret). SQLite in WAL mode makes each write all-or-nothing, so a crash never leaves a
//! half-written name, and the CLI and the app can both use the file at once. The file (and its
//! `-wal`/`-shm` files and folder) is its owner's only, as `sqlite` makes Keyward's databases.

use crate::errors::InFile;
use crate::sqlite;
use keyward_core::{Error, KeyNames, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS key_names (
    profile TEXT NOT NULL,
    key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (profile, key_id)
) WITHOUT ROWID;";

/// One profile's key names, in the data folder's [`FILE_NAME`](Self::FILE_NAME).
pub struct LocalKeyNames {
    path: PathBuf,
    profile: String,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for LocalKeyNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyNames")
            .field("path", &self.path)
            .field("profile", &self.profile)
            .finish()
    }
}

impl LocalKeyNames {
    pub const FILE_NAME: &'static str = "key-names.db";

    /// Opens (creating if needed) the names of `profile`'s keys in `data_dir`.
    pub fn open(data_dir: &Path, profile: &str) -> Result<Self> {
        sqlite::private_data_dir(data_dir)?;
        let path = data_dir.join(Self::FILE_NAME);
        sqlite::create_private(&path)?;
        let conn = open_connection(&path)?;
        Ok(LocalKeyNames {
            path,
            profile: profile.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self, id: &str) -> Result<Option<String>> {
        self.lock()
            .query_row(
                "SELECT name FROM key_names WHERE profile = ?1 AND key_id = ?2",
                params![self.profile, id],
                |row| row.get(0),
            )
            .optional()
            .in_file(&self.path)
    }
}

impl KeyNames for LocalKeyNames {
    fn name(&self, id: &str) -> Option<String> {
        self.read(id).ok().flatten()
    }

    fn remember(&self, id: &str, name: &str) -> Result<()> {
        self.lock()
            .execute(
                "INSERT INTO key_names (profile, key_id, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (profile, key_id) DO UPDATE SET name = excluded.name",
                params![self.profile, id, name],
            )
            .in_file(&self.path)?;
        Ok(())
    }

    fn forget(&self, id: &str) -> Result<()> {
        self.lock()
            .execute(
                "DELETE FROM key_names WHERE profile = ?1 AND key_id = ?2",
                params![self.profile, id],
            )
            .in_file(&self.path)?;
        Ok(())
    }

    fn all(&self) -> Result<BTreeMap<String, String>> {
        let conn = self.lock();
        let mut statement = conn
            .prepare("SELECT key_id, name FROM key_names WHERE profile = ?1")
            .in_file(&self.path)?;
        let rows = statement
            .query_map(params![self.profile], |row| Ok((row.get(0)?, row.get(1)?)))
            .in_file(&self.path)?;
        rows.collect::<rusqlite::Result<_>>().in_file(&self.path)
    }
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).in_file(path)?;
    conn.busy_timeout(BUSY_TIMEOUT).in_file(path)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .in_file(path)?;
    if version > SCHEMA_VERSION {
        return Err(Error::Store(format!(
            "{} was written by a newer Keyward (schema version {version}); nothing was changed: update Keyward to open it",
            path.display()
        )));
    }
    // Owner-only before the first write, so the -wal and -shm files SQLite creates copy that.
    sqlite::tighten(path)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
        .in_file(path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Store(format!(
            "{} cannot use write-ahead logging (journal mode stays {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .in_file(path)?;
    conn.execute_batch(SCHEMA).in_file(path)?;
    if version < SCHEMA_VERSION {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .in_file(path)?;
    }
    Ok(conn)
}
