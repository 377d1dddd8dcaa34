//! The clipboard countdown as the user sets it: `--clear-after`, `KEYWARD_CLEAR_AFTER`, the config
//! file's `clipboard_clear_seconds`. One parser for every place a countdown is typed.

use keyward_core::{Error, Result};
use std::time::Duration;

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
