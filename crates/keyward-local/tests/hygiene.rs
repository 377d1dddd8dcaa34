//! No secret ever reaches the disk: every byte of every file the store writes is scanned.

mod common;

use keyward_core::{key_format, ListQuery, NewKey};
use keyward_local::LocalStore;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::path::Path;

/// The forms a leaked secret could take: as is, without its `kw_` prefix, its random part alone,
/// and hex-encoded.
fn leak_forms(secret: &SecretString) -> Vec<Vec<u8>> {
    let bytes = secret.expose_secret().as_bytes();
    let body = &bytes[key_format::PREFIX.len()..];
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        bytes.to_vec(),
        body.to_vec(),
        body[..key_format::RANDOM_LEN].to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
    ]
}

fn assert_no_leak(dir: &Path, secrets: &[SecretString]) -> usize {
    let forms: Vec<Vec<u8>> = secrets.iter().flat_map(leak_forms).collect();
    // Index the forms by their first bytes so one pass over each file finds any of them.
    const HEAD: usize = 8;
    let heads: HashSet<&[u8]> = forms.iter().map(|f| &f[..HEAD]).collect();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += 1;
        for (at, window) in bytes.windows(HEAD).enumerate() {
            if heads.contains(window) {
                let leaked = forms.iter().any(|f| bytes[at..].starts_with(f));
                assert!(!leaked, "{} holds a secret at byte {at}", path.display());
            }
        }
    }
    scanned
}

#[test]
fn no_file_of_the_store_holds_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let mut secrets = Vec::new();
    for i in 0..60 {
        let mut new = NewKey::named(format!("key {i}"), Default::default());
        new.description = Some(format!("description {i}"));
        let created = store.create_sync(new).unwrap();
        if i % 3 == 0 {
            store.verify_sync(&created.secret).unwrap();
        }
        if i % 5 == 0 {
            store.revoke_sync(&created.key.id, Some("rotated")).unwrap();
            store.verify_sync(&created.secret).unwrap();
        }
        // Misuse that must not leak either: the secret passed where an id belongs.
        let _ = store.get_sync(created.secret.expose_secret());
        secrets.push(created.secret);
    }
    store.list_sync(&ListQuery::default()).unwrap();

    // While open: the database, its write-ahead log and shared-memory index.
    let scanned = assert_no_leak(dir.path(), &secrets);
    assert!(
        scanned >= 3,
        "expected keyward.db, -wal and -shm, scanned {scanned}"
    );
    // After close, once the log has been checkpointed into the database.
    drop(store);
    assert_no_leak(dir.path(), &secrets);
}

#[test]
fn the_scan_finds_a_planted_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = key_format::generate().unwrap();
    let hex: String = secret
        .expose_secret()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(dir.path().join("planted"), format!("noise {hex} noise")).unwrap();
    let found =
        std::panic::catch_unwind(|| assert_no_leak(dir.path(), std::slice::from_ref(&secret)));
    assert!(found.is_err(), "the scan missed a hex-encoded secret");
}
