//! `keyward keys revoke`: by ids, or every key a filter matches (with `--yes`). The rules (the
//! bulk engine and its rate-limit policy, the activity entries, forgetting saved secrets) are
//! `keyward_ops::revoke`'s; this parses the flags and prints the outcome.

use super::{filter, Session};
use crate::cli::RevokeArgs;
use crate::host::Progress;
use crate::output::{self, Exit};
use keyward_core::{ApiKey, Error, KeyBackend, ListQuery, Result, RevokeKind, RevokeStatus};
use keyward_ops::revoke::{self, KeyRevoked, RevokeReport, CONCURRENCY, MAX_CONCURRENCY};
use keyward_ops::selection::Resolved;
use serde::Serialize;
use std::io::IsTerminal;

/// Keys per listing request when resolving a filter.
const LIST_PAGE: u32 = 100;
const LIST_CONCURRENCY: usize = 4;
/// Matching keys shown before `--yes`.
const PREVIEW_ROWS: usize = 20;

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

enum Target {
    Ids(Vec<String>),
    Filter(ListQuery),
}

pub fn run(session: &Session, args: RevokeArgs, json: bool) -> Result<Exit> {
    let concurrency = concurrency(args.concurrency.as_deref())?;
    let expected = expected_count(args.expect.as_deref())?;
    let target = target(&args)?;
    // A rate limit pauses every worker: the HTTP layer hands it to the engine.
    let http = revoke::bulk_http(super::http_options()?);
    let backend = session.open_with(http.clone())?;
    let kind = backend.capabilities().revoke_kind;
    let reason = revoke::checked_reason(backend.as_ref(), args.reason.as_deref())?;
    let runtime = super::runtime()?;

    let resolved = match target {
        Target::Ids(ids) => Resolved::of_ids(ids, "id")?.expecting(expected)?,
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
            Resolved::of_keys(keys).expecting(expected)?
        }
    };

    let mut host = session.host();
    host.progress = Progress::new(resolved.ids.len() > 1 && std::io::stderr().is_terminal());
    let options = revoke::bulk_options(&http, concurrency);
    let report = runtime.block_on(async {
        let run = revoke::revoke(
            backend.as_ref(),
            &host,
            &resolved,
            reason.as_deref(),
            args.forget,
            &options,
        );
        tokio::pin!(run);
        // Ctrl-C stops the run: keys not started are left untouched.
        tokio::select! {
            report = &mut run => report,
            Ok(()) = tokio::signal::ctrl_c() => {
                host.progress.finish();
                output::note("stopping: waiting for the requests already sent; keys not started are left untouched");
                host.cancel.cancel();
                run.await
            }
        }
    });
    host.progress.finish();
    drop(runtime);
    if let Some(error) = &report.activity_error {
        output::note(&format!(
            "warning: not recorded in the activity log: {}",
            output::clean(&error.message)
        ));
    }
    print(&report, kind, json)?;
    Ok(match report.first_failure() {
        Some(code) => Exit::Failed(code),
        None if report.untouched > 0 => Exit::Interrupted,
        None => Exit::Ok,
    })
}

fn print(report: &RevokeReport, kind: RevokeKind, json: bool) -> Result<()> {
    if json {
        return output::print_json(report);
    }
    if report.outcomes.is_empty() {
        return output::print("No keys match; nothing was revoked.\n");
    }
    let text: String = report.outcomes.iter().map(|k| line(k, kind)).collect();
    output::print(&text)?;
    if report.outcomes.len() > 1 {
        output::note(&format!(
            "{} revoked · {} failed · {} untouched",
            report.revoked, report.failed, report.untouched
        ));
    }
    Ok(())
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
        // Checked and each once (revoking a key twice at once would only race with itself).
        (false, false) => Ok(Target::Ids(args.ids.clone())),
    }
}

/// `--expect N`: the count the user saw, which the selection must still have.
fn expected_count(text: Option<&str>) -> Result<Option<usize>> {
    let Some(text) = text else {
        return Ok(None);
    };
    text.trim()
        .parse::<usize>()
        .map(Some)
        .map_err(|_| Error::invalid("expect", "must be a whole number of keys"))
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

/// Every key the query matches, except revoked ones (nothing to do), in pages of
/// [`LIST_PAGE`].
async fn matching(backend: &dyn KeyBackend, query: &ListQuery) -> Result<Vec<ApiKey>> {
    let query = ListQuery {
        limit: LIST_PAGE,
        ..query.clone()
    };
    keyward_core::revocable_matching(backend, &query, LIST_CONCURRENCY).await
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

/// One line per key: `revoked: ID (name)`, `already revoked: ID (name)`, `failed: ID: why` or
/// `untouched: ID` (`archived`/`deleted` where that is what the backend does), and with `--forget`
/// what became of the saved secret.
fn line(result: &KeyRevoked, kind: RevokeKind) -> String {
    let outcome = &result.outcome;
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
        RevokeKind::Revoke if result.already_revoked => "already revoked",
        RevokeKind::Revoke => "revoked",
        RevokeKind::Archive => "archived",
        RevokeKind::Delete => "deleted",
    };
    let forgot = match (&result.forgotten, &result.forget_error) {
        (_, Some(error)) => format!(
            "; saved secret NOT deleted: {}",
            output::clean(&error.message)
        ),
        (Some(true), None) => "; saved secret deleted from the keychain".to_owned(),
        (Some(false), None) => "; no saved secret in the keychain".to_owned(),
        (None, None) => String::new(),
    };
    format!("{verb}: {id}{name}{forgot}\n")
}
