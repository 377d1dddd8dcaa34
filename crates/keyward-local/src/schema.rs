//! The local store's schema: versioned migrations, tracked in `PRAGMA user_version` and run by
//! [`sqlite::open`](crate::sqlite::open).
//!
//! Migration N (1-based) lives in `migrations/` and takes the file from version N-1 to N, in its
//! own transaction. Released migrations are never edited: a change is a new migration.

use crate::sqlite::OwnFile;

const MIGRATIONS: [&str; 4] = [
    include_str!("migrations/001_keys_and_audit.sql"),
    include_str!("migrations/002_name_search.sql"),
    include_str!("migrations/003_owner_and_usage_indexes.sql"),
    include_str!("migrations/004_trail_records_updates.sql"),
];

/// `keyward.db`.
pub(crate) const STORE_FILE: OwnFile = OwnFile {
    what: "a Keyward database",
    migrations: &MIGRATIONS,
    wal_advice: "; is it on a network drive?",
};
