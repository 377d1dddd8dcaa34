//! The three time formats of the backends: Unix seconds (PropelAuth), Unix milliseconds (Clerk)
//! and ISO-8601 strings (FreeSewing).

use chrono::{DateTime, Utc};
use keyward_core::{Error, Result};

pub(crate) fn from_unix_seconds(service: &str, secs: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| bad_time(service))
}

pub(crate) fn from_unix_millis(service: &str, millis: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| bad_time(service))
}

pub(crate) fn from_iso(service: &str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| bad_time(service))
}

/// `at` without its fraction of a second, as backends that keep Unix seconds store it.
pub(crate) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

fn bad_time(service: &str) -> Error {
    Error::Backend(format!("{service} sent a date Keyward cannot read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_agree() {
        let secs = from_unix_seconds("x", 1_767_225_600).unwrap();
        let millis = from_unix_millis("x", 1_767_225_600_000).unwrap();
        let iso = from_iso("x", "2026-01-01T00:00:00.000Z").unwrap();
        assert_eq!(secs, millis);
        assert_eq!(secs, iso);
        assert_eq!(from_iso("x", "2026-01-01T02:00:00+02:00").unwrap(), secs);
    }

    #[test]
    fn fractions_of_seconds_are_dropped() {
        let at = from_unix_millis("x", 1_767_225_600_999).unwrap();
        assert_eq!(
            whole_seconds(at),
            from_unix_seconds("x", 1_767_225_600).unwrap()
        );
    }

    #[test]
    fn impossible_dates_are_backend_errors() {
        assert!(from_unix_seconds("PropelAuth", i64::MAX).is_err());
        assert!(from_unix_millis("Clerk", i64::MAX).is_err());
        let error = from_iso("FreeSewing", "yesterday").unwrap_err();
        assert_eq!(error.code(), keyward_core::ErrorCode::Backend);
    }
}
