//! Where the config file and the data live.

use keyward_core::{Error, Result};
use std::path::PathBuf;

pub const CONFIG_ENV: &str = "KEYWARD_CONFIG";
pub const DATA_DIR_ENV: &str = "KEYWARD_DATA_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Written by Keyward owner-only (`0600` on Unix; a stricter mode the user chose is kept),
    /// under the lock of `<file>.lock` beside it. See `editor`.
    pub config_file: PathBuf,
    /// Made owner-only (`0700` on Unix) by whatever opens a file in it (the local store, the
    /// activity log, the key names, the keychain index), and every file in it `0600`.
    pub data_dir: PathBuf,
}

impl Paths {
    /// Platform dirs (e.g. `~/.config/keyward/config.toml`, `~/.local/share/keyward`), each
    /// overridable by its environment variable.
    pub fn from_env() -> Result<Paths> {
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dirs = directories::ProjectDirs::from("dev", "Keyward", "keyward");
        let no_home = || {
            Error::Unexpected(format!(
                "cannot find a home directory for Keyward's files; set {CONFIG_ENV} and {DATA_DIR_ENV}"
            ))
        };
        let config_file = match env_path(CONFIG_ENV) {
            Some(path) => path,
            None => dirs
                .as_ref()
                .ok_or_else(no_home)?
                .config_dir()
                .join("config.toml"),
        };
        let data_dir = match env_path(DATA_DIR_ENV) {
            Some(path) => path,
            None => dirs.as_ref().ok_or_else(no_home)?.data_dir().to_path_buf(),
        };
        Ok(Paths {
            config_file,
            data_dir,
        })
    }
}
