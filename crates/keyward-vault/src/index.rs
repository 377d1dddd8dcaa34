//! Which keys have a secret saved in the keychain: metadata only, never a secret.
//!
//! The key table marks "saved in keychain" per row; asking the keychain once per row would be slow
//! and, with a locked keyring, would prompt. So [`Keychain`](crate::Keychain) records every save and
//! forget here, in `<data dir>/keychain-index.json`: `{"<profile>": ["<key id>", ...]}`.
//!
//! The keychain stays the truth: the index is a hint that
//! [`Keychain::key_secret`](crate::Keychain::key_secret) corrects when it finds it wrong.
//!
//! The app and any number of CLI processes share the file. Every change is a read-modify-write
//! under an OS file lock on [`INDEX_LOCK_FILE_NAME`], re-reading the file once the lock is held,
//! so no process drops another's entries; the file is replaced atomically, so readers need no
//! lock. Both files are owner-only (`keyward_core::private_fs`).

use keyward_core::private_fs::{self, FileLock};
use keyward_core::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The file name inside the data directory.
pub const INDEX_FILE_NAME: &str = "keychain-index.json";
/// The companion file whose OS lock serializes changes to the index across processes. It is
/// never replaced (a lock on a file that a rename replaces would exclude nobody).
pub const INDEX_LOCK_FILE_NAME: &str = "keychain-index.json.lock";

type Entries = BTreeMap<String, BTreeSet<String>>;

/// The on-disk index of saved key secrets. Cheap to clone: clones share one in-memory copy.
#[derive(Debug, Clone)]
pub struct SavedSecretIndex {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    lock_path: PathBuf,
    entries: Mutex<Entries>,
}

impl SavedSecretIndex {
    /// Opens (or starts) the index in `data_dir`, creating the directory when it is missing. The
    /// directory is made owner-only, and an index written before Keyward did so is narrowed.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self> {
        let data_dir = data_dir.as_ref();
        private_fs::ensure_private_dir(data_dir).map_err(|e| {
            Error::Store(format!(
                "cannot create the data directory {} with owner-only access: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(INDEX_FILE_NAME);
        let lock_path = data_dir.join(INDEX_LOCK_FILE_NAME);
        for file in [&path, &lock_path] {
            private_fs::tighten_file(file).map_err(|e| {
                Error::Store(format!(
                    "cannot make {} readable by its owner only: {e}",
                    file.display()
                ))
            })?;
        }
        let entries = read_entries(&path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                lock_path,
                entries: Mutex::new(entries),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the key's secret is recorded as saved.
    pub fn has(&self, profile: &str, key_id: &str) -> bool {
        self.lock()
            .get(profile)
            .is_some_and(|ids| ids.contains(key_id))
    }

    /// The ids of the profile's keys that have a saved secret, sorted.
    pub fn ids(&self, profile: &str) -> Vec<String> {
        self.lock()
            .get(profile)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Re-reads the file, to pick up what another process (the CLI, the app) recorded. Needs no
    /// lock: the file is only ever replaced whole.
    pub fn reload(&self) -> Result<()> {
        let fresh = read_entries(&self.inner.path)?;
        *self.lock() = fresh;
        Ok(())
    }

    /// Records that the key's secret is saved. [`Keychain`](crate::Keychain) calls this after
    /// each save; the index is only a hint, so a wrong mark costs a keychain look-up, no secret.
    pub fn mark_saved(&self, profile: &str, key_id: &str) -> Result<()> {
        self.update(|entries| {
            entries
                .entry(profile.to_owned())
                .or_default()
                .insert(key_id.to_owned())
        })
    }

    /// Records that the key's secret is no longer saved ([`Keychain`](crate::Keychain) calls this
    /// after each forget).
    pub fn mark_forgotten(&self, profile: &str, key_id: &str) -> Result<()> {
        self.update(|entries| {
            let Some(ids) = entries.get_mut(profile) else {
                return false;
            };
            let removed = ids.remove(key_id);
            if ids.is_empty() {
                entries.remove(profile);
            }
            removed
        })
    }

    /// Read-modify-write under this process's lock and then the file lock, re-reading the file
    /// once both are held so that a change another process made since is kept, not overwritten.
    fn update(&self, change: impl FnOnce(&mut Entries) -> bool) -> Result<()> {
        let mut entries = self.lock();
        let _file_lock = FileLock::acquire(&self.inner.lock_path).map_err(|e| {
            Error::Store(format!(
                "cannot lock {}: {e}",
                self.inner.lock_path.display()
            ))
        })?;
        *entries = read_entries(&self.inner.path)?;
        if change(&mut entries) {
            write_atomically(&self.inner.path, &entries)?;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The map is always left consistent, so a panic elsewhere must not disable the index.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn read_entries(path: &Path) -> Result<Entries> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Entries::new()),
        Err(e) => return Err(Error::Store(format!("cannot read {}: {e}", path.display()))),
    };
    // A damaged index only loses "saved" marks, which reading a key's secret restores; refusing
    // to start over it would block the keychain for no gain.
    Ok(serde_json::from_slice(&bytes).unwrap_or_default())
}

/// Owner-only temp file in the same directory + rename, so a reader never sees a half-written
/// index. The caller holds the file lock, so the temp name (one per process) is free.
fn write_atomically(path: &Path, entries: &Entries) -> Result<()> {
    let store_error =
        |e: std::io::Error| Error::Store(format!("cannot write {}: {e}", path.display()));
    let json = serde_json::to_vec_pretty(entries)
        .map_err(|e| Error::Unexpected(format!("cannot encode the keychain index: {e}")))?;
    let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    // A temp file left by a crashed run of this process id: its mode may not be ours.
    let _ = fs::remove_file(&tmp);
    let mut file = private_fs::create_new_private_file(&tmp).map_err(store_error)?;
    let written = file
        .write_all(&json)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(store_error(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_saves_and_forgets_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let index = SavedSecretIndex::open(dir.path()).unwrap();
        assert!(!index.has("work", "k1"));
        index.mark_saved("work", "k2").unwrap();
        index.mark_saved("work", "k1").unwrap();
        index.mark_saved("home", "k9").unwrap();
        assert!(index.has("work", "k1"));
        assert_eq!(index.ids("work"), ["k1", "k2"]);

        let reopened = SavedSecretIndex::open(dir.path()).unwrap();
        assert_eq!(reopened.ids("work"), ["k1", "k2"]);
        reopened.mark_forgotten("home", "k9").unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(reopened.path()).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"work": ["k1", "k2"]}));
    }

    #[test]
    fn keeps_what_another_process_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let app = SavedSecretIndex::open(dir.path()).unwrap();
        let cli = SavedSecretIndex::open(dir.path()).unwrap();
        cli.mark_saved("work", "from-cli").unwrap();
        app.mark_saved("work", "from-app").unwrap();
        assert_eq!(app.ids("work"), ["from-app", "from-cli"]);
        assert!(!cli.has("work", "from-app"));
        cli.reload().unwrap();
        assert!(cli.has("work", "from-app"));
    }

    #[test]
    fn a_damaged_file_starts_an_empty_index() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(INDEX_FILE_NAME), b"{not json").unwrap();
        let index = SavedSecretIndex::open(dir.path()).unwrap();
        assert!(index.ids("work").is_empty());
        index.mark_saved("work", "k1").unwrap();
        assert!(SavedSecretIndex::open(dir.path())
            .unwrap()
            .has("work", "k1"));
    }

    #[test]
    fn leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let index = SavedSecretIndex::open(dir.path()).unwrap();
        index.mark_saved("work", "k1").unwrap();
        index.mark_forgotten("work", "k1").unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, [INDEX_FILE_NAME, INDEX_LOCK_FILE_NAME]);
    }
}
