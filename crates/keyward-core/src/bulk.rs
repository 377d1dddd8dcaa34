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
    // Owned ids: a closure over `&String` items makes this future's `Send` depend on a
    // higher-ranked lifetime that rustc cannot prove, so it could not run in a Tauri command
    // or `tokio::spawn`.
    let mut outcomes: Vec<(usize, RevokeOutcome)> = stream::iter(ids.iter().cloned().enumerate())
        .map(|(index, id)| async move {
            let outcome = match backend.revoke(&id, reason).await {
                Ok(key) => RevokeOutcome {
                    id,
                    key: Some(key),
                    error: None,
                },
                Err(e) => RevokeOutcome {
                    id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Front ends await bulk revokes inside futures that must be `Send` (Tauri commands,
    /// `tokio::spawn`); this only has to compile.
    #[test]
    fn revoke_many_can_be_awaited_in_a_send_future() {
        fn require_send<F: std::future::Future + Send>(future: F) -> F {
            future
        }
        let _ = |backend: Arc<dyn KeyBackend>, ids: Vec<String>| {
            require_send(async move { revoke_many(backend.as_ref(), &ids, None, 8).await })
        };
    }
}
