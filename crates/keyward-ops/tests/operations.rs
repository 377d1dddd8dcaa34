//! The operations' rules, run against the local store with a test host (an activity log in a
//! temporary folder, a keychain that can be made to fail).

use async_trait::async_trait;
use keyward_core::{
    BulkOptions, CancelFlag, Error, ErrorCode, Expiration, ExpiryPreset, KeyBackend, ListQuery,
    NewKey, Result,
};
use keyward_local::{ActivityQuery, LocalStore, NewActivity};
use keyward_ops::create::{self, CreateForm};
use keyward_ops::selection::{self, Resolved, Selection};
use keyward_ops::{list, revoke, Host, SecretKeeper};
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

mod support;
use support::{FakeKeychain, TestHost};

impl TestHost {
    fn actions(&self) -> Vec<String> {
        let page = self
            .log
            .list(&ActivityQuery {
                limit: 100,
                ..ActivityQuery::default()
            })
            .unwrap();
        page.entries
            .iter()
            .map(|e| format!("{}:{}", e.action.as_str(), e.key_id))
            .collect()
    }
}

fn form(name: &str) -> CreateForm {
    CreateForm {
        name: name.into(),
        ..CreateForm::default()
    }
}

#[tokio::test]
async fn an_unavailable_keychain_refuses_a_create_that_would_save_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::new(
        dir.path(),
        FakeKeychain {
            unavailable: true,
            ..FakeKeychain::default()
        },
    );
    let new = create::new_key(form("ci")).unwrap();
    let error = create::create(&store, &store.capabilities(), &host, new, true)
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::KeychainUnavailable);
    assert!(error.to_string().contains("keychain"), "{error}");
    assert_eq!(
        store.list(&ListQuery::default()).await.unwrap().items.len(),
        0
    );
    assert!(host.actions().is_empty());
}

/// A keychain that answers the probe but then fails the save: the key and its secret still come
/// back, with the failure beside them.
struct FailsOnSave(FakeKeychain);

#[async_trait]
impl SecretKeeper for FailsOnSave {
    async fn probe(&self) -> Result<()> {
        Ok(())
    }
    async fn save_key_secret(&self, _p: &str, _k: &str, _s: &SecretString) -> Result<()> {
        Err(Error::KeychainUnavailable("locked meanwhile".into()))
    }
    async fn forget_key_secret(&self, p: &str, k: &str) -> Result<bool> {
        self.0.forget_key_secret(p, k).await
    }
    async fn save_credential(&self, p: &str, c: &SecretString) -> Result<()> {
        self.0.save_credential(p, c).await
    }
    fn saved_ids(&self, p: &str) -> Result<Option<HashSet<String>>> {
        self.0.saved_ids(p)
    }
}

struct SaveFailHost(TestHost, FailsOnSave);

#[async_trait]
impl Host for SaveFailHost {
    fn profile(&self) -> &str {
        "work"
    }
    async fn record(&self, entries: Vec<NewActivity>) -> Result<()> {
        self.0.record(entries).await
    }
    fn secrets(&self) -> &dyn SecretKeeper {
        &self.1
    }
    fn cancel(&self) -> &CancelFlag {
        &self.0.cancel
    }
}

#[tokio::test]
async fn a_save_that_fails_after_the_create_keeps_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = SaveFailHost(
        TestHost::new(dir.path(), FakeKeychain::default()),
        FailsOnSave(FakeKeychain::default()),
    );
    let new = create::new_key(form("ci")).unwrap();
    let created = create::create(&store, &store.capabilities(), &host, new, true)
        .await
        .unwrap();
    assert!(created.created.secret.expose_secret().starts_with("kw_"));
    assert_eq!(
        created.saved_to_keychain.unwrap().unwrap_err().code(),
        ErrorCode::KeychainUnavailable
    );
    assert_eq!(
        host.0.actions(),
        [format!("created:{}", created.created.key.id)]
    );
}

#[tokio::test]
async fn the_capability_fit_names_the_field_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let host = TestHost::new(dir.path(), FakeKeychain::default());
    let mut capabilities = store.capabilities();
    capabilities.levels = Some((1, 3));
    capabilities.scopes = false;
    for (new, field) in [
        (
            NewKey {
                level: Some(4),
                ..create::new_key(form("ci")).unwrap()
            },
            "level",
        ),
        (
            NewKey {
                scopes: vec!["read".into()],
                ..create::new_key(form("ci")).unwrap()
            },
            "scopes",
        ),
    ] {
        let error = create::create(&store, &capabilities, &host, new, false)
            .await
            .err()
            .unwrap();
        assert_eq!(error.field(), Some(field));
    }
    assert_eq!(
        store.list(&ListQuery::default()).await.unwrap().items.len(),
        0
    );
    let error = create::new_key(CreateForm {
        expires: Some("2001-01-01".into()),
        ..form("old")
    })
    .unwrap_err();
    assert_eq!(error.field(), Some("expires"));
}

fn keys(store: &LocalStore, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            store
                .create_sync(NewKey::named(
                    *name,
                    Expiration::Preset(ExpiryPreset::OneMonth),
                ))
                .unwrap()
                .key
                .id
        })
        .collect()
}

#[tokio::test]
async fn revoking_an_already_revoked_key_records_nothing_new_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let ids = keys(&store, &["a", "b"]);
    store.revoke_sync(&ids[0], Some("first")).unwrap();
    let host = TestHost::new(dir.path(), FakeKeychain::default());
    let report = revoke::revoke(
        &store,
        &host,
        &Resolved::of_ids(ids.clone(), "ids").unwrap(),
        Some("second"),
        false,
        &BulkOptions::default(),
    )
    .await;
    assert_eq!(report.revoked, 2);
    assert_eq!(report.already_revoked, 1);
    assert!(report.outcomes[0].already_revoked);
    assert!(!report.outcomes[1].already_revoked);
    assert_eq!(host.actions(), [format!("revoked:{}", ids[1])]);
}

#[tokio::test]
async fn forgetting_goes_on_after_an_ordinary_error_and_stops_after_an_unavailable_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let ids = keys(&store, &["a", "b", "c", "d"]);
    let saved = |keychain: &FakeKeychain| {
        for id in &ids {
            keychain
                .saved
                .lock()
                .unwrap()
                .insert(id.clone(), "s".into());
        }
    };
    let broken = FakeKeychain {
        broken: HashSet::from([ids[1].clone()]),
        ..FakeKeychain::default()
    };
    saved(&broken);
    let host = TestHost::new(dir.path(), broken);
    let resolved = Resolved::of_ids(ids.clone(), "ids").unwrap();
    let report = revoke::revoke(
        &store,
        &host,
        &resolved,
        None,
        true,
        &BulkOptions::default(),
    )
    .await;
    let forgotten: Vec<Option<bool>> = report.outcomes.iter().map(|k| k.forgotten).collect();
    assert_eq!(forgotten, [Some(true), None, Some(true), Some(true)]);
    assert_eq!(
        report.outcomes[1].forget_error.as_ref().unwrap().code,
        ErrorCode::Store
    );
    assert_eq!(report.first_failure(), Some(ErrorCode::Store));

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let ids = keys(&store, &["a", "b", "c"]);
    let locked = FakeKeychain {
        unavailable: true,
        ..FakeKeychain::default()
    };
    for id in &ids {
        locked.saved.lock().unwrap().insert(id.clone(), "s".into());
    }
    let host = TestHost::new(dir.path(), locked);
    let resolved = Resolved::of_ids(ids.clone(), "ids").unwrap();
    let report = revoke::revoke(
        &store,
        &host,
        &resolved,
        None,
        true,
        &BulkOptions::default(),
    )
    .await;
    assert_eq!(report.revoked, 3, "the revokes happened");
    assert!(report.outcomes.iter().all(|k| k
        .forget_error
        .as_ref()
        .is_some_and(|e| e.code == ErrorCode::KeychainUnavailable)));
    assert_eq!(
        host.keychain.forgets_asked.lock().unwrap().len(),
        1,
        "not asked again after keychain_unavailable"
    );
}

#[tokio::test]
async fn a_listing_carries_the_saved_marks() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let ids = keys(&store, &["a", "b"]);
    let keychain = FakeKeychain::default();
    keychain
        .saved
        .lock()
        .unwrap()
        .insert(ids[1].clone(), "s".into());
    let host = TestHost::new(dir.path(), keychain);
    let page = list::list(&store, &host, ListQuery::default())
        .await
        .unwrap();
    let marks: HashMap<String, bool> = page
        .page
        .items
        .iter()
        .map(|k| (k.key.id.clone(), k.saved_in_keychain))
        .collect();
    assert!(!marks[&ids[0]]);
    assert!(marks[&ids[1]]);
    let json = serde_json::to_value(&page).unwrap();
    assert!(json["items"][0].get("saved_in_keychain").is_some());
    assert!(
        json["items"][0].get("id").is_some(),
        "the key's own fields, flattened"
    );
    let one = list::get(&store, &host, &format!(" {} ", ids[1]))
        .await
        .unwrap();
    assert!(one.saved_in_keychain);
    assert_eq!(
        list::get(&store, &host, "").await.unwrap_err().field(),
        Some("id")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_credential_is_checked_against_the_server_and_a_malformed_one_is_not_saved() {
    use keyward_emulators::{Emulator, Flavor};
    use keyward_profiles::{Config, Paths};
    let emu = Emulator::start(Flavor::Clerk).await.unwrap();
    let creds = emu.credentials().clerk().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "default_profile = \"mine\"\n[profiles.team]\nbackend = \"clerk\"\nurl = \"{}\"\nsubject = \"user:{}\"\n\
         [profiles.sewing]\nbackend = \"freesewing\"\nurl = \"{}\"\n\
         [profiles.mine]\nbackend = \"local\"\n",
        emu.base_url(),
        creds.user_id,
        emu.base_url()
    );
    let config = Config::parse(&text, &dir.path().join("config.toml")).unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().to_path_buf(),
    };
    let keychain = FakeKeychain::default();
    let save = |name: &str, credential: &str| {
        let profile = config.profile(Some(name)).unwrap().clone();
        let credential = SecretString::from(credential.to_owned());
        let (paths, keychain) = (&paths, &keychain);
        async move {
            keyward_ops::profiles::save_credential(
                &profile,
                paths,
                &credential,
                keyward_remote::HttpOptions::default(),
                keychain,
            )
            .await
        }
    };
    let wrong = save("team", "sk_test_notTheRightOne").await.unwrap();
    assert!(!wrong.accepted, "the server refused it");
    assert_eq!(wrong.check_error.unwrap().code(), ErrorCode::Unauthorized);
    let right = save("team", &creds.secret_key).await.unwrap();
    assert!(right.accepted && right.check_error.is_none());
    let malformed = save("sewing", "no-colon").await.unwrap_err();
    assert_eq!(malformed.code(), ErrorCode::InvalidInput);
    let local = save("mine", "anything").await.unwrap_err();
    assert_eq!(local.field(), Some("profile"));
    emu.shutdown().await;
}

fn active(store: &LocalStore) -> usize {
    store
        .list_sync(&ListQuery {
            status: keyward_core::StatusFilter::Active,
            ..ListQuery::default()
        })
        .unwrap()
        .items
        .len()
}

/// The selection as a page or a script sends it: a misspelled filter is refused naming it, so it
/// never becomes "no filter" (every key).
#[tokio::test]
async fn a_misspelled_filter_is_refused_naming_it_and_nothing_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    keys(&store, &["laptop", "desk", "ci"]);
    let sent = r#"{"query": {"serch": "laptop"}}"#;
    let error = serde_json::from_str::<Selection>(sent)
        .map_err(|e| keyward_ops::args::refused("selection", &e))
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput);
    assert_eq!(error.field(), Some("serch"));
    assert_eq!(active(&store), 3, "nothing was revoked");
}

/// The preview counted 2 keys; a third began matching before the revoke: `conflict`, nothing
/// revoked, nothing recorded. With the new count confirmed, all three go.
#[tokio::test]
async fn a_query_whose_count_changed_since_the_preview_revokes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    keys(&store, &["ci-a", "ci-b", "laptop"]);
    let query = ListQuery {
        search: Some("ci".into()),
        ..ListQuery::default()
    };
    let shown = selection::preview(&store, Selection::Query(query.clone()), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(shown.count, 2);
    keys(&store, &["ci-c"]);
    let error = selection::resolve(&store, Selection::Query(query.clone()), Some(shown.count))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
    assert_eq!(active(&store), 4, "nothing was revoked");

    let host = TestHost::new(dir.path(), FakeKeychain::default());
    let resolved = selection::resolve(&store, Selection::Query(query), Some(3))
        .await
        .unwrap();
    let report = revoke::revoke(
        &store,
        &host,
        &resolved,
        None,
        false,
        &BulkOptions::default(),
    )
    .await;
    assert_eq!(report.revoked, 3);
    assert_eq!(active(&store), 1);
    // The CLI's filter revoke checks its `--expect` the same way.
    let gone = Resolved::of_keys(Vec::new())
        .expecting(Some(3))
        .unwrap_err();
    assert_eq!(gone.code(), ErrorCode::Conflict);
    assert!(Resolved::of_keys(Vec::new()).expecting(None).is_ok());
}

/// A host that counts its `record` calls and what the activity log held when each one came.
struct CountingHost {
    inner: TestHost,
    calls: Mutex<Vec<usize>>,
}

#[async_trait]
impl Host for CountingHost {
    fn profile(&self) -> &str {
        self.inner.profile()
    }
    async fn record(&self, entries: Vec<NewActivity>) -> Result<()> {
        let before = self.inner.actions().len();
        self.calls.lock().unwrap().push(before + entries.len());
        self.inner.record(entries).await
    }
    fn secrets(&self) -> &dyn SecretKeeper {
        self.inner.secrets()
    }
    fn cancel(&self) -> &CancelFlag {
        self.inner.cancel()
    }
}

/// Each key's entry is written as its outcome is known, one at a time, not all at the end: a run
/// killed part-way has recorded every key it finished (the CLI's revoke_kill test kills one).
#[tokio::test]
async fn each_revoke_is_recorded_as_its_outcome_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let ids = keys(&store, &["a", "b", "c", "d"]);
    store.revoke_sync(&ids[1], None).unwrap();
    let host = CountingHost {
        inner: TestHost::new(dir.path(), FakeKeychain::default()),
        calls: Mutex::new(Vec::new()),
    };
    let options = BulkOptions {
        concurrency: 1,
        ..BulkOptions::default()
    };
    let report = revoke::revoke(
        &store,
        &host,
        &Resolved::of_ids(ids.clone(), "ids").unwrap(),
        Some("rotated"),
        false,
        &options,
    )
    .await;
    assert_eq!((report.revoked, report.already_revoked), (4, 1));
    assert_eq!(
        *host.calls.lock().unwrap(),
        [1, 2, 3],
        "one write per key revoked now, none for the one already revoked"
    );
    assert!(report.activity_error.is_none());
}

/// A reason that looks like a secret, or longer than the backend keeps, is refused once, naming
/// `reason` and never quoting it, before anything is resolved or sent.
#[tokio::test]
async fn a_bad_revoke_reason_is_refused_once_before_anything_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    keys(&store, &["a", "b"]);
    let pasted = format!("rotated, old one was sk_live_{}", "Ab3".repeat(12));
    let long = "x".repeat(store.capabilities().text_limits.reason + 1);
    for bad in [pasted.as_str(), long.as_str(), "line\nbreak"] {
        let error = revoke::checked_reason(&store, Some(bad)).unwrap_err();
        assert_eq!(error.field(), Some("reason"), "{error}");
        assert!(!error.to_string().contains("Ab3Ab3"), "{error}");
    }
    assert_eq!(
        revoke::checked_reason(&store, Some("  rotated  ")).unwrap(),
        Some("rotated".to_owned())
    );
    assert_eq!(revoke::checked_reason(&store, Some("   ")).unwrap(), None);
    assert_eq!(active(&store), 2);
}
