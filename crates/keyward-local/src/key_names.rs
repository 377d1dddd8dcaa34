//! The names Keyward keeps for keys whose server keeps none ([`keyward_core::KeyNames`]), in a
//! small SQLite file in the data folder: one row per (profile, key id), the name and nothing else
//! (never a secret). SQLite in WAL mode makes each write all-or-nothing, so a crash never leaves a
//! half-written name, and the CLI and the app can both use the file at once. The file (and its
//! `-wal`/`-shm` files and folder) is its owner's only, as `sqlite` makes Keyward's databases.

use crate::errors::InFile;
use crate::sqlite::{self, OwnFile};
use keyward_core::{KeyNames, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Migration N takes the file from version N-1 to N. Released ones are never edited.
const MIGRATIONS: [&str; 1] = ["CREATE TABLE IF NOT EXISTS key_names (
    profile TEXT NOT NULL,
    key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (profile, key_id)
) WITHOUT ROWID;"];

/// Opened through the same rules as Keyward's other files (`sqlite::open`).
const KEY_NAMES_FILE: OwnFile = OwnFile {
    what: "a Keyward file of key names",
    migrations: &MIGRATIONS,
    wal_advice: "",
};

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
        let conn = sqlite::open(&path, &KEY_NAMES_FILE, |_| Ok(()))?;
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
