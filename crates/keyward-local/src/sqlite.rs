//! The SQLite rules Keyward's own files follow: the local store's `keyward.db`, the activity
//! log's `activity.db`, `scheduled.db` and `key-names.db`. One owner for how such a file is
//! opened (refusing a newer or a foreign file before anything writes to it, WAL,
//! `synchronous=NORMAL`, versioned migrations) and for how user text becomes a `LIKE` pattern. The files, their `-wal`/`-shm` files and their
//! folder are their user's alone (`keyward_core::private_fs`).

use crate::errors::InFile;
use keyward_core::private_fs;
use keyward_core::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a statement waits for another process's lock before failing as busy (the `busy`
/// message in errors.rs says 5 seconds).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One kind of Keyward file: what it is called in refusals and how its schema is built.
pub(crate) struct OwnFile {
    /// What the file is, as in "… is not a Keyward database".
    pub what: &'static str,
    /// Migration N (1-based) takes the file from version N-1 to N, tracked in
    /// `PRAGMA user_version`. Released migrations are never edited: a change is a new one.
    pub migrations: &'static [&'static str],
    /// Added to the refusal when the file cannot use write-ahead logging.
    pub wal_advice: &'static str,
}

impl OwnFile {
    /// The schema version this build writes.
    pub fn latest_version(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// Opens (creating if needed) `path` as `file`: refuses a file written by a newer Keyward or
/// holding another program's tables, unchanged; makes it owner-only; switches to WAL with
/// `synchronous=NORMAL`; runs `configure` (pragmas of this kind of file); brings the schema up to
/// date.
pub(crate) fn open(
    path: &Path,
    file: &OwnFile,
    configure: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> Result<Connection> {
    create_private(path)?;
    let mut conn = Connection::open(path).in_file(path)?;
    conn.busy_timeout(BUSY_TIMEOUT).in_file(path)?;
    // Look at what the file is before anything writes to it (even switching to WAL does).
    let version = user_version(&conn).in_file(path)?;
    if version > file.latest_version() {
        return Err(Error::Store(format!(
            "{} was written by a newer Keyward (schema version {version}; this one knows up to {}); nothing was changed: update Keyward to open it",
            path.display(),
            file.latest_version()
        )));
    }
    if version < 0 || (version == 0 && has_foreign_tables(&conn).in_file(path)?) {
        return Err(Error::Store(format!(
            "{} is not {} (it holds tables of another program); nothing was changed",
            path.display(),
            file.what
        )));
    }
    tighten(path)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
        .in_file(path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Store(format!(
            "{} cannot use write-ahead logging (journal mode stays {mode}){}",
            path.display(),
            file.wal_advice
        )));
    }
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: commits survive a process
    // crash (the OS holds the write) and the file survives a power cut consistent.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .in_file(path)?;
    configure(&conn).in_file(path)?;
    migrate(&mut conn, file.migrations).in_file(path)?;
    Ok(conn)
}

/// Where a Keyward file opened by path goes: `path` itself, or `file_name` inside it when it is a
/// folder. The folder holding it is created if missing and made owner-only (it is the data folder).
pub(crate) fn file_in(path: &Path, file_name: &str) -> Result<PathBuf> {
    let path = if path.is_dir() {
        path.join(file_name)
    } else {
        path.to_owned()
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_data_dir(parent)?;
    }
    Ok(path)
}

/// Creates the folder that holds a Keyward database (and any missing parent) owner-only, and
/// narrows one made before Keyward did so.
pub(crate) fn private_data_dir(dir: &Path) -> Result<()> {
    private_fs::ensure_private_dir(dir).map_err(|e| {
        Error::Store(format!(
            "could not create the data folder {} with owner-only access: {e}",
            dir.display()
        ))
    })
}

/// Before SQLite opens `path`: a missing database is created empty and owner-only, so that it
/// never exists readable by others and SQLite gives the `-wal` and `-shm` files it creates the
/// same mode (it copies the database file's). An existing file is left for [`tighten`], after
/// the checks that must leave a foreign file untouched.
pub(crate) fn create_private(path: &Path) -> Result<()> {
    let created = private_fs::private_open_options()
        .append(true)
        .create_new(true)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Store(format!(
            "could not create {} with owner-only access: {e}",
            path.display()
        ))),
    }
}

/// Narrows the database and its `-wal`/`-shm` files (when present) to owner-only: files made
/// before Keyward did so. Called before the first write, so new `-wal`/`-shm` files copy the
/// narrowed mode.
pub(crate) fn tighten(path: &Path) -> Result<()> {
    let mut files = vec![path.to_owned()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in &files {
        private_fs::tighten_file(file).map_err(|e| {
            Error::Store(format!(
                "could not make {} readable by its owner only: {e}",
                file.display()
            ))
        })?;
    }
    Ok(())
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Whether the file holds tables although it was never migrated: someone else's database.
fn has_foreign_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\')",
        [],
        |row| row.get(0),
    )
}

/// Runs the migrations past the file's version, each in its own transaction. The caller has
/// checked that the file is not newer.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> rusqlite::Result<()> {
    let current = user_version(conn)?;
    for (index, sql) in migrations.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have run this migration while we waited for the write lock.
        if user_version(&tx)? < version {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// `%text%`: a `LIKE` pattern matching any value that contains `text` as typed. `LIKE`'s own
/// wildcards (`%`, `_`) and the escape character `\` in `text` are escaped, so the pattern must
/// be used with `ESCAPE '\'`. (SQLite's `LIKE` ignores case for ASCII letters only.)
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_FILE: OwnFile = OwnFile {
        what: "a Keyward test file",
        migrations: &[
            "CREATE TABLE first (id INTEGER PRIMARY KEY);",
            "CREATE TABLE second (id INTEGER PRIMARY KEY);",
        ],
        wal_advice: "; try another folder",
    };

    fn open_test_file(path: &Path) -> Result<Connection> {
        open(path, &TEST_FILE, |_| Ok(()))
    }

    fn journal_mode(conn: &Connection) -> String {
        conn.pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap()
    }

    /// The file's bytes and the folder's entries: what "nothing was changed" means.
    fn snapshot(path: &Path) -> (Vec<u8>, Vec<std::ffi::OsString>) {
        let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        (std::fs::read(path).unwrap(), names)
    }

    #[test]
    fn a_new_file_is_in_wal_mode_and_fully_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let mut configured = false;
        let conn = open(&path, &TEST_FILE, |conn| {
            // The hook runs before the migrations, on the WAL connection.
            configured = user_version(conn)? == 0 && journal_mode(conn) == "wal";
            Ok(())
        })
        .unwrap();
        assert!(configured);
        assert_eq!(journal_mode(&conn), "wal");
        let synchronous: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(synchronous, 1, "NORMAL");
        assert_eq!(user_version(&conn).unwrap(), 2);
        conn.execute("INSERT INTO second (id) VALUES (1)", [])
            .unwrap();
        drop(conn);

        // Reopening runs nothing twice and keeps the data.
        let conn = open_test_file(&path).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM second", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn an_older_file_gets_only_the_missing_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE first (id INTEGER PRIMARY KEY); INSERT INTO first VALUES (7);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(conn);
        let conn = open_test_file(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        let kept: i64 = conn
            .query_row("SELECT id FROM first", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 7);
    }

    #[test]
    fn a_foreign_file_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("someone-elses.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
        drop(conn);
        let before = snapshot(&path);

        let error = open_test_file(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is not a Keyward test file (it holds tables of another program); nothing was changed",
                path.display()
            )
        );
        assert_eq!(snapshot(&path), before, "no byte and no -wal file written");
        let conn = Connection::open(&path).unwrap();
        assert_eq!(journal_mode(&conn), "delete");
        assert_eq!(user_version(&conn).unwrap(), 0);
    }

    #[test]
    fn a_file_from_a_newer_keyward_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 3;")
            .unwrap();
        drop(conn);
        let before = snapshot(&path);

        let error = open_test_file(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} was written by a newer Keyward (schema version 3; this one knows up to 2); nothing was changed: update Keyward to open it",
                path.display()
            )
        );
        assert_eq!(snapshot(&path), before);
    }

    #[test]
    fn like_patterns_match_the_text_as_typed() {
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("prod"), "%prod%");
        assert_eq!(like_pattern("100%"), "%100\\%%");
        assert_eq!(like_pattern("a_b"), "%a\\_b%");
        assert_eq!(like_pattern("C:\\keys"), "%C:\\\\keys%");
        assert_eq!(like_pattern("ключ_é%🔑"), "%ключ\\_é\\%🔑%");

        // And SQLite reads them that way: wildcards in the text are plain characters.
        let conn = Connection::open_in_memory().unwrap();
        let matches = |text: &str, value: &str| -> bool {
            conn.query_row(
                "SELECT ?2 LIKE ?1 ESCAPE '\\'",
                (like_pattern(text), value),
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(matches("100%", "at 100% load"));
        assert!(!matches("100%", "at 1000 load"));
        assert!(matches("a_b", "xa_by"));
        assert!(!matches("a_b", "axb"));
        assert!(matches("C:\\keys", "in C:\\keys\\prod"));
        assert!(!matches("C:\\keys", "in C:keys"));
        assert!(matches("PROD", "prod-eu"), "ASCII ignores case");
        assert!(matches("ключ_é", "мой ключ_é"));
        assert!(!matches("ключ_é", "мой ключXé"));
    }
}
