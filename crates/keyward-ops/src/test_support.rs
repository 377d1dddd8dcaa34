//! Helpers shared by the unit tests.

use chrono::{DateTime, Utc};
use keyward_core::{ApiKey, KeyStatus};

/// An active key named `name` (id `key_<name>`), never used, never expiring.
pub fn key(name: &str, last_used: Option<DateTime<Utc>>) -> ApiKey {
    ApiKey {
        id: format!("key_{name}"),
        name: name.into(),
        owner: None,
        created_at: Utc::now(),
        expires_at: None,
        status: KeyStatus::Active,
        revoked_at: None,
        revocation_reason: None,
        last_used_at: last_used,
        level: None,
        scopes: Vec::new(),
        description: None,
        metadata: None,
        stub: None,
    }
}
