//! `keyward keys revoke`

use super::{block_on, Session};
use crate::cli::RevokeArgs;
use crate::output::{self, Exit};
use chrono::{DateTime, Utc};
use keyward_core::{revoke_many, Result, RevokeKind, RevokeOutcome};
use serde::Serialize;
use std::collections::HashSet;

/// Requests in flight at once: enough to be quick, few enough to stay under rate limits.
const CONCURRENCY: usize = 8;

#[derive(Serialize)]
struct RevokeJson<'a> {
    results: &'a [RevokeOutcome],
}

pub fn run(session: &Session, args: RevokeArgs, json: bool) -> Result<Exit> {
    let mut ids: Vec<String> = Vec::with_capacity(args.ids.len());
    let mut seen = HashSet::new();
    for id in &args.ids {
        let id = super::key_id(id)?;
        // Revoking the same key twice at once would only race with itself.
        if seen.insert(id) {
            ids.push(id.to_owned());
        }
    }
    let backend = session.open()?;
    let kind = backend.capabilities().revoke_kind;
    let started = whole_millis(Utc::now());
    let results = block_on(async {
        Ok(revoke_many(backend.as_ref(), &ids, args.reason.as_deref(), CONCURRENCY).await)
    })?;
    if json {
        output::print_json(&RevokeJson { results: &results })?;
    } else {
        let text: String = results
            .iter()
            .map(|outcome| line(outcome, kind, started))
            .collect();
        output::print(&text)?;
    }
    Ok(results
        .iter()
        .find_map(|outcome| outcome.error.as_ref())
        .map_or(Exit::Ok, |error| Exit::Failed(error.code)))
}

/// One line per key: `revoked: ID (name)`, `already revoked: ID (name)` or `failed: ID: why`.
fn line(outcome: &RevokeOutcome, kind: RevokeKind, started: DateTime<Utc>) -> String {
    let id = output::clean(&outcome.id);
    if let Some(error) = &outcome.error {
        let reason = match &error.field {
            Some(field) => format!("{field}: {}", error.message),
            None => error.message.clone(),
        };
        return format!("failed: {id}: {}\n", output::clean(&reason));
    }
    let name = outcome
        .key
        .as_ref()
        .map(|key| format!(" ({})", output::clean(&key.name)))
        .unwrap_or_default();
    let verb = match kind {
        RevokeKind::Revoke if revoked_before(outcome, started) => "already revoked",
        RevokeKind::Revoke => "revoked",
        RevokeKind::Archive => "archived",
        RevokeKind::Delete => "deleted",
    };
    format!("{verb}: {id}{name}\n")
}

/// Stores keep times to the millisecond, so "before this command" is judged at that precision: a
/// key revoked now never looks older than the start of the command.
fn whole_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// `KeyBackend::revoke` returns an already revoked key unchanged, so a revocation time from before
/// this command started means there was nothing to do.
fn revoked_before(outcome: &RevokeOutcome, started: DateTime<Utc>) -> bool {
    outcome
        .key
        .as_ref()
        .and_then(|key| key.revoked_at)
        .is_some_and(|at| at < started)
}
