//! Keyward's files are its user's alone: the one owner of that rule, and of the lock that keeps
//! two Keyward processes from overwriting each other's edits of a shared file.
//!
//! On Unix a folder Keyward keeps its data in is `0700` and every file it writes is `0600`,
//! whatever the umask; files and folders made before this rule existed are narrowed when opened.
//! Narrowing only removes access (group and others, and the execute bit of a file): a stricter
//! mode the user chose is kept. Elsewhere these calls create files and folders with the
//! platform's defaults (on Windows, the user profile's ACLs already keep other users out).
//!
//! Standard library only, so every crate can use it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of a folder Keyward keeps its data in.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// The mode of every file Keyward writes.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` (and any missing parent, owner-only) and narrows `dir` itself to owner-only
/// access. Existing parents are left as they are: they are the user's folders.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    create_private_dir_all(dir)?;
    narrow(dir, PRIVATE_DIR_MODE)
}

/// Creates `dir` and any missing parent owner-only, and leaves an existing `dir` alone: for a
/// folder that may be the user's own (the one holding the config file, an export's folder).
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir)
}

/// Options that create a file owner-only (the mode applies only when the file is created): add
/// `write`, `create`/`create_new`, … as needed.
pub fn private_open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options
}

/// Creates `path` as a new, owner-only file open for writing; never opens an existing file.
pub fn create_new_private_file(path: &Path) -> io::Result<File> {
    private_open_options()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Creates `path` empty and owner-only when it is missing, and narrows an existing file to
/// owner-only. For a file another program then opens by name (SQLite, which gives the database's
/// `-wal` and `-shm` files the database file's mode).
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    private_open_options()
        .append(true)
        .create(true)
        .open(path)?;
    tighten_file(path)
}

/// Narrows an existing file to owner-only; a missing file is not an error.
pub fn tighten_file(path: &Path) -> io::Result<()> {
    match narrow(path, PRIVATE_FILE_MODE) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes every permission outside `allowed`; changes nothing when there is none to remove
/// (so a private folder owned by someone else, where `chmod` is refused, still opens).
#[cfg(unix)]
fn narrow(path: &Path, allowed: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & !allowed == 0 {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode & allowed))
}

#[cfg(not(unix))]
fn narrow(path: &Path, _allowed: u32) -> io::Result<()> {
    fs::metadata(path).map(drop)
}

/// An exclusive lock on a file shared between Keyward processes (the app, the CLI): held from
/// [`FileLock::acquire`] until dropped. The lock is the OS's advisory lock (`flock` on Unix,
/// `LockFileEx` on Windows), so a process that dies releases it.
///
/// Lock a companion file that is never replaced, not the data file itself: a file replaced by
/// rename is a new file, and a lock on the old one would exclude nobody.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Creates `path` (owner-only) when missing and waits until this process holds its lock.
    /// Two `FileLock`s on one path exclude each other within a process too.
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        let file = private_open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        tighten_file(path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fresh folder, removed when dropped (keyward-core has no `tempfile` dependency).
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn temp_dir() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "keyward-private-fs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_data_folder_and_its_missing_parents_are_owner_only() {
        let temp = temp_dir();
        let root = temp.path();
        let dir = root.join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.join("a")), 0o700);
    }

    #[test]
    fn an_open_data_folder_is_narrowed_and_its_parent_left_alone() {
        let temp = temp_dir();
        let root = temp.path();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        let dir = root.join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o775)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(root), 0o755);
    }

    #[test]
    fn create_private_dir_all_leaves_an_existing_folder_alone() {
        let temp = temp_dir();
        let root = temp.path();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir_all(root).unwrap();
        assert_eq!(mode(root), 0o755);
        create_private_dir_all(&root.join("new")).unwrap();
        assert_eq!(mode(&root.join("new")), 0o700);
    }

    #[test]
    fn files_are_created_owner_only_and_old_ones_narrowed() {
        let temp = temp_dir();
        let root = temp.path();
        let new = root.join("new");
        create_new_private_file(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        assert_eq!(
            create_new_private_file(&new).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );

        let ensured = root.join("ensured");
        ensure_private_file(&ensured).unwrap();
        assert_eq!(mode(&ensured), 0o600);

        let old = root.join("old");
        fs::write(&old, b"kept").unwrap();
        fs::set_permissions(&old, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_file(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(fs::read(&old).unwrap(), b"kept", "never truncated");

        // A stricter mode the user chose is kept.
        fs::set_permissions(&old, fs::Permissions::from_mode(0o400)).unwrap();
        tighten_file(&old).unwrap();
        assert_eq!(mode(&old), 0o400);
        tighten_file(&root.join("missing")).unwrap();
    }

    #[test]
    fn a_file_lock_excludes_a_second_holder_until_dropped() {
        let temp = temp_dir();
        let root = temp.path();
        let path = root.join("x.lock");
        let first = FileLock::acquire(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let other = File::open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        drop(first);
        other.try_lock().unwrap();
    }
}
