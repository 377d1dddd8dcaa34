//! Revoking many keys at once, with bounded concurrency and one result per key.

use crate::backend::KeyBackend;
use crate::error::ErrorBody;
use crate::model::ApiKey;
use futures::stream::{self, StreamExt};
use serde::Serialize;

/// How one key of a bulk revoke ended. Every requested id gets exactly one outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevokeOutcome {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ApiKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl RevokeOutcome {
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Revokes `ids` with at most `concurrency` requests in flight; results come back in the order
/// of `ids`. A failure of one key never stops the others.
pub async fn revoke_many(
    backend: &dyn KeyBackend,
    ids: &[String],
    reason: Option<&str>,
    concurrency: usize,
) -> Vec<RevokeOutcome> {
    let mut outcomes: Vec<(usize, RevokeOutcome)> = stream::iter(ids.iter().enumerate())
        .map(|(index, id)| async move {
            let outcome = match backend.revoke(id, reason).await {
                Ok(key) => RevokeOutcome {
                    id: id.clone(),
                    key: Some(key),
                    error: None,
                },
                Err(e) => RevokeOutcome {
                    id: id.clone(),
                    key: None,
                    error: Some(e.to_body()),
                },
            };
            (index, outcome)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, o)| o).collect()
}
