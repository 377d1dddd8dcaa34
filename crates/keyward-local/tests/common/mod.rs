//! Helpers shared by the integration tests: real SQLite files in temporary folders.
#![allow(dead_code)] // each test file uses its own subset

use keyward_core::{Expiration, ExpiryPreset, NewKey};
use keyward_local::LocalStore;
use rusqlite::Connection;
use tempfile::TempDir;

pub fn temp_store() -> (TempDir, LocalStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(dir.path()).expect("open store");
    (dir, store)
}

pub fn named(name: &str) -> NewKey {
    NewKey::named(name, Expiration::Preset(ExpiryPreset::OneMonth))
}

/// A second, independent connection to the store's file.
pub fn peek(store: &LocalStore) -> Connection {
    Connection::open(store.db_path()).expect("open the file directly")
}

/// (rows in keys, rows in the trail, whose table is `audit`), read straight from the file.
pub fn row_counts(store: &LocalStore) -> (i64, i64) {
    let conn = peek(store);
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    };
    (count("keys"), count("audit"))
}
