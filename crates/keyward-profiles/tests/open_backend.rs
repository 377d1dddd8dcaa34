//! Profiles open real backends: the local store, and each remote backend against its emulator,
//! with the credential from a store or from `KEYWARD_CREDENTIAL_<PROFILE>`.

use keyward_core::{ErrorCode, ListQuery};
use keyward_emulators::{Emulator, Flavor};
use keyward_profiles::{add_profile, Config, CredentialStore, EnvOnly, Paths, ProfileSpec};
use secrecy::SecretString;
use std::collections::HashMap;

struct Store(HashMap<String, String>);

impl CredentialStore for Store {
    fn credential(&self, profile: &str) -> keyward_core::Result<Option<SecretString>> {
        Ok(self.0.get(profile).map(|c| SecretString::from(c.clone())))
    }
}

fn paths(dir: &tempfile::TempDir) -> Paths {
    Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
    }
}

fn spec(name: &str, backend: &str, url: String) -> ProfileSpec {
    ProfileSpec {
        name: name.into(),
        backend: backend.into(),
        url: Some(url),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_backend_opens_from_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    let clerk = Emulator::start(Flavor::Clerk).await.unwrap();
    let propel = Emulator::start(Flavor::PropelAuth).await.unwrap();
    let sewing = Emulator::start(Flavor::FreeSewing).await.unwrap();
    let clerk_creds = clerk.credentials().clerk().unwrap().clone();
    let propel_creds = propel.credentials().propelauth().unwrap().clone();
    let sewing_creds = sewing.credentials().freesewing().unwrap().clone();

    add_profile(
        &paths,
        &ProfileSpec {
            subject: Some(format!("user:{}", clerk_creds.user_id)),
            ..spec("acme-clerk", "clerk", clerk.base_url())
        },
        false,
    )
    .unwrap();
    add_profile(
        &paths,
        &ProfileSpec {
            subject: Some(format!("user:{}", propel_creds.user_id)),
            ..spec("acme-propel", "propelauth", propel.base_url())
        },
        false,
    )
    .unwrap();
    add_profile(
        &paths,
        &ProfileSpec {
            api: Some("frontend".into()),
            ..spec("propel-session", "propelauth", propel.base_url())
        },
        false,
    )
    .unwrap();
    add_profile(
        &paths,
        &spec("sewing", "freesewing", sewing.base_url()),
        false,
    )
    .unwrap();
    let config = Config::load(&paths).unwrap();
    assert_eq!(config.default_profile, "local");

    let store = Store(HashMap::from([
        ("acme-clerk".to_owned(), clerk_creds.secret_key.clone()),
        (
            "acme-propel".to_owned(),
            propel_creds.integration_key.clone(),
        ),
        (
            "propel-session".to_owned(),
            propel.propelauth_session().unwrap(),
        ),
        (
            "sewing".to_owned(),
            format!("{}:{}", sewing_creds.api_key, sewing_creds.api_secret),
        ),
    ]));
    for (name, kind) in [
        ("local", "local"),
        ("acme-clerk", "clerk"),
        ("acme-propel", "propelauth"),
        ("propel-session", "propelauth"),
        ("sewing", "freesewing"),
    ] {
        let profile = config.profile(Some(name)).unwrap();
        let backend = {
            let (profile, paths) = (profile.clone(), paths.clone());
            let store = Store(store.0.clone());
            tokio::task::spawn_blocking(move || profile.open_backend(&paths, &store))
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(backend.kind(), kind);
        let page = backend.list(&ListQuery::default()).await;
        assert!(page.is_ok(), "{name}: {page:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_credential_says_how_to_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    let config = add_profile(
        &paths,
        &spec("no-cred-clerk", "clerk", "https://api.clerk.com".into()),
        false,
    )
    .unwrap();
    let err = config
        .profile(Some("no-cred-clerk"))
        .unwrap()
        .open_backend(&paths, &EnvOnly)
        .err()
        .expect("no credential anywhere");
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    let message = err.to_string();
    assert!(
        message.contains("KEYWARD_CREDENTIAL_NO_CRED_CLERK"),
        "{message}"
    );
    assert!(
        message.contains("keyward profiles set-credential no-cred-clerk"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_environment_overrides_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    let clerk = Emulator::start(Flavor::Clerk).await.unwrap();
    let creds = clerk.credentials().clerk().unwrap().clone();
    let config = add_profile(
        &paths,
        &ProfileSpec {
            subject: Some(format!("user:{}", creds.user_id)),
            ..spec("env-clerk", "clerk", clerk.base_url())
        },
        false,
    )
    .unwrap();
    // The only test that sets this variable: no other test reads it.
    std::env::set_var("KEYWARD_CREDENTIAL_ENV_CLERK", &creds.secret_key);
    let wrong = Store(HashMap::from([(
        "env-clerk".to_owned(),
        "sk_test_wrong".to_owned(),
    )]));
    let profile = config.profile(Some("env-clerk")).unwrap().clone();
    let backend = tokio::task::spawn_blocking(move || profile.open_backend(&paths, &wrong))
        .await
        .unwrap()
        .unwrap();
    backend.list(&ListQuery::default()).await.unwrap();
    std::env::remove_var("KEYWARD_CREDENTIAL_ENV_CLERK");
}
