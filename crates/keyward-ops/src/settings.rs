//! The clipboard countdown as the user sets it: `--clear-after`, `KEYWARD_CLEAR_AFTER`, the config
//! file's `clipboard_clear_seconds`. One parser for every place a countdown is typed. And the
//! HTTP time limit both front ends read from `KEYWARD_HTTP_TIMEOUT_MS`.

use keyward_core::{Error, Result};
use keyward_remote::HttpOptions;
use std::ffi::OsStr;
use std::time::Duration;

/// How long one HTTP attempt may take, in milliseconds; read by the app and the CLI.
pub const HTTP_TIMEOUT_ENV: &str = "KEYWARD_HTTP_TIMEOUT_MS";
/// The longest `KEYWARD_HTTP_TIMEOUT_MS` taken: one hour.
pub const MAX_HTTP_TIMEOUT_MS: u64 = 3_600_000;

/// The HTTP options of remote backends: the defaults, with `KEYWARD_HTTP_TIMEOUT_MS` if set.
pub fn http_options() -> Result<HttpOptions> {
    http_options_env(std::env::var_os(HTTP_TIMEOUT_ENV).as_deref())
}

/// [`http_options`] with the variable's value passed in: unset or empty means the defaults;
/// anything but whole milliseconds from 1 to [`MAX_HTTP_TIMEOUT_MS`] is an error naming the
/// variable. The connect time limit is never longer than the whole attempt's.
pub fn http_options_env(value: Option<&OsStr>) -> Result<HttpOptions> {
    let mut options = HttpOptions::default();
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(options);
    };
    let millis = text
        .to_str()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .filter(|ms| (1..=MAX_HTTP_TIMEOUT_MS).contains(ms))
        .ok_or_else(|| {
            Error::invalid(
                HTTP_TIMEOUT_ENV,
                format!("must be a number of milliseconds from 1 to {MAX_HTTP_TIMEOUT_MS}"),
            )
        })?;
    let timeout = Duration::from_millis(millis);
    options.request_timeout = timeout;
    options.connect_timeout = options.connect_timeout.min(timeout);
    Ok(options)
}

/// The countdown override of the environment, read by both front ends.
pub const CLEAR_AFTER_ENV: &str = "KEYWARD_CLEAR_AFTER";
/// The longest countdown, in seconds.
pub const MAX_CLEAR_AFTER_SECS: u64 = 3600;

/// A countdown as typed: whole seconds from 1 to [`MAX_CLEAR_AFTER_SECS`], or `0` for "never
/// clear" (`Duration::ZERO`). Anything else is an error naming `field`.
pub fn parse_clear_after(field: &str, text: &str) -> Result<Duration> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|secs| *secs <= MAX_CLEAR_AFTER_SECS)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "must be a whole number of seconds from 0 (do not clear) to {MAX_CLEAR_AFTER_SECS}"
                ),
            )
        })
}

/// `KEYWARD_CLEAR_AFTER` as set in `value` (the environment's, passed in): `None` when unset or
/// blank. The CLI honours `0` (leave the copy); the app always clears, so it treats `0` as unset.
pub fn clear_after_env(value: Option<&str>) -> Result<Option<Duration>> {
    match value {
        Some(text) if !text.trim().is_empty() => parse_clear_after(CLEAR_AFTER_ENV, text).map(Some),
        _ => Ok(None),
    }
}

/// The countdown of a copy: `flag` (typed, named `clear-after`) over `KEYWARD_CLEAR_AFTER`
/// (`env`) over the config file's (`configured`) over 20 s.
pub fn choose_clear_after(
    flag: Option<&str>,
    env: Option<&str>,
    configured: Option<Duration>,
) -> Result<Duration> {
    if let Some(text) = flag {
        return parse_clear_after("clear-after", text);
    }
    Ok(clear_after_env(env)?
        .or(configured)
        .unwrap_or(keyward_vault::DEFAULT_CLEAR_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_timeout_is_whole_milliseconds_and_a_bad_one_names_the_variable() {
        assert_eq!(
            http_options_env(None).unwrap().request_timeout,
            HttpOptions::default().request_timeout
        );
        assert!(http_options_env(Some(OsStr::new(""))).is_ok());
        let short = http_options_env(Some(OsStr::new(" 250 "))).unwrap();
        assert_eq!(short.request_timeout, Duration::from_millis(250));
        assert!(short.connect_timeout <= short.request_timeout);
        for bad in ["soon", "0", "-5", "3600001", "1.5"] {
            let error = http_options_env(Some(OsStr::new(bad))).unwrap_err();
            assert_eq!(error.field(), Some(HTTP_TIMEOUT_ENV), "{bad}");
        }
    }

    #[test]
    fn clear_after_takes_whole_seconds_up_to_an_hour() {
        let flag = |text: &str| choose_clear_after(Some(text), None, None);
        assert_eq!(flag("0").unwrap(), Duration::ZERO);
        assert_eq!(flag(" 15 ").unwrap(), Duration::from_secs(15));
        assert_eq!(flag("3600").unwrap(), Duration::from_secs(3600));
        for bad in ["-1", "1.5", "3601", "soon", ""] {
            assert_eq!(
                flag(bad).unwrap_err().field(),
                Some("clear-after"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn flag_beats_env_beats_config_beats_the_default() {
        let secs = Duration::from_secs;
        let config = Some(secs(9));
        assert_eq!(
            choose_clear_after(Some("5"), Some("7"), config).unwrap(),
            secs(5)
        );
        assert_eq!(
            choose_clear_after(None, Some("7"), config).unwrap(),
            secs(7)
        );
        assert_eq!(choose_clear_after(None, None, config).unwrap(), secs(9));
        assert_eq!(
            choose_clear_after(None, Some("  "), config).unwrap(),
            secs(9)
        );
        assert_eq!(
            choose_clear_after(None, None, None).unwrap(),
            keyward_vault::DEFAULT_CLEAR_AFTER
        );
    }

    #[test]
    fn a_bad_environment_value_is_an_error_naming_the_variable() {
        for bad in ["soon", "-3", "3601", "2.5"] {
            let error = clear_after_env(Some(bad)).unwrap_err();
            assert_eq!(error.field(), Some(CLEAR_AFTER_ENV), "{bad:?}");
        }
        assert_eq!(clear_after_env(Some("0")).unwrap(), Some(Duration::ZERO));
        assert_eq!(clear_after_env(None).unwrap(), None);
    }
}
