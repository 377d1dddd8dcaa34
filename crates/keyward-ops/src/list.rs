//! Listing keys with the saved-in-keychain marks joined in, so a front end makes one call per
//! page and never asks the keychain to draw a table.

use crate::host::Host;
use chrono::{DateTime, Utc};
use keyward_core::{ApiKey, Error, KeyBackend, ListQuery, Page, Result};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A key and whether its secret is saved in the keychain.
#[derive(Debug, Clone, Serialize)]
pub struct MarkedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub saved_in_keychain: bool,
    /// When a rotation's pending revoke of this key is due ("revoke scheduled").
    pub revoke_scheduled_at: Option<DateTime<Utc>>,
}

/// A page of marked keys, and why there are no marks if the saved-secret index could not be read
/// (the keys are listed either way).
#[derive(Debug, Clone, Serialize)]
pub struct MarkedPage {
    #[serde(flatten)]
    pub page: Page<MarkedKey>,
    pub marks_error: Option<Error>,
}

/// One page of `backend`'s keys matching `query`, each marked from `host`'s saved-secret index.
pub async fn list(
    backend: &dyn KeyBackend,
    host: &dyn Host,
    query: ListQuery,
) -> Result<MarkedPage> {
    let page = backend.list(&query.validated()?).await?;
    let (saved, mut marks_error) = saved_ids(host);
    let scheduled = host.revoke_marks().unwrap_or_else(|error| {
        marks_error.get_or_insert(error);
        HashMap::new()
    });
    Ok(MarkedPage {
        page: Page {
            items: page
                .items
                .into_iter()
                .map(|key| mark(key, &saved, &scheduled))
                .collect(),
            page: page.page,
            limit: page.limit,
            total: page.total,
            has_more: page.has_more,
        },
        marks_error,
    })
}

/// One key by id (checked first, the error naming `id`), marked.
pub async fn get(backend: &dyn KeyBackend, host: &dyn Host, id: &str) -> Result<MarkedKey> {
    let id = keyward_core::model::check_key_id(id, "id")?;
    let key = backend.get(id).await?;
    let (saved, _) = saved_ids(host);
    let scheduled = host.revoke_marks().unwrap_or_default();
    Ok(mark(key, &saved, &scheduled))
}

fn saved_ids(host: &dyn Host) -> (HashSet<String>, Option<Error>) {
    match host.secrets().saved_ids(host.profile()) {
        Ok(saved) => (saved.unwrap_or_default(), None),
        Err(error) => (HashSet::new(), Some(error)),
    }
}

fn mark(
    key: ApiKey,
    saved: &HashSet<String>,
    scheduled: &HashMap<String, DateTime<Utc>>,
) -> MarkedKey {
    MarkedKey {
        saved_in_keychain: saved.contains(&key.id),
        revoke_scheduled_at: scheduled.get(&key.id).copied(),
        key,
    }
}
