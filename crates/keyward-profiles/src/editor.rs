//! Editing the config file: add, replace or remove a profile, and pick the default.
//!
//! Edits keep the user's comments and layout (toml_edit), refuse to touch a file that does not
//! parse, check the edited text with the same parser that reads it, and replace the file
//! atomically (temporary file + rename), so a failed edit never leaves a half-written config.
//! Each edit holds an OS file lock (`config.toml.lock` beside the file) from reading to replacing,
//! so two processes editing at once (the app and the CLI) never drop each other's change. The
//! file Keyward writes is owner-only, or keeps a stricter mode the user gave it.

use crate::config::{
    check_profile_name, read_config_text, Config, CLIPBOARD_CLEAR_SECONDS, IMPLICIT_PROFILE,
};
use crate::paths::Paths;
use crate::profile::{
    BackendKind, BackendSettings, ClerkApiPath, FreeSewingAuthKind, Profile, PropelAuthApiKind,
};
use keyward_core::private_fs::{self, FileLock};
use keyward_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use toml_edit::{value, DocumentMut, Item, Table};

/// A profile as the user describes it in `profiles add` or the app's profile form. Only the
/// keys the backend takes may be set; everything is checked before the file is written.
/// Serializes as the app's profile form sends and shows it (missing fields are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileSpec {
    pub name: String,
    pub backend: String,
    pub url: Option<String>,
    pub subject: Option<String>,
    /// PropelAuth and Clerk: `backend` or `frontend` (Clerk's user mode).
    pub api: Option<String>,
    /// FreeSewing: `key` or `jwt`.
    pub auth: Option<String>,
    /// Clerk: `/api_keys` or `/v1/api_keys`.
    pub api_path: Option<String>,
    /// PropelAuth backend API through `https://propelauth-api.com`: the project's Auth URL.
    pub auth_url: Option<String>,
    /// Local store: its folder.
    pub data_dir: Option<PathBuf>,
}

impl From<&Profile> for ProfileSpec {
    /// The spec that [`add_profile`] turns back into the same profile: what the app's profile
    /// form starts from when editing. Defaults are spelled out (e.g. `api = "backend"`).
    fn from(profile: &Profile) -> Self {
        let spec = ProfileSpec {
            name: profile.name.clone(),
            backend: profile.kind().as_str().to_owned(),
            ..ProfileSpec::default()
        };
        let subject_text = |s: &Option<keyward_core::Subject>| s.as_ref().map(ToString::to_string);
        match &profile.settings {
            BackendSettings::Local { data_dir } => ProfileSpec {
                data_dir: data_dir.clone(),
                ..spec
            },
            BackendSettings::PropelAuth {
                url,
                api,
                auth_url,
                subject,
            } => ProfileSpec {
                url: Some(url.clone()),
                api: Some(
                    match api {
                        PropelAuthApiKind::Backend => "backend",
                        PropelAuthApiKind::Frontend => "frontend",
                    }
                    .to_owned(),
                ),
                auth_url: auth_url.clone(),
                subject: subject_text(subject),
                ..spec
            },
            BackendSettings::Clerk {
                url,
                api_path,
                subject,
            } => ProfileSpec {
                url: Some(url.clone()),
                api: (*api_path == ClerkApiPath::Frontend).then(|| "frontend".to_owned()),
                api_path: match api_path {
                    ClerkApiPath::Root => Some("/api_keys".to_owned()),
                    ClerkApiPath::V1 => Some("/v1/api_keys".to_owned()),
                    ClerkApiPath::Frontend => None,
                },
                subject: subject_text(subject),
                ..spec
            },
            BackendSettings::FreeSewing { url, auth } => ProfileSpec {
                url: Some(url.clone()),
                auth: Some(
                    match auth {
                        FreeSewingAuthKind::Key => "key",
                        FreeSewingAuthKind::Jwt => "jwt",
                    }
                    .to_owned(),
                ),
                ..spec
            },
        }
    }
}

/// Adds a profile (or replaces it when `replace` is set) and returns the new config.
pub fn add_profile(paths: &Paths, spec: &ProfileSpec, replace: bool) -> Result<Config> {
    check_profile_name(&spec.name).map_err(|m| Error::invalid("name", m))?;
    BackendKind::parse(&spec.backend)?;
    edit(paths, |doc| {
        let profiles = profiles_table(doc)?;
        if profiles.contains_key(&spec.name) && !replace {
            return Err(Error::Conflict(format!(
                "a profile named '{}' already exists; remove it first or edit it",
                spec.name
            )));
        }
        let mut table = Table::new();
        table["backend"] = value(spec.backend.trim().to_ascii_lowercase());
        let optional = [
            ("url", &spec.url),
            ("subject", &spec.subject),
            ("api", &spec.api),
            ("auth", &spec.auth),
            ("api_path", &spec.api_path),
            ("auth_url", &spec.auth_url),
        ];
        for (key, text) in optional {
            if let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                table[key] = value(text);
            }
        }
        if let Some(dir) = &spec.data_dir {
            table["data_dir"] = value(dir.display().to_string());
        }
        profiles.insert(&spec.name, Item::Table(table));
        Ok(())
    })
}

/// Removes a profile. Removing the default profile is refused while others remain, so the
/// config never ends up without a clear default.
pub fn remove_profile(paths: &Paths, name: &str) -> Result<Config> {
    let current = Config::load(paths)?;
    current.profile(Some(name))?;
    if current.default_profile == name && current.profiles.len() > 1 {
        return Err(Error::invalid(
            "profile",
            format!("'{name}' is the default profile: choose another default first"),
        ));
    }
    edit(paths, |doc| {
        profiles_table(doc)?.remove(name);
        if doc.get("default_profile").and_then(Item::as_str) == Some(name) {
            doc.remove("default_profile");
        }
        Ok(())
    })
}

/// Makes `name` the default profile.
pub fn set_default_profile(paths: &Paths, name: &str) -> Result<Config> {
    Config::load(paths)?.profile(Some(name))?;
    edit(paths, |doc| {
        doc["default_profile"] = value(name);
        Ok(())
    })
}

/// Sets `clipboard_clear_seconds` (whole seconds, 1 to 3600), the clipboard countdown.
pub fn set_clipboard_clear_seconds(paths: &Paths, secs: u64) -> Result<Config> {
    if !CLIPBOARD_CLEAR_SECONDS.contains(&secs) {
        return Err(Error::invalid(
            "clipboard_clear_seconds",
            format!(
                "must be a whole number of seconds from {} to {}",
                CLIPBOARD_CLEAR_SECONDS.start(),
                CLIPBOARD_CLEAR_SECONDS.end()
            ),
        ));
    }
    let secs = i64::try_from(secs).expect("at most 3600");
    edit(paths, |doc| {
        doc["clipboard_clear_seconds"] = value(secs);
        Ok(())
    })
}

/// Under the config's file lock: loads the file (refusing one that does not parse), applies
/// `change`, checks the result with the reading parser, and replaces the file atomically.
fn edit(paths: &Paths, change: impl FnOnce(&mut DocumentMut) -> Result<()>) -> Result<Config> {
    let path = &paths.config_file;
    let _lock = lock_config(path)?;
    let text = read_config_text(path)?.unwrap_or_default();
    // Never edit what we cannot read: report where it is broken instead.
    let current = match text.is_empty() {
        true => None,
        false => Some(Config::parse(&text, path)?),
    };
    let mut doc: DocumentMut = text.parse().map_err(|_| {
        Error::invalid(
            "config",
            format!("config file {} is not valid TOML", path.display()),
        )
    })?;
    if let Some(current) = current.filter(|_| doc.get("default_profile").is_none()) {
        // Pin today's default so adding a profile never changes which one opens.
        doc["default_profile"] = value(current.default_profile);
    } else if text.is_empty() {
        // Start from what Keyward used without a file, so the local store stays one switch away.
        doc = format!(
            "# Keyward profiles. Credentials are not kept here: they live in the OS keychain.\n\
             default_profile = \"{IMPLICIT_PROFILE}\"\n\n[profiles.{IMPLICIT_PROFILE}]\nbackend = \"local\"\n"
        )
        .parse()
        .expect("the starting config is valid TOML");
    }
    change(&mut doc)?;
    let new_text = doc.to_string();
    let config = Config::parse(&new_text, path)?;
    write_atomically(path, &new_text)?;
    Ok(config)
}

fn profiles_table(doc: &mut DocumentMut) -> Result<&mut Table> {
    let item = doc.entry("profiles").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    item.as_table_mut()
        .ok_or_else(|| Error::invalid("profiles", "must be a table of [profiles.NAME] sections"))
}

fn config_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Waits for the lock on `<config file>.lock`, creating the config's folder (owner-only) when it
/// is missing. The lock is released when the returned value is dropped.
fn lock_config(path: &Path) -> Result<FileLock> {
    let fail = |e: std::io::Error| {
        Error::Unexpected(format!("cannot lock config file {}: {e}", path.display()))
    };
    // The folder may be the user's own (KEYWARD_CONFIG): created private, never narrowed.
    private_fs::create_private_dir_all(config_dir(path)).map_err(fail)?;
    let mut lock_name = path.file_name().unwrap_or_default().to_owned();
    lock_name.push(".lock");
    FileLock::acquire(&path.with_file_name(lock_name)).map_err(fail)
}

/// Temp file (owner-only) + rename. The new file is owner-only, or as strict as the file it
/// replaces when the user made that one stricter.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::Unexpected(format!("cannot write config file {}: {e}", path.display()))
    };
    let mut file = tempfile::NamedTempFile::new_in(config_dir(path)).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(old) => old.permissions().mode() & private_fs::PRIVATE_FILE_MODE,
            Err(_) => private_fs::PRIVATE_FILE_MODE,
        };
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{BackendSettings, FreeSewingAuthKind};

    fn paths(dir: &tempfile::TempDir) -> Paths {
        Paths {
            config_file: dir.path().join("conf/config.toml"),
            data_dir: dir.path().join("data"),
        }
    }

    fn clerk(name: &str) -> ProfileSpec {
        ProfileSpec {
            name: name.into(),
            backend: "clerk".into(),
            url: Some("https://api.clerk.com".into()),
            subject: Some("user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk".into()),
            ..Default::default()
        }
    }

    #[test]
    fn add_use_and_remove_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        let config = add_profile(&paths, &clerk("acme"), false).unwrap();
        assert_eq!(
            config.default_profile, "local",
            "the first edit keeps the local store"
        );
        assert_eq!(config.profiles.len(), 2);
        let sewing = ProfileSpec {
            name: "sewing".into(),
            backend: "freesewing".into(),
            url: Some("http://127.0.0.1:8787".into()),
            auth: Some("jwt".into()),
            ..Default::default()
        };
        let config = add_profile(&paths, &sewing, false).unwrap();
        assert_eq!(
            config.profile(Some("sewing")).unwrap().settings,
            BackendSettings::FreeSewing {
                url: "http://127.0.0.1:8787".into(),
                auth: FreeSewingAuthKind::Jwt
            }
        );
        let err = add_profile(&paths, &clerk("acme"), false).unwrap_err();
        assert_eq!(err.code(), keyward_core::ErrorCode::Conflict);

        let config = set_default_profile(&paths, "sewing").unwrap();
        assert_eq!(config.default_profile, "sewing");
        let err = remove_profile(&paths, "sewing").unwrap_err();
        assert!(err.to_string().contains("default"), "{err}");
        let config = remove_profile(&paths, "acme").unwrap();
        assert_eq!(config.profiles.len(), 2);
        assert_eq!(Config::load(&paths).unwrap(), config);
    }

    #[test]
    fn a_profile_turns_back_into_the_spec_that_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        let specs = [
            clerk("acme"),
            ProfileSpec {
                name: "propel".into(),
                backend: "propelauth".into(),
                url: Some("http://127.0.0.1:9000".into()),
                api: Some("frontend".into()),
                subject: Some("org:1f0c".into()),
                ..Default::default()
            },
            ProfileSpec {
                name: "sewing".into(),
                backend: "freesewing".into(),
                url: Some("http://127.0.0.1:8787".into()),
                auth: Some("key".into()),
                ..Default::default()
            },
            ProfileSpec {
                name: "team".into(),
                backend: "local".into(),
                data_dir: Some(dir.path().join("team")),
                ..Default::default()
            },
        ];
        for spec in specs {
            let config = add_profile(&paths, &spec, false).unwrap();
            let back = ProfileSpec::from(config.profile(Some(&spec.name)).unwrap());
            let expected = ProfileSpec {
                api_path: (spec.backend == "clerk").then(|| "/api_keys".to_owned()),
                ..spec.clone()
            };
            assert_eq!(back, expected);
        }
    }

    #[test]
    fn edits_keep_comments() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        std::fs::create_dir_all(paths.config_file.parent().unwrap()).unwrap();
        std::fs::write(
            &paths.config_file,
            "# my keys\ndefault_profile = \"local\"\n[profiles.local]\nbackend = \"local\" # offline\n",
        )
        .unwrap();
        add_profile(&paths, &clerk("acme"), false).unwrap();
        let text = std::fs::read_to_string(&paths.config_file).unwrap();
        assert!(text.contains("# my keys"), "{text}");
        assert!(text.contains("# offline"), "{text}");
        assert!(text.contains("[profiles.acme]"), "{text}");
    }

    #[test]
    fn clipboard_clear_seconds_is_set_keeping_comments() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        std::fs::create_dir_all(paths.config_file.parent().unwrap()).unwrap();
        std::fs::write(
            &paths.config_file,
            "# my keys\ndefault_profile = \"local\"\n[profiles.local]\nbackend = \"local\" # offline\n",
        )
        .unwrap();
        let config = set_clipboard_clear_seconds(&paths, 45).unwrap();
        assert_eq!(
            config.clipboard_clear_after(),
            Some(std::time::Duration::from_secs(45))
        );
        let config = set_clipboard_clear_seconds(&paths, 4).unwrap();
        assert_eq!(config.clipboard_clear_seconds, Some(4));
        let text = std::fs::read_to_string(&paths.config_file).unwrap();
        assert!(text.contains("# my keys"), "{text}");
        assert!(text.contains("# offline"), "{text}");
        assert_eq!(
            text.matches("clipboard_clear_seconds = 4\n").count(),
            1,
            "{text}"
        );
        assert_eq!(Config::load(&paths).unwrap(), config);
        assert_eq!(config.profiles.len(), 1);

        for bad in [0, 3601] {
            let err = set_clipboard_clear_seconds(&paths, bad).unwrap_err();
            assert_eq!(err.field(), Some("clipboard_clear_seconds"), "{err}");
            assert_eq!(std::fs::read_to_string(&paths.config_file).unwrap(), text);
        }
    }

    #[test]
    fn clipboard_clear_seconds_starts_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        let config = set_clipboard_clear_seconds(&paths, 30).unwrap();
        assert_eq!(config.clipboard_clear_seconds, Some(30));
        assert_eq!(config.default_profile, "local");
        assert_eq!(Config::load(&paths).unwrap(), config);
    }

    #[test]
    fn bad_edits_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        add_profile(&paths, &clerk("acme"), false).unwrap();
        let before = std::fs::read(&paths.config_file).unwrap();
        let bad = [
            ProfileSpec {
                url: Some("http://api.clerk.com".into()),
                ..clerk("x")
            },
            ProfileSpec {
                subject: Some("nobody".into()),
                ..clerk("x")
            },
            ProfileSpec {
                backend: "ftp".into(),
                ..clerk("x")
            },
            ProfileSpec {
                name: "bad name".into(),
                ..clerk("x")
            },
            ProfileSpec {
                auth: Some("jwt".into()),
                ..clerk("x")
            },
        ];
        for spec in bad {
            let err = add_profile(&paths, &spec, false).unwrap_err();
            assert!(err.field().is_some(), "{err}");
            assert_eq!(std::fs::read(&paths.config_file).unwrap(), before);
        }
    }

    #[test]
    fn a_broken_file_is_never_edited() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(&dir);
        std::fs::create_dir_all(paths.config_file.parent().unwrap()).unwrap();
        let broken = "[profiles.local]\nbackend = \"local\"\nbackned = 1\n";
        std::fs::write(&paths.config_file, broken).unwrap();
        let err = add_profile(&paths, &clerk("acme"), false).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert_eq!(std::fs::read_to_string(&paths.config_file).unwrap(), broken);
    }
}
