//! Reading the config file: named profiles and the default one.

use crate::paths::Paths;
use crate::profile::{
    BackendKind, BackendSettings, ClerkApiPath, FreeSewingAuthKind, Profile, ProfileSummary,
    PropelAuthApiKind,
};
use keyward_core::{Error, Result, Subject};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

pub const IMPLICIT_PROFILE: &str = "local";

/// The range of `clipboard_clear_seconds`, in whole seconds.
pub const CLIPBOARD_CLEAR_SECONDS: std::ops::RangeInclusive<u64> = 1..=3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub default_profile: String,
    pub profiles: BTreeMap<String, Profile>,
    /// `clipboard_clear_seconds`: the clipboard countdown, when the file sets one.
    pub clipboard_clear_seconds: Option<u64>,
    /// The file it came from; `None` when no file exists and the implicit profile is used.
    pub source: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default_profile: Option<Spanned<String>>,
    clipboard_clear_seconds: Option<Spanned<i64>>,
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<ProfileFile>>,
}

/// One `[profiles.NAME]` table as written. Which keys are allowed depends on the backend; that
/// is checked after parsing so the message can say which backend takes which key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    backend: Spanned<BackendKind>,
    data_dir: Option<Spanned<PathBuf>>,
    url: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    api: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    api_path: Option<Spanned<String>>,
    auth_url: Option<Spanned<String>>,
}

impl Config {
    /// The implicit configuration used when there is no config file.
    pub fn implicit() -> Config {
        let local = Profile {
            name: IMPLICIT_PROFILE.to_owned(),
            settings: BackendSettings::Local { data_dir: None },
        };
        Config {
            default_profile: IMPLICIT_PROFILE.to_owned(),
            profiles: BTreeMap::from([(IMPLICIT_PROFILE.to_owned(), local)]),
            clipboard_clear_seconds: None,
            source: None,
        }
    }

    /// Reads the config file, or the implicit config if the file does not exist. Never writes.
    pub fn load(paths: &Paths) -> Result<Config> {
        match read_config_text(&paths.config_file)? {
            Some(text) => Config::parse(&text, &paths.config_file),
            None => Ok(Config::implicit()),
        }
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let start = e.span().map(|s| s.start).unwrap_or(0);
            let field = field_at(text, start)
                .filter(|field| is_key_path(field))
                .unwrap_or_else(|| "config".to_owned());
            // One printable line: a quoted key may hold control characters (`"\u001b[2J" = 1`).
            let message = without_values(e.message().trim_end_matches('\n'))
                .replace('\n', "; ")
                .replace(char::is_control, "?");
            located(text, path, start, &field, &message)
        })?;
        let clipboard_clear_seconds = match file.clipboard_clear_seconds {
            None => None,
            Some(secs) => match u64::try_from(*secs.get_ref()) {
                Ok(n) if CLIPBOARD_CLEAR_SECONDS.contains(&n) => Some(n),
                _ => {
                    let message = format!(
                        "must be a whole number of seconds from {} to {}",
                        CLIPBOARD_CLEAR_SECONDS.start(),
                        CLIPBOARD_CLEAR_SECONDS.end()
                    );
                    return Err(located(
                        text,
                        path,
                        secs.span().start,
                        "clipboard_clear_seconds",
                        &message,
                    ));
                }
            },
        };
        let mut profiles = BTreeMap::new();
        for (name, table) in file.profiles {
            let start = table.span().start;
            check_profile_name(&name).map_err(|m| located(text, path, start, "profiles", &m))?;
            let profile = profile_from_file(&name, table.into_inner())
                .map_err(|(at, field, m)| located(text, path, at, &field, &m))?;
            profiles.insert(name, profile);
        }
        if profiles.is_empty() {
            profiles = Config::implicit().profiles;
        }
        let default_profile = match file.default_profile {
            Some(name) if profiles.contains_key(name.get_ref()) => name.into_inner(),
            Some(name) => {
                let message = format!(
                    "names '{}', but there is no [profiles.{}]",
                    name.get_ref(),
                    name.get_ref()
                );
                return Err(located(
                    text,
                    path,
                    name.span().start,
                    "default_profile",
                    &message,
                ));
            }
            None if profiles.len() == 1 => profiles.keys().next().expect("one profile").clone(),
            None if profiles.contains_key(IMPLICIT_PROFILE) => IMPLICIT_PROFILE.to_owned(),
            None => {
                return Err(Error::invalid(
                    "default_profile",
                    format!(
                        "config file {}, field default_profile: several profiles and no default_profile; add default_profile = \"NAME\"",
                        path.display()
                    ),
                ))
            }
        };
        Ok(Config {
            default_profile,
            profiles,
            clipboard_clear_seconds,
            source: Some(path.to_path_buf()),
        })
    }

    /// The clipboard countdown the file sets (`clipboard_clear_seconds`), if any.
    pub fn clipboard_clear_after(&self) -> Option<Duration> {
        self.clipboard_clear_seconds.map(Duration::from_secs)
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
            .map(|p| p.summary(paths, p.name == self.default_profile))
            .collect()
    }
}

/// The file's text, or `None` if it does not exist.
pub(crate) fn read_config_text(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::invalid(
            "config",
            format!("cannot read config file {}: {e}", path.display()),
        )),
    }
}

type FieldError = (usize, String, String);

/// Checks which keys a backend takes and turns the table into a [`Profile`].
fn profile_from_file(name: &str, file: ProfileFile) -> Result<Profile, FieldError> {
    let field = |key: &str| format!("profiles.{name}.{key}");
    let backend = *file.backend.get_ref();
    let backend_at = file.backend.span().start;
    // Keys that only some backends take, with the backends that take them.
    let allowed: [(&str, Option<usize>, &[BackendKind]); 6] = [
        (
            "data_dir",
            file.data_dir.as_ref().map(|v| v.span().start),
            &[BackendKind::Local],
        ),
        (
            "url",
            file.url.as_ref().map(|v| v.span().start),
            &[
                BackendKind::PropelAuth,
                BackendKind::Clerk,
                BackendKind::FreeSewing,
            ],
        ),
        (
            "subject",
            file.subject.as_ref().map(|v| v.span().start),
            &[BackendKind::PropelAuth, BackendKind::Clerk],
        ),
        (
            "api",
            file.api.as_ref().map(|v| v.span().start),
            &[BackendKind::PropelAuth, BackendKind::Clerk],
        ),
        (
            "auth",
            file.auth.as_ref().map(|v| v.span().start),
            &[BackendKind::FreeSewing],
        ),
        (
            "api_path",
            file.api_path.as_ref().map(|v| v.span().start),
            &[BackendKind::Clerk],
        ),
    ];
    for (key, at, backends) in allowed {
        if let Some(at) = at {
            if !backends.contains(&backend) {
                let takers: Vec<&str> = backends.iter().map(|b| b.as_str()).collect();
                return Err((
                    at,
                    field(key),
                    format!(
                        "a {} profile has no '{key}' (only {} profiles do)",
                        backend.as_str(),
                        takers.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(at) = file.auth_url.as_ref().map(|v| v.span().start) {
        if backend != BackendKind::PropelAuth {
            return Err((
                at,
                field("auth_url"),
                "only propelauth profiles take auth_url".to_owned(),
            ));
        }
    }

    let url = |required: bool| -> Result<String, FieldError> {
        match &file.url {
            Some(url) => keyward_remote::validate_base_url(url.get_ref())
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .map_err(|e| (url.span().start, field("url"), e.message())),
            None if required => Err((
                backend_at,
                field("url"),
                format!("a {} profile needs url = \"https://…\"", backend.as_str()),
            )),
            None => Ok(String::new()),
        }
    };
    let subject = || -> Result<Option<Subject>, FieldError> {
        file.subject
            .as_ref()
            .map(|s| {
                Subject::parse(s.get_ref())
                    .map_err(|e| (s.span().start, field("subject"), e.message()))
            })
            .transpose()
    };
    let choice = |value: &Option<Spanned<String>>, key: &str, options: &[&str]| match value {
        None => Ok(None),
        Some(v) if options.contains(&v.get_ref().as_str()) => Ok(Some(v.get_ref().clone())),
        Some(v) => Err((
            v.span().start,
            field(key),
            format!(
                "'{}' is not one of: {}",
                v.get_ref()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect::<String>(),
                options.join(", ")
            ),
        )),
    };

    let settings = match backend {
        BackendKind::Local => BackendSettings::Local {
            data_dir: file.data_dir.map(Spanned::into_inner),
        },
        BackendKind::PropelAuth => {
            let api = match choice(&file.api, "api", &["backend", "frontend"])?.as_deref() {
                Some("frontend") => PropelAuthApiKind::Frontend,
                _ => PropelAuthApiKind::Backend,
            };
            let auth_url = match &file.auth_url {
                Some(v) => Some(
                    keyward_remote::validate_base_url(v.get_ref())
                        .map(|u| u.as_str().trim_end_matches('/').to_owned())
                        .map_err(|e| (v.span().start, field("auth_url"), e.message()))?,
                ),
                None => None,
            };
            BackendSettings::PropelAuth {
                url: url(true)?,
                api,
                auth_url,
                subject: subject()?,
            }
        }
        BackendKind::Clerk => {
            let frontend =
                choice(&file.api, "api", &["backend", "frontend"])?.as_deref() == Some("frontend");
            let api_path = match choice(&file.api_path, "api_path", &["/api_keys", "/v1/api_keys"])?
                .as_deref()
            {
                // The Frontend API's routes are fixed: a path belongs to the Backend API only.
                Some(_) if frontend => {
                    let at = file
                        .api_path
                        .as_ref()
                        .map_or(backend_at, |v| v.span().start);
                    return Err((
                        at,
                        field("api_path"),
                        "api_path is for Clerk's Backend API; a frontend (user-mode) profile has none"
                            .to_owned(),
                    ));
                }
                _ if frontend => ClerkApiPath::Frontend,
                Some("/v1/api_keys") => ClerkApiPath::V1,
                _ => ClerkApiPath::Root,
            };
            BackendSettings::Clerk {
                url: url(true)?,
                api_path,
                subject: subject()?,
            }
        }
        BackendKind::FreeSewing => {
            let auth = match choice(&file.auth, "auth", &["key", "jwt"])?.as_deref() {
                Some("jwt") => FreeSewingAuthKind::Jwt,
                _ => FreeSewingAuthKind::Key,
            };
            BackendSettings::FreeSewing {
                url: url(true)?,
                auth,
            }
        }
    };
    Ok(Profile {
        name: name.to_owned(),
        settings,
    })
}

pub(crate) fn check_profile_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile name '{}' may only use letters, digits, - and _ (1 to 64 characters)",
            name.chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        ))
    }
}

/// An error naming the file, the line of byte offset `at`, and the field. The offending line
/// itself is not quoted: whatever a user pasted there stays out of messages.
fn located(text: &str, path: &Path, at: usize, field: &str, message: &str) -> Error {
    let at = at.min(text.len());
    let line = text[..at].matches('\n').count() + 1;
    Error::invalid(
        field,
        format!(
            "config file {}, line {line}, field {field}: {message}",
            path.display()
        ),
    )
}

/// Whether text taken from a line reads as a TOML key path (`profiles.work.url`,
/// `profiles."my-keys"`), so it may be shown as the field; anything else (a comment, control
/// characters, a pasted line) is reported as `config`.
fn is_key_path(text: &str) -> bool {
    text.len() <= 100
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' '))
}

/// toml's message without the value it could not read: serde quotes it (``unknown variant
/// `sk_live_…` ``, `invalid type: string "…"`), and a value typed into the wrong field may be
/// a secret. The quote is the part before the last ``", expected`` / `` `, expected``.
fn without_values(message: &str) -> String {
    for (opening, closing, shown) in [
        ("unknown variant `", "`, expected", "unknown variant"),
        ("string \"", "\", expected", "string"),
    ] {
        if let Some(start) = message.find(opening) {
            if let Some(end) = message
                .rfind(closing)
                .filter(|&end| end >= start + opening.len())
            {
                // Resumes just after the closing quote (one ASCII byte).
                let rest = &message[end + 1..];
                return format!("{}{shown}{rest}", &message[..start]);
            }
        }
    }
    message.to_owned()
}

/// The dotted path of the key set on the line holding byte offset `at`, e.g.
/// `profiles.local.backend`, or the table header on that line.
fn field_at(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let line_no = text[..at].matches('\n').count();
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no)?.trim();
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
    let table = lines[..line_no].iter().rev().find_map(|l| header(l));
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
        assert_eq!(config.profile(None).unwrap().kind(), BackendKind::Local);
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
    fn every_backend_parses() {
        let config = parse(
            r#"default_profile = "work"
[profiles.local]
backend = "local"
[profiles.work]
backend = "local"
data_dir = "/srv/keys"
[profiles.acme-clerk]
backend = "clerk"
url = "https://api.clerk.com/"
subject = "user:user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
api_path = "/v1/api_keys"
[profiles.acme-propel]
backend = "propelauth"
url = "https://auth.acme.com"
api = "frontend"
[profiles.sewing]
backend = "freesewing"
url = "http://127.0.0.1:8787"
auth = "jwt"
"#,
        )
        .unwrap();
        assert_eq!(config.default_profile, "work");
        assert_eq!(
            config.profile(None).unwrap().settings,
            BackendSettings::Local {
                data_dir: Some(PathBuf::from("/srv/keys"))
            }
        );
        assert_eq!(
            config.profile(Some("acme-clerk")).unwrap().settings,
            BackendSettings::Clerk {
                url: "https://api.clerk.com".into(),
                api_path: ClerkApiPath::V1,
                subject: Some(Subject::User("user_2xhFjEI5X2qWRvtV13BzSj8H6Dk".into())),
            }
        );
        assert_eq!(
            config.profile(Some("acme-propel")).unwrap().settings,
            BackendSettings::PropelAuth {
                url: "https://auth.acme.com".into(),
                api: PropelAuthApiKind::Frontend,
                auth_url: None,
                subject: None,
            }
        );
        assert_eq!(
            config.profile(Some("sewing")).unwrap().settings,
            BackendSettings::FreeSewing {
                url: "http://127.0.0.1:8787".into(),
                auth: FreeSewingAuthKind::Jwt,
            }
        );
        let err = config.profile(Some("nope")).unwrap_err();
        assert_eq!(err.field(), Some("profile"));
        assert!(err
            .to_string()
            .contains("acme-clerk, acme-propel, local, sewing, work"));
    }

    #[test]
    fn a_clerk_profile_in_user_mode_speaks_the_frontend_api() {
        let config = parse(
            "[profiles.me]\nbackend = \"clerk\"\nurl = \"https://clerk.example.com\"\napi = \"frontend\"\n",
        )
        .unwrap();
        let profile = config.profile(Some("me")).unwrap();
        assert_eq!(
            profile.settings,
            BackendSettings::Clerk {
                url: "https://clerk.example.com".into(),
                api_path: ClerkApiPath::Frontend,
                subject: None,
            }
        );
        let err = parse(
            "[profiles.me]\nbackend = \"clerk\"\nurl = \"https://clerk.example.com\"\napi = \"frontend\"\napi_path = \"/api_keys\"\n",
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("profiles.me.api_path"));
        // A profile without a credential says what it needs: a session, not an instance key.
        let missing = profile
            .credential(&crate::credentials::EnvOnly)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains(
                "a signed-in Clerk session (Sign in in the app, or KEYWARD_CREDENTIAL_<PROFILE>)"
            ),
            "{missing}"
        );
    }

    #[test]
    fn a_lone_profile_is_the_default() {
        let config = parse("[profiles.mine]\nbackend = \"local\"\n").unwrap();
        assert_eq!(config.default_profile, "mine");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            (
                "[profiles.local]\nbackend = \"local\"\nbackned = \"local\"\n",
                "profiles.local.backned",
                3,
            ),
            ("[profiles.local]\nbackend = \"ftp\"\n", "profiles.local.backend", 2),
            (
                "default_profile = \"x\"\n[profiles.local]\nbackend = \"local\"\n",
                "default_profile",
                1,
            ),
            ("[profiles.local\nbackend = \"local\"\n", "config", 1),
            (
                "[profiles.c]\nbackend = \"clerk\"\nurl = \"http://api.clerk.com\"\n",
                "profiles.c.url",
                3,
            ),
            ("[profiles.c]\nbackend = \"clerk\"\n", "profiles.c.url", 2),
            (
                "[profiles.c]\nbackend = \"clerk\"\nurl = \"https://a.b\"\nsubject = \"bob\"\n",
                "profiles.c.subject",
                4,
            ),
            (
                "[profiles.l]\nbackend = \"local\"\n\nurl = \"https://a.b\"\n",
                "profiles.l.url",
                4,
            ),
            (
                "[profiles.p]\nbackend = \"propelauth\"\nurl = \"https://a.b\"\napi = \"both\"\n",
                "profiles.p.api",
                4,
            ),
            (
                "[profiles.f]\nbackend = \"freesewing\"\nurl = \"https://a.b\"\nsubject = \"user:1\"\n",
                "profiles.f.subject",
                4,
            ),
        ];
        for (text, field, line) in cases {
            let err = parse(text).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.field(), Some(field), "{text}: {message}");
            assert!(message.contains("/etc/keyward.toml"), "{message}");
            assert!(
                message.contains(&format!("line {line},")),
                "{text}: {message}"
            );
        }
        let err = parse("[profiles.\"bad name\"]\nbackend = \"local\"\n").unwrap_err();
        assert_eq!(err.field(), Some("profiles"));
    }

    #[test]
    fn clipboard_clear_seconds_is_read_and_checked() {
        let config =
            parse("clipboard_clear_seconds = 45\n[profiles.local]\nbackend = \"local\"\n").unwrap();
        assert_eq!(
            config.clipboard_clear_after(),
            Some(Duration::from_secs(45))
        );
        assert_eq!(parse("").unwrap().clipboard_clear_after(), None);
        assert_eq!(Config::implicit().clipboard_clear_after(), None);
        for bad in ["0", "3601", "-5", "2.5", "\"20\""] {
            let text = format!("# comment\n\nclipboard_clear_seconds = {bad}\n");
            let err = parse(&text).unwrap_err();
            let message = err.to_string();
            assert_eq!(
                err.field(),
                Some("clipboard_clear_seconds"),
                "{bad}: {message}"
            );
            assert!(message.contains("/etc/keyward.toml"), "{message}");
            assert!(message.contains("line 3,"), "{bad}: {message}");
        }
    }

    #[test]
    fn error_messages_do_not_quote_the_offending_line() {
        let err = parse("[profiles.local]\nbackend = \"local\"\ntoken = \"sk_live_very_secret\"\n")
            .unwrap_err();
        assert!(!err.to_string().contains("sk_live_very_secret"), "{err}");
        let err = parse("[profiles.c]\nbackend = \"clerk\"\nurl = \"http://user:hunter2@example.com/?token=abc\"\n")
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!err.to_string().contains("token=abc"), "{err}");
    }
}
