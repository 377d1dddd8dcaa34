//! Contract tests of the FreeSewing adapter, with both credential kinds, against the emulator.

mod common;

use chrono::{Duration, Utc};
use common::{assert_not_in_json, emulator, fast_http};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, SortField,
    StatusFilter, Subject, Verification,
};
use keyward_emulators::{
    Emulator, Faults, Flavor, FreeSewingCredentials, RateLimit, SeedOwner, SeedSpec,
};
use keyward_remote::{FreeSewingAuth, FreeSewingBackend, FreeSewingConfig};
use secrecy::{ExposeSecret, SecretString};

struct Fixture {
    emulator: Emulator,
    backend: FreeSewingBackend,
    credentials: FreeSewingCredentials,
}

#[derive(Clone, Copy, Debug)]
enum Credential {
    Key,
    Jwt,
}

async fn fixture(credential: Credential) -> Fixture {
    let emulator = emulator(Flavor::FreeSewing).await;
    let credentials = emulator.credentials().freesewing().unwrap().clone();
    let auth = match credential {
        Credential::Key => FreeSewingAuth::Key {
            key: credentials.api_key.clone(),
            secret: SecretString::from(credentials.api_secret.as_str()),
        },
        Credential::Jwt => FreeSewingAuth::Jwt {
            token: SecretString::from(credentials.jwt.as_str()),
        },
    };
    let backend = backend_at(&emulator, auth);
    Fixture {
        emulator,
        backend,
        credentials,
    }
}

fn backend_at(emulator: &Emulator, auth: FreeSewingAuth) -> FreeSewingBackend {
    FreeSewingBackend::new(FreeSewingConfig {
        base_url: emulator.base_url(),
        auth,
        http: fast_http(),
    })
    .unwrap()
}

fn leveled(name: &str, level: u8) -> NewKey {
    let mut new = NewKey::named(name, Expiration::Preset(ExpiryPreset::OneMonth));
    new.level = Some(level);
    new
}

#[tokio::test]
async fn create_get_list_verify_and_delete_with_either_credential() {
    for credential in [Credential::Key, Credential::Jwt] {
        let f = fixture(credential).await;
        let created = f.backend.create(leveled("pattern sync", 3)).await.unwrap();
        let key = created.key.clone();
        assert_eq!(key.level, Some(3), "{credential:?}");
        assert_eq!(
            key.owner,
            Some(Subject::User(f.credentials.user_id.to_string()))
        );
        let secret = created.secret.expose_secret().to_owned();
        assert_eq!(secret.len(), 64);

        let read = f.backend.get(&key.id).await.unwrap();
        assert_eq!((read.name.as_str(), read.level), ("pattern sync", Some(3)));
        assert_eq!(read.expires_at, key.expires_at);

        let listed = f.backend.list(&ListQuery::default()).await.unwrap();
        assert!(
            listed.items.iter().any(|k| k.id == key.id),
            "{credential:?}"
        );

        // FreeSewing's "secret" for verification is KEY_ID:SECRET.
        let pair = SecretString::from(format!("{}:{secret}", key.id));
        let verified = f.backend.verify(&pair).await.unwrap();
        let Verification::Valid(valid) = &verified else {
            panic!("{verified:?}")
        };
        assert_eq!(
            (valid.id.as_str(), valid.created_at),
            (key.id.as_str(), read.created_at)
        );

        let deleted = f.backend.revoke(&key.id, Some("not sent")).await.unwrap();
        assert_eq!(deleted.status, KeyStatus::Revoked);
        assert_eq!(
            deleted.name, "pattern sync",
            "the last known key comes back"
        );
        assert_eq!(
            f.backend.get(&key.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            f.backend.revoke(&key.id, None).await.unwrap_err().code(),
            ErrorCode::NotFound,
            "deleted keys are gone for good"
        );
        assert_eq!(
            f.backend.verify(&pair).await.unwrap(),
            Verification::Unknown
        );

        for value in [
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(&listed).unwrap(),
            serde_json::to_value(&verified).unwrap(),
            serde_json::to_value(&deleted).unwrap(),
        ] {
            assert_not_in_json(&value, &secret);
        }
    }
}

#[tokio::test]
async fn levels_and_expiry_are_checked_before_sending() {
    let f = fixture(Credential::Key).await;
    let mut no_level = leveled("no level", 1);
    no_level.level = None;
    for (new, field) in [
        (no_level, "level"),
        (leveled("zero", 0), "level"),
        (leveled("nine", 9), "level"),
        (
            NewKey {
                level: Some(2),
                ..NewKey::named("forever", Expiration::Preset(ExpiryPreset::Never))
            },
            "expires",
        ),
        (
            NewKey {
                level: Some(2),
                ..NewKey::named("too long", Expiration::After(Duration::days(400)))
            },
            "expires",
        ),
        (
            NewKey {
                owner: Some(Subject::Org("acme".into())),
                ..leveled("org", 1)
            },
            "owner",
        ),
        (
            NewKey {
                description: Some("x".into()),
                ..leveled("described", 1)
            },
            "description",
        ),
    ] {
        let name = new.name.clone();
        let error = f.backend.create(new).await.unwrap_err();
        assert_eq!(error.field(), Some(field), "{name}: {error}");
    }
    assert_eq!(f.emulator.request_count(), 0, "nothing was sent");

    let year = f
        .backend
        .create(NewKey {
            level: Some(1),
            ..NewKey::named("a year", Expiration::Preset(ExpiryPreset::OneYear))
        })
        .await
        .unwrap();
    let days = (year.key.expires_at.unwrap() - Utc::now()).num_days();
    assert!((364..=365).contains(&days), "{days}");
    let capabilities = f.backend.capabilities();
    assert_eq!(capabilities.levels, Some((1, 8)));
    assert!(!capabilities.never_expires && !capabilities.server_paging);
    assert!(!capabilities.expiry_presets.contains(&ExpiryPreset::Never));
}

#[tokio::test]
async fn server_refusals_reach_our_codes() {
    let f = fixture(Credential::Key).await;
    // The seeded user's role is level 4: a level-5 key is refused by the server.
    let error = f.backend.create(leveled("too high", 5)).await.unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        (ErrorCode::InvalidInput, Some("level"))
    );
    assert!(error.to_string().contains("role"), "{error}");

    // A level-1 key may read but not delete.
    let weak = f.backend.create(leveled("weak", 1)).await.unwrap();
    let weak_backend = backend_at(
        &f.emulator,
        FreeSewingAuth::Key {
            key: weak.key.id.clone(),
            secret: weak.secret,
        },
    );
    let target = f.backend.create(leveled("target", 2)).await.unwrap().key;
    let error = weak_backend.revoke(&target.id, None).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::PermissionDenied);

    let stranger = backend_at(
        &f.emulator,
        FreeSewingAuth::Key {
            key: f.credentials.api_key.clone(),
            secret: SecretString::from("0".repeat(64)),
        },
    );
    let error = stranger.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert!(!error.to_string().contains(&"0".repeat(64)));

    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        f.backend.get(unknown).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    for malformed in ["no-colon", ":secret", "key:"] {
        let error = f
            .backend
            .verify(&SecretString::from(malformed))
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some("secret"));
    }
    let wrong = SecretString::from(format!("{}:{}", f.credentials.api_key, "f".repeat(64)));
    assert_eq!(
        f.backend.verify(&wrong).await.unwrap(),
        Verification::Unknown
    );
}

#[tokio::test]
async fn listing_is_filtered_sorted_and_paged_here() {
    let f = fixture(Credential::Jwt).await;
    f.emulator.seed_with(&SeedSpec {
        expiring_within_days: Some(30),
        ..SeedSpec::new(40, SeedOwner::User)
    });
    // The emulator's own seeded key plus 40.
    f.emulator.reset_stats();
    let page = f
        .backend
        .list(&ListQuery {
            limit: 15,
            page: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.has_more),
        (11, Some(41), false)
    );
    assert_eq!(f.emulator.request_count(), 1);

    let expired = f
        .backend
        .list(&ListQuery {
            status: StatusFilter::Expired,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(expired.total, Some(10));
    assert!(expired.items.iter().all(|k| k.status == KeyStatus::Expired));

    let by_name = f
        .backend
        .list(&ListQuery {
            search: Some("seeded-key-1".into()),
            sort: SortField::Name,
            descending: false,
            ..Default::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = by_name.items.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names[..3],
        ["seeded-key-1", "seeded-key-10", "seeded-key-11"]
    );
    assert_eq!(by_name.total, Some(11));
}

#[tokio::test]
async fn rate_limits_failures_and_request_costs() {
    let f = fixture(Credential::Key).await;
    let ids = f.emulator.seed(200, SeedOwner::User);
    f.emulator.reset_stats();
    f.backend.list(&ListQuery::default()).await.unwrap();
    assert_eq!(f.emulator.request_count(), 1, "open the profile");
    f.backend
        .list(&ListQuery {
            search: Some("seeded-key-7".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        f.emulator.request_count(),
        1,
        "search: the listing is still fresh"
    );
    f.backend.revoke(&ids[0], None).await.unwrap();
    assert_eq!(f.emulator.request_count(), 3, "revoke: read, then delete");

    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 0,
            window: std::time::Duration::from_secs(120),
        }),
        ..Faults::default()
    });
    // A fresh listing still answers; one that must be read again meets the rate limit.
    assert!(f.backend.list(&ListQuery::default()).await.is_ok());
    let uncached = backend_at(
        &f.emulator,
        FreeSewingAuth::Key {
            key: f.credentials.api_key.clone(),
            secret: SecretString::from(f.credentials.api_secret.as_str()),
        },
    );
    let error = uncached.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::RateLimited);
    assert!(error.retry_after().is_some());

    f.emulator.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    f.emulator.reset_stats();
    let error = f.backend.get(&ids[1]).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    assert_eq!(f.emulator.request_count(), 3, "reads are retried");
    f.emulator.reset_stats();
    let error = f.backend.create(leveled("failing", 1)).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    assert_eq!(f.emulator.request_count(), 1, "creates are not");
}
