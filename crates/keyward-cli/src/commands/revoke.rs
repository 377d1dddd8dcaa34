//! `keyward keys revoke`: by ids, or every key a filter matches (with `--yes`).

use super::{filter, Session};
use crate::cli::RevokeArgs;
use crate::output::{self, Exit};
use chrono::{DateTime, Utc};
use keyward_core::{
    revocable_matching, revoke_bulk, ApiKey, BulkOptions, BulkProgress, CancelFlag, Error,
    ErrorBody, KeyBackend, ListQuery, Result, RevokeKind, RevokeOutcome, RevokeStatus,
};
use keyward_local::{ActivityAction, NewActivity};
use keyward_remote::HttpOptions;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Requests in flight at once by default: enough to be quick, few enough to stay under rate limits.
const CONCURRENCY: usize = 16;
const MAX_CONCURRENCY: usize = 64;
/// Keys per listing request when resolving a filter.
const LIST_PAGE: u32 = 100;
const LIST_CONCURRENCY: usize = 4;
/// Matching keys shown before `--yes`.
const PREVIEW_ROWS: usize = 20;

#[derive(Serialize)]
struct RevokeJson<'a> {
    outcomes: Vec<ResultJson<'a>>,
    revoked: usize,
    failed: usize,
    untouched: usize,
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

/// What a filter matched, before `--yes`.
#[derive(Serialize)]
struct PreviewJson<'a> {
    matched: usize,
    keys: Vec<PreviewKey<'a>>,
}

#[derive(Serialize)]
struct PreviewKey<'a> {
    id: &'a str,
    name: &'a str,
}

/// What `--forget` did for one key: `Ok(true)` deleted, `Ok(false)` nothing was saved.
type Forgot = Option<Result<bool>>;

enum Target {
    Ids(Vec<String>),
    Filter(ListQuery),
}

pub fn run(session: &Session, args: RevokeArgs, json: bool) -> Result<Exit> {
    let concurrency = concurrency(args.concurrency.as_deref())?;
    let target = target(&args)?;
    let http = http_options()?;
    let backend = session.open_with(http.clone())?;
    let kind = backend.capabilities().revoke_kind;
    let runtime = super::runtime()?;

    let (ids, names) = match target {
        Target::Ids(ids) => (ids, HashMap::new()),
        Target::Filter(query) => {
            let keys = runtime.block_on(matching(backend.as_ref(), &query))?;
            if !args.yes && !keys.is_empty() {
                preview(&keys, json)?;
                let noun = if keys.len() == 1 {
                    "key matches"
                } else {
                    "keys match"
                };
                return Err(Error::invalid(
                    "yes",
                    format!(
                        "{} {noun} the filter; nothing was revoked: add --yes to revoke them",
                        keys.len()
                    ),
                ));
            }
            let names = keys
                .iter()
                .map(|key| (key.id.clone(), key.name.clone()))
                .collect();
            (keys.into_iter().map(|key| key.id).collect(), names)
        }
    };

    let options = BulkOptions {
        concurrency,
        per_key_timeout: per_key_timeout(&http),
        ..BulkOptions::default()
    };
    let started = whole_millis(Utc::now());
    let outcomes = runtime.block_on(revoke_all(
        backend.as_ref(),
        &ids,
        args.reason.as_deref(),
        &options,
    ));
    drop(runtime);

    session.record_activity(&activity(
        session,
        backend.kind(),
        &outcomes,
        &names,
        args.reason.as_deref(),
        kind,
        started,
    ));
    let forgot: Vec<Forgot> = match args.forget {
        true => forget(session, &outcomes),
        false => outcomes.iter().map(|_| None).collect(),
    };
    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    let (revoked, failed, untouched) = (
        count(RevokeStatus::Revoked),
        count(RevokeStatus::Failed),
        count(RevokeStatus::Untouched),
    );
    if json {
        output::print_json(&RevokeJson {
            outcomes: outcomes
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
            revoked,
            failed,
            untouched,
        })?;
    } else if outcomes.is_empty() {
        output::print("No keys match; nothing was revoked.\n")?;
    } else {
        let text: String = outcomes
            .iter()
            .zip(&forgot)
            .map(|(outcome, forgot)| line(outcome, forgot, kind, started))
            .collect();
        output::print(&text)?;
        if outcomes.len() > 1 {
            output::note(&format!(
                "{revoked} revoked · {failed} failed · {untouched} untouched"
            ));
        }
    }
    let revoke_failure = outcomes
        .iter()
        .find_map(|outcome| outcome.error.as_ref().map(|e| e.code));
    let forget_failure = forgot
        .iter()
        .find_map(|f| f.as_ref().and_then(|f| f.as_ref().err().map(Error::code)));
    Ok(match revoke_failure.or(forget_failure) {
        Some(code) => Exit::Failed(code),
        None if untouched > 0 => Exit::Interrupted,
        None => Exit::Ok,
    })
}

/// Ids (blank ones refused, repeats dropped), or the filter; exactly one of the two.
fn target(args: &RevokeArgs) -> Result<Target> {
    let filtered = !args.filter.is_empty();
    match (args.ids.is_empty(), filtered) {
        (false, true) => Err(Error::invalid(
            "id",
            "give key ids or filter flags, not both",
        )),
        (true, false) => Err(Error::invalid(
            "id",
            "give the ids of the keys to revoke, or filter flags (--search, --status, --owner, --expiring-within, --never-used, --unused-for) with --yes",
        )),
        (true, true) => Ok(Target::Filter(filter::query(&args.filter)?)),
        (false, false) => {
            let mut ids: Vec<String> = Vec::with_capacity(args.ids.len());
            let mut seen = HashSet::new();
            for id in &args.ids {
                let id = super::key_id(id)?;
                // Revoking the same key twice at once would only race with itself.
                if seen.insert(id) {
                    ids.push(id.to_owned());
                }
            }
            Ok(Target::Ids(ids))
        }
    }
}

fn concurrency(text: Option<&str>) -> Result<usize> {
    let Some(text) = text else {
        return Ok(CONCURRENCY);
    };
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        .ok_or_else(|| {
            Error::invalid(
                "concurrency",
                format!("must be a whole number from 1 to {MAX_CONCURRENCY}"),
            )
        })
}

/// The HTTP options for a bulk revoke: a rate limit with a `Retry-After` is handed straight to the
/// bulk engine, which pauses every request (not just the one that met it) until the wait is over.
fn http_options() -> Result<HttpOptions> {
    let mut options = super::http_options()?;
    options.retry.max_rate_limit_wait = Duration::ZERO;
    Ok(options)
}

/// Room for the HTTP layer's own attempts and backoffs before the engine gives up on a key.
fn per_key_timeout(http: &HttpOptions) -> Duration {
    let attempts = http.retry.attempts.max(1);
    let worst = (http.request_timeout + http.retry.max_delay) * attempts;
    worst.max(BulkOptions::default().per_key_timeout)
}

/// Every key the query matches, except revoked ones (nothing to do), in pages of
/// [`LIST_PAGE`].
async fn matching(backend: &dyn KeyBackend, query: &ListQuery) -> Result<Vec<ApiKey>> {
    let query = ListQuery {
        limit: LIST_PAGE,
        ..query.clone()
    };
    revocable_matching(backend, &query, LIST_CONCURRENCY).await
}

fn preview(keys: &[ApiKey], json: bool) -> Result<()> {
    if json {
        return output::print_json(&PreviewJson {
            matched: keys.len(),
            keys: keys
                .iter()
                .map(|key| PreviewKey {
                    id: &key.id,
                    name: &key.name,
                })
                .collect(),
        });
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .take(PREVIEW_ROWS)
        .map(|key| {
            vec![
                output::clean(&key.id),
                output::cell(&key.name, 40),
                key.owner
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |o| output::clean(&o.to_string())),
                key.status.as_str().to_owned(),
                output::expiry(key.expires_at),
                key.last_used_at
                    .map_or_else(|| "-".to_owned(), output::time),
            ]
        })
        .collect();
    let noun = if keys.len() == 1 {
        "key matches"
    } else {
        "keys match"
    };
    let mut text = format!("{} {noun}:\n", keys.len());
    text.push_str(&output::table(
        &["ID", "NAME", "OWNER", "STATUS", "EXPIRES", "LAST USED"],
        &rows,
    ));
    if keys.len() > PREVIEW_ROWS {
        text.push_str(&format!("… and {} more\n", keys.len() - PREVIEW_ROWS));
    }
    output::print(&text)
}

/// Runs the bulk revoke with progress on stderr (at a terminal only); Ctrl-C stops it, leaving
/// the keys not started untouched.
async fn revoke_all(
    backend: &dyn KeyBackend,
    ids: &[String],
    reason: Option<&str>,
    options: &BulkOptions,
) -> Vec<RevokeOutcome> {
    let cancel = CancelFlag::new();
    let progress = Progress::new(ids.len() > 1 && std::io::stderr().is_terminal());
    let on_progress = |_: &RevokeOutcome, state: BulkProgress| progress.show(state);
    let run = revoke_bulk(backend, ids, reason, options, &cancel, &on_progress);
    tokio::pin!(run);
    let outcomes = tokio::select! {
        outcomes = &mut run => outcomes,
        Ok(()) = tokio::signal::ctrl_c() => {
            progress.finish();
            output::note("stopping: waiting for the requests already sent; keys not started are left untouched");
            cancel.cancel();
            run.await
        }
    };
    progress.finish();
    outcomes
}

/// One status line on stderr, rewritten in place.
struct Progress {
    enabled: bool,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn show(&self, state: BulkProgress) {
        if !self.enabled {
            return;
        }
        self.shown.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = write!(
            std::io::stderr().lock(),
            "\r\x1b[2KRevoking: {}/{} · {} revoked · {} failed",
            state.done,
            state.total,
            state.revoked,
            state.failed
        );
    }

    fn finish(&self) {
        if self.shown.swap(false, std::sync::atomic::Ordering::Relaxed) {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

/// Activity entries: each key revoked now (not those already revoked before) and each failure.
fn activity(
    session: &Session,
    backend: &str,
    outcomes: &[RevokeOutcome],
    names: &HashMap<String, String>,
    reason: Option<&str>,
    kind: RevokeKind,
    started: DateTime<Utc>,
) -> Vec<NewActivity> {
    outcomes
        .iter()
        .filter_map(|outcome| {
            let action = match outcome.status {
                RevokeStatus::Revoked
                    if kind == RevokeKind::Revoke && revoked_before(outcome, started) =>
                {
                    return None
                }
                RevokeStatus::Revoked => ActivityAction::Revoked,
                RevokeStatus::Failed => ActivityAction::RevokeFailed,
                RevokeStatus::Untouched => return None,
            };
            Some(NewActivity {
                profile: session.profile_name().to_owned(),
                backend: backend.to_owned(),
                action,
                key_id: outcome.id.clone(),
                key_name: outcome
                    .key
                    .as_ref()
                    .map(|key| key.name.clone())
                    .or_else(|| names.get(&outcome.id).cloned()),
                reason: reason.map(str::to_owned),
                error: outcome.error.clone(),
            })
        })
        .collect()
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

/// One line per key: `revoked: ID (name)`, `already revoked: ID (name)`, `failed: ID: why` or
/// `untouched: ID` (`archived`/`deleted` where that is what the backend does), and with `--forget`
/// what became of the saved secret.
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
    if outcome.status == RevokeStatus::Untouched {
        return format!("untouched: {id} (stopped before it was sent)\n");
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
