//! The audit trail: one row per create, revoke and failed verification.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Revoke,
    /// A well-formed secret that was unknown, revoked or expired.
    VerifyFailed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Revoke => "revoke",
            AuditAction::VerifyFailed => "verify_failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            AuditAction::Create,
            AuditAction::Revoke,
            AuditAction::VerifyFailed,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit row. Never holds a secret or a secret's hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: AuditAction,
    /// The key concerned, when known (an unknown secret has none).
    pub key_id: Option<String>,
    /// The key's name for a create, the reason for a revoke, the outcome for a failed verify.
    pub detail: Option<String>,
}

pub(crate) fn record(
    conn: &Connection,
    at_ms: i64,
    action: AuditAction,
    key_id: Option<&str>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO audit (at, action, key_id, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute((at_ms, action.as_str(), key_id, detail))?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub(crate) fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut select = conn.prepare_cached(
        "SELECT id, at, action, key_id, detail FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = select.query_map([limit], |row| {
        let action: String = row.get(2)?;
        Ok(AuditEntry {
            id: row.get(0)?,
            at: crate::time::from_millis(row.get(1)?, 1)?,
            action: AuditAction::parse(&action).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("unknown audit action {action:?}").into(),
                )
            })?,
            key_id: row.get(3)?,
            detail: row.get(4)?,
        })
    })?;
    rows.collect()
}
