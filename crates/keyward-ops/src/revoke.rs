//! Revoking keys, one, many or every key a filter matches: the bulk engine with the HTTP policy
//! for rate limits, the activity entries, and forgetting saved secrets.

use crate::host::Host;
use crate::records;
use crate::selection::Resolved;
use chrono::{DateTime, Utc};
use keyward_core::{
    revoke_bulk, BulkOptions, Error, ErrorBody, ErrorCode, KeyBackend, Result, RevokeKind,
    RevokeOutcome, RevokeStatus,
};
use keyward_remote::HttpOptions;
use serde::Serialize;
use std::time::Duration;

/// Revoke calls in flight at once, unless the front end asks otherwise.
pub const CONCURRENCY: usize = 16;
/// The most a front end may ask for.
pub const MAX_CONCURRENCY: usize = 64;

/// The HTTP options of a backend used for bulk revokes: a rate limit with a `Retry-After` is handed
/// straight to the bulk engine, which pauses every worker (not just the one that met it) until the
/// wait is over. Both front ends open their revoking backend with these.
pub fn bulk_http(mut base: HttpOptions) -> HttpOptions {
    base.retry.max_rate_limit_wait = Duration::ZERO;
    base
}

/// The engine's options for `concurrency` calls in flight over a backend opened with `http`:
/// room for the HTTP layer's own attempts and backoffs before the engine gives up on a key.
pub fn bulk_options(http: &HttpOptions, concurrency: usize) -> BulkOptions {
    let attempts = http.retry.attempts.max(1);
    let worst = (http.request_timeout + http.retry.max_delay) * attempts;
    BulkOptions {
        concurrency,
        per_key_timeout: worst.max(BulkOptions::default().per_key_timeout),
        ..BulkOptions::default()
    }
}

/// The revoke reason as `backend` keeps it: trimmed, `None` when blank, and refused
/// (`invalid_input` naming `reason`, never quoting it) when longer than the backend keeps or when
/// it looks like a secret or credential (`keyward_core::free_text`). Both front ends check it
/// once, before a selection is resolved, so a bad reason is one refusal rather than a failure
/// per key. The profile's own credential is refused too, by the adapter that holds it, before any
/// request is sent.
pub fn checked_reason(backend: &dyn KeyBackend, reason: Option<&str>) -> Result<Option<String>> {
    backend
        .capabilities()
        .text_limits
        .checked_reason(reason, &[])
}

/// One key's result: the engine's outcome, whether there was nothing to do, and what became of
/// its saved secret.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRevoked {
    #[serde(flatten)]
    pub outcome: RevokeOutcome,
    /// The key was revoked before this run: nothing was done, and nothing is recorded.
    pub already_revoked: bool,
    /// With "forget saved secrets": `true` deleted, `false` nothing was saved; `None` not asked
    /// (not revoked, or not requested).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forgotten: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forget_error: Option<ErrorBody>,
}

/// A run's answer.
#[derive(Debug, Clone, Serialize)]
pub struct RevokeReport {
    /// One per key, in the order given.
    pub outcomes: Vec<KeyRevoked>,
    pub revoked: usize,
    pub failed: usize,
    /// Not revoked because the run was stopped first.
    pub untouched: usize,
    /// Of `revoked`, those that already were.
    pub already_revoked: usize,
    /// Why the activity log could not record the run (the revokes still happened).
    pub activity_error: Option<ErrorBody>,
}

impl RevokeReport {
    /// The error code of the first failure (a revoke, else a forget), for an exit status.
    pub fn first_failure(&self) -> Option<ErrorCode> {
        let revoke = self
            .outcomes
            .iter()
            .find_map(|k| k.outcome.error.as_ref().map(|e| e.code));
        let forget = self
            .outcomes
            .iter()
            .find_map(|k| k.forget_error.as_ref().map(|e| e.code));
        revoke.or(forget)
    }
}

/// Revokes the keys of `resolved` for `host`'s profile, with `options.concurrency` calls in flight
/// (open `backend` with [`bulk_http`] so a rate limit pauses every worker). Progress and Stop go
/// through `host`. Each key revoked now, and each failure, is recorded in the activity log with
/// `reason` as soon as its outcome is known (not at the end of the run: a process killed part-way
/// still has an entry for every key it really revoked); a key that was already revoked is not
/// recorded (this run did not revoke it). With `forget_saved`, the saved secret of each revoked
/// key is deleted: an ordinary error is reported on its key and the next one is tried; after
/// `keychain_unavailable` the keychain is not asked again and the remaining keys report that
/// error.
pub async fn revoke(
    backend: &dyn KeyBackend,
    host: &dyn Host,
    resolved: &Resolved,
    reason: Option<&str>,
    forget_saved: bool,
    options: &BulkOptions,
) -> RevokeReport {
    let kind = backend.capabilities().revoke_kind;
    let started = whole_millis(Utc::now());
    let judge = |outcome: RevokeOutcome| KeyRevoked {
        already_revoked: kind == RevokeKind::Revoke && revoked_before(&outcome, started),
        outcome,
        forgotten: None,
        forget_error: None,
    };
    // Outcomes go to the recorder as they come; it writes while the engine goes on.
    let (finished, mut to_record) = tokio::sync::mpsc::unbounded_channel::<RevokeOutcome>();
    let run = async {
        let finished = finished;
        let on_progress = |last: &RevokeOutcome, progress| {
            host.progress(last, progress);
            let _ = finished.send(last.clone());
        };
        revoke_bulk(
            backend,
            &resolved.ids,
            reason,
            options,
            host.cancel(),
            &on_progress,
        )
        .await
        // `finished` drops here, which ends the recorder once it has written the last entry.
    };
    let record = async {
        let mut first_error = None;
        while let Some(outcome) = to_record.recv().await {
            let entries = records::revoked(
                host.profile(),
                backend.kind(),
                reason,
                &[judge(outcome)],
                resolved,
            );
            if entries.is_empty() {
                continue;
            }
            if let Err(error) = host.record(entries).await {
                first_error.get_or_insert(error.to_body());
            }
        }
        first_error
    };
    let (outcomes, activity_error) = futures::join!(run, record);
    let mut results: Vec<KeyRevoked> = outcomes.into_iter().map(judge).collect();
    if forget_saved {
        forget(host, &mut results).await;
    }
    let count = |status| {
        results
            .iter()
            .filter(|k| k.outcome.status == status)
            .count()
    };
    RevokeReport {
        revoked: count(RevokeStatus::Revoked),
        failed: count(RevokeStatus::Failed),
        untouched: count(RevokeStatus::Untouched),
        already_revoked: results.iter().filter(|k| k.already_revoked).count(),
        outcomes: results,
        activity_error,
    }
}

/// Deletes the saved secrets of the revoked keys; keys that failed keep theirs, as they still
/// work. Only keys the saved-secret index marks are asked about (when there is an index).
async fn forget(host: &dyn Host, results: &mut [KeyRevoked]) {
    let secrets = host.secrets();
    let saved = match secrets.saved_ids(host.profile()) {
        Ok(saved) => saved,
        Err(error) => {
            for result in results.iter_mut().filter(|r| r.outcome.is_ok()) {
                result.forget_error = Some(error.to_body());
            }
            return;
        }
    };
    let mut unavailable: Option<Error> = None;
    for result in results.iter_mut().filter(|r| r.outcome.is_ok()) {
        if saved
            .as_ref()
            .is_some_and(|ids| !ids.contains(&result.outcome.id))
        {
            result.forgotten = Some(false);
            continue;
        }
        if let Some(error) = &unavailable {
            result.forget_error = Some(error.to_body());
            continue;
        }
        match secrets
            .forget_key_secret(host.profile(), &result.outcome.id)
            .await
        {
            Ok(forgotten) => result.forgotten = Some(forgotten),
            Err(error) => {
                if error.code() == ErrorCode::KeychainUnavailable {
                    unavailable = Some(error.clone());
                }
                result.forget_error = Some(error.to_body());
            }
        }
    }
}

/// Stores keep times to the millisecond, so "before this run" is judged at that precision: a key
/// revoked now never looks older than the start of the run.
fn whole_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// `KeyBackend::revoke` returns an already revoked key unchanged, so a revocation time from before
/// this run started means there was nothing to do.
fn revoked_before(outcome: &RevokeOutcome, started: DateTime<Utc>) -> bool {
    outcome.status == RevokeStatus::Revoked
        && outcome
            .key
            .as_ref()
            .and_then(|key| key.revoked_at)
            .is_some_and(|at| at < started)
}
