//! The activity log: what was created, updated and revoked, by which profile, across every backend. It is
//! what the app's "Audit log" view and `keyward audit` show.
//!
//! Its own SQLite file (`activity.db` in the data dir), apart from the local store's `keyward.db`,
//! because it records remote backends too and must open even where no local store is used. WAL,
//! `synchronous=NORMAL`, a schema versioned with `PRAGMA user_version`: opened as the store is
//! (`sqlite::open`), and its search escapes `LIKE` the same way (`sqlite::like_pattern`).
//!
//! Never a secret: entries hold ids, names, reasons and error texts, and any Keyward secret
//! (`kw_…` with a valid checksum) pasted into one of them is replaced before it is written.

use crate::errors::InFile;
use crate::sqlite::{self, OwnFile};
use chrono::{DateTime, NaiveDate, Utc};
use keyward_core::{key_format, Error, ErrorBody, Result};
use rusqlite::{params_from_iter, Connection, ToSql, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Migration N takes the file from version N-1 to N. Released ones are never edited.
const MIGRATIONS: [&str; 2] = [
    r"
CREATE TABLE activity (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,              -- unix milliseconds
    profile       TEXT    NOT NULL,
    backend       TEXT    NOT NULL,              -- the backend kind: local, clerk, ...
    action        TEXT    NOT NULL CHECK (action IN ('created', 'revoked', 'revoke_failed')),
    key_id        TEXT    NOT NULL,
    key_name      TEXT,
    reason        TEXT,
    error_code    TEXT,
    error_message TEXT
);
CREATE INDEX activity_at ON activity (at);
CREATE INDEX activity_key_id ON activity (key_id);
CREATE TABLE expiry_notifications (
    profile TEXT    NOT NULL,
    key_id  TEXT    NOT NULL,
    day     TEXT    NOT NULL,                    -- YYYY-MM-DD
    at      INTEGER NOT NULL,
    UNIQUE (profile, key_id, day)
);
",
    r"
-- 'updated' (a key's name, description, expiry or scopes changed; `reason` says what). SQLite
-- cannot alter a CHECK constraint, so the table is rebuilt, every row and id kept.
CREATE TABLE activity_v2 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    profile       TEXT    NOT NULL,
    backend       TEXT    NOT NULL,
    action        TEXT    NOT NULL
                  CHECK (action IN ('created', 'revoked', 'revoke_failed', 'updated')),
    key_id        TEXT    NOT NULL,
    key_name      TEXT,
    reason        TEXT,
    error_code    TEXT,
    error_message TEXT
);
INSERT INTO activity_v2 SELECT id, at, profile, backend, action, key_id, key_name, reason,
    error_code, error_message FROM activity;
DROP TABLE activity;
ALTER TABLE activity_v2 RENAME TO activity;
CREATE INDEX activity_at ON activity (at);
CREATE INDEX activity_key_id ON activity (key_id);
",
];

/// `activity.db`.
const ACTIVITY_FILE: OwnFile = OwnFile {
    what: "a Keyward activity log",
    migrations: &MIGRATIONS,
    wal_advice: "",
};

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityAction {
    Created,
    Revoked,
    RevokeFailed,
    /// A key's name, description, expiry or scopes changed; the entry's `reason` says what.
    Updated,
}

impl ActivityAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::Created => "created",
            ActivityAction::Revoked => "revoked",
            ActivityAction::RevokeFailed => "revoke_failed",
            ActivityAction::Updated => "updated",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(ActivityAction::Created),
            "revoked" => Some(ActivityAction::Revoked),
            "revoke_failed" => Some(ActivityAction::RevokeFailed),
            "updated" => Some(ActivityAction::Updated),
            _ => None,
        }
    }
}

/// One thing to record. `at` is the time of recording.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub profile: String,
    /// The backend kind (`KeyBackend::kind`): `local`, `clerk`, `propelauth`, `freesewing`.
    pub backend: String,
    pub action: ActivityAction,
    pub key_id: String,
    pub key_name: Option<String>,
    /// The revoke reason; for [`ActivityAction::Updated`], what changed (never a secret).
    pub reason: Option<String>,
    /// Why, for [`ActivityAction::RevokeFailed`].
    pub error: Option<ErrorBody>,
}

/// A recorded entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub profile: String,
    pub backend: String,
    pub action: ActivityAction,
    pub key_id: String,
    pub key_name: Option<String>,
    pub reason: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Which entries to list: newest first, `limit` (1 to 1000, default 100) from `offset`.
/// `search` is a case-insensitive substring of the profile, key id, key name, reason or action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityQuery {
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u64,
}

impl Default for ActivityQuery {
    fn default() -> Self {
        ActivityQuery {
            search: None,
            limit: 100,
            offset: 0,
        }
    }
}

impl ActivityQuery {
    pub const MAX_LIMIT: u32 = 1000;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// Entries matching the search in all.
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// RFC 4180, with a header row; cells that a spreadsheet would run as a formula are prefixed
    /// with `'`.
    Csv,
    /// One JSON array of entries.
    Json,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            _ => Err(Error::invalid("format", "use csv or json")),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// The activity log. `Send + Sync`: one connection behind a mutex.
pub struct ActivityLog {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for ActivityLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityLog")
            .field("path", &self.path)
            .finish()
    }
}

const COLUMNS: &str =
    "id, at, profile, backend, action, key_id, key_name, reason, error_code, error_message";

impl ActivityLog {
    pub const FILE_NAME: &'static str = "activity.db";

    /// Opens (creating if needed) the log at `path`. If `path` is a folder, the log is
    /// [`FILE_NAME`](Self::FILE_NAME) inside it. Missing parent folders are created; the folder
    /// holding the log is made owner-only (it is the data folder).
    pub fn open(path: &Path) -> Result<Self> {
        let path = sqlite::file_in(path, Self::FILE_NAME)?;
        let conn = sqlite::open(&path, &ACTIVITY_FILE, |_| Ok(()))?;
        Ok(ActivityLog {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// An empty log in memory, gone when dropped: for exporting when no file exists yet, and for
    /// tests.
    pub fn in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let mut conn = Connection::open_in_memory().in_file(&path)?;
        sqlite::migrate(&mut conn, &MIGRATIONS).in_file(&path)?;
        Ok(ActivityLog {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `entries`, all or none, in one transaction.
    pub fn record(&self, entries: &[NewActivity]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let at = Utc::now().timestamp_millis();
        let mut conn = self.lock();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO activity (at, profile, backend, action, key_id, key_name, reason,
                                           error_code, error_message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for entry in entries {
                    insert.execute((
                        at,
                        scrub(&entry.profile),
                        scrub(&entry.backend),
                        entry.action.as_str(),
                        scrub(&entry.key_id),
                        entry.key_name.as_deref().map(scrub),
                        entry.reason.as_deref().map(scrub),
                        entry.error.as_ref().map(|e| e.code.as_str()),
                        entry.error.as_ref().map(|e| scrub(&error_text(e))),
                    ))?;
                }
            }
            tx.commit()
        };
        write(&mut conn).in_file(&self.path)
    }

    /// A page of entries, newest first.
    pub fn list(&self, query: &ActivityQuery) -> Result<ActivityPage> {
        if query.limit == 0 || query.limit > ActivityQuery::MAX_LIMIT {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}", ActivityQuery::MAX_LIMIT),
            ));
        }
        let filter = Filter::new(query.search.as_deref())?;
        let offset =
            i64::try_from(query.offset).map_err(|_| Error::invalid("offset", "is too large"))?;
        let conn = self.lock();
        let read = || -> rusqlite::Result<ActivityPage> {
            let total: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM activity {}", filter.clause),
                params_from_iter(filter.params()),
                |row| row.get(0),
            )?;
            let mut statement = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM activity {} ORDER BY at DESC, id DESC LIMIT {} OFFSET {offset}",
                filter.clause, query.limit
            ))?;
            let entries = statement
                .query_map(params_from_iter(filter.params()), entry_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ActivityPage {
                entries,
                total: total.max(0) as u64,
            })
        };
        read().in_file(&self.path)
    }

    /// Writes every entry matching `search` to `out`, newest first, and returns how many.
    pub fn export(
        &self,
        search: Option<&str>,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<usize> {
        let filter = Filter::new(search)?;
        let entries = {
            let conn = self.lock();
            let read = || -> rusqlite::Result<Vec<ActivityEntry>> {
                let mut statement = conn.prepare(&format!(
                    "SELECT {COLUMNS} FROM activity {} ORDER BY at DESC, id DESC",
                    filter.clause
                ))?;
                let rows =
                    statement.query_map(params_from_iter(filter.params()), entry_from_row)?;
                rows.collect()
            };
            read().in_file(&self.path)?
        };
        let written = match format {
            ExportFormat::Csv => write_csv(&entries, out),
            ExportFormat::Json => serde_json::to_writer_pretty(&mut *out, &entries)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n")),
        };
        written
            .and_then(|()| out.flush())
            .map_err(|e| Error::Unexpected(format!("cannot write the export: {e}")))?;
        Ok(entries.len())
    }

    /// Whether `(profile, key_id, day)` was not notified yet; if so it is marked, so each key is
    /// notified at most once per day, across processes.
    pub fn claim_expiry_notification(
        &self,
        profile: &str,
        key_id: &str,
        day: NaiveDate,
    ) -> Result<bool> {
        let conn = self.lock();
        let inserted = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO expiry_notifications (profile, key_id, day, at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut insert| {
                insert.execute((
                    profile,
                    key_id,
                    day.format("%Y-%m-%d").to_string(),
                    Utc::now().timestamp_millis(),
                ))
            })
            .in_file(&self.path)?;
        Ok(inserted == 1)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The WHERE clause of a search, with its parameter.
struct Filter {
    clause: &'static str,
    pattern: Option<String>,
}

impl Filter {
    const SEARCH_MAX_CHARS: usize = 200;

    fn new(search: Option<&str>) -> Result<Self> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let Some(search) = search else {
            return Ok(Filter {
                clause: "",
                pattern: None,
            });
        };
        if search.chars().count() > Self::SEARCH_MAX_CHARS {
            return Err(Error::invalid(
                "search",
                format!("is longer than {} characters", Self::SEARCH_MAX_CHARS),
            ));
        }
        if search.chars().any(char::is_control) {
            return Err(Error::invalid("search", "contains control characters"));
        }
        Ok(Filter {
            // LIKE is case-insensitive for ASCII; the pattern's wildcards are escaped.
            clause: "WHERE profile LIKE ?1 ESCAPE '\\' OR key_id LIKE ?1 ESCAPE '\\'
                        OR key_name LIKE ?1 ESCAPE '\\' OR reason LIKE ?1 ESCAPE '\\'
                        OR action LIKE ?1 ESCAPE '\\'",
            pattern: Some(sqlite::like_pattern(search)),
        })
    }

    fn params(&self) -> impl Iterator<Item = &dyn ToSql> {
        self.pattern.iter().map(|p| p as &dyn ToSql)
    }
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ActivityEntry> {
    let at_ms: i64 = row.get(1)?;
    let action: String = row.get(4)?;
    Ok(ActivityEntry {
        id: row.get(0)?,
        at: DateTime::from_timestamp_millis(at_ms)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(1, at_ms))?,
        profile: row.get(2)?,
        backend: row.get(3)?,
        action: ActivityAction::parse(&action).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown action {action:?}").into(),
            )
        })?,
        key_id: row.get(5)?,
        key_name: row.get(6)?,
        reason: row.get(7)?,
        error_code: row.get(8)?,
        error_message: row.get(9)?,
    })
}

/// `field: message` where the error names a field.
fn error_text(error: &ErrorBody) -> String {
    match &error.field {
        Some(field) => format!("{field}: {}", error.message),
        None => error.message.clone(),
    }
}

const SECRET_REMOVED: &str = "[secret removed]";

/// `text` with every Keyward secret in it replaced.
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(key_format::PREFIX) {
        let candidate = rest.get(start..start + key_format::SECRET_LEN);
        match candidate.filter(|c| key_format::check(c).is_ok()) {
            Some(_) => {
                out.push_str(&rest[..start]);
                out.push_str(SECRET_REMOVED);
                rest = &rest[start + key_format::SECRET_LEN..];
            }
            None => {
                let next = start + key_format::PREFIX.len();
                out.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
    }
    out.push_str(rest);
    out
}

const CSV_HEADER: [&str; 10] = [
    "id",
    "at",
    "profile",
    "backend",
    "action",
    "key_id",
    "key_name",
    "reason",
    "error_code",
    "error_message",
];

fn write_csv(entries: &[ActivityEntry], out: &mut dyn Write) -> std::io::Result<()> {
    write_csv_row(out, CSV_HEADER.iter().map(|h| (*h).to_owned()))?;
    for entry in entries {
        write_csv_row(
            out,
            [
                entry.id.to_string(),
                entry
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                entry.profile.clone(),
                entry.backend.clone(),
                entry.action.as_str().to_owned(),
                entry.key_id.clone(),
                entry.key_name.clone().unwrap_or_default(),
                entry.reason.clone().unwrap_or_default(),
                entry.error_code.clone().unwrap_or_default(),
                entry.error_message.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// One CRLF-terminated row (RFC 4180).
fn write_csv_row(
    out: &mut dyn Write,
    cells: impl IntoIterator<Item = String>,
) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&csv_cell(&cell));
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

/// A cell, quoted when it must be, and defused when a spreadsheet would read it as a formula
/// (`=`, `+`, `-`, `@`, or a tab or carriage return first get a leading `'`).
pub(crate) fn csv_cell(text: &str) -> String {
    let defused;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        defused = format!("'{text}");
        defused.as_str()
    } else {
        text
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_log_keeps_its_rows_and_ids_and_takes_updates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ActivityLog::FILE_NAME);
        let mut conn = Connection::open(&path).unwrap();
        sqlite::migrate(&mut conn, &MIGRATIONS[..1]).unwrap();
        conn.execute_batch(
            "INSERT INTO activity (id, at, profile, backend, action, key_id)
             VALUES (7, 1, 'p', 'local', 'revoked', 'key_a');",
        )
        .unwrap();
        drop(conn);
        let log = ActivityLog::open(&path).unwrap();
        log.record(&[NewActivity {
            profile: "p".into(),
            backend: "local".into(),
            action: ActivityAction::Updated,
            key_id: "key_a".into(),
            key_name: None,
            reason: Some("expiry → never".into()),
            error: None,
        }])
        .unwrap();
        let entries = log.list(&ActivityQuery::default()).unwrap().entries;
        let kept: Vec<_> = entries.iter().map(|e| (e.id, e.action)).collect();
        assert_eq!(
            kept,
            [(8, ActivityAction::Updated), (7, ActivityAction::Revoked)]
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("a=b"), "a=b");
    }

    #[test]
    fn secrets_are_scrubbed() {
        let secret = key_format::generate().unwrap();
        let secret = secrecy::ExposeSecret::expose_secret(&secret).to_owned();
        assert_eq!(
            scrub(&format!("oops {secret} pasted")),
            "oops [secret removed] pasted"
        );
        assert_eq!(scrub("kw_ not a secret kw_"), "kw_ not a secret kw_");
        assert_eq!(scrub(&format!("kw_{secret}")), "kw_[secret removed]");
    }
}
