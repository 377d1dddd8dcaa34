//! Where "Export" writes the audit log: the user's Downloads folder, a file name with the time,
//! and never over an existing file. Tauri-free.

use chrono::NaiveDateTime;
use keyward_core::{Error, Result};
use keyward_local::{ActivityLog, ExportFormat};
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The XDG variable naming the Downloads folder; read first, so a session (or a test) can
/// point exports elsewhere without a `user-dirs.dirs` file.
pub const XDG_DOWNLOAD_DIR: &str = "XDG_DOWNLOAD_DIR";

/// How many numbered names (`-1`, `-2`, …) are tried before giving up.
const MAX_SUFFIX: u32 = 999;

/// The folder exports go to: `$XDG_DOWNLOAD_DIR` when set to an absolute path, else the
/// platform's Downloads folder (on Linux from `user-dirs.dirs`), else the home folder.
pub fn download_dir() -> Result<PathBuf> {
    let from_env = std::env::var_os(XDG_DOWNLOAD_DIR)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let user_dirs = directories::UserDirs::new();
    let platform = user_dirs
        .as_ref()
        .and_then(|dirs| dirs.download_dir().map(Path::to_path_buf));
    let home = user_dirs.as_ref().map(|dirs| dirs.home_dir().to_path_buf());
    from_env.or(platform).or(home).ok_or_else(|| {
        Error::Unexpected(format!(
            "cannot find a Downloads or home folder to export to; set {XDG_DOWNLOAD_DIR}"
        ))
    })
}

/// `keyward-audit-YYYYMMDD-HHMMSS` (local time), without extension.
pub fn export_stem(at: NaiveDateTime) -> String {
    format!("keyward-audit-{}", at.format("%Y%m%d-%H%M%S"))
}

/// Creates `<dir>/<stem>.<ext>`, or `<stem>-1.<ext>`, `<stem>-2.<ext>`, … when taken: an existing
/// file is never opened, let alone overwritten (`create_new`, so two exports in the same second
/// cannot race onto one name). The file is owner-only (0600 on Unix): it holds names, owners
/// and reasons. Creates `dir` if needed.
pub fn create_unique(dir: &Path, stem: &str, ext: &str) -> Result<(File, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
    for n in 0..=MAX_SUFFIX {
        let name = match n {
            0 => format!("{stem}.{ext}"),
            n => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(name);
        match keyward_core::private_fs::create_new_private_file(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(write_error(&path, &e)),
        }
    }
    Err(Error::Unexpected(format!(
        "{} already holds {MAX_SUFFIX} exports named {stem}: move some away",
        dir.display()
    )))
}

/// Writes the activity log's entries matching `search` to a new file in `dir` named after `at`;
/// returns the file and how many entries it holds. A failed export leaves no half-written file.
pub fn export_activity(
    log: &ActivityLog,
    search: Option<&str>,
    format: ExportFormat,
    dir: &Path,
    at: NaiveDateTime,
) -> Result<(PathBuf, usize)> {
    let (file, path) = create_unique(dir, &export_stem(at), format.extension())?;
    let mut out = BufWriter::new(file);
    let written = log.export(search, format, &mut out).and_then(|count| {
        out.flush()
            .map(|()| count)
            .map_err(|e| write_error(&path, &e))
    });
    drop(out);
    match written {
        Ok(count) => Ok((path, count)),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

fn write_error(path: &Path, error: &std::io::Error) -> Error {
    Error::Unexpected(format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::io::Write;

    #[test]
    fn the_stem_carries_date_and_time() {
        let at = NaiveDate::from_ymd_opt(2025, 3, 7)
            .unwrap()
            .and_hms_opt(9, 5, 1)
            .unwrap();
        assert_eq!(export_stem(at), "keyward-audit-20250307-090501");
    }

    #[test]
    fn exports_never_overwrite_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("keyward-audit-x.csv");
        std::fs::write(&existing, "keep me").unwrap();

        let (mut first, first_path) = create_unique(dir.path(), "keyward-audit-x", "csv").unwrap();
        assert_eq!(first_path, dir.path().join("keyward-audit-x-1.csv"));
        first.write_all(b"one").unwrap();
        let (_, second_path) = create_unique(dir.path(), "keyward-audit-x", "csv").unwrap();
        assert_eq!(second_path, dir.path().join("keyward-audit-x-2.csv"));
        // Another extension is another name.
        let (_, json) = create_unique(dir.path(), "keyward-audit-x", "json").unwrap();
        assert_eq!(json, dir.path().join("keyward-audit-x.json"));

        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&first_path).unwrap(), "one");
    }

    /// The process's umask, from `/proc/self/status` (Linux).
    #[cfg(target_os = "linux")]
    fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_export_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        // Under the usual umask (022) a plain create would be 0644, readable by every user.
        assert_eq!(
            umask() & 0o044,
            0,
            "this test needs a umask that lets others read"
        );
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = create_unique(dir.path(), "keyward-audit-m", "csv").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    #[test]
    fn a_missing_folder_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("Downloads").join("deeper");
        let (_, path) = create_unique(&nested, "keyward-audit-y", "json").unwrap();
        assert_eq!(path, nested.join("keyward-audit-y.json"));
        assert!(path.is_file());
    }

    #[test]
    fn xdg_download_dir_wins_when_absolute() {
        // The only test that touches this variable (tests share the environment).
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var(XDG_DOWNLOAD_DIR, dir.path());
        let chosen = download_dir();
        std::env::set_var(XDG_DOWNLOAD_DIR, "relative/path");
        let relative_ignored = download_dir();
        std::env::remove_var(XDG_DOWNLOAD_DIR);
        assert_eq!(chosen.unwrap(), dir.path());
        assert_ne!(relative_ignored.unwrap(), Path::new("relative/path"));
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "").unwrap();
        let error = create_unique(&file, "keyward-audit-z", "csv").unwrap_err();
        assert!(error.to_string().contains("not-a-folder"), "{error}");
    }
}
