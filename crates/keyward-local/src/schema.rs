//! Versioned migrations, tracked in `PRAGMA user_version`.
//!
//! Migration N (1-based) lives in `migrations/` and takes the file from version N-1 to N, in its
//! own transaction. Released migrations are never edited: a change is a new migration.

use rusqlite::{Connection, TransactionBehavior};

pub(crate) const MIGRATIONS: [&str; 3] = [
    include_str!("migrations/001_keys_and_audit.sql"),
    include_str!("migrations/002_name_search.sql"),
    include_str!("migrations/003_owner_and_usage_indexes.sql"),
];

/// The schema version this build writes.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Whether the file holds tables although it was never migrated: someone else's database.
pub(crate) fn has_foreign_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\')",
        [],
        |row| row.get(0),
    )
}

/// Brings the file up to [`LATEST_VERSION`]. The caller has checked that it is not newer.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current = user_version(conn)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
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
