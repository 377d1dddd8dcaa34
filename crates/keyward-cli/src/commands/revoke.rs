//! `keyward keys revoke`

use super::{block_on, Session};
use crate::cli::RevokeArgs;
use crate::output::{self, Exit};
use chrono::{DateTime, Utc};
use keyward_core::{revoke_many, Error, ErrorBody, Result, RevokeKind, RevokeOutcome};
use serde::Serialize;
use std::collections::HashSet;

/// Requests in flight at once: enough to be quick, few enough to stay under rate limits.
const CONCURRENCY: usize = 8;

#[derive(Serialize)]
struct RevokeJson<'a> {
    results: Vec<ResultJson<'a>>,
}

/// A [`RevokeOutcome`], plus what `--forget` did with the key's saved secret.
#[derive(Serialize)]
struct ResultJson<'a> {
    #[serde(flatten)]
    outcome: &'a RevokeOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    forgotten: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forget_error: Option<ErrorBody>,
}

/// What `--forget` did for one key: `Ok(true)` deleted, `Ok(false)` nothing was saved.
type Forgot = Option<Result<bool>>;

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
    let forgot: Vec<Forgot> = match args.forget {
        true => forget(session, &results),
        false => results.iter().map(|_| None).collect(),
    };
    if json {
        output::print_json(&RevokeJson {
            results: results
                .iter()
                .zip(&forgot)
                .map(|(outcome, forgot)| ResultJson {
                    outcome,
                    forgotten: forgot.as_ref().and_then(|f| f.as_ref().ok().copied()),
                    forget_error: forgot
                        .as_ref()
                        .and_then(|f| f.as_ref().err().map(Error::to_body)),
                })
                .collect(),
        })?;
    } else {
        let text: String = results
            .iter()
            .zip(&forgot)
            .map(|(outcome, forgot)| line(outcome, forgot, kind, started))
            .collect();
        output::print(&text)?;
    }
    let revoke_failure = results
        .iter()
        .find_map(|outcome| outcome.error.as_ref().map(|e| e.code));
    let forget_failure = forgot
        .iter()
        .find_map(|f| f.as_ref().and_then(|f| f.as_ref().err().map(Error::code)));
    Ok(revoke_failure
        .or(forget_failure)
        .map_or(Exit::Ok, Exit::Failed))
}

/// Deletes the saved secrets of the keys that were revoked; keys that failed keep theirs, as they
/// still work. Once the keychain is found unavailable it is not asked again.
fn forget(session: &Session, results: &[RevokeOutcome]) -> Vec<Forgot> {
    let keychain = session.keychain();
    let mut unavailable: Option<Error> = None;
    results
        .iter()
        .map(|outcome| {
            if !outcome.is_ok() {
                return None;
            }
            if let Some(error) = &unavailable {
                return Some(Err(error.clone()));
            }
            let result = match &keychain {
                Ok(keychain) => {
                    keychain.forget_key_secret_blocking(session.profile_name(), &outcome.id)
                }
                Err(error) => Err(error.clone()),
            };
            if let Err(error @ Error::KeychainUnavailable(_)) = &result {
                unavailable = Some(error.clone());
            }
            Some(result)
        })
        .collect()
}

/// One line per key: `revoked: ID (name)`, `already revoked: ID (name)` or `failed: ID: why`
/// (`archived`/`deleted` where that is what the backend does), and with `--forget` what became of
/// the saved secret.
fn line(
    outcome: &RevokeOutcome,
    forgot: &Forgot,
    kind: RevokeKind,
    started: DateTime<Utc>,
) -> String {
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
    let forgot = match forgot {
        None => String::new(),
        Some(Ok(true)) => "; saved secret deleted from the keychain".to_owned(),
        Some(Ok(false)) => "; no saved secret in the keychain".to_owned(),
        Some(Err(error)) => format!(
            "; saved secret NOT deleted: {}",
            output::clean(&error.to_string())
        ),
    };
    format!("{verb}: {id}{name}{forgot}\n")
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
