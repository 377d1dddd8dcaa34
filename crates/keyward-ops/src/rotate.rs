//! Rotating a key: a replacement made like the old key (name, owner, level, scopes, description,
//! expiry length), its secret shown once (and saved in the keychain where the old one was), then
//! the old key revoked at once or after a grace period the user picks. A pending revoke is kept
//! in `keyward_local::ScheduledRevokes`, so it survives a restart and is carried out by
//! [`run_due`] (the app on start and every minute, `keyward keys scheduled --run-due`, and the
//! CLI's `keys rotate` before it rotates; a listing only shows them, it never changes a key).
//!
//! The secret is never lost: once the replacement exists, every later failure (the keychain, the
//! activity log, the revoke, the schedule) is reported beside it.

use crate::create::{self, Created};
use crate::host::{Host, SecretKeeper};
use crate::revoke::{self, KeyRevoked};
use crate::selection::Resolved;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use keyward_core::{
    ApiKey, BulkOptions, BulkProgress, CancelFlag, Capabilities, Error, ErrorBody, ErrorCode,
    Expiration, ExpiryPreset, KeyBackend, KeyStatus, NewKey, Result, RevokeOutcome, RevokeStatus,
};
use keyward_local::{NewActivity, NewScheduledRevoke, ScheduledRevoke, ScheduledRevokes};
use serde::Serialize;
use std::collections::HashMap;

/// The field grace periods are named by in errors.
pub const GRACE_FIELD: &str = "grace";
/// The shortest and longest grace period: an hour is the least a consumer needs to move; past a
/// month the old key is simply a second key.
pub const MIN_GRACE: Duration = Duration::hours(1);
pub const MAX_GRACE: Duration = Duration::days(30);
/// What the schedule and the backend are told; the activity log says which key replaced it.
pub const REASON: &str = "rotated";

/// A grace period as typed: `now` (or `0`) revokes at once; `1h` to `720h`, `1d` to `30d`, `1w`
/// to `4w`. Anything else is `invalid_input` naming `grace`.
pub fn parse_grace(text: &str) -> Result<Duration> {
    let text = text.trim().to_ascii_lowercase();
    if text == "now" || text == "0" {
        return Ok(Duration::zero());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: Option<i64> = digits.parse().ok().filter(|n| *n <= 100_000);
    let grace = match (amount, unit.trim()) {
        (Some(n), "h") => Duration::hours(n),
        (Some(n), "d") => Duration::days(n),
        (Some(n), "w") => Duration::weeks(n),
        _ => {
            return Err(Error::invalid(
                GRACE_FIELD,
                "is not a grace period: use now, or hours or days like 1h, 24h, 7d, 30d",
            ))
        }
    };
    if !(MIN_GRACE..=MAX_GRACE).contains(&grace) {
        return Err(Error::invalid(
            GRACE_FIELD,
            "must be now, or from 1 hour to 30 days",
        ));
    }
    Ok(grace)
}

/// The old key's expiry length (`expires_at − created_at`) as the backend can express it: the
/// length itself where custom expiries are allowed, else the nearest preset it offers. A key that
/// never expired gets `Never` where the backend has it, else its longest preset.
pub fn same_length(old: &ApiKey, capabilities: &Capabilities) -> Expiration {
    let presets: Vec<ExpiryPreset> = capabilities
        .expiry_presets
        .iter()
        .copied()
        .filter(|p| *p != ExpiryPreset::Never)
        .collect();
    let Some(expires_at) = old.expires_at else {
        return match capabilities.never_expires {
            true => Expiration::Preset(ExpiryPreset::Never),
            false => presets
                .last()
                .map(|p| Expiration::Preset(*p))
                .unwrap_or_default(),
        };
    };
    let length = expires_at - old.created_at;
    if length <= Duration::zero() {
        return Expiration::default();
    }
    // Ten years is the most any expiry may be (keyward_core::Expiration::resolve).
    let length = length.min(Duration::days(3653));
    if capabilities.custom_expiry {
        return Expiration::After(length);
    }
    let now = Utc::now();
    presets
        .into_iter()
        .min_by_key(|p| {
            p.expires_at(now)
                .map(|at| ((at - now) - length).num_seconds().abs())
                .unwrap_or(i64::MAX)
        })
        .map(Expiration::Preset)
        .unwrap_or_default()
}

/// The replacement of `old`: its name, owner, level, scopes and description, kept where the
/// backend keeps them, and its expiry length ([`same_length`]).
pub fn replacement(old: &ApiKey, capabilities: &Capabilities) -> NewKey {
    NewKey {
        owner: old.owner.clone(),
        level: old.level.filter(|_| capabilities.levels.is_some()),
        scopes: match capabilities.scopes {
            true => old.scopes.clone(),
            false => Vec::new(),
        },
        description: old
            .description
            .clone()
            .filter(|d| capabilities.descriptions && !d.trim().is_empty()),
        ..NewKey::named(old.name.clone(), same_length(old, capabilities))
    }
}

/// `name (rotated 2026-12-04)`, the name cut to fit `limit` characters in all.
pub fn rotated_name(name: &str, now: DateTime<Utc>, limit: usize) -> String {
    let suffix = format!(" (rotated {})", now.format("%Y-%m-%d"));
    let room = limit.saturating_sub(suffix.chars().count());
    let kept: String = name.chars().take(room).collect();
    format!("{}{suffix}", kept.trim_end())
}

/// A rotation's answer.
pub struct Rotated {
    pub old_id: String,
    /// The replacement and its secret (show it, whatever else failed), with what became of the
    /// keychain save and the activity entry.
    pub created: Created,
    /// The old key's revoke, when the grace period was `now`.
    pub revoked: Option<KeyRevoked>,
    /// The old key's pending revoke, when there was a grace period.
    pub scheduled: Option<ScheduledRevoke>,
    /// Why the old key is neither revoked nor scheduled (it still works): revoke it by hand.
    pub old_key_error: Option<ErrorBody>,
}

/// Rotates `profile`'s key `id` on `backend` for `host`. Checked before anything is made: the id,
/// the key (it must be active), no revoke already pending for it, the replacement's fit. The new
/// secret is saved in the keychain when `save_to_keychain` is asked or the old secret was saved
/// there (the saved-secret index says so); the old entry is deleted once the old key is revoked.
#[allow(clippy::too_many_arguments)]
pub async fn rotate(
    backend: &dyn KeyBackend,
    capabilities: &Capabilities,
    host: &dyn Host,
    schedule: &ScheduledRevokes,
    id: &str,
    grace: Duration,
    save_to_keychain: bool,
    now: DateTime<Utc>,
) -> Result<Rotated> {
    let id = keyward_core::model::check_key_id(id, "id")?;
    if grace != Duration::zero() && !(MIN_GRACE..=MAX_GRACE).contains(&grace) {
        return Err(Error::invalid(
            GRACE_FIELD,
            "must be now, or from 1 hour to 30 days",
        ));
    }
    let old = backend.get(id).await?;
    if old.status == KeyStatus::Revoked {
        return Err(Error::Conflict(format!(
            "key {id} is revoked; only a working key can be rotated"
        )));
    }
    if let Some(pending) = schedule.get(host.profile(), id)? {
        return Err(Error::Conflict(format!(
            "key {id} was already rotated: its revoke is scheduled for {}; cancel that first",
            pending
                .due_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    let old_saved = host
        .secrets()
        .saved_ids(host.profile())
        .ok()
        .flatten()
        .is_some_and(|ids| ids.contains(id));
    let new = replacement(&old, capabilities).validated()?;
    let save = save_to_keychain || old_saved;
    let created = match create::create(backend, capabilities, host, new.clone(), save).await {
        // Clerk keeps one valid key per name and owner (a 409, nothing made): the replacement
        // is told apart by the day it was made.
        Err(Error::Conflict(_)) => {
            let renamed = NewKey {
                name: rotated_name(&old.name, now, capabilities.text_limits.name),
                ..new
            };
            create::create(backend, capabilities, host, renamed, save).await?
        }
        other => other?,
    };
    // From here on the replacement exists: nothing below may fail the rotation.
    let new_id = created.created.key.id.clone();
    let mut rotated = Rotated {
        old_id: id.to_owned(),
        created,
        revoked: None,
        scheduled: None,
        old_key_error: None,
    };
    if grace == Duration::zero() {
        let resolved = Resolved::of_keys(vec![old]);
        let mut report = revoke_replaced(backend, host, &resolved, Some(&new_id)).await;
        let outcome = report.outcomes.pop();
        if let Some(error) = outcome.as_ref().and_then(|o| o.outcome.error.clone()) {
            rotated.old_key_error = Some(error);
        }
        rotated.revoked = outcome;
    } else {
        let pending = NewScheduledRevoke {
            profile: host.profile().to_owned(),
            key_id: id.to_owned(),
            key_name: Some(old.name.clone()),
            replaced_by: Some(new_id),
            due_at: now + grace,
            reason: REASON.to_owned(),
        };
        match schedule.schedule(&pending) {
            Ok(scheduled) => rotated.scheduled = Some(scheduled),
            Err(error) => rotated.old_key_error = Some(error.to_body()),
        }
    }
    Ok(rotated)
}

/// The activity reason of a revoke carried out for a rotation.
pub fn activity_reason(replaced_by: Option<&str>) -> String {
    match replaced_by {
        Some(id) => format!("{REASON} (replaced by {id})"),
        None => REASON.to_owned(),
    }
}

/// Revokes the keys of `resolved` (forgetting their saved secrets), telling the backend only
/// "rotated" and the activity log which key replaced them.
async fn revoke_replaced(
    backend: &dyn KeyBackend,
    host: &dyn Host,
    resolved: &Resolved,
    replaced_by: Option<&str>,
) -> revoke::RevokeReport {
    let host = Reasoned {
        inner: host,
        reason: activity_reason(replaced_by),
    };
    let options = BulkOptions {
        concurrency: 1,
        ..BulkOptions::default()
    };
    revoke::revoke(backend, &host, resolved, Some(REASON), true, &options).await
}

/// `host`, with the activity entries' reason replaced: the backend keeps a short reason (an id
/// in it could look like a secret to its checks), the log the whole story.
struct Reasoned<'a> {
    inner: &'a dyn Host,
    reason: String,
}

#[async_trait]
impl Host for Reasoned<'_> {
    fn profile(&self) -> &str {
        self.inner.profile()
    }
    async fn record(&self, mut entries: Vec<NewActivity>) -> Result<()> {
        for entry in &mut entries {
            entry.reason = Some(self.reason.clone());
        }
        self.inner.record(entries).await
    }
    fn secrets(&self) -> &dyn SecretKeeper {
        self.inner.secrets()
    }
    fn progress(&self, last: &RevokeOutcome, progress: BulkProgress) {
        self.inner.progress(last, progress)
    }
    fn cancel(&self) -> &CancelFlag {
        self.inner.cancel()
    }
    fn revoke_marks(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        self.inner.revoke_marks()
    }
}

/// One pending revoke that came due.
#[derive(Debug, Clone, Serialize)]
pub struct DueRevoke {
    pub scheduled: ScheduledRevoke,
    /// `revoked` (or the key was gone already), else `failed`: kept and tried again next time.
    pub status: RevokeStatus,
    pub error: Option<ErrorBody>,
    /// Whether the old key's saved secret was deleted from the keychain.
    pub forgotten: Option<bool>,
}

/// Carries out `host`'s profile's revokes due at `now`, one by one: each is recorded in the
/// activity log ("rotated (replaced by …)") and removed from the schedule once the key is revoked
/// (or found gone); one that fails stays and is tried again on the next run.
pub async fn run_due(
    backend: &dyn KeyBackend,
    host: &dyn Host,
    schedule: &ScheduledRevokes,
    now: DateTime<Utc>,
) -> Result<Vec<DueRevoke>> {
    let mut done = Vec::new();
    for due in schedule.due(Some(host.profile()), now)? {
        let mut resolved = Resolved::of_ids(vec![due.key_id.clone()], "id")?;
        if let Some(name) = &due.key_name {
            resolved =
                resolved.with_shown_names(HashMap::from([(due.key_id.clone(), name.clone())]));
        }
        let report = revoke_replaced(backend, host, &resolved, due.replaced_by.as_deref()).await;
        let Some(result) = report.outcomes.into_iter().next() else {
            continue;
        };
        let gone = result
            .outcome
            .error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::NotFound);
        let status = match gone {
            true => RevokeStatus::Revoked,
            false => result.outcome.status,
        };
        if status == RevokeStatus::Revoked {
            schedule.remove(&due.profile, &due.key_id)?;
        }
        done.push(DueRevoke {
            scheduled: due,
            status,
            error: result.outcome.error,
            forgotten: result.forgotten,
        });
    }
    Ok(done)
}

/// Cancels the pending revoke of `host`'s profile's key `id`: the old key keeps working. A key
/// with nothing pending is `not_found` naming it.
pub fn cancel(host: &dyn Host, schedule: &ScheduledRevokes, id: &str) -> Result<ScheduledRevoke> {
    let id = keyward_core::model::check_key_id(id, "id")?;
    let pending = schedule
        .get(host.profile(), id)?
        .ok_or_else(|| Error::NotFound(format!("no revoke of key {id} is scheduled")))?;
    schedule.remove(host.profile(), id)?;
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::key;

    fn caps(presets: Vec<ExpiryPreset>, custom: bool, never: bool) -> Capabilities {
        Capabilities {
            server_search: false,
            server_paging: false,
            sorts: Vec::new(),
            user_keys: true,
            org_keys: false,
            owner_is_label: false,
            levels: None,
            scopes: false,
            descriptions: false,
            revoke_reason: false,
            revoke_kind: keyward_core::RevokeKind::Revoke,
            last_used: false,
            verify: true,
            verify_counts_as_use: false,
            expiry_presets: presets,
            custom_expiry: custom,
            never_expires: never,
            names_kept_locally: false,
            text_limits: keyward_core::TextLimits::GENERIC,
            updates: keyward_core::UpdateFields::NONE,
        }
    }

    #[test]
    fn a_renamed_replacement_fits_the_backend() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rotated_name("ci", now, 64), "ci (rotated 2026-12-04)");
        let long = rotated_name(&"n".repeat(80), now, 64);
        assert_eq!(long.chars().count(), 64);
        assert!(long.ends_with(" (rotated 2026-12-04)"));
    }

    #[test]
    fn grace_periods_parse_within_an_hour_and_thirty_days() {
        assert_eq!(parse_grace("now").unwrap(), Duration::zero());
        assert_eq!(parse_grace(" 24h ").unwrap(), Duration::hours(24));
        assert_eq!(parse_grace("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_grace("30d").unwrap(), Duration::days(30));
        for bad in ["31d", "30m", "0h", "soon", "", "-1h", "99999999999d"] {
            let error = parse_grace(bad).unwrap_err();
            assert_eq!(error.field(), Some(GRACE_FIELD), "{bad}: {error}");
        }
    }

    #[test]
    fn the_expiry_length_maps_to_what_the_backend_can_express() {
        let mut old = key("ci", None);
        old.expires_at = Some(old.created_at + Duration::days(90));
        let all = ExpiryPreset::ALL.to_vec();
        assert_eq!(
            same_length(&old, &caps(all.clone(), true, true)),
            Expiration::After(Duration::days(90))
        );
        assert_eq!(
            same_length(&old, &caps(all.clone(), false, true)),
            Expiration::Preset(ExpiryPreset::ThreeMonths)
        );
        old.expires_at = None;
        assert_eq!(
            same_length(&old, &caps(all, false, true)),
            Expiration::Preset(ExpiryPreset::Never)
        );
        assert_eq!(
            same_length(
                &old,
                &caps(
                    vec![ExpiryPreset::TwoWeeks, ExpiryPreset::OneYear],
                    false,
                    false
                )
            ),
            Expiration::Preset(ExpiryPreset::OneYear)
        );
    }
}
