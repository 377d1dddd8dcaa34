//! Updating a key (issue 10): each field a backend declares it can change, against its emulator,
//! and a refusal naming the field for each one it cannot, with the emulator's request count
//! proving nothing was sent. What each backend can change: docs/backends/*.md, "Update".

mod common;

use chrono::{Duration, Utc};
use common::{emulator, fast_http, propelauth_backend_api};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, KeyUpdate, NewKey, Subject,
    UpdateFields,
};
use keyward_emulators::{Emulator, Flavor, SeedOwner};
use keyward_remote::{
    FreeSewingAuth, FreeSewingBackend, FreeSewingConfig, PropelAuthApi, PropelAuthBackend,
    PropelAuthConfig,
};
use secrecy::SecretString;

async fn propelauth_backend() -> (Emulator, PropelAuthBackend) {
    let emulator = emulator(Flavor::PropelAuth).await;
    let backend = propelauth_backend_api(&emulator, None);
    (emulator, backend)
}

fn expires(expiration: Expiration) -> KeyUpdate {
    KeyUpdate {
        expiration: Some(expiration),
        ..KeyUpdate::default()
    }
}

fn describe(text: &str) -> KeyUpdate {
    KeyUpdate {
        description: Some(text.into()),
        ..KeyUpdate::default()
    }
}

/// Refused as `invalid_input` naming `field`, with no request sent.
async fn assert_refused_unsent(
    emulator: &Emulator,
    backend: &dyn KeyBackend,
    id: &str,
    change: &KeyUpdate,
    field: &str,
) {
    emulator.reset_stats();
    let error = backend.update(id, change).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{field}: {error}");
    assert_eq!(error.field(), Some(field), "{error}");
    assert_eq!(emulator.request_count(), 0, "{field}: nothing is sent");
}

#[tokio::test]
async fn propelauth_backend_api_extends_shortens_and_removes_the_expiry() {
    let (emulator, backend) = propelauth_backend().await;
    assert_eq!(
        backend.capabilities().updates,
        UpdateFields {
            name: false,
            description: true,
            expiry: true,
            scopes: false,
        }
    );
    let created = backend
        .create(NewKey::named(
            "ci",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap();
    let id = created.key.id.clone();
    let month = created.key.expires_at.unwrap();

    emulator.reset_stats();
    let extended = backend
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::OneYear)))
        .await
        .unwrap();
    let stats = emulator.stats();
    assert_eq!(
        stats.get("PATCH /api/backend/v1/end_user_api_keys/{api_key_id}"),
        Some(&1),
        "{stats:?}"
    );
    assert!(extended.expires_at.unwrap() > month + Duration::days(300));
    assert_eq!(
        backend.get(&id).await.unwrap(),
        extended,
        "the server kept it"
    );

    let shortened = backend
        .update(&id, &expires(Expiration::After(Duration::hours(3))))
        .await
        .unwrap();
    let at = shortened.expires_at.unwrap();
    assert!(at < month && at > Utc::now() + Duration::minutes(170));
    assert_eq!(backend.get(&id).await.unwrap().expires_at, Some(at));

    let never = backend
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap();
    assert_eq!(never.expires_at, None);
    let read = backend.get(&id).await.unwrap();
    assert_eq!((read.expires_at, read.status), (None, KeyStatus::Active));

    // The listing shows the change too.
    let listed = backend
        .list(&keyward_core::ListQuery::default())
        .await
        .unwrap();
    let listed = listed.items.iter().find(|k| k.id == id).unwrap();
    assert_eq!(listed.expires_at, None);
}

#[tokio::test]
async fn propelauth_backend_api_sets_and_clears_a_description_keeping_other_metadata() {
    let (emulator, backend) = propelauth_backend().await;
    // A seeded key carries metadata Keyward did not write ({"seeded": true}).
    let id = emulator.seed(1, SeedOwner::User).remove(0);

    let described = backend.update(&id, &describe("runs CI")).await.unwrap();
    assert_eq!(described.description.as_deref(), Some("runs CI"));
    let read = backend.get(&id).await.unwrap();
    assert_eq!(read.description.as_deref(), Some("runs CI"));
    assert_eq!(
        read.metadata,
        Some(serde_json::json!({"seeded": true, "description": "runs CI"}))
    );

    let cleared = backend.update(&id, &describe("")).await.unwrap();
    assert_eq!(cleared.description, None);
    let read = backend.get(&id).await.unwrap();
    assert_eq!(read.description, None);
    assert_eq!(read.metadata, Some(serde_json::json!({"seeded": true})));
}

#[tokio::test]
async fn propelauth_backend_api_refuses_what_it_cannot_change_before_sending() {
    let (emulator, backend) = propelauth_backend().await;
    let id = emulator.seed(1, SeedOwner::User).remove(0);
    let before = backend.get(&id).await.unwrap();
    let rename = KeyUpdate {
        name: Some("renamed".into()),
        ..KeyUpdate::default()
    };
    assert_refused_unsent(&emulator, &backend, &id, &rename, "name").await;
    let error = backend.update(&id, &rename).await.unwrap_err();
    assert!(
        error.to_string().contains("cannot change a key's name"),
        "{error}"
    );
    let scopes = KeyUpdate {
        scopes: Some(vec!["read".into()]),
        ..KeyUpdate::default()
    };
    assert_refused_unsent(&emulator, &backend, &id, &scopes, "scopes").await;

    // Bad values: named, never sent.
    let past = expires(Expiration::At(Utc::now() - Duration::days(1)));
    assert_refused_unsent(&emulator, &backend, &id, &past, "expires").await;
    let far = expires(Expiration::After(Duration::days(4000)));
    assert_refused_unsent(&emulator, &backend, &id, &far, "expires").await;
    let credential = emulator
        .credentials()
        .propelauth()
        .unwrap()
        .integration_key
        .clone();
    let leaked = describe(&format!("key {credential}"));
    assert_refused_unsent(&emulator, &backend, &id, &leaked, "description").await;
    let long = describe(&"d".repeat(256));
    assert_refused_unsent(&emulator, &backend, &id, &long, "description").await;
    assert_refused_unsent(&emulator, &backend, &id, &KeyUpdate::default(), "update").await;
    assert_eq!(backend.get(&id).await.unwrap(), before, "nothing changed");
}

#[tokio::test]
async fn propelauth_backend_api_unknown_is_not_found_and_archived_is_a_conflict() {
    let (emulator, backend) = propelauth_backend().await;
    let unknown = "0123456789abcdef0123456789abcdef";
    let error = backend.update(unknown, &describe("x")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");

    let id = emulator.seed(1, SeedOwner::User).remove(0);
    backend.revoke(&id, None).await.unwrap();
    emulator.reset_stats();
    let error = backend
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
    assert!(error.to_string().contains("archived"), "{error}");
    // It was read, the PATCH refused (404), nothing else sent.
    assert_eq!(emulator.request_count(), 2);
}

#[tokio::test]
async fn propelauth_frontend_api_refuses_every_field_before_sending() {
    let emulator = emulator(Flavor::PropelAuth).await;
    let cookie = emulator.propelauth_session().unwrap();
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(cookie.as_str()),
        },
        default_subject: None,
        http: fast_http(),
    })
    .unwrap();
    assert_eq!(backend.capabilities().updates, UpdateFields::NONE);
    let id = emulator.seed(1, SeedOwner::User).remove(0);
    for (change, field) in [
        (
            expires(Expiration::Preset(ExpiryPreset::OneYear)),
            "expires",
        ),
        (describe("d"), "description"),
        (
            KeyUpdate {
                name: Some("n".into()),
                ..KeyUpdate::default()
            },
            "name",
        ),
    ] {
        assert_refused_unsent(&emulator, &backend, &id, &change, field).await;
    }
}

#[tokio::test]
async fn freesewing_has_no_update_and_refuses_naming_the_field() {
    let emulator = emulator(Flavor::FreeSewing).await;
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
    assert_eq!(backend.capabilities().updates, UpdateFields::NONE);
    let id = emulator.seed(1, SeedOwner::User).remove(0);
    for (change, field) in [
        (expires(Expiration::After(Duration::days(30))), "expires"),
        (
            KeyUpdate {
                name: Some("n".into()),
                ..KeyUpdate::default()
            },
            "name",
        ),
        (describe("d"), "description"),
    ] {
        assert_refused_unsent(&emulator, &backend, &id, &change, field).await;
        let error = backend.update(&id, &change).await.unwrap_err();
        assert!(error.to_string().contains("this backend cannot change"));
    }
    assert_eq!(emulator.crashes(), 0);
}

fn clerk_bapi(emulator: &Emulator) -> keyward_remote::ClerkBackend {
    let credentials = emulator.credentials().clerk().unwrap().clone();
    keyward_remote::ClerkBackend::new(keyward_remote::ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: keyward_remote::ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: fast_http(),
    })
    .unwrap()
}

fn clerk_fapi(emulator: &Emulator) -> keyward_remote::ClerkFrontendBackend {
    keyward_remote::ClerkFrontendBackend::new(keyward_remote::ClerkFrontendConfig {
        base_url: emulator.base_url(),
        client_token: SecretString::from(emulator.clerk_client_token().unwrap()),
        default_subject: None,
        http: fast_http(),
    })
    .unwrap()
}

fn rescope(scopes: &[&str]) -> KeyUpdate {
    KeyUpdate {
        scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        ..KeyUpdate::default()
    }
}

#[tokio::test]
async fn clerk_backend_api_changes_expiry_description_and_scopes() {
    let emulator = emulator(Flavor::Clerk).await;
    let clerk = clerk_bapi(&emulator);
    assert_eq!(
        clerk.capabilities().updates,
        UpdateFields {
            name: false,
            description: true,
            expiry: true,
            scopes: true,
        }
    );
    let mut new = NewKey::named("deploy", Expiration::Preset(ExpiryPreset::OneMonth));
    new.description = Some("first".into());
    new.scopes = vec!["read".into()];
    let created = clerk.create(new).await.unwrap();
    let id = created.key.id.clone();
    let month = created.key.expires_at.unwrap();

    emulator.reset_stats();
    let extended = clerk
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::OneYear)))
        .await
        .unwrap();
    assert_eq!(emulator.stats().get("PATCH /api_keys/{id}"), Some(&1));
    assert!(extended.expires_at.unwrap() > month + Duration::days(300));
    assert_eq!(extended.description.as_deref(), Some("first"), "untouched");
    let shortened = clerk
        .update(&id, &expires(Expiration::After(Duration::hours(3))))
        .await
        .unwrap();
    let at = shortened.expires_at.unwrap();
    assert!(at < month && at > Utc::now() + Duration::minutes(170));
    let never = clerk
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap();
    assert_eq!((never.expires_at, never.status), (None, KeyStatus::Active));
    assert_eq!(clerk.get(&id).await.unwrap().expires_at, None);

    let described = clerk.update(&id, &describe("runs CI")).await.unwrap();
    assert_eq!(described.description.as_deref(), Some("runs CI"));
    let cleared = clerk.update(&id, &describe("")).await.unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(clerk.get(&id).await.unwrap().description, None);

    let rescoped = clerk
        .update(&id, &rescope(&["write", "admin"]))
        .await
        .unwrap();
    assert_eq!(rescoped.scopes, ["write", "admin"]);
    let unscoped = clerk.update(&id, &rescope(&[])).await.unwrap();
    assert!(unscoped.scopes.is_empty());
    let read = clerk.get(&id).await.unwrap();
    assert_eq!((read.name.as_str(), read.scopes.len()), ("deploy", 0));
}

#[tokio::test]
async fn clerk_backend_api_refuses_a_name_and_bad_values_before_sending() {
    let emulator = emulator(Flavor::Clerk).await;
    let clerk = clerk_bapi(&emulator);
    let id = clerk
        .create(NewKey::named(
            "kept",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap()
        .key
        .id;
    let before = clerk.get(&id).await.unwrap();
    let rename = KeyUpdate {
        name: Some("renamed".into()),
        ..KeyUpdate::default()
    };
    assert_refused_unsent(&emulator, &clerk, &id, &rename, "name").await;
    let secret_key = emulator.credentials().clerk().unwrap().secret_key.clone();
    for (change, field) in [
        (
            expires(Expiration::At(Utc::now() - Duration::hours(1))),
            "expires",
        ),
        (describe(&"d".repeat(256)), "description"),
        (describe(&format!("key {secret_key}")), "description"),
        (rescope(&["has space"]), "scopes"),
    ] {
        assert_refused_unsent(&emulator, &clerk, &id, &change, field).await;
    }
    assert_eq!(clerk.get(&id).await.unwrap(), before, "nothing changed");
}

#[tokio::test]
async fn clerk_backend_api_unknown_is_not_found_and_a_revoked_key_stays_revoked() {
    let emulator = emulator(Flavor::Clerk).await;
    let clerk = clerk_bapi(&emulator);
    let unknown = format!("ak_{}", "0".repeat(32));
    let error = clerk.update(&unknown, &describe("x")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");

    let id = clerk
        .create(NewKey::named(
            "leaked",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap()
        .key
        .id;
    clerk.revoke(&id, Some("leaked")).await.unwrap();
    // Clerk takes the change; the key stays revoked (an edit never brings a key back).
    let key = clerk
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap();
    assert_eq!(key.status, KeyStatus::Revoked);
    assert_eq!(key.revocation_reason.as_deref(), Some("leaked"));
    assert_eq!(clerk.get(&id).await.unwrap().status, KeyStatus::Revoked);
}

#[tokio::test]
async fn clerk_frontend_api_changes_a_description_and_refuses_anything_else_unsent() {
    let emulator = emulator(Flavor::Clerk).await;
    let clerk = clerk_fapi(&emulator);
    assert_eq!(
        clerk.capabilities().updates,
        UpdateFields {
            description: true,
            ..UpdateFields::NONE
        }
    );
    let id = clerk
        .create(NewKey::named(
            "mine",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap()
        .key
        .id;
    let described = clerk.update(&id, &describe("laptop")).await.unwrap();
    assert_eq!(described.description.as_deref(), Some("laptop"));
    assert_eq!(
        clerk.get(&id).await.unwrap().description.as_deref(),
        Some("laptop")
    );
    let cleared = clerk.update(&id, &describe("  ")).await.unwrap();
    assert_eq!(cleared.description, None);

    for (change, field) in [
        (
            expires(Expiration::Preset(ExpiryPreset::OneYear)),
            "expires",
        ),
        (rescope(&["read"]), "scopes"),
        (
            KeyUpdate {
                name: Some("renamed".into()),
                ..KeyUpdate::default()
            },
            "name",
        ),
        (
            KeyUpdate {
                description: Some("fine".into()),
                expiration: Some(Expiration::Preset(ExpiryPreset::Never)),
                ..KeyUpdate::default()
            },
            "expires",
        ),
    ] {
        assert_refused_unsent(&emulator, &clerk, &id, &change, field).await;
    }
    let unknown = format!("ak_{}", "0".repeat(32));
    let error = clerk.update(&unknown, &describe("x")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
}
