//! Configuration: where Keyward keeps its files, the named profiles, and opening the backend of a
//! profile. Shared by the CLI and the desktop app so both read the same file the same way.
//!
//! The config is TOML at the platform config dir (`KEYWARD_CONFIG` overrides the path):
//! ```toml
//! default_profile = "local"
//! [profiles.local]
//! backend = "local"
//! ```
//! With no file at all, Keyward runs on an implicit `local` profile. A malformed file is an error
//! naming the file, line and field; it is never silently replaced or rewritten.

use keyward_core::{Error, KeyBackend, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_ENV: &str = "KEYWARD_CONFIG";
pub const DATA_DIR_ENV: &str = "KEYWARD_DATA_DIR";
pub const IMPLICIT_PROFILE: &str = "local";

/// Where the config file and the data live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
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

/// The backends a profile can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Local,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
        }
    }
}

/// One named profile: which backend, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub backend: BackendKind,
    /// For the local store: its folder (defaults to the data dir).
    pub data_dir: Option<PathBuf>,
}

/// What front ends show about a profile. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    pub backend: &'static str,
    /// Where the keys live: a database file or a URL.
    pub location: String,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub default_profile: String,
    pub profiles: BTreeMap<String, Profile>,
    /// The file it came from; `None` when no file exists and the implicit profile is used.
    pub source: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    backend: BackendKind,
    data_dir: Option<PathBuf>,
}

impl Config {
    /// The implicit configuration used when there is no config file.
    pub fn implicit() -> Config {
        let local = Profile {
            name: IMPLICIT_PROFILE.to_owned(),
            backend: BackendKind::Local,
            data_dir: None,
        };
        Config {
            default_profile: IMPLICIT_PROFILE.to_owned(),
            profiles: BTreeMap::from([(IMPLICIT_PROFILE.to_owned(), local)]),
            source: None,
        }
    }

    /// Reads the config file, or the implicit config if the file does not exist. Never writes.
    pub fn load(paths: &Paths) -> Result<Config> {
        let path = &paths.config_file;
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::implicit()),
            Err(e) => Err(Error::invalid(
                "config",
                format!("cannot read config file {}: {e}", path.display()),
            )),
        }
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| toml_error(&e, text, path))?;
        let mut profiles = BTreeMap::new();
        for (name, p) in file.profiles {
            check_profile_name(&name, path)?;
            profiles.insert(
                name.clone(),
                Profile {
                    name,
                    backend: p.backend,
                    data_dir: p.data_dir,
                },
            );
        }
        if profiles.is_empty() {
            let implicit = Config::implicit();
            profiles = implicit.profiles;
        }
        let default_profile = match file.default_profile {
            Some(name) if profiles.contains_key(&name) => name,
            Some(name) => {
                return Err(Error::invalid(
                    "default_profile",
                    format!(
                        "config file {}: default_profile names '{name}', but there is no [profiles.{name}]",
                        path.display()
                    ),
                ))
            }
            None if profiles.len() == 1 => profiles.keys().next().expect("one profile").clone(),
            None if profiles.contains_key(IMPLICIT_PROFILE) => IMPLICIT_PROFILE.to_owned(),
            None => {
                return Err(Error::invalid(
                    "default_profile",
                    format!(
                        "config file {}: several profiles and no default_profile; add default_profile = \"NAME\"",
                        path.display()
                    ),
                ))
            }
        };
        Ok(Config {
            default_profile,
            profiles,
            source: Some(path.to_path_buf()),
        })
    }

    /// The named profile, or the default one for `None`.
    pub fn profile(&self, name: Option<&str>) -> Result<&Profile> {
        let name = name.unwrap_or(&self.default_profile);
        self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            Error::invalid(
                "profile",
                format!(
                    "no profile named '{}'; known profiles: {}",
                    name.chars().filter(|c| !c.is_control()).collect::<String>(),
                    known.join(", ")
                ),
            )
        })
    }

    pub fn summaries(&self, paths: &Paths) -> Vec<ProfileSummary> {
        self.profiles
            .values()
            .map(|p| ProfileSummary {
                name: p.name.clone(),
                backend: p.backend.as_str(),
                location: p.location(paths),
                default: p.name == self.default_profile,
            })
            .collect()
    }
}

impl Profile {
    /// Where this profile's keys live, for display.
    pub fn location(&self, paths: &Paths) -> String {
        match self.backend {
            BackendKind::Local => self
                .local_dir(paths)
                .join(keyward_local::LocalStore::FILE_NAME)
                .display()
                .to_string(),
        }
    }

    fn local_dir(&self, paths: &Paths) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| paths.data_dir.clone())
    }

    /// Opens the profile's backend. Blocking for the local store (it opens a file and runs
    /// migrations), so async callers should use `spawn_blocking`.
    pub fn open_backend(&self, paths: &Paths) -> Result<Arc<dyn KeyBackend>> {
        match self.backend {
            BackendKind::Local => Ok(Arc::new(keyward_local::LocalStore::open(
                &self.local_dir(paths),
            )?)),
        }
    }
}

fn check_profile_name(name: &str, path: &Path) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "profiles",
            format!(
                "config file {}: profile name '{}' may only use letters, digits, - and _ (1 to 64 characters)",
                path.display(),
                name.chars().filter(|c| !c.is_control()).take(64).collect::<String>()
            ),
        ))
    }
}

/// Turns a TOML error into one that names the file, the line and the field. The offending line
/// itself is not quoted: whatever a user pasted there stays out of messages.
fn toml_error(error: &toml::de::Error, text: &str, path: &Path) -> Error {
    let start = error.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let field = field_at_line(text, line_no).unwrap_or_else(|| "config".to_owned());
    let message = error.message().trim_end_matches('\n').replace('\n', "; ");
    Error::invalid(
        field.clone(),
        format!(
            "config file {}, line {line_no}, field {field}: {message}",
            path.display()
        ),
    )
}

/// The dotted path of the key set on `line_no` (1-based), e.g. `profiles.local.backend`.
fn field_at_line(text: &str, line_no: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no.checked_sub(1)?)?.trim();
    let header = |l: &str| {
        let l = l.trim();
        (l.starts_with('[') && l.ends_with(']'))
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
    };
    if let Some(table) = header(line) {
        return Some(table);
    }
    let key = line.split_once('=')?.0.trim().trim_matches('"').to_owned();
    if key.is_empty() {
        return None;
    }
    let table = lines[..line_no - 1].iter().rev().find_map(|l| header(l));
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/keyward.toml"))
    }

    #[test]
    fn implicit_config_is_one_local_profile() {
        let config = Config::implicit();
        assert_eq!(config.default_profile, "local");
        assert_eq!(config.profile(None).unwrap().backend, BackendKind::Local);
    }

    #[test]
    fn missing_file_gives_the_implicit_config() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_file: dir.path().join("nope.toml"),
            data_dir: dir.path().join("data"),
        };
        assert_eq!(Config::load(&paths).unwrap(), Config::implicit());
    }

    #[test]
    fn profiles_parse() {
        let config = parse(
            "default_profile = \"work\"\n[profiles.local]\nbackend = \"local\"\n[profiles.work]\nbackend = \"local\"\ndata_dir = \"/srv/keys\"\n",
        )
        .unwrap();
        assert_eq!(config.default_profile, "work");
        let work = config.profile(None).unwrap();
        assert_eq!(work.data_dir.as_deref(), Some(Path::new("/srv/keys")));
        assert_eq!(config.profile(Some("local")).unwrap().name, "local");
        let err = config.profile(Some("nope")).unwrap_err();
        assert_eq!(err.field(), Some("profile"));
        assert!(err.to_string().contains("local, work"));
    }

    #[test]
    fn a_lone_profile_is_the_default() {
        let config = parse("[profiles.mine]\nbackend = \"local\"\n").unwrap();
        assert_eq!(config.default_profile, "mine");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let err = parse("[profiles.local]\nbackend = \"local\"\nbackned = \"local\"\n").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.field(), Some("profiles.local.backned"), "{text}");
        assert!(text.contains("/etc/keyward.toml"), "{text}");
        assert!(text.contains("line 3"), "{text}");

        let err = parse("[profiles.local]\nbackend = \"ftp\"\n").unwrap_err();
        assert_eq!(err.field(), Some("profiles.local.backend"));
        assert!(err.to_string().contains("line 2"), "{err}");

        let err = parse("default_profile = \"x\"\n[profiles.local]\nbackend = \"local\"\n")
            .unwrap_err();
        assert_eq!(err.field(), Some("default_profile"));

        let err = parse("[profiles.local\nbackend = \"local\"\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");

        let err = parse("[profiles.\"bad name\"]\nbackend = \"local\"\n").unwrap_err();
        assert_eq!(err.field(), Some("profiles"));
    }

    #[test]
    fn error_messages_do_not_quote_the_offending_line() {
        let err = parse("[profiles.local]\nbackend = \"local\"\ntoken = \"sk_live_very_secret\"\n")
            .unwrap_err();
        assert!(!err.to_string().contains("sk_live_very_secret"), "{err}");
    }
}
