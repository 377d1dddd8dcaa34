//! A stored credential is bound to the backend and origin it was saved for (issue 12, item 1):
//! pointing the profile elsewhere (another host, port or scheme, another backend, PropelAuth's
//! other API or another Auth URL) makes Keyward refuse to send it, naming both origins, whoever
//! changed the profile. The keychain tests use the real Secret Service:
//! `scripts/with-secret-service cargo test -p keyward-profiles --test credential_binding`.

use keyward_core::{ErrorCode, ListQuery, Result};
use keyward_emulators::{Emulator, Flavor};
use keyward_profiles::{
    add_profile, edit_profile, BackendSettings, ClerkApiPath, Config, CredentialSource,
    CredentialStore, FreeSewingAuthKind, Paths, Profile, ProfileSpec, PropelAuthApiKind,
};
use keyward_vault::Keychain;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The keychain tests refuse to run outside `scripts/with-secret-service`: elsewhere they would
/// touch the user's own keyring, or fail for the wrong reason.
fn real_keychain() -> Keychain {
    assert!(
        std::env::var_os("KEYWARD_IN_SECRET_SESSION").is_some(),
        "this test needs the real Secret Service: run it via scripts/with-secret-service, e.g.\n  \
         scripts/with-secret-service cargo test -p keyward-profiles --test credential_binding"
    );
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    Keychain::with_service(format!(
        "keyward-binding-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A keychain in memory, for the rules that need no real one.
#[derive(Default)]
struct Memory(Mutex<HashMap<String, String>>);

impl Memory {
    fn raw(&self, profile: &str) -> Option<String> {
        self.0.lock().unwrap().get(profile).cloned()
    }
}

impl CredentialStore for Memory {
    fn credential(&self, profile: &str) -> Result<Option<SecretString>> {
        Ok(self.raw(profile).map(SecretString::from))
    }

    fn save_credential(&self, profile: &str, value: &SecretString) -> Result<()> {
        self.0
            .lock()
            .unwrap()
            .insert(profile.to_owned(), value.expose_secret().to_owned());
        Ok(())
    }

    fn forget_credential(&self, profile: &str) -> Result<bool> {
        Ok(self.0.lock().unwrap().remove(profile).is_some())
    }
}

fn paths(dir: &tempfile::TempDir) -> Paths {
    Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
    }
}

fn clerk_spec(name: &str, url: &str) -> ProfileSpec {
    ProfileSpec {
        name: name.into(),
        backend: "clerk".into(),
        url: Some(url.into()),
        ..ProfileSpec::default()
    }
}

fn clerk(name: &str, url: &str) -> Profile {
    Profile {
        name: name.into(),
        settings: BackendSettings::Clerk {
            url: url.into(),
            api_path: ClerkApiPath::Root,
            subject: None,
        },
    }
}

fn propelauth(url: &str, api: PropelAuthApiKind, auth_url: Option<&str>) -> Profile {
    Profile {
        name: "propel".into(),
        settings: BackendSettings::PropelAuth {
            url: url.into(),
            api,
            auth_url: auth_url.map(Into::into),
            subject: None,
        },
    }
}

fn load(paths: &Paths, name: &str) -> Profile {
    Config::load(paths)
        .unwrap()
        .profile(Some(name))
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_saved_for_one_emulator_is_never_sent_to_another() {
    let keychain = real_keychain();
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    let first = Emulator::start(Flavor::Clerk).await.unwrap();
    let second = Emulator::start(Flavor::Clerk).await.unwrap();
    let clerk_credentials = first.credentials().clerk().unwrap().clone();
    let secret_key = clerk_credentials.secret_key.clone();
    let secret = SecretString::from(secret_key.clone());
    let spec_at = |url: String| ProfileSpec {
        subject: Some(format!("user:{}", clerk_credentials.user_id)),
        ..clerk_spec("moved", &url)
    };

    add_profile(&paths, &spec_at(first.base_url()), false).unwrap();
    let profile = load(&paths, "moved");
    let keychain_in_thread = keychain.clone();
    let profile_in_thread = profile.clone();
    tokio::task::spawn_blocking(move || {
        profile_in_thread.save_credential(&keychain_in_thread, &secret)
    })
    .await
    .unwrap()
    .unwrap();
    let open = |profile: Profile, keychain: Keychain, paths: Paths| {
        tokio::task::spawn_blocking(move || profile.open_backend(&paths, &keychain))
    };
    let backend = open(profile, keychain.clone(), paths.clone())
        .await
        .unwrap()
        .unwrap();
    backend.list(&ListQuery::default()).await.unwrap();
    assert!(first.request_count() > 0);

    // What `keyward profiles edit moved --url …` and the app's profile form do.
    add_profile(&paths, &spec_at(second.base_url()), true).unwrap();
    let moved = load(&paths, "moved");
    let error = open(moved.clone(), keychain.clone(), paths.clone())
        .await
        .unwrap()
        .err()
        .expect("the credential is not handed to the new origin");
    assert_eq!(error.code(), ErrorCode::Unauthorized, "{error}");
    let message = error.to_string();
    assert_eq!(
        message,
        format!(
            "the credential of profile 'moved' was saved for {}; the profile now points at {}, \
             so it was not sent. Save the credential again: keyward profiles set-credential moved \
             (or in the app's profile editor)",
            first.base_url(),
            second.base_url()
        )
    );
    assert!(!message.contains(&secret_key));
    assert_eq!(second.request_count(), 0, "{:?}", second.stats());

    // The entry is still in the keychain (quarantined), bound to the first origin.
    let stored = keychain.credential_blocking("moved").unwrap().unwrap();
    let first_line_and_binding: Vec<&str> = stored.expose_secret().lines().take(3).collect();
    assert_eq!(
        first_line_and_binding,
        ["keyward-credential-v1", "clerk", first.base_url().as_str()]
    );

    // Saved again, for the new origin: it works there.
    let keychain_in_thread = keychain.clone();
    let moved_in_thread = moved.clone();
    let secret = SecretString::from(secret_key.clone());
    tokio::task::spawn_blocking(move || {
        moved_in_thread.save_credential(&keychain_in_thread, &secret)
    })
    .await
    .unwrap()
    .unwrap();
    let backend = open(moved, keychain.clone(), paths.clone())
        .await
        .unwrap()
        .unwrap();
    backend.list(&ListQuery::default()).await.unwrap();
    assert!(second.request_count() > 0);
    keychain.forget_credential_blocking("moved").unwrap();
}

#[test]
fn each_part_of_the_binding_counts() {
    let secret = SecretString::from("sk_test_binding");
    let refused = |saved: &Profile, now: &Profile| {
        let store = Memory::default();
        saved.save_credential(&store, &secret).unwrap();
        let now = Profile {
            name: saved.name.clone(),
            ..now.clone()
        };
        match now.credential(&store) {
            Ok(_) => None,
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::Unauthorized, "{e}");
                assert!(!e.to_string().contains("sk_test_binding"), "{e}");
                Some(e.to_string())
            }
        }
    };
    let base = clerk("bound", "https://api.clerk.com");

    // Another origin, or another backend: refused, and the message names both.
    for (now, saved_for, points_at) in [
        (
            clerk("bound", "http://127.0.0.1:8787"),
            "https://api.clerk.com",
            "http://127.0.0.1:8787",
        ),
        (
            clerk("bound", "https://api.clerk.com:8443"),
            "https://api.clerk.com",
            "https://api.clerk.com:8443",
        ),
        (
            clerk("bound", "https://evil.example"),
            "https://api.clerk.com",
            "https://evil.example",
        ),
        (
            Profile {
                name: "bound".into(),
                settings: BackendSettings::FreeSewing {
                    url: "https://api.clerk.com".into(),
                    auth: FreeSewingAuthKind::Jwt,
                },
            },
            "a clerk profile at https://api.clerk.com",
            "a freesewing profile at https://api.clerk.com",
        ),
    ] {
        let message = refused(&base, &now).expect("refused");
        assert!(
            message.contains(&format!(
                "was saved for {saved_for}; the profile now points at {points_at}, so it was not sent"
            )),
            "{message}"
        );
        assert!(
            message.contains("keyward profiles set-credential bound"),
            "{message}"
        );
    }
    // Only on the loopback: plain http to the same host is another origin too.
    assert!(refused(
        &clerk("bound", "http://localhost:9000"),
        &clerk("bound", "https://localhost:9000")
    )
    .is_some());

    // PropelAuth: the API kind and the Auth URL are part of it.
    let shared = "https://propelauth-api.com";
    let backend = propelauth(
        shared,
        PropelAuthApiKind::Backend,
        Some("https://auth.acme.com"),
    );
    for now in [
        propelauth(
            shared,
            PropelAuthApiKind::Frontend,
            Some("https://auth.acme.com"),
        ),
        propelauth(
            shared,
            PropelAuthApiKind::Backend,
            Some("https://auth.evil.com"),
        ),
        propelauth(shared, PropelAuthApiKind::Backend, None),
    ] {
        let message = refused(&backend, &now).expect("refused");
        assert!(message.contains("https://propelauth-api.com"), "{message}");
    }
    let message = refused(
        &backend,
        &propelauth(
            shared,
            PropelAuthApiKind::Backend,
            Some("https://auth.evil.com"),
        ),
    )
    .unwrap();
    assert!(
        message.contains(
            "saved for https://propelauth-api.com (Auth URL https://auth.acme.com); the profile \
             now points at https://propelauth-api.com (Auth URL https://auth.evil.com)"
        ),
        "{message}"
    );

    // The same origin written another way, or other settings: still this profile's credential.
    for same in [
        clerk("bound", "https://api.clerk.com/"),
        clerk("bound", "https://API.clerk.com:443"),
        clerk("bound", "https://api.clerk.com/v1"),
        Profile {
            name: "bound".into(),
            settings: BackendSettings::Clerk {
                url: "https://api.clerk.com".into(),
                api_path: ClerkApiPath::V1,
                subject: Some(keyward_core::Subject::User("user_2x".into())),
            },
        },
    ] {
        assert_eq!(refused(&base, &same), None, "{same:?}");
    }
}

#[test]
fn an_unbound_entry_is_accepted_once_and_bound_to_the_current_origin() {
    let keychain = real_keychain();
    // What a credential saved before the binding existed looks like: the bare secret.
    keychain
        .save_credential_blocking("legacy", &SecretString::from("sk_test_legacy"))
        .unwrap();
    let at_first = clerk("legacy", "https://api.clerk.com");
    assert_eq!(
        at_first.credential(&keychain).unwrap().expose_secret(),
        "sk_test_legacy"
    );
    let stored = keychain.credential_blocking("legacy").unwrap().unwrap();
    assert_eq!(
        stored.expose_secret(),
        "keyward-credential-v1\nclerk\nhttps://api.clerk.com\n\nsk_test_legacy"
    );
    // From now on it is bound like any other.
    let error = clerk("legacy", "https://other.example")
        .credential(&keychain)
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert!(
        error.to_string().contains(
            "saved for https://api.clerk.com; the profile now points at https://other.example"
        ),
        "{error}"
    );
    assert!(keychain.forget_credential_blocking("legacy").unwrap());
}

#[test]
fn the_environment_variable_is_not_bound() {
    let store = Memory::default();
    let saved = clerk("binding-env", "https://api.clerk.com");
    saved
        .save_credential(&store, &SecretString::from("sk_test_saved"))
        .unwrap();
    let moved = clerk("binding-env", "https://other.example");
    // A unique variable: tests run in parallel and share the environment.
    std::env::set_var("KEYWARD_CREDENTIAL_BINDING_ENV", "sk_test_from_env");
    let from_env = moved.credential(&store);
    let source = moved.credential_source(&store);
    std::env::remove_var("KEYWARD_CREDENTIAL_BINDING_ENV");
    assert_eq!(from_env.unwrap().expose_secret(), "sk_test_from_env");
    assert_eq!(
        source.unwrap(),
        CredentialSource::Environment {
            variable: "KEYWARD_CREDENTIAL_BINDING_ENV".into(),
            stored: false
        }
    );
}

#[test]
fn a_credential_bound_elsewhere_counts_as_missing() {
    let store = Memory::default();
    clerk("shown", "https://api.clerk.com")
        .save_credential(&store, &SecretString::from("sk_test_shown"))
        .unwrap();
    assert_eq!(
        clerk("shown", "https://api.clerk.com")
            .credential_source(&store)
            .unwrap(),
        CredentialSource::Stored
    );
    assert_eq!(
        clerk("shown", "https://other.example")
            .credential_source(&store)
            .unwrap(),
        CredentialSource::Missing
    );
}

#[test]
fn a_damaged_envelope_is_refused_not_sent() {
    let store = Memory::default();
    for damaged in [
        "keyward-credential-v1\nclerk\nhttps://api.clerk.com",
        "keyward-credential-v2\nclerk\nhttps://api.clerk.com\n\nsk_test_x",
        "keyward-credential-v1\n\n\n\nsk_test_x",
    ] {
        store
            .save_credential("damaged", &SecretString::from(damaged))
            .unwrap();
        let error = clerk("damaged", "https://api.clerk.com")
            .credential(&store)
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unauthorized, "{damaged:?}");
        assert!(!error.to_string().contains("sk_test_x"), "{error}");
        assert!(
            error
                .to_string()
                .contains("keyward profiles set-credential damaged"),
            "{error}"
        );
    }
}

#[test]
fn editing_the_origin_deletes_the_stored_credential_and_says_so() {
    let keychain = real_keychain();
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    add_profile(
        &paths,
        &clerk_spec("edited", "https://api.clerk.com"),
        false,
    )
    .unwrap();
    load(&paths, "edited")
        .save_credential(&keychain, &SecretString::from("sk_test_edited"))
        .unwrap();

    // Another path on the same origin: nothing to drop.
    let same = edit_profile(
        &paths,
        &clerk_spec("edited", "https://api.clerk.com/v1"),
        &keychain,
    )
    .unwrap();
    assert!(same.credential_dropped.is_none());
    assert!(keychain.credential_blocking("edited").unwrap().is_some());

    let moved = edit_profile(
        &paths,
        &clerk_spec("edited", "https://other.example"),
        &keychain,
    )
    .unwrap();
    let dropped = moved.credential_dropped.expect("the edit says so");
    assert!(dropped.deleted);
    assert_eq!(dropped.saved_for, "https://api.clerk.com");
    assert_eq!(dropped.now, "https://other.example");
    assert_eq!(
        dropped.message,
        "Profile 'edited' now points at https://other.example (it was https://api.clerk.com): \
         its saved credential was deleted from the keychain and was not sent. Save the \
         credential again: keyward profiles set-credential edited"
    );
    assert!(keychain.credential_blocking("edited").unwrap().is_none());
    assert_eq!(
        moved
            .config
            .profile(Some("edited"))
            .unwrap()
            .credential_source(&keychain)
            .unwrap(),
        CredentialSource::Missing
    );

    // Saved again for the new origin, then turned into a local store: deleted too.
    load(&paths, "edited")
        .save_credential(&keychain, &SecretString::from("sk_test_edited"))
        .unwrap();
    let local = edit_profile(
        &paths,
        &ProfileSpec {
            name: "edited".into(),
            backend: "local".into(),
            ..ProfileSpec::default()
        },
        &keychain,
    )
    .unwrap();
    let dropped = local.credential_dropped.expect("the edit says so");
    assert!(dropped.deleted, "{dropped:?}");
    assert!(dropped.message.contains("now points at the local store"));
    assert!(keychain.credential_blocking("edited").unwrap().is_none());
}

/// A keychain that reads and saves but refuses to delete (a locked keyring, say).
struct Undeletable(Memory);

impl CredentialStore for Undeletable {
    fn credential(&self, profile: &str) -> Result<Option<SecretString>> {
        self.0.credential(profile)
    }

    fn save_credential(&self, profile: &str, value: &SecretString) -> Result<()> {
        self.0.save_credential(profile, value)
    }

    fn forget_credential(&self, _profile: &str) -> Result<bool> {
        Err(keyward_core::Error::KeychainUnavailable(
            "the keyring is locked".into(),
        ))
    }
}

#[test]
fn an_edit_that_cannot_delete_the_credential_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(&dir);
    let store = Undeletable(Memory::default());
    add_profile(&paths, &clerk_spec("stuck", "https://api.clerk.com"), false).unwrap();
    load(&paths, "stuck")
        .save_credential(&store, &SecretString::from("sk_test_stuck"))
        .unwrap();
    let edited = edit_profile(
        &paths,
        &ProfileSpec {
            name: "stuck".into(),
            backend: "propelauth".into(),
            url: Some("https://api.clerk.com".into()),
            ..ProfileSpec::default()
        },
        &store,
    )
    .unwrap();
    let dropped = edited.credential_dropped.expect("the edit says so");
    assert!(!dropped.deleted);
    assert_eq!(
        dropped.error.map(|e| e.code()),
        Some(ErrorCode::KeychainUnavailable)
    );
    assert_eq!(dropped.saved_for, "https://api.clerk.com");
    assert!(
        dropped.message.contains(
            "now points at a propelauth/backend profile at https://api.clerk.com (it was a clerk \
             profile at https://api.clerk.com)"
        ),
        "{}",
        dropped.message
    );
    assert!(
        dropped
            .message
            .contains("Delete it with keyward profiles forget-credential stuck"),
        "{}",
        dropped.message
    );
    assert!(!dropped.message.contains("sk_test_stuck"));
    // Still stored, and still refused for the profile as it is now.
    let error = load(&paths, "stuck").credential(&store).unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
}
