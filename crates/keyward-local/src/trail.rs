//! The store's trail: one row per create, update, revoke and failed verification, written in the same
//! transaction as the change, inside `keyward.db`. It records what happened to *this store's*
//! keys, including verifications, which no other log sees.
//!
//! Not the activity log ([`ActivityLog`](crate::ActivityLog)): that one spans every backend and is
//! what the app's "Audit log" view and `keyward audit` show; "audit" names only that one. The
//! trail's table is still called `audit` on disk: renaming it would take a migration, and a file
//! migrated by this build would be refused as "newer" by the builds already released.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailAction {
    Create,
    Revoke,
    /// A changed name, description or expiry (since migration 4).
    Update,
    /// A well-formed secret that was unknown, revoked or expired.
    VerifyFailed,
}

impl TrailAction {
    pub fn as_str(self) -> &'static str {
        match self {
            TrailAction::Create => "create",
            TrailAction::Revoke => "revoke",
            TrailAction::Update => "update",
            TrailAction::VerifyFailed => "verify_failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            TrailAction::Create,
            TrailAction::Revoke,
            TrailAction::Update,
            TrailAction::VerifyFailed,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

impl std::fmt::Display for TrailAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the trail. Never holds a secret or a secret's hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrailEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: TrailAction,
    /// The key concerned, when known (an unknown secret has none).
    pub key_id: Option<String>,
    /// The key's name for a create, what changed for an update ([`keyward_core::KeyUpdate::summary`]),
    /// the reason for a revoke, the outcome for a failed verify.
    pub detail: Option<String>,
}

pub(crate) fn record(
    conn: &Connection,
    at_ms: i64,
    action: TrailAction,
    key_id: Option<&str>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO audit (at, action, key_id, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute((at_ms, action.as_str(), key_id, detail))?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub(crate) fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<TrailEntry>> {
    let mut select = conn.prepare_cached(
        "SELECT id, at, action, key_id, detail FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = select.query_map([limit], |row| {
        let action: String = row.get(2)?;
        Ok(TrailEntry {
            id: row.get(0)?,
            at: crate::time::from_millis(row.get(1)?, 1)?,
            action: TrailAction::parse(&action).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("unknown trail action {action:?}").into(),
                )
            })?,
            key_id: row.get(3)?,
            detail: row.get(4)?,
        })
    })?;
    rows.collect()
}
