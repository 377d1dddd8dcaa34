//! The update operation (issue 10): a change checked against what the backend can change before
//! anything is sent, the key changed, the activity log saying what changed (never a secret), and
//! the next listing showing it. Against the local store, the PropelAuth emulator (backend API:
//! description and expiry) and the FreeSewing emulator (no updates).

use async_trait::async_trait;
use chrono::{Duration, Utc};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyUpdate, ListQuery, NewKey, Result, Subject,
};
use keyward_emulators::{Emulator, Flavor, SeedOwner};
use keyward_local::{ActivityAction, ActivityLog, ActivityQuery, LocalStore};
use keyward_ops::{update, SecretKeeper};
use keyward_remote::{
    FreeSewingAuth, FreeSewingBackend, FreeSewingConfig, HttpOptions, PropelAuthApi,
    PropelAuthBackend, PropelAuthConfig,
};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;

mod support;

/// A keychain the update never needs: every call is a test failure.
struct NoKeychain;

#[async_trait]
impl SecretKeeper for NoKeychain {
    async fn probe(&self) -> Result<()> {
        unreachable!("an update never asks the keychain")
    }
    async fn save_key_secret(&self, _: &str, _: &str, _: &SecretString) -> Result<()> {
        unreachable!("an update never saves a secret")
    }
    async fn forget_key_secret(&self, _: &str, _: &str) -> Result<bool> {
        unreachable!("an update never forgets a secret")
    }
    async fn save_credential(&self, _: &str, _: &SecretString) -> Result<()> {
        unreachable!("an update never saves a credential")
    }
    fn saved_ids(&self, _: &str) -> Result<Option<HashSet<String>>> {
        Ok(None)
    }
}

type TestHost = support::TestHost<NoKeychain>;

impl TestHost {
    fn open(dir: &std::path::Path) -> TestHost {
        TestHost::new(dir, NoKeychain)
    }

    /// `(action, key id, what changed)`, newest first.
    fn entries(&self) -> Vec<(ActivityAction, String, Option<String>)> {
        self.log
            .list(&ActivityQuery::default())
            .unwrap()
            .entries
            .into_iter()
            .map(|e| (e.action, e.key_id, e.reason))
            .collect()
    }
}

fn expires(text: &str) -> KeyUpdate {
    KeyUpdate {
        expiration: Some(Expiration::parse(text).unwrap()),
        ..KeyUpdate::default()
    }
}

fn fast_http() -> HttpOptions {
    let mut http = HttpOptions::default();
    http.retry.attempts = 1;
    http
}

#[tokio::test]
async fn a_local_key_is_extended_described_renamed_and_made_never_expiring_and_each_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let created = store
        .create(NewKey::named(
            "laptop",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap();
    let id = created.key.id.clone();
    let secret = created.secret.expose_secret().to_owned();

    let change = KeyUpdate {
        description: Some("the build laptop".into()),
        ..expires("OneYear")
    };
    let updated = update::update(&store, &host, &id, change).await.unwrap();
    assert!(updated.activity_error.is_none());
    let expiry = updated.key.expires_at.expect("an expiry");
    let in_a_year = Utc::now() + Duration::days(365);
    assert!((expiry - in_a_year).num_minutes().abs() < 5, "{expiry}");
    assert_eq!(updated.key.description.as_deref(), Some("the build laptop"));
    // The listing shows it too.
    let listed = store.list(&ListQuery::default()).await.unwrap();
    assert_eq!(listed.items[0].expires_at, Some(expiry));

    let renamed = KeyUpdate {
        name: Some("  old laptop ".into()),
        description: Some(" ".into()),
        ..expires("never")
    };
    let updated = update::update(&store, &host, &id, renamed).await.unwrap();
    assert_eq!(updated.key.name, "old laptop");
    assert_eq!(updated.key.expires_at, None);
    assert_eq!(
        updated.key.description, None,
        "a blank description clears it"
    );

    let entries = host.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].0, ActivityAction::Updated);
    assert_eq!(entries[0].1, id);
    assert_eq!(
        entries[0].2.as_deref(),
        Some("name → \"old laptop\"; description cleared; expiry → never")
    );
    let first = entries[1].2.as_deref().unwrap();
    assert!(
        first.starts_with("description changed; expiry → ")
            && first.ends_with('Z')
            && !first.contains("build laptop"),
        "the date, never the description's text: {first}"
    );
    // The secret is in no entry, and still verifies.
    let log = std::fs::read(dir.path().join(ActivityLog::FILE_NAME)).unwrap();
    assert!(!String::from_utf8_lossy(&log).contains(&secret));
    let verified = store
        .verify(&SecretString::from(secret.clone()))
        .await
        .unwrap();
    assert!(verified.is_valid());
}

#[tokio::test]
async fn bad_changes_are_refused_naming_the_field_and_nothing_is_changed_or_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::open(dir.path());
    let created = store
        .create(NewKey::named(
            "ci",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap();
    let id = created.key.id.clone();
    let refused = |change: KeyUpdate, id: &str| {
        let (store, host, id) = (&store, &host, id.to_owned());
        async move { update::update(store, host, &id, change).await.unwrap_err() }
    };
    for (change, field) in [
        (KeyUpdate::default(), "update"),
        (
            KeyUpdate {
                scopes: Some(vec!["read".into()]),
                ..KeyUpdate::default()
            },
            "scopes",
        ),
        (
            KeyUpdate {
                name: Some("   ".into()),
                ..KeyUpdate::default()
            },
            "name",
        ),
        (
            KeyUpdate {
                description: Some("x".repeat(2000)),
                ..KeyUpdate::default()
            },
            "description",
        ),
        (
            KeyUpdate {
                expiration: Some(Expiration::At(Utc::now() - Duration::days(1))),
                ..KeyUpdate::default()
            },
            "expires",
        ),
    ] {
        let error = refused(change, &id).await;
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{field}: {error}");
        assert_eq!(error.field(), Some(field), "{error}");
    }
    assert_eq!(refused(expires("90d"), " ").await.field(), Some("id"));
    let missing = refused(expires("90d"), "key_missing").await;
    assert_eq!(missing.code(), ErrorCode::NotFound);
    let unchanged = store.get(&id).await.unwrap();
    assert_eq!(unchanged, created.key);
    assert!(host.entries().is_empty());
}

#[tokio::test]
async fn propelauth_extends_a_key_and_the_next_listing_shows_it() {
    let emulator = Emulator::start(Flavor::PropelAuth).await.unwrap();
    let credentials = emulator.credentials().propelauth().unwrap().clone();
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Backend {
            integration_key: SecretString::from(credentials.integration_key.as_str()),
            auth_url: None,
        },
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: fast_http(),
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = TestHost::open(dir.path());
    let created = backend
        .create(NewKey::named(
            "ci",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap();
    // A listing first, so the adapter has a snapshot the update must drop.
    backend.list(&ListQuery::default()).await.unwrap();
    let change = KeyUpdate {
        description: Some("deploys".into()),
        ..expires("OneYear")
    };
    let updated = update::update(&backend, &host, &created.key.id, change)
        .await
        .unwrap();
    let expiry = updated.key.expires_at.expect("an expiry");
    assert!(
        (expiry - (Utc::now() + Duration::days(365)))
            .num_minutes()
            .abs()
            < 5
    );
    let listed = backend.list(&ListQuery::default()).await.unwrap();
    let row = listed
        .items
        .iter()
        .find(|k| k.id == created.key.id)
        .unwrap();
    assert_eq!(row.expires_at, Some(expiry), "the listing is not stale");
    let entries = host.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, ActivityAction::Updated);
    assert!(entries[0]
        .2
        .as_deref()
        .unwrap()
        .starts_with("description changed; expiry → "));
    // PropelAuth's backend API has no names: refused before anything is sent.
    emulator.reset_stats();
    let rename = KeyUpdate {
        name: Some("n".into()),
        ..KeyUpdate::default()
    };
    let error = update::update(&backend, &host, &created.key.id, rename)
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("name"));
    assert_eq!(emulator.request_count(), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn freesewing_refuses_every_field_by_name_before_any_request() {
    let emulator = Emulator::start(Flavor::FreeSewing).await.unwrap();
    let credentials = emulator.credentials().freesewing().unwrap().clone();
    let backend = FreeSewingBackend::new(FreeSewingConfig {
        base_url: emulator.base_url(),
        auth: FreeSewingAuth::Key {
            key: credentials.api_key.clone(),
            secret: SecretString::from(credentials.api_secret.as_str()),
        },
        http: fast_http(),
    })
    .unwrap();
    let id = emulator.seed(1, SeedOwner::User).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let host = TestHost::open(dir.path());
    emulator.reset_stats();
    for (change, field) in [
        (expires("90d"), "expires"),
        (
            KeyUpdate {
                description: Some("d".into()),
                ..KeyUpdate::default()
            },
            "description",
        ),
    ] {
        let error = update::checked(&backend, change.clone()).unwrap_err();
        assert_eq!(error.field(), Some(field));
        let error = update::update(&backend, &host, &id, change)
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some(field), "{error}");
        assert!(error.to_string().contains("cannot change"), "{error}");
    }
    assert_eq!(emulator.request_count(), 0, "nothing was sent");
    assert!(host.entries().is_empty());
    emulator.shutdown().await;
}
