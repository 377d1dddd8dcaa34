//! Timestamps are stored as unix milliseconds, so every time the store hands out is cut to
//! milliseconds too: a key reads back exactly as it was returned.

use chrono::{DateTime, Utc};

pub(crate) fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

pub(crate) fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// Reads column `column`'s milliseconds back into a time.
pub(crate) fn from_millis(ms: i64, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or(rusqlite::Error::IntegralValueOutOfRange(column, ms))
}

/// A time this process produced, back from its milliseconds.
pub(crate) fn from_own_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("milliseconds of a valid time")
}
