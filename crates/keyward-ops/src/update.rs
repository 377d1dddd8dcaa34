//! Changing a key after it was made (its name, description, expiry or scopes): the refusal of a
//! field the backend cannot change, the checks a new key meets, the activity entry saying what
//! changed, and a fresh listing afterwards.

use crate::host::Host;
use keyward_core::{ApiKey, Error, KeyBackend, KeyUpdate, Result};
use keyward_local::activity::{ActivityAction, NewActivity};

/// A key just changed, as the backend now has it.
#[derive(Debug)]
pub struct Updated {
    pub key: ApiKey,
    /// Why the activity log did not record the update (the key was changed either way).
    pub activity_error: Option<Error>,
}

/// Checks `change` without the backend's server: refused (`invalid_input` naming the field) when
/// it sets a field `backend` cannot change (`Capabilities::updates`, through
/// `KeyUpdate::check_against`), when it changes nothing, or when a value breaks the rules of a new
/// key with the backend's own text limits. Front ends call it before anything is opened or sent;
/// [`update`] calls it again.
pub fn checked(backend: &dyn KeyBackend, change: KeyUpdate) -> Result<KeyUpdate> {
    let capabilities = backend.capabilities();
    change.check_against(&capabilities.updates)?;
    change.validated_for(&capabilities.text_limits, &[])
}

/// Changes key `id` on `backend` for `host`'s profile and records what changed (never a secret,
/// never the description's text). The backend's cached listing is dropped afterwards, so the next
/// page shows the change.
pub async fn update(
    backend: &dyn KeyBackend,
    host: &dyn Host,
    id: &str,
    change: KeyUpdate,
) -> Result<Updated> {
    let id = keyward_core::model::check_key_id(id, "id")?;
    let change = checked(backend, change)?;
    let key = backend.update(id, &change).await?;
    backend.forget_cached();
    let activity_error = host
        .record(vec![updated(host.profile(), backend.kind(), &key, &change)])
        .await
        .err();
    Ok(Updated {
        key,
        activity_error,
    })
}

/// The entry of an update: what changed in `reason`, e.g. `expiry → 2027-01-31T00:00:00Z;
/// description changed`. The expiry is the one the backend answered (a "90d" is a date by now).
pub fn updated(profile: &str, backend: &str, key: &ApiKey, change: &KeyUpdate) -> NewActivity {
    NewActivity {
        profile: profile.to_owned(),
        backend: backend.to_owned(),
        action: ActivityAction::Updated,
        key_id: key.id.clone(),
        key_name: Some(key.name.clone()),
        reason: Some(what_changed(key, change)),
        error: None,
    }
}

fn what_changed(key: &ApiKey, change: &KeyUpdate) -> String {
    let others = KeyUpdate {
        expiration: None,
        ..change.clone()
    };
    let mut parts = Vec::new();
    if !others.is_empty() {
        parts.push(others.summary());
    }
    if change.expiration.is_some() {
        parts.push(match key.expires_at {
            Some(at) => format!(
                "expiry → {}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            None => "expiry → never".to_owned(),
        });
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::key;
    use chrono::TimeZone;
    use keyward_core::{Expiration, ExpiryPreset};

    #[test]
    fn the_entry_says_what_changed_with_the_expiry_the_backend_answered() {
        let mut changed = key("laptop", None);
        changed.expires_at = Some(chrono::Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap());
        let change = KeyUpdate {
            description: Some("private note".into()),
            expiration: Some(Expiration::Preset(ExpiryPreset::OneYear)),
            ..KeyUpdate::default()
        };
        let entry = updated("work", "local", &changed, &change);
        assert_eq!(entry.action, ActivityAction::Updated);
        assert_eq!(entry.key_name.as_deref(), Some("laptop"));
        assert_eq!(
            entry.reason.as_deref(),
            Some("description changed; expiry → 2027-01-31T00:00:00Z")
        );
        changed.expires_at = None;
        let never = KeyUpdate {
            expiration: Some(Expiration::Preset(ExpiryPreset::Never)),
            ..KeyUpdate::default()
        };
        assert_eq!(what_changed(&changed, &never), "expiry → never");
    }
}
