//! Keyward's databases are their user's alone (issue 12, item 7): on Unix the data folder is
//! `0700` and `keyward.db`, `activity.db`, `key-names.db` and their `-wal`/`-shm` files are
//! `0600` whatever the umask, and files and folders made before that rule are narrowed when
//! opened. A file of another program is refused without being touched, its mode included.
#![cfg(unix)]

mod common;

use keyward_core::KeyNames;
use keyward_local::{ActivityAction, ActivityLog, LocalKeyNames, LocalStore, NewActivity};
use rusqlite::Connection;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The umask most systems use, which leaves a new file readable by everyone: the modes must not
/// depend on a stricter one. (Process-wide; every test in this file wants the same.)
fn usual_umask() {
    // SAFETY: umask only swaps the process's file-creation mask.
    unsafe { libc::umask(0o022) };
}

/// A database and its write-ahead log and shared-memory index.
fn with_journal(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_owned(), with("-wal"), with("-shm")]
}

fn assert_owner_only(db: &Path) {
    for file in with_journal(db) {
        assert!(file.exists(), "{} exists while open", file.display());
        assert_eq!(mode(&file), 0o600, "{}: {:o}", file.display(), mode(&file));
    }
}

fn activity(key_id: &str) -> NewActivity {
    NewActivity {
        profile: "work".into(),
        backend: "local".into(),
        action: ActivityAction::Created,
        key_id: key_id.into(),
        key_name: Some("laptop".into()),
        reason: None,
        error: None,
    }
}

#[test]
fn new_databases_their_journals_and_the_data_folder_are_owner_only() {
    usual_umask();
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");

    let store = LocalStore::open(&data).unwrap();
    store.create_sync(common::named("laptop")).unwrap();
    let log = ActivityLog::open(&data.join(ActivityLog::FILE_NAME)).unwrap();
    log.record(&[activity("k1")]).unwrap();
    let names = LocalKeyNames::open(&data, "work").unwrap();
    names.remember("k1", "laptop").unwrap();

    assert_eq!(mode(&data), 0o700, "{:o}", mode(&data));
    assert_owner_only(store.db_path());
    assert_owner_only(log.path());
    assert_owner_only(names.path());
}

#[test]
fn files_and_folders_made_before_are_narrowed_when_opened() {
    usual_umask();
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    // What an earlier Keyward left: the three databases, readable by everyone.
    {
        let store = LocalStore::open(&data).unwrap();
        store.create_sync(common::named("old key")).unwrap();
        ActivityLog::open(&data)
            .unwrap()
            .record(&[activity("k0")])
            .unwrap();
        LocalKeyNames::open(&data, "work")
            .unwrap()
            .remember("k0", "old key")
            .unwrap();
    }
    let store_db = data.join(LocalStore::FILE_NAME);
    // Another process still has keyward.db open, so its -wal and -shm are there too.
    let other_process = Connection::open(&store_db).unwrap();
    let _: i64 = other_process
        .query_row("SELECT count(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    for entry in fs::read_dir(&data).unwrap() {
        set_mode(&entry.unwrap().path(), 0o644);
    }
    set_mode(&data, 0o755);
    assert_eq!(
        mode(&with_journal(&store_db)[1]),
        0o644,
        "the -wal was left"
    );

    let store = LocalStore::open(&data).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_owner_only(&store_db);
    store.create_sync(common::named("new key")).unwrap();
    assert_eq!(common::row_counts(&store).0, 2, "nothing lost");

    // Closed files: narrowed before the first write, so the new -wal and -shm copy 0600.
    let log = ActivityLog::open(&data).unwrap();
    log.record(&[activity("k1")]).unwrap();
    assert_owner_only(log.path());
    let names = LocalKeyNames::open(&data, "work").unwrap();
    names.remember("k1", "new key").unwrap();
    assert_owner_only(names.path());
    assert_eq!(names.name("k0").as_deref(), Some("old key"));
}

#[test]
fn a_stricter_folder_is_kept() {
    usual_umask();
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    fs::create_dir(&data).unwrap();
    set_mode(&data, 0o700);
    LocalStore::open(&data).unwrap();
    assert_eq!(mode(&data), 0o700);
    // The folder's parent is the user's: left as it was.
    set_mode(temp.path(), 0o755);
    LocalStore::open(&temp.path().join("second")).unwrap();
    assert_eq!(mode(temp.path()), 0o755);
}

#[test]
fn another_programs_database_is_refused_with_its_mode_untouched() {
    usual_umask();
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join(ActivityLog::FILE_NAME);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    set_mode(&path, 0o644);

    let error = ActivityLog::open(&path).unwrap_err();
    assert!(error
        .to_string()
        .contains("holds tables of another program"));
    assert_eq!(mode(&path), 0o644);
}
