//! Revokes waiting for their time: after a rotation with a grace period, the old key keeps
//! working until `due_at`, then Keyward revokes it (on the app's next tick, on its next start if
//! it was closed, or at `keyward keys scheduled --run-due`).
//!
//! Its own small SQLite file (`scheduled.db` in the data dir), opened through the same rules as
//! the store and the activity log (`sqlite::open`: owner-only, WAL, versioned migrations), so a
//! pending revoke survives a restart and is seen by the app and the CLI alike. One row per
//! profile and key: a key has at most one pending revoke. Never a secret: ids, names, times.

use crate::errors::InFile;
use crate::sqlite::{self, OwnFile};
use crate::time;
use chrono::{DateTime, Utc};
use keyward_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Migration N takes the file from version N-1 to N. Released ones are never edited.
const MIGRATIONS: [&str; 1] = [r"
CREATE TABLE scheduled_revokes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile     TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    key_name    TEXT,
    replaced_by TEXT,                            -- the id of the key that replaced it
    due_at      INTEGER NOT NULL,                -- unix milliseconds
    reason      TEXT    NOT NULL,                -- why: 'rotated'
    created_at  INTEGER NOT NULL,
    UNIQUE (profile, key_id)
);
CREATE INDEX scheduled_revokes_due ON scheduled_revokes (due_at);
"];

const SCHEDULED_FILE: OwnFile = OwnFile {
    what: "a Keyward file of scheduled revokes",
    migrations: &MIGRATIONS,
    wal_advice: "",
};

/// One pending revoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledRevoke {
    pub id: i64,
    pub profile: String,
    pub key_id: String,
    pub key_name: Option<String>,
    pub replaced_by: Option<String>,
    pub due_at: DateTime<Utc>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// What to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScheduledRevoke {
    pub profile: String,
    pub key_id: String,
    pub key_name: Option<String>,
    pub replaced_by: Option<String>,
    pub due_at: DateTime<Utc>,
    pub reason: String,
}

/// `scheduled.db`.
pub struct ScheduledRevokes {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const COLUMNS: &str = "id, profile, key_id, key_name, replaced_by, due_at, reason, created_at";

impl ScheduledRevokes {
    pub const FILE_NAME: &'static str = "scheduled.db";

    /// Opens (creating if needed) the file at `path`, or [`FILE_NAME`](Self::FILE_NAME) inside
    /// `path` when it is a folder (made owner-only, as the data folder).
    pub fn open(path: &Path) -> Result<Self> {
        let path = sqlite::file_in(path, Self::FILE_NAME)?;
        let conn = sqlite::open(&path, &SCHEDULED_FILE, |_| Ok(()))?;
        Ok(ScheduledRevokes {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Opens the file in `data_dir` only if it exists: reading marks never creates it.
    pub fn open_existing(data_dir: &Path) -> Result<Option<Self>> {
        let path = data_dir.join(Self::FILE_NAME);
        match path.is_file() {
            true => Self::open(&path).map(Some),
            false => Ok(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schedules a revoke. A key with a revoke already pending is a `conflict` naming it (cancel
    /// that one first): two rotations of one key would leave two replacements.
    pub fn schedule(&self, new: &NewScheduledRevoke) -> Result<ScheduledRevoke> {
        let conn = self.lock();
        if let Some(pending) = find(&conn, &new.profile, &new.key_id).in_file(&self.path)? {
            return Err(Error::Conflict(format!(
                "a revoke of key {} is already scheduled for {}; cancel it first",
                pending.key_id,
                pending
                    .due_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        conn.execute(
            "INSERT INTO scheduled_revokes
                 (profile, key_id, key_name, replaced_by, due_at, reason, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (
                &new.profile,
                &new.key_id,
                &new.key_name,
                &new.replaced_by,
                new.due_at.timestamp_millis(),
                &new.reason,
                time::now().timestamp_millis(),
            ),
        )
        .in_file(&self.path)?;
        find(&conn, &new.profile, &new.key_id)
            .in_file(&self.path)?
            .ok_or_else(|| Error::Store(format!("{}: the new row vanished", self.path.display())))
    }

    /// The pending revokes of `profile` (every profile when `None`), soonest first.
    pub fn list(&self, profile: Option<&str>) -> Result<Vec<ScheduledRevoke>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_revokes WHERE ?1 IS NULL OR profile = ?1
             ORDER BY due_at, id"
        );
        let mut statement = conn.prepare(&sql).in_file(&self.path)?;
        let rows = statement
            .query_map([profile], read)
            .in_file(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>();
        rows.in_file(&self.path)
    }

    /// Those of [`list`](Self::list) due at `now` or before.
    pub fn due(&self, profile: Option<&str>, now: DateTime<Utc>) -> Result<Vec<ScheduledRevoke>> {
        Ok(self
            .list(profile)?
            .into_iter()
            .filter(|s| s.due_at <= now)
            .collect())
    }

    /// The pending revoke of `profile`'s key `key_id`, if any.
    pub fn get(&self, profile: &str, key_id: &str) -> Result<Option<ScheduledRevoke>> {
        find(&self.lock(), profile, key_id).in_file(&self.path)
    }

    /// Removes the pending revoke of `profile`'s key `key_id` (cancelled, or carried out);
    /// `false` when there was none.
    pub fn remove(&self, profile: &str, key_id: &str) -> Result<bool> {
        let removed = self
            .lock()
            .execute(
                "DELETE FROM scheduled_revokes WHERE profile = ?1 AND key_id = ?2",
                (profile, key_id),
            )
            .in_file(&self.path)?;
        Ok(removed > 0)
    }

    /// Key id → due time of `profile`'s pending revokes: the "revoke scheduled" marks.
    pub fn marks(&self, profile: &str) -> Result<HashMap<String, DateTime<Utc>>> {
        Ok(self
            .list(Some(profile))?
            .into_iter()
            .map(|s| (s.key_id, s.due_at))
            .collect())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn find(
    conn: &Connection,
    profile: &str,
    key_id: &str,
) -> rusqlite::Result<Option<ScheduledRevoke>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM scheduled_revokes WHERE profile = ?1 AND key_id = ?2"),
        (profile, key_id),
        read,
    )
    .optional()
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduledRevoke> {
    Ok(ScheduledRevoke {
        id: row.get(0)?,
        profile: row.get(1)?,
        key_id: row.get(2)?,
        key_name: row.get(3)?,
        replaced_by: row.get(4)?,
        due_at: time::from_millis(row.get(5)?, 5)?,
        reason: row.get(6)?,
        created_at: time::from_millis(row.get(7)?, 7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn pending(key_id: &str, due_at: DateTime<Utc>) -> NewScheduledRevoke {
        NewScheduledRevoke {
            profile: "work".into(),
            key_id: key_id.into(),
            key_name: Some("ci".into()),
            replaced_by: Some("key_new".into()),
            due_at,
            reason: "rotated".into(),
        }
    }

    #[test]
    fn a_schedule_survives_reopening_and_is_due_only_at_its_time() {
        let dir = tempfile::tempdir().unwrap();
        let due = time::truncate(Utc::now() + Duration::hours(1));
        {
            let file = ScheduledRevokes::open(dir.path()).unwrap();
            file.schedule(&pending("key_old", due)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ScheduledRevokes::FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let file = ScheduledRevokes::open_existing(dir.path())
            .unwrap()
            .unwrap();
        let listed = file.list(Some("work")).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].due_at, due);
        assert_eq!(listed[0].replaced_by.as_deref(), Some("key_new"));
        assert!(file
            .due(None, due - Duration::seconds(1))
            .unwrap()
            .is_empty());
        assert_eq!(file.due(Some("work"), due).unwrap().len(), 1);
        assert!(file.due(Some("home"), due).unwrap().is_empty());
        assert_eq!(file.marks("work").unwrap().get("key_old"), Some(&due));
    }

    #[test]
    fn a_second_schedule_of_one_key_is_a_conflict_and_remove_cancels() {
        let dir = tempfile::tempdir().unwrap();
        let file = ScheduledRevokes::open(dir.path()).unwrap();
        let due = Utc::now();
        file.schedule(&pending("key_old", due)).unwrap();
        let error = file.schedule(&pending("key_old", due)).unwrap_err();
        assert_eq!(error.code(), keyward_core::ErrorCode::Conflict);
        assert!(error.to_string().contains("key_old"), "{error}");
        assert!(file.remove("work", "key_old").unwrap());
        assert!(!file.remove("work", "key_old").unwrap());
        assert!(file.get("work", "key_old").unwrap().is_none());
    }

    #[test]
    fn reading_marks_never_creates_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ScheduledRevokes::open_existing(dir.path())
            .unwrap()
            .is_none());
        assert!(!dir.path().join(ScheduledRevokes::FILE_NAME).exists());
    }
}
