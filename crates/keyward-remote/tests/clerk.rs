//! Contract tests of the Clerk adapter against the Clerk emulator (docs/backends/clerk.md).

mod common;

use chrono::{Duration, Utc};
use common::{assert_not_in_json, emulator, fast_http};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, StatusFilter,
    Subject, Verification,
};
use keyward_emulators::{Emulator, Faults, Flavor, RateLimit, SeedOwner};
use keyward_remote::{list_all, ClerkBackend, ClerkConfig, ClerkPath};
use secrecy::{ExposeSecret, SecretString};

struct Fixture {
    emulator: Emulator,
    clerk: ClerkBackend,
    user: Subject,
}

async fn fixture() -> Fixture {
    fixture_with(ClerkPath::Root, None).await
}

async fn fixture_with(path: ClerkPath, secret_key: Option<&str>) -> Fixture {
    let emulator = emulator(Flavor::Clerk).await;
    let credentials = emulator.credentials().clerk().unwrap().clone();
    let user = Subject::User(credentials.user_id.clone());
    let clerk = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(secret_key.unwrap_or(&credentials.secret_key)),
        path,
        default_subject: Some(user.clone()),
        http: fast_http(),
    })
    .unwrap();
    Fixture {
        emulator,
        clerk,
        user,
    }
}

fn new_key(name: &str) -> NewKey {
    NewKey::named(name, Expiration::Preset(ExpiryPreset::OneMonth))
}

#[tokio::test]
async fn create_get_list_revoke_and_verify() {
    let f = fixture().await;
    let mut new = new_key("CI deploy");
    new.description = Some("nightly".into());
    new.scopes = vec!["read".into(), "write".into()];
    let created = f.clerk.create(new).await.unwrap();
    let secret = created.secret.expose_secret().to_owned();
    assert!(secret.starts_with("ak_"));
    let key = created.key;
    assert_eq!(key.name, "CI deploy");
    assert_eq!(key.owner, Some(f.user.clone()));
    assert_eq!(key.status, KeyStatus::Active);
    assert_eq!(key.scopes, ["read", "write"]);
    assert_eq!(key.description.as_deref(), Some("nightly"));

    assert_eq!(f.clerk.get(&key.id).await.unwrap(), key);
    let page = f.clerk.list(&ListQuery::default()).await.unwrap();
    assert_eq!(page.items, std::slice::from_ref(&key));
    assert_eq!(page.total, Some(1));

    let verified = f.clerk.verify(&created.secret).await.unwrap();
    let Verification::Valid(valid) = &verified else {
        panic!("{verified:?}")
    };
    assert_eq!(valid.id, key.id);
    assert!(valid.last_used_at.is_some(), "verify records the use");

    let revoked = f.clerk.revoke(&key.id, Some("rotated")).await.unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(revoked.revocation_reason.as_deref(), Some("rotated"));
    let again = f.clerk.revoke(&key.id, Some("other")).await.unwrap();
    assert_eq!(again.status, KeyStatus::Revoked, "revoking twice is fine");
    assert_eq!(again.revocation_reason.as_deref(), Some("rotated"));
    assert_eq!(
        f.clerk.verify(&created.secret).await.unwrap(),
        Verification::Unknown,
        "Clerk answers 404 for a revoked secret"
    );

    for value in [
        serde_json::to_value(&key).unwrap(),
        serde_json::to_value(&page).unwrap(),
        serde_json::to_value(&verified).unwrap(),
        serde_json::to_value(&revoked).unwrap(),
    ] {
        assert_not_in_json(&value, &secret);
    }
    assert_eq!(f.clerk.kind(), "clerk");
}

#[tokio::test]
async fn the_v1_path_prefix_works_too() {
    let f = fixture_with(ClerkPath::V1, None).await;
    f.clerk.create(new_key("on v1")).await.unwrap();
    f.clerk.list(&ListQuery::default()).await.unwrap();
    let stats = f.emulator.stats();
    assert_eq!(stats.get("POST /v1/api_keys"), Some(&1), "{stats:?}");
    assert_eq!(stats.get("GET /v1/api_keys"), Some(&1), "{stats:?}");
}

#[tokio::test]
async fn expiries_become_seconds_until_expiration() {
    let f = fixture().await;
    let never = f
        .clerk
        .create(NewKey::named(
            "forever",
            Expiration::Preset(ExpiryPreset::Never),
        ))
        .await
        .unwrap();
    assert_eq!(never.key.expires_at, None);

    let before = Utc::now();
    let two_hours = f
        .clerk
        .create(NewKey::named(
            "short",
            Expiration::After(Duration::hours(2)),
        ))
        .await
        .unwrap();
    let at = two_hours.key.expires_at.unwrap();
    assert!(at >= before + Duration::hours(2) - Duration::seconds(2));
    assert!(at <= Utc::now() + Duration::hours(2) + Duration::seconds(2));

    let date = Utc::now() + Duration::days(40);
    let dated = f
        .clerk
        .create(NewKey::named("dated", Expiration::At(date)))
        .await
        .unwrap();
    let drift = (dated.key.expires_at.unwrap() - date).num_seconds().abs();
    assert!(drift <= 2, "{drift}");
}

#[tokio::test]
async fn what_clerk_cannot_take_is_refused_before_sending() {
    let f = fixture().await;
    let short = f.clerk.create(new_key("ab")).await.unwrap_err();
    assert_eq!(short.field(), Some("name"));
    assert!(short.to_string().contains("at least 3"), "{short}");
    let mut long = new_key("long description");
    long.description = Some("x".repeat(256));
    assert_eq!(
        f.clerk.create(long).await.unwrap_err().field(),
        Some("description")
    );
    let mut leveled = new_key("leveled");
    leveled.level = Some(3);
    assert_eq!(
        f.clerk.create(leveled).await.unwrap_err().field(),
        Some("level")
    );
    let past = NewKey::named("past", Expiration::At(Utc::now() - Duration::days(1)));
    assert_eq!(
        f.clerk.create(past).await.unwrap_err().field(),
        Some("expires")
    );
    assert_eq!(f.emulator.request_count(), 0);
}

#[tokio::test]
async fn an_owner_is_required_for_create_and_list() {
    let emulator = emulator(Flavor::Clerk).await;
    let credentials = emulator.credentials().clerk().unwrap();
    let clerk = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: ClerkPath::Root,
        default_subject: None,
        http: fast_http(),
    })
    .unwrap();
    let error = clerk.create(new_key("no owner")).await.unwrap_err();
    assert_eq!(error.field(), Some("owner"));
    let error = clerk.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.field(), Some("owner"));
    assert_eq!(emulator.request_count(), 0);

    let mut for_org = new_key("org key");
    for_org.owner = Some(Subject::Org(credentials.org_id.clone()));
    let created = clerk.create(for_org).await.unwrap();
    assert_eq!(
        created.key.owner,
        Some(Subject::Org(credentials.org_id.clone()))
    );
    let org_page = clerk
        .list(&ListQuery {
            owner: Some(Subject::Org(credentials.org_id.clone())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(org_page.items.len(), 1);
}

#[tokio::test]
async fn server_errors_reach_our_codes() {
    let f = fixture().await;
    // 400 with meta.param_name = subject → our field "owner".
    let mut bad_owner = new_key("bad owner");
    bad_owner.owner = Some(Subject::User("user_tooShort".into()));
    let error = f.clerk.create(bad_owner).await.unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        (ErrorCode::InvalidInput, Some("owner"))
    );

    // 404: an unknown key, and an unknown owner.
    let unknown = format!("ak_{}", "0".repeat(32));
    assert_eq!(
        f.clerk.get(&unknown).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        f.clerk.revoke(&unknown, None).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    let nobody = ListQuery {
        owner: Some(Subject::User(format!("user_{}", "z".repeat(27)))),
        ..Default::default()
    };
    assert_eq!(
        f.clerk.list(&nobody).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    // 409: names are unique per owner.
    f.clerk.create(new_key("twice")).await.unwrap();
    let error = f.clerk.create(new_key("twice")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict);
    assert_eq!(
        error.to_string(),
        "a key with this name already exists for this owner"
    );

    // 400 for a malformed id names the id.
    let error = f.clerk.get("ak_not_hex").await.unwrap_err();
    assert_eq!(error.field(), Some("id"));
}

#[tokio::test]
async fn a_wrong_secret_key_is_unauthorized_and_never_echoed() {
    let f = fixture_with(ClerkPath::Root, Some("sk_test_wrongWrongWrong")).await;
    let error = f.clerk.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthorized);
    assert!(!error.to_string().contains("sk_test_wrongWrongWrong"));
    assert_eq!(f.emulator.request_count(), 1, "401 is not retried");
}

#[tokio::test]
async fn a_session_acting_for_someone_else_is_permission_denied() {
    // The emulator also speaks Clerk's frontend API, where a session may only act for its user.
    let emulator = emulator(Flavor::Clerk).await;
    let session = emulator
        .credentials()
        .clerk()
        .unwrap()
        .session_token
        .clone();
    let clerk = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(session),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(format!("user_{}", "q".repeat(27)))),
        http: fast_http(),
    })
    .unwrap();
    let error = clerk.create(new_key("not mine")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::PermissionDenied, "{error}");
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out() {
    let f = fixture().await;
    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 1,
            window: std::time::Duration::from_secs(1),
        }),
        ..Faults::default()
    });
    f.clerk.list(&ListQuery::default()).await.unwrap();
    // The window only reopens after a second, so the retry can only succeed after the wait.
    f.clerk.list(&ListQuery::default()).await.unwrap();
    assert_eq!(f.emulator.request_count(), 3, "one 429, then the retry");
}

#[tokio::test]
async fn a_long_retry_after_or_a_create_returns_rate_limited() {
    let f = fixture().await;
    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 1,
            window: std::time::Duration::from_secs(60),
        }),
        ..Faults::default()
    });
    f.clerk.list(&ListQuery::default()).await.unwrap();
    let error = f.clerk.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::RateLimited);
    let wait = error.retry_after().unwrap();
    assert!(wait > std::time::Duration::from_secs(50), "{wait:?}");
    assert_eq!(f.emulator.request_count(), 2, "no retry past the wait cap");

    f.emulator.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 0,
            window: std::time::Duration::from_secs(1),
        }),
        ..Faults::default()
    });
    f.emulator.reset_stats();
    let error = f.clerk.create(new_key("limited")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::RateLimited);
    assert_eq!(f.emulator.request_count(), 1, "a create is never resent");
}

#[tokio::test]
async fn server_failures_are_retried_for_reads_only() {
    let f = fixture().await;
    let id = f.emulator.seed(1, SeedOwner::User).remove(0);
    f.emulator.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    let error = f.clerk.get(&id).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    assert_eq!(f.emulator.request_count(), 3, "three attempts");

    f.emulator.reset_stats();
    let error = f.clerk.create(new_key("failing")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    assert_eq!(f.emulator.request_count(), 1);
    // A failure after the request arrived may come after the key was made.
    assert!(
        error
            .to_string()
            .contains("'failing' may have been created"),
        "{error}"
    );
}

/// Sets the Clerk emulator's emulator-only switches (`PUT /__emulator/clerk`).
async fn set_quirks(emulator: &Emulator, quirks: serde_json::Value) {
    let reply = reqwest::Client::new()
        .put(format!("{}/__emulator/clerk", emulator.base_url()))
        .json(&quirks)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
}

/// An answer that carries a secret has made a key: unreadable dates and scopes do not lose it.
#[tokio::test]
async fn a_create_answer_with_unreadable_fields_still_yields_the_secret() {
    let f = fixture().await;
    set_quirks(
        &f.emulator,
        serde_json::json!({ "create_answer": "bad_fields" }),
    )
    .await;
    let mut new = new_key("damaged answer");
    new.scopes = vec!["read".into()];
    let before = Utc::now();
    let created = f.clerk.create(new).await.unwrap();
    let key = &created.key;
    assert_eq!(key.name, "damaged answer");
    assert_eq!(key.owner, Some(f.user.clone()));
    assert_eq!(key.scopes, ["read"], "the scopes asked for");
    assert_eq!(key.status, KeyStatus::Active);
    assert!(
        key.created_at >= before && key.created_at <= Utc::now(),
        "created now"
    );
    let lifetime = key.expires_at.expect("the lifetime asked for") - before;
    assert!(
        lifetime > Duration::days(27) && lifetime < Duration::days(32),
        "{lifetime}"
    );

    set_quirks(&f.emulator, serde_json::json!({})).await;
    let Verification::Valid(verified) = f.clerk.verify(&created.secret).await.unwrap() else {
        panic!("the secret handed over is the key's");
    };
    assert_eq!(verified.id, key.id);
}

/// An answer with the key's id but not its secret loses nothing: the Backend API reads the secret
/// again (`GET /api_keys/{id}/secret`). An answer that cannot be read at all says a key may
/// exist, under which name, and what to do.
#[tokio::test]
async fn a_create_answer_without_the_secret_reads_it_again_or_says_a_key_may_exist() {
    let f = fixture().await;
    set_quirks(
        &f.emulator,
        serde_json::json!({ "create_answer": "no_secret" }),
    )
    .await;
    f.emulator.reset_stats();
    let created = f.clerk.create(new_key("no secret")).await.unwrap();
    assert_eq!(created.key.name, "no secret");
    let stats = f.emulator.stats();
    assert_eq!(
        stats.get("GET /api_keys/{id}/secret"),
        Some(&1),
        "{stats:?}"
    );
    let Verification::Valid(verified) = f.clerk.verify(&created.secret).await.unwrap() else {
        panic!("the secret read again is the key's");
    };
    assert_eq!(verified.id, created.key.id);

    set_quirks(
        &f.emulator,
        serde_json::json!({ "create_answer": "not_json" }),
    )
    .await;
    f.emulator.reset_stats();
    let error = f.clerk.create(new_key("not json")).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend);
    let message = error.to_string();
    assert!(
        message.contains("'not json' may have been created"),
        "{message}"
    );
    assert!(message.contains("key list"), "{message}");
    assert_eq!(f.emulator.request_count(), 1, "a create is never resent");
    let listed = f.clerk.list(&ListQuery::default()).await.unwrap();
    assert!(
        listed.items.iter().any(|k| k.name == "not json"),
        "the key is there"
    );
}

/// Clerk's documented maximum is 100; when a server refuses it, the adapter steps down to a page
/// it accepts (50, 20, 10) and keeps that size, instead of failing every listing.
#[tokio::test]
async fn a_refused_page_size_falls_back_to_a_smaller_page() {
    let f = fixture().await;
    f.emulator.seed(45, SeedOwner::User);
    set_quirks(&f.emulator, serde_json::json!({ "max_list_limit": 20 })).await;
    assert_eq!(f.clerk.page_size(), 100);
    f.emulator.reset_stats();
    let query = ListQuery {
        limit: 100,
        ..Default::default()
    };
    let page = f.clerk.list(&query).await.unwrap();
    assert_eq!((page.items.len(), page.total), (45, Some(45)));
    assert_eq!(f.clerk.page_size(), 20);
    // 100 and 50 refused, then three pages of 20.
    assert_eq!(f.emulator.request_count(), 5);

    f.emulator.reset_stats();
    let again = f.clerk.list(&query).await.unwrap();
    assert_eq!(again.items, page.items);
    assert_eq!(
        f.emulator.request_count(),
        3,
        "the smaller page is remembered"
    );

    // Snapshot reads (other orders, expiry filters) use it too.
    let everything = list_all(&f.clerk, &query, 4).await.unwrap();
    assert_eq!(everything.len(), 45);

    // A server that refuses even Clerk's default page of 10 is reported, naming the parameter.
    set_quirks(&f.emulator, serde_json::json!({ "max_list_limit": 5 })).await;
    let error = f.clerk.list(&query).await.unwrap_err();
    assert_eq!(error.field(), Some("limit"));
    assert_eq!(f.clerk.page_size(), 10);
}

#[tokio::test]
async fn paging_across_many_pages() {
    let f = fixture().await;
    f.emulator.seed(250, SeedOwner::User);
    let page = |page, limit| ListQuery {
        page,
        limit,
        ..Default::default()
    };
    let first = f.clerk.list(&page(0, 100)).await.unwrap();
    assert_eq!(
        (first.items.len(), first.total, first.has_more),
        (100, Some(250), true)
    );
    let last = f.clerk.list(&page(2, 100)).await.unwrap();
    assert_eq!((last.items.len(), last.has_more), (50, false));

    // Past Clerk's limit of 100, pages are stitched from several requests.
    f.emulator.reset_stats();
    let big = f.clerk.list(&page(0, 250)).await.unwrap();
    assert_eq!(big.items.len(), 250);
    assert_eq!(f.emulator.request_count(), 3);

    let everything = list_all(&f.clerk, &page(0, 100), 4).await.unwrap();
    let mut ids: Vec<_> = everything.iter().map(|k| k.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);
}

#[tokio::test]
async fn search_and_status_filters() {
    let f = fixture().await;
    f.emulator.seed(30, SeedOwner::User);
    let deploy = f.clerk.create(new_key("deploy-bot")).await.unwrap().key;
    let old = f.clerk.create(new_key("old-bot")).await.unwrap().key;
    f.clerk.revoke(&old.id, None).await.unwrap();

    f.emulator.reset_stats();
    let found = f
        .clerk
        .list(&ListQuery {
            search: Some("deploy".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items, [deploy]);
    assert_eq!(
        f.emulator.request_count(),
        1,
        "the search runs on the server"
    );

    let active = f
        .clerk
        .list(&ListQuery {
            status: StatusFilter::Active,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(active.total, Some(31));
    assert!(active.items.iter().all(|k| k.status == KeyStatus::Active));

    let revoked = f
        .clerk
        .list(&ListQuery {
            status: StatusFilter::Revoked,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(revoked.items.len(), 1);
    assert_eq!(revoked.items[0].id, old.id);
    assert_eq!(
        revoked.total,
        Some(1),
        "exact: from a snapshot of the owner's keys"
    );
}

#[tokio::test]
async fn user_actions_cost_a_constant_number_of_requests() {
    let f = fixture().await;
    let ids = f.emulator.seed(500, SeedOwner::User);
    let cost = |before: u64| f.emulator.request_count() - before;

    let before = f.emulator.request_count();
    f.clerk.list(&ListQuery::default()).await.unwrap();
    assert_eq!(cost(before), 1, "open the profile");
    let before = f.emulator.request_count();
    f.clerk
        .list(&ListQuery {
            search: Some("seeded-key-42".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(cost(before), 1, "search");
    let before = f.emulator.request_count();
    f.clerk.revoke(&ids[7], Some("done")).await.unwrap();
    assert_eq!(cost(before), 1, "revoke one");
    assert_eq!(f.clerk.requests_sent(), 3);
}
