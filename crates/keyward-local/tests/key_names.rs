//! The names Keyward keeps for keys whose server keeps none (PropelAuth's frontend API).

use keyward_core::{ErrorCode, KeyNames};
use keyward_local::LocalKeyNames;

#[test]
fn a_name_is_kept_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let names = LocalKeyNames::open(dir.path(), "work").unwrap();
        names.remember("3f9c1e0a", "laptop").unwrap();
    }
    let names = LocalKeyNames::open(dir.path(), "work").unwrap();
    assert_eq!(names.name("3f9c1e0a").as_deref(), Some("laptop"));
    assert_eq!(names.name("unknown"), None);
}

#[test]
fn remembering_again_replaces_and_forgetting_removes() {
    let dir = tempfile::tempdir().unwrap();
    let names = LocalKeyNames::open(dir.path(), "work").unwrap();
    names.remember("a", "first").unwrap();
    names.remember("a", "second").unwrap();
    names.remember("b", "other").unwrap();
    assert_eq!(names.name("a").as_deref(), Some("second"));
    names.forget("a").unwrap();
    names.forget("never-kept").unwrap();
    assert_eq!(names.name("a"), None);
    let all = names.all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all.get("b").map(String::as_str), Some("other"));
}

#[test]
fn each_profile_keeps_its_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let work = LocalKeyNames::open(dir.path(), "work").unwrap();
    let home = LocalKeyNames::open(dir.path(), "home").unwrap();
    work.remember("same-id", "work name").unwrap();
    home.remember("same-id", "home name").unwrap();
    assert_eq!(work.name("same-id").as_deref(), Some("work name"));
    assert_eq!(home.name("same-id").as_deref(), Some("home name"));
    work.forget("same-id").unwrap();
    assert_eq!(home.name("same-id").as_deref(), Some("home name"));
    assert!(work.all().unwrap().is_empty());
}

#[test]
fn two_handles_on_one_file_see_each_others_names() {
    // The CLI and the app may have the file open at once.
    let dir = tempfile::tempdir().unwrap();
    let cli = LocalKeyNames::open(dir.path(), "work").unwrap();
    let app = LocalKeyNames::open(dir.path(), "work").unwrap();
    cli.remember("k1", "from the CLI").unwrap();
    assert_eq!(app.name("k1").as_deref(), Some("from the CLI"));
}

#[test]
fn names_keep_any_text_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let names = LocalKeyNames::open(dir.path(), "work").unwrap();
    let odd = "ключ 🔑 '; DROP TABLE key_names; --";
    names.remember("k", odd).unwrap();
    assert_eq!(names.name("k").as_deref(), Some(odd));
}

#[cfg(unix)]
#[test]
fn the_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let names = LocalKeyNames::open(dir.path(), "work").unwrap();
    names.remember("k", "n").unwrap();
    let mode = std::fs::metadata(names.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{:o}", mode);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LocalKeyNames::FILE_NAME);
    std::fs::write(&path, b"not sqlite at all, just some bytes in a text file").unwrap();
    let error = LocalKeyNames::open(dir.path(), "work").unwrap_err();
    assert_eq!(error.code(), ErrorCode::Store);
    assert!(error.to_string().contains("key-names.db"), "{error}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"not sqlite at all, just some bytes in a text file"
    );
}

#[test]
fn the_file_holds_metadata_only() {
    // The table has the profile, the key id and the name: no column for anything secret.
    let dir = tempfile::tempdir().unwrap();
    let names = LocalKeyNames::open(dir.path(), "work").unwrap();
    names.remember("k", "n").unwrap();
    let conn = rusqlite::Connection::open(names.path()).unwrap();
    let mut statement = conn.prepare("PRAGMA table_info(key_names)").unwrap();
    let columns: Vec<String> = statement
        .query_map([], |row| row.get(1))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(columns, ["profile", "key_id", "name"]);
}
