//! Contract tests of the PropelAuth adapter, over both APIs, against the PropelAuth emulator.

mod common;

use chrono::{Duration, Utc};
use common::{assert_not_in_json, emulator, fast_http, propelauth_backend_api};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, StatusFilter,
    Subject, Verification,
};
use keyward_core::{KeyNames, MemoryKeyNames};
use keyward_emulators::{
    Emulator, Faults, Flavor, PropelAuthCredentials, RateLimit, SeedOwner, SeedSpec,
};
use keyward_remote::{list_all, PropelAuthApi, PropelAuthBackend, PropelAuthConfig};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

struct Fixture {
    emulator: Emulator,
    backend: PropelAuthBackend,
    credentials: PropelAuthCredentials,
}

impl Fixture {
    fn user(&self) -> Subject {
        Subject::User(self.credentials.user_id.clone())
    }

    fn org(&self) -> Subject {
        Subject::Org(self.credentials.org_id.clone())
    }

    fn requests(&self) -> u64 {
        self.emulator.request_count()
    }
}

/// The backend API with the integration key, listing the seeded user's keys by default.
async fn backend_api() -> Fixture {
    backend_api_with_key(None).await
}

async fn backend_api_with_key(key: Option<&str>) -> Fixture {
    let emulator = emulator(Flavor::PropelAuth).await;
    let credentials = emulator.credentials().propelauth().unwrap().clone();
    let backend = propelauth_backend_api(&emulator, key);
    Fixture {
        emulator,
        backend,
        credentials,
    }
}

/// The frontend API with a signed-in session of the seeded user.
async fn frontend_api(default_subject: Option<Subject>) -> Fixture {
    let emulator = emulator(Flavor::PropelAuth).await;
    let credentials = emulator.credentials().propelauth().unwrap().clone();
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(emulator.propelauth_session().unwrap()),
        },
        default_subject,
        http: fast_http(),
    })
    .unwrap();
    Fixture {
        emulator,
        backend,
        credentials,
    }
}

/// Sets the emulator's PropelAuth switches (`validate_unknown`, `max_page_size`), then forgets
/// the request in the stats.
async fn switch(f: &Fixture, switches: serde_json::Value) {
    let reply = reqwest::Client::new()
        .put(format!("{}/__emulator/propelauth", f.emulator.base_url()))
        .body(switches.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
    f.emulator.reset_stats();
}

fn status(status: StatusFilter) -> ListQuery {
    ListQuery {
        status,
        limit: 100,
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Backend API

#[tokio::test]
async fn backend_create_get_list_revoke_and_validate() {
    let f = backend_api().await;
    let mut new = NewKey::named("laptop", Expiration::After(Duration::days(30)));
    new.description = Some("for the CLI".into());
    let created = f.backend.create(new).await.unwrap();
    let secret = created.secret.expose_secret().to_owned();
    let key = created.key;
    assert_eq!(key.id.len(), 32);
    assert_eq!(key.owner, Some(f.user()));
    assert_eq!(key.description.as_deref(), Some("for the CLI"));

    let read = f.backend.get(&key.id).await.unwrap();
    assert_eq!(
        (read.name.as_str(), read.status),
        ("laptop", KeyStatus::Active)
    );
    assert_eq!(read.expires_at, key.expires_at);
    assert_eq!(read.created_at, key.created_at);
    assert_eq!(read.description.as_deref(), Some("for the CLI"));

    let active = f.backend.list(&status(StatusFilter::Active)).await.unwrap();
    assert_eq!(active.items, std::slice::from_ref(&read));

    let verified = f.backend.verify(&created.secret).await.unwrap();
    let Verification::Valid(valid) = &verified else {
        panic!("{verified:?}")
    };
    assert_eq!(valid.owner, Some(f.user()));
    assert_eq!(valid.description.as_deref(), Some("for the CLI"));
    let pasted = SecretString::from(format!("Bearer {secret}"));
    assert!(f.backend.verify(&pasted).await.unwrap().is_valid());

    let revoked = f.backend.revoke(&key.id, Some("ignored")).await.unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(
        revoked.revocation_reason, None,
        "PropelAuth takes no reason"
    );
    assert!(revoked.revoked_at.is_some());
    let again = f.backend.revoke(&key.id, None).await.unwrap();
    assert_eq!(again.status, KeyStatus::Revoked, "already archived is fine");

    assert!(f
        .backend
        .list(&status(StatusFilter::Active))
        .await
        .unwrap()
        .items
        .is_empty());
    let archived = f
        .backend
        .list(&status(StatusFilter::Revoked))
        .await
        .unwrap();
    assert_eq!(archived.items.len(), 1);
    assert_eq!(archived.items[0].status, KeyStatus::Revoked);
    assert_eq!(
        f.backend.verify(&created.secret).await.unwrap(),
        Verification::Unknown
    );

    for value in [
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&active).unwrap(),
        serde_json::to_value(&archived).unwrap(),
        serde_json::to_value(&verified).unwrap(),
    ] {
        assert_not_in_json(&value, &secret);
    }
    assert_eq!(f.backend.kind(), "propelauth");
    let capabilities = f.backend.capabilities();
    assert!(
        !capabilities.server_search && capabilities.custom_expiry && !capabilities.revoke_reason
    );
    assert!(
        !capabilities.names_kept_locally,
        "the backend API keeps names"
    );
}

#[tokio::test]
async fn backend_org_keys_and_expiries() {
    let f = backend_api().await;
    let mut org_key = NewKey::named("org key", Expiration::Preset(ExpiryPreset::Never));
    org_key.owner = Some(f.org());
    let created = f.backend.create(org_key).await.unwrap().key;
    assert_eq!(created.owner, Some(f.org()));
    assert_eq!(created.expires_at, None);
    let listed = f
        .backend
        .list(&ListQuery {
            owner: Some(f.org()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].owner, Some(f.org()));
    assert_eq!(listed.items[0].expires_at, None);

    let date = Utc::now() + Duration::days(100);
    let dated = f
        .backend
        .create(NewKey::named("dated", Expiration::At(date)))
        .await
        .unwrap()
        .key;
    let read = f.backend.get(&dated.id).await.unwrap();
    assert_eq!(read.expires_at.unwrap().timestamp(), date.timestamp());
}

#[tokio::test]
async fn backend_all_is_active_then_archive() {
    let f = backend_api().await;
    // 12 keys: every 4th never expires, the next one has expired, the other two expire later.
    f.emulator.seed_with(&SeedSpec {
        expiring_within_days: Some(30),
        ..SeedSpec::new(12, SeedOwner::User)
    });
    let deleted = f.emulator.seed(2, SeedOwner::User);
    for id in &deleted {
        f.backend.revoke(id, None).await.unwrap();
    }
    // Active 9, archived 3 expired + 2 deleted.
    let page = |page| ListQuery {
        page,
        limit: 4,
        ..Default::default()
    };
    let mut seen = Vec::new();
    for number in 0..4 {
        let listed = f.backend.list(&page(number)).await.unwrap();
        assert_eq!(listed.total, Some(14), "page {number}");
        assert_eq!(listed.has_more, number < 3, "page {number}");
        seen.extend(listed.items);
    }
    let statuses: Vec<_> = seen.iter().map(|k| k.status).collect();
    assert_eq!(seen.len(), 14);
    assert!(
        statuses[..9].iter().all(|s| *s == KeyStatus::Active),
        "{statuses:?}"
    );
    let count = |wanted| statuses.iter().filter(|s| **s == wanted).count();
    assert_eq!(
        (count(KeyStatus::Expired), count(KeyStatus::Revoked)),
        (3, 2)
    );

    let expired = f
        .backend
        .list(&status(StatusFilter::Expired))
        .await
        .unwrap();
    assert_eq!(expired.items.len(), 3);
    assert_eq!(
        expired.total,
        Some(3),
        "exact: from a snapshot of both listings"
    );
    let revoked = f
        .backend
        .list(&status(StatusFilter::Revoked))
        .await
        .unwrap();
    let mut revoked_ids: Vec<_> = revoked.items.iter().map(|k| k.id.clone()).collect();
    revoked_ids.sort();
    let mut deleted = deleted;
    deleted.sort();
    assert_eq!(revoked_ids, deleted);
}

#[tokio::test]
async fn backend_paging_and_search() {
    let f = backend_api().await;
    f.emulator.seed(250, SeedOwner::User);
    let deploy = f
        .backend
        .create(NewKey::named("deploy-bot", Expiration::default()))
        .await
        .unwrap()
        .key;
    let first = f
        .backend
        .list(&ListQuery {
            status: StatusFilter::Active,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (first.items.len(), first.total, first.has_more),
        (100, Some(251), true)
    );
    let all = list_all(&f.backend, &status(StatusFilter::Active), 4)
        .await
        .unwrap();
    assert_eq!(all.len(), 251);

    f.emulator.reset_stats();
    let found = f
        .backend
        .list(&ListQuery {
            search: Some("DEPLOY".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, deploy.id);
    assert_eq!(found.total, Some(1));
    // No server search: the active listing (3 pages of 100) and the archive (1) are read.
    assert_eq!(f.requests(), 4);
}

#[tokio::test]
async fn backend_errors_reach_our_codes() {
    let f = backend_api().await;
    let mut stranger = NewKey::named("stranger", Expiration::default());
    stranger.owner = Some(Subject::User("00000000-0000-4000-8000-000000000000".into()));
    let error = f.backend.create(stranger).await.unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        (ErrorCode::InvalidInput, Some("owner"))
    );

    let unknown = "0".repeat(32);
    assert_eq!(
        f.backend.get(&unknown).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        f.backend.revoke(&unknown, None).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        f.backend
            .verify(&SecretString::from("abcdef0123"))
            .await
            .unwrap(),
        Verification::Unknown
    );

    let mut leveled = NewKey::named("leveled", Expiration::default());
    leveled.level = Some(2);
    f.emulator.reset_stats();
    assert_eq!(
        f.backend.create(leveled).await.unwrap_err().field(),
        Some("level")
    );
    assert_eq!(f.requests(), 0);

    let bad_key = backend_api_with_key(Some("wrong-integration-key")).await;
    let error = bad_key
        .backend
        .list(&ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert!(error.to_string().contains("integration key"));
    assert!(!error.to_string().contains("wrong-integration-key"));
}

#[tokio::test]
async fn backend_rate_limits_and_failures() {
    let f = backend_api().await;
    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 1,
            window: std::time::Duration::from_secs(1),
        }),
        ..Faults::default()
    });
    f.backend.list(&status(StatusFilter::Active)).await.unwrap();
    f.backend.list(&status(StatusFilter::Active)).await.unwrap();
    assert_eq!(
        f.requests(),
        3,
        "the 429's wait was honoured, then the retry served"
    );

    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 0,
            window: std::time::Duration::from_secs(45),
        }),
        ..Faults::default()
    });
    let error = f
        .backend
        .list(&status(StatusFilter::Active))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::RateLimited);
    assert!(error.retry_after().unwrap() > std::time::Duration::from_secs(40));

    f.emulator.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    f.emulator.reset_stats();
    let error = f
        .backend
        .list(&status(StatusFilter::Active))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    assert_eq!(f.requests(), 3);
}

#[tokio::test]
async fn backend_user_actions_cost_a_constant_number_of_requests() {
    let f = backend_api().await;
    let ids = f.emulator.seed(300, SeedOwner::User);
    let before = f.requests();
    f.backend.list(&ListQuery::default()).await.unwrap();
    assert_eq!(
        f.requests() - before,
        2,
        "open the profile: a page and the archive's count"
    );
    let before = f.requests();
    f.backend.revoke(&ids[3], None).await.unwrap();
    assert_eq!(f.requests() - before, 2, "revoke: read, then delete");
}

// ---------------------------------------------------------------------------------------------
// Frontend API

#[tokio::test]
async fn frontend_create_list_search_get_and_revoke() {
    let f = frontend_api(None).await;
    let created = f
        .backend
        .create(NewKey::named(
            "browser key",
            Expiration::Preset(ExpiryPreset::TwoWeeks),
        ))
        .await
        .unwrap();
    let secret = created.secret.expose_secret().to_owned();
    let key = created.key;
    let expires = key.expires_at.unwrap();
    assert!(
        (expires - (Utc::now() + Duration::days(14)))
            .num_seconds()
            .abs()
            < 5
    );

    f.emulator.seed(40, SeedOwner::User);
    let first = f.backend.list(&ListQuery::default()).await.unwrap();
    assert_eq!(first.total, Some(41));

    f.emulator.reset_stats();
    let found = f
        .backend
        .list(&ListQuery {
            search: Some("browser".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].name, "browser key");
    assert_eq!(
        f.requests(),
        1,
        "names are searched here, over one page of the whole listing"
    );

    let read = f.backend.get(&key.id).await.unwrap();
    assert_eq!(read.id, key.id);
    f.emulator.reset_stats();
    let revoked = f.backend.revoke(&key.id, None).await.unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(f.requests(), 2, "find, then delete");
    assert_eq!(
        f.backend.get(&key.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        f.backend.list(&ListQuery::default()).await.unwrap().total,
        Some(40)
    );
    for value in [
        serde_json::to_value(&first).unwrap(),
        serde_json::to_value(&read).unwrap(),
    ] {
        assert_not_in_json(&value, &secret);
    }
}

#[tokio::test]
async fn frontend_takes_only_the_six_presets() {
    let f = frontend_api(None).await;
    for custom in [
        Expiration::After(Duration::days(10)),
        Expiration::At(Utc::now() + Duration::days(10)),
    ] {
        let error = f
            .backend
            .create(NewKey::named("custom", custom))
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some("expires"));
        assert!(error
            .to_string()
            .contains("TwoWeeks, OneMonth, ThreeMonths, SixMonths, OneYear, Never"));
    }
    assert_eq!(f.requests(), 0, "refused before any request");
    let capabilities = f.backend.capabilities();
    assert!(!capabilities.server_search && !capabilities.custom_expiry && !capabilities.verify);
    assert!(capabilities.names_kept_locally);
    for preset in ExpiryPreset::ALL {
        let key = f
            .backend
            .create(NewKey::named(
                format!("{preset:?}"),
                Expiration::Preset(preset),
            ))
            .await
            .unwrap()
            .key;
        assert_eq!(key.expires_at.is_none(), preset == ExpiryPreset::Never);
    }
}

#[tokio::test]
async fn frontend_org_keys_and_permissions() {
    let f = frontend_api(None).await;
    let mut org_key = NewKey::named("team key", Expiration::default());
    org_key.owner = Some(f.org());
    let created = f.backend.create(org_key).await.unwrap().key;
    let org_list = f
        .backend
        .list(&ListQuery {
            owner: Some(f.org()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(org_list.items.len(), 1);
    assert_eq!(org_list.items[0].id, created.id);
    assert_eq!(org_list.items[0].owner, Some(f.org()));

    let other = Subject::Org(f.credentials.other_org_id.clone());
    let mut forbidden = NewKey::named("not my org", Expiration::default());
    forbidden.owner = Some(other.clone());
    assert_eq!(
        f.backend.create(forbidden).await.unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    let listing = ListQuery {
        owner: Some(other),
        ..Default::default()
    };
    assert_eq!(
        f.backend.list(&listing).await.unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    let nowhere = ListQuery {
        owner: Some(Subject::Org("00000000-0000-4000-8000-000000000000".into())),
        ..Default::default()
    };
    assert_eq!(
        f.backend.list(&nowhere).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    let revoked = frontend_api(Some(f.org())).await;
    let error = revoked
        .backend
        .list(&status(StatusFilter::Revoked))
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("status"));
    let error = revoked
        .backend
        .verify(&SecretString::from("abc"))
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("secret"));
}

#[tokio::test]
async fn frontend_without_a_session_must_sign_in_again() {
    let emulator = emulator(Flavor::PropelAuth).await;
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from("propelauth_session=expired0000"),
        },
        default_subject: None,
        http: fast_http(),
    })
    .unwrap();
    let error = backend.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert!(error.to_string().contains("sign in again"), "{error}");
    assert!(!error.to_string().contains("expired0000"));
}

// ---------------------------------------------------------------------------------------------
// Faithful to the released service (docs/backends/propelauth.md)

#[tokio::test]
async fn frontend_names_are_kept_by_keyward_and_searched_here() {
    let names: Arc<dyn KeyNames> = Arc::new(MemoryKeyNames::default());
    let f = frontend_api(None).await;
    let backend = f.backend.with_key_names(names.clone());
    let laptop = backend
        .create(NewKey::named("Laptop CLI", Expiration::default()))
        .await
        .unwrap()
        .key;
    assert_eq!(laptop.name, "Laptop CLI");
    assert_eq!(names.name(&laptop.id).as_deref(), Some("Laptop CLI"));
    // Keys made elsewhere (straight in the service), whose names PropelAuth does not show.
    let elsewhere = f.emulator.seed(3, SeedOwner::User);

    let listed = backend.list(&status(StatusFilter::Active)).await.unwrap();
    assert_eq!(listed.items.len(), 4);
    assert!(
        listed.items.iter().all(|key| !key.name.trim().is_empty()),
        "no blank name: {:?}",
        listed.items
    );
    for key in &listed.items {
        let want = if key.id == laptop.id {
            "Laptop CLI"
        } else {
            assert!(elsewhere.contains(&key.id));
            key.id.as_str()
        };
        assert_eq!(key.name, want);
    }

    // A name is found here, over a snapshot of the whole listing (one page of 100), which
    // answers the next name searches without a request.
    f.emulator.reset_stats();
    for search in ["laptop", "CLI"] {
        let by_name = backend
            .list(&ListQuery {
                search: Some(search.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_name.items.len(), 1, "{search}");
        assert_eq!(by_name.items[0].id, laptop.id);
    }
    assert_eq!(f.emulator.request_count(), 1);
    // A whole id is PropelAuth's own filter: one request to the server.
    f.emulator.reset_stats();
    let by_id = backend
        .list(&ListQuery {
            search: Some(elsewhere[1].to_uppercase()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_id.items.len(), 1);
    assert_eq!(by_id.items[0].id, elsewhere[1]);
    assert_eq!(f.emulator.request_count(), 1);
    assert_eq!(backend.get(&laptop.id).await.unwrap().name, "Laptop CLI");

    // The same profile opened again (same store) still names the key; revoking forgets it.
    let reopened = frontend_api_on(&f.emulator).with_key_names(names.clone());
    assert_eq!(reopened.get(&laptop.id).await.unwrap().name, "Laptop CLI");
    let revoked = reopened.revoke(&laptop.id, None).await.unwrap();
    assert_eq!(revoked.name, "Laptop CLI");
    assert_eq!(names.name(&laptop.id), None);
}

/// Another frontend adapter on the same emulator, with a fresh session.
fn frontend_api_on(emulator: &Emulator) -> PropelAuthBackend {
    PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(emulator.propelauth_session().unwrap()),
        },
        default_subject: None,
        http: fast_http(),
    })
    .unwrap()
}

#[tokio::test]
async fn backend_validate_treats_404_and_a_token_field_error_as_unknown() {
    let f = backend_api().await;
    let made = f
        .backend
        .create(NewKey::named("live", Expiration::default()))
        .await
        .unwrap();
    let unknown = SecretString::from("00ff00ff00ff00ff");
    // The 400 keyed by `api_key_token` (the emulator's default, node-apis' handled case).
    assert_eq!(
        f.backend.verify(&unknown).await.unwrap(),
        Verification::Unknown
    );
    switch(&f, serde_json::json!({ "validate_unknown": "not_found" })).await;
    assert_eq!(
        f.backend.verify(&unknown).await.unwrap(),
        Verification::Unknown
    );
    assert_eq!(f.requests(), 1, "an unknown answer is not retried");
    // A revoked key's token is unknown too, and a live one still valid.
    assert!(matches!(
        f.backend.verify(&made.secret).await.unwrap(),
        Verification::Valid(_)
    ));
    f.backend.revoke(&made.key.id, None).await.unwrap();
    assert_eq!(
        f.backend.verify(&made.secret).await.unwrap(),
        Verification::Unknown
    );
}

#[tokio::test]
async fn listings_step_down_to_a_page_size_the_server_accepts() {
    for f in [backend_api().await, frontend_api(None).await] {
        f.emulator.seed(60, SeedOwner::User);
        switch(&f, serde_json::json!({ "max_page_size": 25 })).await;
        let all = list_all(&f.backend, &status(StatusFilter::Active), 4)
            .await
            .unwrap();
        assert_eq!(all.len(), 60);
        let page = f.backend.list(&status(StatusFilter::Active)).await.unwrap();
        assert_eq!((page.items.len(), page.total), (60, Some(60)));
        // The size learnt is kept: the next listing asks for pages of 25 straight away.
        f.emulator.reset_stats();
        f.backend.forget_cached();
        f.backend.list(&status(StatusFilter::Active)).await.unwrap();
        assert_eq!(f.requests(), 3, "three pages of 25, none refused");
    }
}
