//! Contract tests of the FreeSewing adapter, with both credential kinds, against the emulator,
//! which behaves like the real server (docs/backends/freesewing.md): it "crashes" (drops the
//! connection and counts it) on an unknown key id in Basic auth, so every test here also checks
//! that Keyward caused no crash.

mod common;

use chrono::{Duration, Utc};
use common::{assert_not_in_json, emulator, fast_http};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, SortField,
    StatusFilter, Subject, Verification,
};
use keyward_emulators::{
    Emulator, Faults, Flavor, FreeSewingCredentials, FreeSewingSwitches, RateLimit, SeedOwner,
    SeedSpec,
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
        (leveled("ten", 10), "level"),
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
    assert_eq!(
        capabilities.levels,
        Some((1, 9)),
        "the role is not known yet"
    );
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
    assert_eq!(f.emulator.crashes(), 0);
}

fn pair(id: &str, secret: &str) -> SecretString {
    SecretString::from(format!("{id}:{secret}"))
}

#[tokio::test]
async fn verify_never_sends_an_unknown_id_and_answers_unknown_fast() {
    for credential in [Credential::Key, Credential::Jwt] {
        let f = fixture(credential).await;
        assert!(
            f.emulator
                .freesewing_switches()
                .unwrap()
                .crash_on_unknown_key
        );
        let created = f.backend.create(leveled("short-lived", 2)).await.unwrap();
        let secret = created.secret.expose_secret().to_owned();
        let id = created.key.id.clone();
        assert!(matches!(
            f.backend.verify(&pair(&id, &secret)).await.unwrap(),
            Verification::Valid(_)
        ));
        f.backend.revoke(&id, None).await.unwrap();

        f.emulator.reset_stats();
        let started = std::time::Instant::now();
        let after_delete = f.backend.verify(&pair(&id, &secret)).await.unwrap();
        let took = started.elapsed();
        println!("{credential:?}: verify after delete took {took:?}");
        assert_eq!(after_delete, Verification::Unknown);
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
        let routes = f.emulator.stats();
        assert_eq!(
            f.emulator.request_count(),
            1,
            "only the look-up: {routes:?}"
        );
        assert!(!routes.contains_key("GET /whoami/key"), "{routes:?}");

        // A mistyped id (one character changed), and ids no key can have.
        let mistyped = format!("{}0", &f.credentials.api_key[..35]);
        for id in [mistyped.as_str(), "not-a-uuid", "../whoami"] {
            let started = std::time::Instant::now();
            let verdict = f.backend.verify(&pair(id, &secret)).await.unwrap();
            println!(
                "{credential:?}: verify of {id:?} took {:?}",
                started.elapsed()
            );
            assert_eq!(verdict, Verification::Unknown, "{id}");
        }
        assert_eq!(
            f.emulator.crashes(),
            0,
            "{credential:?}: Keyward crashed the server"
        );

        // A verify is never retried, not even its look-up.
        f.emulator.set_faults(Faults {
            failure_rate: 1.0,
            ..Faults::default()
        });
        f.emulator.reset_stats();
        let error = f.backend.verify(&pair(&id, &secret)).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Backend, "{error}");
        assert_eq!(f.emulator.request_count(), 1, "{credential:?}");
    }
}

#[tokio::test]
async fn the_crash_is_real_for_a_client_that_sends_an_unknown_id() {
    let f = fixture(Credential::Jwt).await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    // The old way to verify: Basic auth with the id. Reads are retried, so each try crashes.
    let old_way = backend_at(
        &f.emulator,
        FreeSewingAuth::Key {
            key: unknown.into(),
            secret: SecretString::from("f".repeat(64)),
        },
    );
    let error = old_way.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Network, "{error}");
    assert_eq!(f.emulator.crashes(), 3, "every try crashed the server");

    // With the switch off, the same request is a clean 401.
    f.emulator.set_freesewing_switches(FreeSewingSwitches {
        crash_on_unknown_key: false,
        ..FreeSewingSwitches::default()
    });
    f.emulator.reset_stats();
    let error = old_way.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert_eq!(f.emulator.crashes(), 0);
}

#[tokio::test]
async fn expired_keys_still_authenticate_and_verify_as_expired() {
    let f = fixture(Credential::Jwt).await;
    // The real server takes a negative expiresIn, and never checks expiry when authenticating.
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/apikeys/jwt", f.emulator.base_url()))
        .bearer_auth(&f.credentials.jwt)
        .json(&serde_json::json!({"name": "old", "level": 1, "expiresIn": -3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["apikey"]["key"].as_str().unwrap();
    let secret = answer["apikey"]["secret"].as_str().unwrap();
    let verdict = f.backend.verify(&pair(id, secret)).await.unwrap();
    let Verification::Expired(key) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!((key.id.as_str(), key.status), (id, KeyStatus::Expired));
    let wrong = f.backend.verify(&pair(id, &"0".repeat(64))).await.unwrap();
    assert_eq!(wrong, Verification::Unknown, "a wrong secret is a 401");
    assert_eq!(f.emulator.crashes(), 0);
}

/// A server that answers the look-up of any key and then drops the connection on `/whoami/key`,
/// as the real one does when it dies; it counts the whoami requests it saw.
async fn dying_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let whoami = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = whoami.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                loop {
                    let Ok(read) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    let request = String::from_utf8_lossy(&buffer[..read]).to_string();
                    if request.starts_with("GET /whoami/key") {
                        seen.fetch_add(1, Ordering::SeqCst);
                        return; // dropped: an empty reply
                    }
                    let body = r#"{"result":"success","apikey":{"key":"k-1","level":1,"createdAt":"2026-01-10T12:00:00.000Z","expiresAt":"2099-01-10T12:00:00.000Z","name":"CI","userId":1}}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, whoami)
}

#[tokio::test]
async fn a_connection_dropped_during_verify_is_reported_as_that_and_not_retried() {
    let (url, whoami) = dying_server().await;
    let backend = FreeSewingBackend::new(FreeSewingConfig {
        base_url: url.clone(),
        auth: FreeSewingAuth::Jwt {
            token: SecretString::from("a.jwt.token"),
        },
        http: fast_http(),
    })
    .unwrap();
    let error = backend
        .verify(&pair("k-1", &"a".repeat(64)))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(error.code(), ErrorCode::Network);
    assert!(
        message.contains("the server closed the connection") && message.contains("/whoami/key"),
        "{message}"
    );
    assert!(!message.contains("cannot reach"), "{message}");
    assert!(!message.contains(&"a".repeat(64)), "{message}");
    assert_eq!(
        whoami.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not retried"
    );
}

#[tokio::test]
async fn a_seed_shaped_create_answer_keeps_the_secret() {
    let f = fixture(Credential::Key).await;
    f.emulator.set_freesewing_switches(FreeSewingSwitches {
        seed_shaped_create: true,
        ..FreeSewingSwitches::default()
    });
    let before = Utc::now();
    let created = f.backend.create(leveled("seed shaped", 2)).await.unwrap();
    let secret = created.secret.expose_secret().to_owned();
    assert_eq!(secret.len(), 64);
    assert!(created.key.created_at >= before - Duration::seconds(1));
    assert_eq!(
        (created.key.name.as_str(), created.key.level),
        ("seed shaped", Some(2))
    );
    assert!(matches!(
        f.backend
            .verify(&pair(&created.key.id, &secret))
            .await
            .unwrap(),
        Verification::Valid(_)
    ));
    assert_not_in_json(&created.key, &secret);
}

async fn jwt_backend(emulator: &Emulator, token: &str) -> FreeSewingBackend {
    backend_at(
        emulator,
        FreeSewingAuth::Jwt {
            token: SecretString::from(token),
        },
    )
}

#[tokio::test]
async fn levels_follow_the_accounts_role() {
    let f = fixture(Credential::Jwt).await;
    let c = &f.credentials;
    for (what, backend, cap) in [
        ("user jwt", jwt_backend(&f.emulator, &c.jwt).await, 4),
        (
            "support jwt",
            jwt_backend(&f.emulator, &c.support_jwt).await,
            8,
        ),
        ("admin jwt", jwt_backend(&f.emulator, &c.admin_jwt).await, 9),
        (
            "user key",
            backend_at(
                &f.emulator,
                FreeSewingAuth::Key {
                    key: c.api_key.clone(),
                    secret: SecretString::from(c.api_secret.as_str()),
                },
            ),
            4,
        ),
        (
            "admin key",
            backend_at(
                &f.emulator,
                FreeSewingAuth::Key {
                    key: c.admin_api_key.clone(),
                    secret: SecretString::from(c.admin_api_secret.as_str()),
                },
            ),
            9,
        ),
    ] {
        assert_eq!(backend.capabilities().levels, Some((1, 9)), "{what}");
        let refreshed = backend.refresh_capabilities().await.unwrap();
        assert_eq!(refreshed.levels, Some((1, cap)), "{what}");
        assert_eq!(backend.capabilities().levels, Some((1, cap)), "{what}");

        let top = backend.create(leveled("top", cap)).await.unwrap();
        assert_eq!(top.key.level, Some(cap), "{what}");
        if cap < 9 {
            f.emulator.reset_stats();
            let error = backend.create(leveled("above", cap + 1)).await.unwrap_err();
            assert_eq!(error.field(), Some("level"), "{what}");
            assert!(
                error.to_string().contains(&format!("up to level {cap}")),
                "{what}: {error}"
            );
            assert_eq!(f.emulator.request_count(), 0, "{what}: nothing was sent");
        }
    }

    // Without refresh_capabilities: a level above the user role's 4 learns the cap first, and the
    // create is never sent.
    let fresh = jwt_backend(&f.emulator, &c.jwt).await;
    f.emulator.reset_stats();
    let error = fresh.create(leveled("five", 5)).await.unwrap_err();
    assert!(error.to_string().contains("up to level 4"), "{error}");
    let routes = f.emulator.stats();
    assert_eq!(routes.get("GET /whoami/jwt"), Some(&1), "{routes:?}");
    assert!(!routes.contains_key("POST /apikeys/jwt"), "{routes:?}");
    let admin = jwt_backend(&f.emulator, &c.admin_jwt).await;
    assert_eq!(
        admin.create(leveled("nine", 9)).await.unwrap().key.level,
        Some(9)
    );
    assert_eq!(f.emulator.crashes(), 0);
}
