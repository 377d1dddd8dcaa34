//! The background scheduler of pending revokes: on start and then every minute, the revokes that
//! rotations with a grace period left in `scheduled.db` and that are now due are carried out, on
//! every profile (`keyward_ops::rotate::run_due`: recorded in the activity log as "rotated
//! (replaced by …)", the old saved secret forgotten). A revoke that fails stays and is tried on
//! the next tick. This is the Tauri glue; the rules are in `keyward_ops::rotate`.
//!
//! A profile is opened (its credential read) only when one of its revokes is due; the window's
//! own session is reused. Failures cost a line on stderr (code and message, never a secret).

use crate::host::AppHost;
use crate::state::{ActivityCell, AppState};
use chrono::{DateTime, Utc};
use keyward_core::{Error, KeyBackend, Result};
use keyward_local::ScheduledRevokes;
use keyward_ops::rotate::{self, DueRevoke};
use keyward_profiles::{Config, Paths};
use keyward_vault::Keychain;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// Emitted to the main window after a tick revoked keys, so the table shows them revoked.
pub const SCHEDULED_REVOKES_EVENT: &str = "scheduled-revokes";

const RUN_EVERY: Duration = Duration::from_secs(60);
/// The first run waits for the window's first paint (which needs the same profile and CPU).
const FIRST_RUN_AFTER: Duration = Duration::from_secs(2);

/// Starts the scheduler on the async runtime; its first run is right after startup (a revoke that
/// came due while Keyward was closed is carried out on start).
pub fn start(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_RUN_AFTER).await;
        let mut every_minute = tokio::time::interval(RUN_EVERY);
        // After a suspend, one run, not one per minute missed.
        every_minute.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_minute.tick().await;
            match run_once(&app).await {
                Ok(0) => {}
                Ok(revoked) => {
                    let _ = app.emit_to("main", SCHEDULED_REVOKES_EVENT, revoked);
                }
                Err(e) => eprintln!(
                    "keyward: scheduled revokes skipped: {} ({})",
                    e,
                    e.code().as_str()
                ),
            }
        }
    });
}

/// One tick: the number of keys revoked.
async fn run_once(app: &AppHandle) -> Result<usize> {
    let state = app.state::<AppState>();
    let dir = state.activity.data_dir()?;
    let Some(schedule) = blocking(move || ScheduledRevokes::open_existing(&dir)).await? else {
        return Ok(0);
    };
    let schedule = Arc::new(schedule);
    let now = Utc::now();
    let due = schedule.due(None, now)?;
    if due.is_empty() {
        return Ok(0);
    }
    let profiles: BTreeSet<String> = due.into_iter().map(|d| d.profile).collect();
    let active = state.session().await.ok().and_then(|session| {
        let backend = session.backend().ok()?;
        Some((session.name().to_owned(), Arc::clone(backend)))
    });
    let keychain = state.keychain.clone();
    let backends = blocking(move || {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        Ok(profiles
            .into_iter()
            .map(|name| {
                let backend = match &active {
                    Some((active, backend)) if *active == name => Ok(Arc::clone(backend)),
                    _ => config
                        .profile(Some(&name))
                        .and_then(|profile| profile.open_backend(&paths, &keychain)),
                };
                (name, backend)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let runs = run_due_everywhere(&schedule, &state.activity, &state.keychain, backends, now).await;
    let mut revoked = 0;
    for (profile, run) in runs {
        match run {
            Ok(done) => {
                for d in done {
                    match &d.error {
                        Some(e) if d.status != keyward_core::RevokeStatus::Revoked => eprintln!(
                            "keyward: the scheduled revoke of {} on profile '{profile}' failed (tried again next time): {} ({})",
                            d.scheduled.key_id, e.message, e.code.as_str()
                        ),
                        _ => revoked += 1,
                    }
                }
            }
            Err(e) => eprintln!(
                "keyward: scheduled revokes of profile '{profile}' skipped: {} ({})",
                e,
                e.code().as_str()
            ),
        }
    }
    Ok(revoked)
}

/// Carries out the revokes due at `now` of each profile in `backends` (opened by the caller),
/// recording them in `activity`. Tauri-free, so it is tested without a window.
pub async fn run_due_everywhere(
    schedule: &ScheduledRevokes,
    activity: &ActivityCell,
    keychain: &Keychain,
    backends: Vec<(String, Result<Arc<dyn KeyBackend>>)>,
    now: DateTime<Utc>,
) -> Vec<(String, Result<Vec<DueRevoke>>)> {
    let mut runs = Vec::new();
    for (profile, backend) in backends {
        let run = match backend {
            Ok(backend) => {
                let host = AppHost::new(&profile, activity, keychain);
                rotate::run_due(backend.as_ref(), &host, schedule, now).await
            }
            Err(e) => Err(e),
        };
        runs.push((profile, run));
    }
    runs
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| Error::Unexpected(format!("a background task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::{Expiration, KeyStatus, NewKey};
    use keyward_local::{LocalStore, NewScheduledRevoke};
    use keyward_vault::SavedSecretIndex;

    #[tokio::test]
    async fn a_due_revoke_is_carried_out_on_its_profile_and_a_broken_profile_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(LocalStore::open(dir.path()).unwrap());
        let old = store
            .create(NewKey::named("ci", Expiration::default()))
            .await
            .unwrap();
        let schedule = ScheduledRevokes::open(dir.path()).unwrap();
        let pending = |profile: &str| NewScheduledRevoke {
            profile: profile.into(),
            key_id: old.key.id.clone(),
            key_name: Some("ci".into()),
            replaced_by: Some("key_new".into()),
            due_at: Utc::now() - chrono::Duration::minutes(1),
            reason: "rotated".into(),
        };
        schedule.schedule(&pending("mine")).unwrap();
        schedule.schedule(&pending("gone")).unwrap();
        let activity = ActivityCell::in_dir(dir.path());
        // An index with nothing saved: the keychain itself is never asked.
        let keychain = Keychain::new().with_index(SavedSecretIndex::open(dir.path()).unwrap());
        let backend: Arc<dyn KeyBackend> = store.clone();
        let runs = run_due_everywhere(
            &schedule,
            &activity,
            &keychain,
            vec![
                ("mine".into(), Ok(backend)),
                (
                    "gone".into(),
                    Err(Error::invalid("profile", "no profile named 'gone'")),
                ),
            ],
            Utc::now(),
        )
        .await;
        assert_eq!(runs.len(), 2);
        let mine = runs[0].1.as_ref().unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(
            store.get(&old.key.id).await.unwrap().status,
            KeyStatus::Revoked
        );
        assert!(runs[1].1.is_err());
        let left: Vec<String> = schedule
            .list(None)
            .unwrap()
            .into_iter()
            .map(|s| s.profile)
            .collect();
        assert_eq!(left, vec!["gone".to_owned()], "kept for the next tick");
        let log = activity.get().await.unwrap();
        let entries = log.list(&Default::default()).unwrap().entries;
        assert_eq!(
            entries[0].reason.as_deref(),
            Some("rotated (replaced by key_new)")
        );
    }
}
