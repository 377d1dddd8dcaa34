//! Reading a `keys` row back into an [`ApiKey`].

use crate::time::from_millis;
use chrono::{DateTime, Utc};
use keyward_core::{ApiKey, KeyStatus, Subject};
use rusqlite::types::Type;
use rusqlite::Row;

/// The columns [`from_row`] reads, in its order. A macro so that fixed statements can be
/// `concat!`ed into `&'static str` (the verify path builds no SQL).
macro_rules! key_columns {
    () => {
        "seq, id, name, owner_kind, owner_id, description, created_at, expires_at, \
         revoked_at, revocation_reason, last_used_at, stub"
    };
}
pub(crate) use key_columns;

/// How many columns [`key_columns!`] lists; a statement may select more after them.
pub(crate) const KEY_COLUMN_COUNT: usize = 12;

/// A key and its row number (`keys.seq`).
pub(crate) struct KeyRow {
    pub seq: i64,
    pub key: ApiKey,
}

/// Decodes a row that starts with [`key_columns!`]; the status is derived against `now`.
pub(crate) fn from_row(row: &Row, now: DateTime<Utc>) -> rusqlite::Result<KeyRow> {
    let time = |column: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        row.get::<_, Option<i64>>(column)?
            .map(|ms| from_millis(ms, column))
            .transpose()
    };
    let owner = match (
        row.get::<_, Option<String>>(3)?,
        row.get::<_, Option<String>>(4)?,
    ) {
        (Some(kind), Some(id)) => Some(match kind.as_str() {
            "user" => Subject::User(id),
            "org" => Subject::Org(id),
            _ => {
                return Err(rusqlite::Error::FromSqlConversionFailure(
                    3,
                    Type::Text,
                    format!("unknown owner kind {kind:?}").into(),
                ))
            }
        }),
        _ => None,
    };
    let expires_at = time(7)?;
    let revoked_at = time(8)?;
    Ok(KeyRow {
        seq: row.get(0)?,
        key: ApiKey {
            id: row.get(1)?,
            name: row.get(2)?,
            owner,
            description: row.get(5)?,
            created_at: from_millis(row.get(6)?, 6)?,
            expires_at,
            status: KeyStatus::derive(revoked_at.is_some(), expires_at, now),
            revoked_at,
            revocation_reason: row.get(9)?,
            last_used_at: time(10)?,
            level: None,
            scopes: Vec::new(),
            metadata: None,
            stub: row.get(11)?,
        },
    })
}
