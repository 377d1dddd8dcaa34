//! Rotation: the replacement is made like the old key, its secret comes back once, and the old
//! key is revoked at once or when its grace period is over, even after a restart; a pending
//! revoke can be cancelled. Run against the local store and the Clerk emulator, with a test host
//! (an activity log in a temporary folder, a keychain kept in memory).

use chrono::{Duration, Utc};
use keyward_core::{ErrorCode, Expiration, KeyBackend, KeyStatus, NewKey, RevokeStatus, Subject};
use keyward_local::{ActivityAction, ActivityQuery, LocalStore};
use keyward_ops::rotate::{self, parse_grace};
use keyward_ops::{list, SecretKeeper};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::path::Path;

mod support;
use support::{FakeKeychain, TestHost};

impl TestHost {
    fn open(dir: &Path) -> TestHost {
        TestHost::new(dir, FakeKeychain::default())
    }

    fn entries(&self) -> Vec<(ActivityAction, String, Option<String>)> {
        let page = self.log.list(&ActivityQuery::default()).unwrap();
        page.entries
            .into_iter()
            .rev()
            .map(|e| (e.action, e.key_id, e.reason))
            .collect()
    }
}

async fn make(store: &dyn KeyBackend, new: NewKey) -> String {
    store.create(new).await.unwrap().key.id
}

fn old_key() -> NewKey {
    NewKey {
        owner: Some(Subject::User("user_7".into())),
        description: Some("deploys from CI".into()),
        ..NewKey::named("ci deploy", Expiration::After(Duration::days(45)))
    }
}

#[tokio::test]
async fn grace_now_makes_a_like_replacement_and_revokes_the_old_key_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let old_id = make(&store, old_key()).await;
    let old = store.get(&old_id).await.unwrap();

    let rotated = rotate::rotate(
        &store,
        &store.capabilities(),
        &host,
        &host.schedule,
        &old_id,
        parse_grace("now").unwrap(),
        false,
        Utc::now(),
    )
    .await
    .unwrap();

    let new = &rotated.created.created.key;
    assert!(rotated
        .created
        .created
        .secret
        .expose_secret()
        .starts_with("kw_"));
    assert_ne!(new.id, old_id);
    assert_eq!(new.name, old.name);
    assert_eq!(new.owner, old.owner);
    assert_eq!(new.level, old.level);
    assert_eq!(new.scopes, old.scopes);
    assert_eq!(new.description, old.description);
    let length = new.expires_at.unwrap() - new.created_at;
    assert!(
        (length - Duration::days(45)).num_seconds().abs() < 5,
        "the same expiry length: {length}"
    );
    assert!(rotated.scheduled.is_none() && rotated.old_key_error.is_none());
    assert_eq!(
        rotated.revoked.unwrap().outcome.status,
        RevokeStatus::Revoked
    );
    assert_eq!(store.get(&old_id).await.unwrap().status, KeyStatus::Revoked);
    assert_eq!(
        host.entries(),
        vec![
            (ActivityAction::Created, new.id.clone(), None),
            (
                ActivityAction::Revoked,
                old_id.clone(),
                Some(format!("rotated (replaced by {})", new.id))
            ),
        ]
    );
    // A revoked key cannot be rotated again.
    let error = rotate::rotate(
        &store,
        &store.capabilities(),
        &host,
        &host.schedule,
        &old_id,
        Duration::zero(),
        false,
        Utc::now(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.code(), ErrorCode::Conflict);
}

#[tokio::test]
async fn a_grace_period_schedules_the_revoke_which_survives_a_restart_and_is_carried_out_when_due()
{
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    let (old_id, new_id) = {
        let store = LocalStore::open(dir.path()).unwrap();
        let host = TestHost::open(dir.path());
        let old_id = make(&store, old_key()).await;
        let rotated = rotate::rotate(
            &store,
            &store.capabilities(),
            &host,
            &host.schedule,
            &old_id,
            parse_grace("1h").unwrap(),
            false,
            started,
        )
        .await
        .unwrap();
        let scheduled = rotated.scheduled.unwrap();
        assert_eq!(
            scheduled.due_at.timestamp_millis(),
            (started + Duration::hours(1)).timestamp_millis()
        );
        assert!(rotated.revoked.is_none());
        assert_eq!(store.get(&old_id).await.unwrap().status, KeyStatus::Active);
        // The old key is listed as "revoke scheduled", the new one is not.
        let page = list::list(&store, &host, Default::default()).await.unwrap();
        let marks: HashMap<_, _> = page
            .page
            .items
            .iter()
            .map(|k| (k.key.id.clone(), k.revoke_scheduled_at))
            .collect();
        let new_id = rotated.created.created.key.id.clone();
        assert_eq!(marks[&old_id], Some(scheduled.due_at));
        assert_eq!(marks[&new_id], None);
        // Rotating it again while its revoke is pending would leave two replacements.
        let again = rotate::rotate(
            &store,
            &store.capabilities(),
            &host,
            &host.schedule,
            &old_id,
            Duration::zero(),
            false,
            started,
        )
        .await
        .err()
        .unwrap();
        assert_eq!(again.code(), ErrorCode::Conflict);
        // Not due yet: nothing happens.
        let early = rotate::run_due(
            &store,
            &host,
            &host.schedule,
            started + Duration::minutes(59),
        )
        .await
        .unwrap();
        assert!(early.is_empty());
        (old_id, new_id)
        // Everything is dropped here: Keyward was closed.
    };

    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let done = rotate::run_due(&store, &host, &host.schedule, started + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, RevokeStatus::Revoked);
    assert_eq!(store.get(&old_id).await.unwrap().status, KeyStatus::Revoked);
    assert_eq!(store.get(&new_id).await.unwrap().status, KeyStatus::Active);
    assert!(host.schedule.list(None).unwrap().is_empty());
    let last = host.entries().pop().unwrap();
    assert_eq!(
        last,
        (
            ActivityAction::Revoked,
            old_id,
            Some(format!("rotated (replaced by {new_id})"))
        )
    );
    // Run again: nothing left to do.
    assert!(
        rotate::run_due(&store, &host, &host.schedule, started + Duration::hours(3))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_cancelled_revoke_leaves_the_old_key_working() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let old_id = make(&store, old_key()).await;
    let now = Utc::now();
    rotate::rotate(
        &store,
        &store.capabilities(),
        &host,
        &host.schedule,
        &old_id,
        Duration::days(7),
        false,
        now,
    )
    .await
    .unwrap();
    let cancelled = rotate::cancel(&host, &host.schedule, &old_id).unwrap();
    assert_eq!(cancelled.key_id, old_id);
    assert!(
        rotate::run_due(&store, &host, &host.schedule, now + Duration::days(8))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get(&old_id).await.unwrap().status, KeyStatus::Active);
    let again = rotate::cancel(&host, &host.schedule, &old_id).unwrap_err();
    assert_eq!(again.code(), ErrorCode::NotFound);
    let bad = rotate::cancel(&host, &host.schedule, "").unwrap_err();
    assert_eq!(bad.field(), Some("id"));
}

#[tokio::test]
async fn a_secret_saved_in_the_keychain_is_replaced_there() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let old = store.create(old_key()).await.unwrap();
    host.keychain
        .save_key_secret("work", &old.key.id, &old.secret)
        .await
        .unwrap();
    let now = Utc::now();
    let rotated = rotate::rotate(
        &store,
        &store.capabilities(),
        &host,
        &host.schedule,
        &old.key.id,
        Duration::hours(24),
        false,
        now,
    )
    .await
    .unwrap();
    let new = &rotated.created.created;
    assert!(matches!(rotated.created.saved_to_keychain, Some(Ok(()))));
    let saved = host.keychain.saved.lock().unwrap().clone();
    assert_eq!(saved[&new.key.id], new.secret.expose_secret());
    assert!(
        saved.contains_key(&old.key.id),
        "the old secret stays while the old key still works"
    );
    let done = rotate::run_due(&store, &host, &host.schedule, now + Duration::hours(25))
        .await
        .unwrap();
    assert_eq!(done[0].forgotten, Some(true));
    let saved = host.keychain.saved.lock().unwrap().clone();
    assert!(!saved.contains_key(&old.key.id), "deleted once revoked");
    assert!(saved.contains_key(&new.key.id));
}

#[tokio::test]
async fn nothing_is_made_when_the_key_or_the_grace_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let old_id = make(&store, old_key()).await;
    let rotate = |id: String, grace: Duration| {
        let (store, host) = (&store, &host);
        async move {
            rotate::rotate(
                store,
                &store.capabilities(),
                host,
                &host.schedule,
                &id,
                grace,
                false,
                Utc::now(),
            )
            .await
            .err()
            .unwrap()
        }
    };
    let unknown = rotate("key_nope".into(), Duration::zero()).await;
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    let short = rotate(old_id.clone(), Duration::minutes(5)).await;
    assert_eq!(short.field(), Some("grace"));
    assert_eq!(
        store.list(&Default::default()).await.unwrap().items.len(),
        1,
        "no replacement made"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_on_the_clerk_emulator_maps_the_expiry_and_revokes_when_due() {
    use keyward_emulators::{Emulator, Flavor};
    let emu = Emulator::start(Flavor::Clerk).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backend = clerk_profile(&emu, dir.path());
    let caps = backend.capabilities();
    let host = TestHost::open(dir.path());
    let old = backend
        .create(NewKey {
            description: Some("nightly sync".into()),
            ..NewKey::named("ci-bot", Expiration::After(Duration::days(30)))
        })
        .await
        .unwrap();
    let now = Utc::now();
    let rotated = rotate::rotate(
        backend.as_ref(),
        &caps,
        &host,
        &host.schedule,
        &old.key.id,
        Duration::hours(1),
        false,
        now,
    )
    .await
    .unwrap();
    let new = &rotated.created.created.key;
    assert_eq!(
        new.name,
        rotate::rotated_name("ci-bot", now, caps.text_limits.name),
        "Clerk keeps one valid key per name, so the replacement is told apart by its day"
    );
    assert_eq!(new.description.as_deref(), Some("nightly sync"));
    let length = new.expires_at.expect("expires") - new.created_at;
    assert!(
        (length - Duration::days(30)).num_hours().abs() <= 24,
        "about 30 days: {length}"
    );
    assert!(rotated.scheduled.is_some());
    let done = rotate::run_due(
        backend.as_ref(),
        &host,
        &host.schedule,
        now + Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(done[0].status, RevokeStatus::Revoked, "{:?}", done[0].error);
    assert_eq!(
        backend.get(&old.key.id).await.unwrap().status,
        KeyStatus::Revoked
    );
    emu.shutdown().await;
}

/// The figure of issue 10's closing note: every key of a Clerk emulator answering each request
/// after 50 ms that expires within 14 days (100 of 200 seeded) rotated one after another with a
/// 7 day grace period, as `keyward keys rotate --expiring-within 14 --grace 7d --yes` does. The
/// time is printed, not asserted (beyond a generous bound). Ignored by default: about 20 s.
///
///     cargo test -p keyward-ops --test rotate -- --ignored --nocapture
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a timing figure (about 20 s); run with --ignored --nocapture"]
async fn bulk_rotation_of_100_keys_at_50_ms_latency() {
    use keyward_emulators::{Emulator, Faults, Flavor, Options, SeedOwner, SeedSpec};
    let emu = Emulator::start_with(
        Flavor::Clerk,
        Options {
            faults: Faults {
                latency: std::time::Duration::from_millis(50),
                ..Faults::default()
            },
            ..Options::default()
        },
    )
    .await
    .unwrap();
    emu.seed_with(&SeedSpec {
        name_prefix: "bulk-".into(),
        expiring_within_days: Some(14),
        ..SeedSpec::new(200, SeedOwner::User)
    });
    let dir = tempfile::tempdir().unwrap();
    let backend = clerk_profile(&emu, dir.path());
    let caps = backend.capabilities();
    let host = TestHost::open(dir.path());
    let query = keyward_core::ListQuery {
        expires_within_days: Some(14),
        limit: 100,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let matching = keyward_core::revocable_matching(backend.as_ref(), &query, 4)
        .await
        .unwrap();
    let listed = started.elapsed();
    assert_eq!(matching.len(), 100);
    let now = Utc::now();
    for key in &matching {
        let rotated = rotate::rotate(
            backend.as_ref(),
            &caps,
            &host,
            &host.schedule,
            &key.id,
            Duration::days(7),
            false,
            now,
        )
        .await
        .unwrap();
        assert!(rotated.scheduled.is_some() && rotated.old_key_error.is_none());
    }
    let total = started.elapsed();
    println!(
        "100-key bulk rotation, Clerk emulator at 50 ms a request: listed in {:.2} s, rotated in {:.2} s ({:.0} ms a key)",
        listed.as_secs_f64(),
        total.as_secs_f64(),
        (total - listed).as_secs_f64() * 1000.0 / 100.0
    );
    assert_eq!(host.schedule.list(None).unwrap().len(), 100);
    assert!(total < std::time::Duration::from_secs(300), "{total:?}");
    emu.shutdown().await;
}

/// The Clerk profile "team" (a user's keys) against `emu`, its data in `dir`, opened as a front
/// end opens it.
fn clerk_profile(emu: &keyward_emulators::Emulator, dir: &Path) -> std::sync::Arc<dyn KeyBackend> {
    use keyward_profiles::{Config, Paths};
    let creds = emu.credentials().clerk().unwrap().clone();
    let text = format!(
        "default_profile = \"team\"\n[profiles.team]\nbackend = \"clerk\"\nurl = \"{}\"\nsubject = \"user:{}\"\n",
        emu.base_url(),
        creds.user_id
    );
    let config = Config::parse(&text, &dir.join("config.toml")).unwrap();
    let paths = Paths {
        config_file: dir.join("config.toml"),
        data_dir: dir.to_path_buf(),
    };
    config
        .profile(Some("team"))
        .unwrap()
        .open_backend_with_credential(
            &paths,
            &SecretString::from(creds.secret_key),
            keyward_remote::HttpOptions::default(),
        )
        .unwrap()
}
