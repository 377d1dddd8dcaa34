//! `keyward keys rotate` and `keyward keys scheduled`: the rules (what the replacement keeps, the
//! keychain replacement, the grace period, the pending revokes) are `keyward_ops::rotate`'s; this
//! parses the flags and prints the new secret once, like `keys create`.
//!
//! Pending revokes that are due are carried out at the start of `keys rotate` and by
//! `keys scheduled --run-due` (a cron line or a login script can run it); `keys list` only shows
//! them ("revoke scheduled"): a listing never changes a key.

use super::{filter, Session};
use crate::cli::{RotateArgs, ScheduledArgs, ScheduledCommand};
use crate::output::{self, Exit};
use chrono::Utc;
use keyward_core::{ApiKey, Error, ErrorBody, ErrorCode, KeyBackend, ListQuery, Result};
use keyward_local::{ScheduledRevoke, ScheduledRevokes};
use keyward_ops::rotate::{self, DueRevoke, Rotated};
use keyward_ops::Host;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io::Write;
use zeroize::Zeroizing;

pub fn run(session: &Session, args: RotateArgs, json: bool) -> Result<Exit> {
    let grace = rotate::parse_grace(&args.grace)?;
    let bulk = !args.filter.is_empty();
    let query = match (args.id.as_deref(), bulk) {
        (Some(_), true) => {
            return Err(Error::invalid(
                "id",
                "give a key id or filter flags, not both",
            ))
        }
        (None, false) => {
            return Err(Error::invalid(
                "id",
                "give the id of the key to rotate, or filter flags (e.g. --expiring-within 14) with --yes",
            ))
        }
        (Some(id), false) => {
            super::key_id(id)?;
            None
        }
        (None, true) => Some(filter::query(&args.filter)?),
    };
    let backend = session.open()?;
    let schedule = open_schedule(session)?;
    let host = session.host();
    let runtime = super::runtime()?;
    let capabilities = runtime.block_on(keyward_ops::capabilities::learn(backend.as_ref()));
    // Revokes that came due while nothing ran are carried out first.
    let due = runtime.block_on(rotate::run_due(
        backend.as_ref(),
        &host,
        &schedule,
        Utc::now(),
    ))?;
    note_due(&due);

    let ids: Vec<String> = match query {
        None => vec![args.id.clone().unwrap_or_default()],
        Some(query) => {
            let keys = runtime.block_on(matching(backend.as_ref(), &query))?;
            if !args.yes && !keys.is_empty() {
                // The keys it would rotate, for a person; --json gets the count in the error.
                if !json {
                    let names: Vec<String> = keys
                        .iter()
                        .map(|k| format!("{}  {}", output::clean(&k.id), output::clean(&k.name)))
                        .collect();
                    output::note(&names.join("\n"));
                }
                return Err(Error::invalid(
                    "yes",
                    format!(
                        "{} key(s) match the filter; nothing was rotated: add --yes to rotate them",
                        keys.len()
                    ),
                ));
            }
            keys.into_iter().map(|k| k.id).collect()
        }
    };
    if ids.is_empty() {
        output::note("No keys match; nothing was rotated.");
        return Ok(Exit::Ok);
    }
    let mut first_failure: Option<ErrorCode> = None;
    for id in &ids {
        let rotated = runtime.block_on(rotate::rotate(
            backend.as_ref(),
            &capabilities,
            &host,
            &schedule,
            id,
            grace,
            args.save_to_keychain,
            Utc::now(),
        ));
        match rotated {
            Ok(rotated) => {
                if let Some(code) = report(&rotated, json)? {
                    first_failure.get_or_insert(code);
                }
            }
            // One key's refusal does not stop a bulk rotation; a single key's is the answer.
            Err(error) if ids.len() > 1 => {
                output::note(&format!(
                    "{}: not rotated: {}",
                    output::clean(id),
                    output::clean(&error.to_string())
                ));
                first_failure.get_or_insert(error.code());
            }
            Err(error) => return Err(error),
        }
    }
    Ok(first_failure.map_or(Exit::Ok, Exit::Failed))
}

/// `keys scheduled [--run-due]` and `keys scheduled cancel ID`.
pub fn scheduled(session: &Session, args: ScheduledArgs, json: bool) -> Result<Exit> {
    let host = session.host();
    if let Some(ScheduledCommand::Cancel { id }) = args.command {
        let id = super::key_id(&id)?;
        let Some(schedule) = ScheduledRevokes::open_existing(&session.paths.data_dir)? else {
            return Err(Error::NotFound(format!(
                "no revoke of key {id} is scheduled"
            )));
        };
        let cancelled = rotate::cancel(&host, &schedule, id)?;
        if json {
            output::print_json(&cancelled)?;
        } else {
            output::print(&format!(
                "Cancelled the revoke of key {} ({}); it keeps working.\n",
                output::clean(&cancelled.key_id),
                output::clean(cancelled.key_name.as_deref().unwrap_or("-"))
            ))?;
        }
        return Ok(Exit::Ok);
    }
    // Looking never creates the file: without one, nothing is pending.
    let schedule = ScheduledRevokes::open_existing(&session.paths.data_dir)?;
    let mut carried_out = Vec::new();
    if let (true, Some(schedule)) = (args.run_due, &schedule) {
        let backend = session.open()?;
        carried_out = super::block_on(rotate::run_due(
            backend.as_ref(),
            &host,
            schedule,
            Utc::now(),
        ))?;
    }
    let pending = match &schedule {
        Some(schedule) => schedule.list(Some(host.profile()))?,
        None => Vec::new(),
    };
    if json {
        output::print_json(&ScheduledJson {
            pending: &pending,
            carried_out: args.run_due.then_some(carried_out.as_slice()),
        })?;
    } else {
        note_due(&carried_out);
        output::print(&render(&pending))?;
    }
    let failed = carried_out
        .iter()
        .filter(|d| d.status != keyward_core::RevokeStatus::Revoked)
        .find_map(|d| d.error.as_ref().map(|e| e.code));
    Ok(failed.map_or(Exit::Ok, Exit::Failed))
}

#[derive(Serialize)]
struct ScheduledJson<'a> {
    pending: &'a [ScheduledRevoke],
    #[serde(skip_serializing_if = "Option::is_none")]
    carried_out: Option<&'a [DueRevoke]>,
}

fn open_schedule(session: &Session) -> Result<ScheduledRevokes> {
    ScheduledRevokes::open(&session.paths.data_dir)
}

async fn matching(backend: &dyn KeyBackend, query: &ListQuery) -> Result<Vec<ApiKey>> {
    let query = ListQuery {
        limit: 100,
        ..query.clone()
    };
    keyward_core::revocable_matching(backend, &query, 4).await
}

fn render(pending: &[ScheduledRevoke]) -> String {
    if pending.is_empty() {
        return "No revokes are scheduled.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = pending
        .iter()
        .map(|s| {
            vec![
                output::clean(&s.key_id),
                output::cell(s.key_name.as_deref().unwrap_or("-"), 40),
                format!("{} UTC", output::time(s.due_at)),
                output::clean(s.replaced_by.as_deref().unwrap_or("-")),
            ]
        })
        .collect();
    output::table(&["ID", "NAME", "REVOKE DUE", "REPLACED BY"], &rows)
}

/// Each revoke carried out (or tried) now, on stderr.
fn note_due(due: &[DueRevoke]) {
    for done in due {
        let key = output::clean(&done.scheduled.key_id);
        match &done.error {
            Some(error) if done.status != keyward_core::RevokeStatus::Revoked => {
                output::note(&format!(
                    "scheduled revoke of {key} failed (tried again next time): {}",
                    output::clean(&error.message)
                ))
            }
            _ => output::note(&format!("revoked {key}: its scheduled revoke was due")),
        }
    }
}

#[derive(Serialize)]
struct RotatedJson<'a> {
    key: &'a ApiKey,
    secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_in_keychain: Option<bool>,
    old_key_id: &'a str,
    old_key_revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoke_scheduled_at: Option<chrono::DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_key_error: Option<&'a ErrorBody>,
}

/// Prints the new key and its secret (once, on stdout, from a buffer wiped after writing), then
/// what became of the old key; the exit code of anything that failed after the create.
fn report(rotated: &Rotated, json: bool) -> Result<Option<ErrorCode>> {
    let created = &rotated.created.created;
    let saved = rotated.created.saved_to_keychain.as_ref();
    let revoked = rotated.revoked.as_ref().is_some_and(|r| r.outcome.is_ok());
    let secret = created.secret.expose_secret();
    let mut line = Zeroizing::new(Vec::with_capacity(4096 + 2 * secret.len()));
    if json {
        serde_json::to_writer(
            &mut *line,
            &RotatedJson {
                key: &created.key,
                secret,
                saved_in_keychain: saved.map(Result::is_ok),
                old_key_id: &rotated.old_id,
                old_key_revoked: revoked,
                revoke_scheduled_at: rotated.scheduled.as_ref().map(|s| s.due_at),
                old_key_error: rotated.old_key_error.as_ref(),
            },
        )
        .map_err(|e| Error::Unexpected(format!("cannot encode JSON: {e}")))?;
        line.push(b'\n');
    } else {
        let key = &created.key;
        let head = format!(
            "Created key {} ({}) to replace {}, expires {}\n",
            output::clean(&key.name),
            output::clean(&key.id),
            output::clean(&rotated.old_id),
            key.expires_at.map_or_else(
                || "never".to_owned(),
                |at| format!("{} UTC", output::time(at))
            )
        );
        line.extend_from_slice(head.as_bytes());
        line.extend_from_slice(secret.as_bytes());
        line.push(b'\n');
    }
    {
        let mut out = std::io::stdout().lock();
        out.write_all(&line)
            .and_then(|()| out.flush())
            .map_err(output::write_failed)?;
    }
    if let Some(error) = &rotated.created.activity_error {
        super::warn_not_recorded(error);
    }
    let old = output::clean(&rotated.old_id);
    let mut failure = None;
    if !json {
        output::note(match saved {
            Some(Ok(())) => "This secret is shown once here; it is also saved in the keychain.",
            _ => "This secret is shown once. Store it now.",
        });
        if revoked {
            output::note(&format!("The old key {old} is revoked."));
        }
        if let Some(scheduled) = &rotated.scheduled {
            output::note(&format!(
                "The old key {old} keeps working until {} UTC, then it is revoked (cancel: keyward keys scheduled cancel {old}).",
                output::time(scheduled.due_at)
            ));
        }
    }
    if let Some(Err(error)) = saved {
        output::note(&format!(
            "warning: the new secret could not be saved in the keychain: {}",
            output::clean(&error.message())
        ));
        failure = Some(error.code());
    }
    if let Some(error) = &rotated.old_key_error {
        output::note(&format!(
            "warning: the old key {old} still works: {}; revoke it with `keyward keys revoke {old}`",
            output::clean(&error.message)
        ));
        failure.get_or_insert(error.code);
    }
    Ok(failure)
}
