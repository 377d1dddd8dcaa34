//! A PropelAuth frontend profile keeps the names its keys were given, on this machine, because the
//! released frontend API keeps none (docs/backends/propelauth.md). Each `open_backend` below is a
//! fresh start, as a new CLI run or app launch would be.

use keyward_core::{KeyBackend, ListQuery, NewKey, StatusFilter};
use keyward_emulators::{Emulator, Flavor, SeedOwner};
use keyward_profiles::{add_profile, Config, CredentialStore, Paths, ProfileSpec};
use secrecy::SecretString;
use std::sync::Arc;

struct Session(String);

impl CredentialStore for Session {
    fn credential(&self, _profile: &str) -> keyward_core::Result<Option<SecretString>> {
        Ok(Some(SecretString::from(self.0.clone())))
    }
}

fn open(paths: &Paths, name: &str, session: &str) -> Arc<dyn KeyBackend> {
    let config = Config::load(paths).unwrap();
    config
        .profile(Some(name))
        .unwrap()
        .open_backend(paths, &Session(session.to_owned()))
        .unwrap()
}

fn active() -> ListQuery {
    ListQuery {
        status: StatusFilter::Active,
        limit: 100,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frontend_profile_finds_its_keys_by_the_names_it_gave_them() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
    };
    let emulator = Emulator::start(Flavor::PropelAuth).await.unwrap();
    for name in ["web", "other-web"] {
        let spec = ProfileSpec {
            name: name.into(),
            backend: "propelauth".into(),
            url: Some(emulator.base_url()),
            api: Some("frontend".into()),
            ..Default::default()
        };
        add_profile(&paths, &spec, false).unwrap();
    }
    let session = emulator.propelauth_session().unwrap();

    let first_run = open(&paths, "web", &session);
    assert!(first_run.capabilities().names_kept_locally);
    let made = first_run
        .create(NewKey::named("Deploy laptop", Default::default()))
        .await
        .unwrap()
        .key;
    drop(first_run);
    // Keys made elsewhere, straight in the service.
    let elsewhere = emulator.seed(2, SeedOwner::User);

    let next_run = open(&paths, "web", &session);
    let listed = next_run.list(&active()).await.unwrap().items;
    assert_eq!(listed.len(), 3);
    for key in &listed {
        assert!(!key.name.trim().is_empty(), "a blank name: {key:?}");
        if key.id == made.id {
            assert_eq!(key.name, "Deploy laptop");
        } else {
            assert!(elsewhere.contains(&key.id));
            assert_eq!(key.name, key.id, "a key made elsewhere shows its id");
        }
    }
    let found = next_run
        .list(&ListQuery {
            search: Some("deploy LAP".into()),
            ..active()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, made.id);

    // Another profile on the same server and data folder has its own names.
    let other = open(&paths, "other-web", &session);
    let seen = other.get(&made.id).await.unwrap();
    assert_eq!(seen.name, made.id);

    // Only metadata is on disk: the names file holds no secret.
    let names_file = paths.data_dir.join(keyward_local::LocalKeyNames::FILE_NAME);
    assert!(names_file.exists());
}
