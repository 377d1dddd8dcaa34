//! Opening files: migrations from older schemas, and files this version must not touch.

mod common;

use keyward_core::{key_format, ErrorCode, ListQuery, Verification};
use keyward_local::LocalStore;
use rusqlite::Connection;
use secrecy::ExposeSecret;

const MIGRATION_1: &str = include_str!("../src/migrations/001_keys_and_audit.sql");

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_store_is_at_the_latest_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    let store = LocalStore::open(&data_dir).unwrap();
    assert_eq!(store.db_path(), data_dir.join("keyward.db"));
    let conn = common::peek(&store);
    assert_eq!(user_version(&conn), 4);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    let id = store.create_sync(common::named("kept")).unwrap().key.id;
    drop(store);
    let reopened = LocalStore::open_file(&data_dir.join("keyward.db")).unwrap();
    assert_eq!(reopened.get_sync(&id).unwrap().name, "kept");
}

#[test]
fn a_version_1_database_is_migrated_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.db");
    let secret = key_format::generate().unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATION_1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for (i, name) in ["Legacy deploy", "legacy backup", "other"]
            .iter()
            .enumerate()
        {
            let hash = if i == 0 {
                key_format::hash(&secret)
            } else {
                key_format::hash(&key_format::generate().unwrap())
            };
            conn.execute(
                "INSERT INTO keys (id, secret_hash, stub, name, created_at) VALUES (?1, ?2, 'kw_…abcd', ?3, ?4)",
                (format!("key_000000000000000{i}"), hash, name, 1_700_000_000_000i64 + i as i64),
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO audit (at, action, key_id, detail) VALUES (1, 'create', 'key_0000000000000000', 'Legacy deploy')",
            [],
        )
        .unwrap();
    }

    let store = LocalStore::open_file(&path).unwrap();
    assert_eq!(user_version(&common::peek(&store)), 4);
    let page = store
        .list_sync(&ListQuery {
            search: Some("LEGACY".into()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(
        page.total,
        Some(2),
        "the name index was built from existing rows"
    );
    assert_eq!(
        store.get_sync("key_0000000000000002").unwrap().name,
        "other"
    );
    assert!(matches!(
        store.verify_sync(&secret).unwrap(),
        Verification::Valid(key) if key.id == "key_0000000000000000"
    ));
    assert_eq!(store.trail_sync(10).unwrap().len(), 1);
    // New keys are indexed by the migrated triggers.
    store.create_sync(common::named("legacy laptop")).unwrap();
    let page = store
        .list_sync(&ListQuery {
            search: Some("legacy".into()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(page.total, Some(3));
}

#[test]
fn a_database_from_a_newer_keyward_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE keys (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = LocalStore::open_file(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    let message = err.to_string();
    assert!(message.contains("newer Keyward"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!dir.path().join("keyward.db-wal").exists());
}

#[test]
fn a_file_that_is_not_sqlite_gives_a_clean_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.db");
    let junk = b"this is not a database, just some notes\n".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    let err = LocalStore::open_file(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    assert!(
        err.to_string().contains("is not a Keyward database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn another_programs_database_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT);")
        .unwrap();
    let err = LocalStore::open_file(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    assert!(
        err.to_string().contains("is not a Keyward database"),
        "{err}"
    );
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn), 0);
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn the_store_works_from_several_threads() {
    let (_dir, store) = common::temp_store();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let created = store
                        .create_sync(common::named(&format!("t{t} k{i}")))
                        .unwrap();
                    assert!(store.verify_sync(&created.secret).unwrap().is_valid());
                    assert!(!created.secret.expose_secret().is_empty());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(common::row_counts(&store), (100, 100));
}
