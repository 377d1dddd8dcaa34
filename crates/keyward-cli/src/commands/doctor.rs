//! `keyward doctor`: checks what Keyward needs on this machine and says, per check, whether it is
//! fine (`ok`), works with a limit (`warning`) or does not work (`problem`), and what to do.
//!
//! It runs whatever the environment holds: a config file that does not parse or a data dir that
//! cannot be found is a line of the report, not an error before it. Nothing is created: a data dir
//! or store that does not exist yet is reported as such. Every check that talks to something (the
//! Secret Service, the clipboard, a backend) has a time limit, so the report always comes.
//!
//! Exit status: 0 when no check found a problem (warnings included); otherwise the documented
//! exit status of the first problem's error code (2 config, 4 data dir permissions, 9 keychain,
//! 3 or 8 a profile's backend, ...), as `keys revoke` does with its first failure.

use crate::cli::DoctorArgs;
use crate::output::{self, Exit};
use keyward_core::{Error, ErrorCode, ListQuery, Result};
use keyward_profiles::{BackendKind, Config, Paths, Profile};
use keyward_remote::{HttpOptions, RetryPolicy};
use keyward_vault::{Keychain, SafeClipboard};
use serde::Serialize;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// The time limit of each check that talks to something, unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Warning,
    Problem,
}

#[derive(Debug, Serialize)]
struct Check {
    /// Stable name: `config`, `data_dir`, `secret_service`, `display`, `clipboard`,
    /// `profile:<name>`.
    check: String,
    status: Status,
    /// What was found, in a sentence.
    detail: String,
    /// What to do about it (warnings and problems).
    fix: Option<String>,
    /// The error code behind a problem; its exit status is the command's.
    code: Option<&'static str>,
    #[serde(skip)]
    exit: Option<ErrorCode>,
}

impl Check {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
            code: None,
            exit: None,
        }
    }

    fn warning(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warning,
            fix: Some(fix.into()),
            ..Check::ok(check, detail)
        }
    }

    fn problem(
        check: impl Into<String>,
        code: ErrorCode,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Problem,
            fix: Some(fix.into()),
            code: Some(code.as_str()),
            exit: Some(code),
            ..Check::ok(check, detail)
        }
    }

    fn from_error(check: impl Into<String>, error: &Error, fix: impl Into<String>) -> Check {
        Check::problem(check, error.code(), error.to_string(), fix)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    checks: &'a [Check],
}

pub fn run(args: &DoctorArgs, json: bool) -> Result<Exit> {
    let limit = match args.timeout.as_deref() {
        None => DEFAULT_TIMEOUT,
        Some(text) => parse_timeout(text)?,
    };
    let checks = checks(limit);
    let first_problem = checks.iter().find_map(|check| check.exit);
    if json {
        output::print_json(&Report {
            ok: first_problem.is_none(),
            checks: &checks,
        })?;
    } else {
        output::print(&human(&checks))?;
    }
    Ok(first_problem.map_or(Exit::Ok, Exit::Failed))
}

fn parse_timeout(text: &str) -> Result<Duration> {
    match text.trim().parse::<u64>() {
        Ok(seconds @ 1..=120) => Ok(Duration::from_secs(seconds)),
        _ => Err(Error::invalid(
            "timeout",
            format!(
                "must be a whole number of seconds from 1 to 120, not '{}'",
                text.trim()
            ),
        )),
    }
}

fn checks(limit: Duration) -> Vec<Check> {
    let mut checks = Vec::new();
    let paths = Paths::from_env();
    let config = match &paths {
        Ok(paths) => {
            let (check, config) = config_check(paths);
            checks.push(check);
            checks.push(data_dir_check(&paths.data_dir));
            config
        }
        Err(error) => {
            checks.push(Check::from_error(
                "config",
                error,
                "set KEYWARD_CONFIG and KEYWARD_DATA_DIR, or HOME",
            ));
            None
        }
    };
    checks.push(secret_service_check(limit));
    let display = display_check();
    let has_display = display.status == Status::Ok;
    checks.push(display);
    if has_display {
        checks.push(clipboard_check(limit));
    }
    if let (Ok(paths), Some(config)) = (&paths, &config) {
        for profile in config.profiles.values() {
            checks.push(profile_check(profile, paths, limit));
        }
    }
    checks
}

fn config_check(paths: &Paths) -> (Check, Option<Config>) {
    let file = paths.config_file.display();
    match Config::load(paths) {
        Ok(config) => {
            let detail = match &config.source {
                Some(source) => format!(
                    "{} parses: {} profile(s), default '{}'",
                    source.display(),
                    config.profiles.len(),
                    config.default_profile
                ),
                None => format!(
                    "no config file at {file}: the built-in '{}' profile (a local store) is used",
                    config.default_profile
                ),
            };
            (Check::ok("config", detail), Some(config))
        }
        // The error names the file, the line and the field (keyward_profiles::config).
        Err(error) => (
            Check::from_error(
                "config",
                &error,
                format!("fix that line of {file}, or manage profiles with `keyward profiles`"),
            ),
            None,
        ),
    }
}

/// The data dir must be owner-only (0700) and every file in it 0600, as
/// `keyward_core::private_fs` makes them; anything looser exposes key names and the activity log.
fn data_dir_check(dir: &Path) -> Check {
    use std::os::unix::fs::PermissionsExt;
    let shown = dir.display();
    let metadata = match std::fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::ok(
                "data_dir",
                format!("{shown} does not exist yet; Keyward creates it (0700) at first use"),
            )
        }
        Err(e) => {
            return Check::problem(
                "data_dir",
                ErrorCode::PermissionDenied,
                format!("cannot read {shown}: {e}"),
                "make it readable by you, or point KEYWARD_DATA_DIR elsewhere",
            )
        }
    };
    if !metadata.is_dir() {
        return Check::problem(
            "data_dir",
            ErrorCode::Store,
            format!("{shown} is not a directory"),
            "move that file away, or point KEYWARD_DATA_DIR elsewhere",
        );
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Check::problem(
            "data_dir",
            ErrorCode::PermissionDenied,
            format!("{shown} has mode {mode:o}: other users can look inside"),
            format!("chmod 700 '{shown}'"),
        );
    }
    let loose: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 != 0)
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    if !loose.is_empty() {
        return Check::problem(
            "data_dir",
            ErrorCode::PermissionDenied,
            format!(
                "{shown} holds files other users can read: {}",
                loose.join(", ")
            ),
            format!("chmod 600 the files in '{shown}'"),
        );
    }
    Check::ok(
        "data_dir",
        format!("{shown} is private (mode 700, files 600)"),
    )
}

/// Writes, reads back and deletes a probe entry (`Keychain::status`), so a locked keyring is
/// noticed, not just a missing service.
fn secret_service_check(limit: Duration) -> Check {
    match Keychain::new().with_timeout(limit).status_blocking() {
        Ok(()) => Check::ok(
            "secret_service",
            "the OS keychain (Secret Service) is reachable and unlocked",
        ),
        Err(error) => Check::from_error(
            "secret_service",
            &error,
            "start and unlock a Secret Service keyring (GNOME Keyring, KWallet, KeePassXC); \
             until then remote profiles need KEYWARD_CREDENTIAL_<PROFILE> and secrets cannot be \
             saved",
        ),
    }
}

fn display_check() -> Check {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match (set("WAYLAND_DISPLAY"), set("DISPLAY")) {
        (true, _) => Check::ok("display", "a Wayland display (WAYLAND_DISPLAY)"),
        (false, true) => Check::ok("display", "an X11 display (DISPLAY)"),
        (false, false) => Check::warning(
            "display",
            "no display (neither WAYLAND_DISPLAY nor DISPLAY is set)",
            "the app and --copy need a desktop session; the other commands work without one",
        ),
    }
}

/// Opens the system clipboard without copying anything, in a thread with a time limit (an X
/// server that does not answer would otherwise hang the report).
fn clipboard_check(limit: Duration) -> Check {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(SafeClipboard::new().connect());
    });
    match receiver.recv_timeout(limit) {
        Ok(Ok(())) => Check::ok("clipboard", "the clipboard can be used"),
        Ok(Err(error)) => Check::warning(
            "clipboard",
            output::clean(&error.to_string()),
            "--copy and the app's Copy buttons will not work; print the secret instead",
        ),
        Err(_) => Check::warning(
            "clipboard",
            format!("the clipboard did not answer within {} s", limit.as_secs()),
            "check the display server; --copy may hang or fail",
        ),
    }
}

/// One cheap request per profile: a page of one key, without retries, within the time limit.
fn profile_check(profile: &Profile, paths: &Paths, limit: Duration) -> Check {
    let name = format!("profile:{}", profile.name);
    let location = profile.location(paths);
    if profile.kind() == BackendKind::Local && !Path::new(&location).exists() {
        return Check::ok(
            name,
            format!("local store {location} does not exist yet; created at the first key"),
        );
    }
    let http = HttpOptions {
        connect_timeout: limit,
        request_timeout: limit,
        retry: RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        },
    };
    let keychain = Keychain::new().with_timeout(limit);
    let listed = profile
        .open_backend_with(paths, &keychain, http)
        .and_then(|backend| {
            super::block_on(async {
                match tokio::time::timeout(
                    limit,
                    backend.list(&ListQuery {
                        limit: 1,
                        ..ListQuery::default()
                    }),
                )
                .await
                {
                    Ok(listed) => listed,
                    Err(_) => Err(Error::Network(format!(
                        "no answer within {} s",
                        limit.as_secs()
                    ))),
                }
            })
        });
    let backend = profile.kind().as_str();
    match listed {
        Ok(_) => Check::ok(name, format!("{backend} at {location}: keys can be listed")),
        Err(error) => {
            let fix = match error.code() {
                ErrorCode::Unauthorized | ErrorCode::PermissionDenied => format!(
                    "save a valid credential: keyward profiles set-credential {}",
                    profile.name
                ),
                ErrorCode::Network | ErrorCode::Backend | ErrorCode::RateLimited => {
                    format!("check the URL ({location}) and the connection; try again later")
                }
                ErrorCode::KeychainUnavailable => {
                    "see the secret_service check, or set the credential's environment variable"
                        .to_owned()
                }
                _ => format!("check the profile: keyward profiles edit {}", profile.name),
            };
            Check::problem(
                name,
                error.code(),
                format!("{backend} at {location}: {error}"),
                fix,
            )
        }
    }
}

fn human(checks: &[Check]) -> String {
    let width = checks
        .iter()
        .map(|c| c.check.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for check in checks {
        let status = match check.status {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Problem => "problem",
        };
        text.push_str(&format!(
            "{status:<8} {:<width$}  {}\n",
            output::clean(&check.check),
            output::clean(&check.detail)
        ));
        if let Some(fix) = &check.fix {
            text.push_str(&format!(
                "{:<8} {:<width$}  -> {}\n",
                "",
                "",
                output::clean(fix)
            ));
        }
    }
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    let warnings = checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();
    text.push_str(&match (problems, warnings) {
        (0, 0) => "Everything Keyward needs is here.\n".to_owned(),
        (0, _) => format!("{warnings} warning(s); nothing is broken.\n"),
        _ => format!("{problems} problem(s), {warnings} warning(s).\n"),
    });
    text
}
