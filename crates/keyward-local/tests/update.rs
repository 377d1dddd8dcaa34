//! Updating a key in the local store: its name, description and expiry, through the trait as the
//! front ends call it, each change in one transaction with a trail entry.

mod common;

use chrono::{Duration, Utc};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, KeyUpdate, ListQuery, NewKey,
    UpdateFields,
};
use keyward_local::{LocalStore, TrailAction};
use rusqlite::Connection;

fn expires(expiration: Expiration) -> KeyUpdate {
    KeyUpdate {
        expiration: Some(expiration),
        ..KeyUpdate::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_description_change_and_read_back_from_the_file() {
    let (dir, store) = common::temp_store();
    let mut new = common::named("old name");
    new.description = Some("first".into());
    let created = store.create(new).await.unwrap();
    let id = created.key.id.clone();

    let updated = store
        .update(
            &id,
            &KeyUpdate {
                name: Some("  deploy bot ".into()),
                description: Some("runs the nightly deploy".into()),
                ..KeyUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "deploy bot");
    assert_eq!(
        updated.description.as_deref(),
        Some("runs the nightly deploy")
    );
    assert_eq!(
        updated.expires_at, created.key.expires_at,
        "expiry untouched"
    );
    assert_eq!(updated.owner, created.key.owner);
    assert_eq!(updated.stub, created.key.stub);

    // The name index follows the rename: search finds the new name, not the old one.
    let search = |text: &str| ListQuery {
        search: Some(text.into()),
        ..ListQuery::default()
    };
    assert_eq!(store.list(&search("deploy")).await.unwrap().total, Some(1));
    assert_eq!(
        store.list(&search("old name")).await.unwrap().total,
        Some(0)
    );

    // What the store returned is what a fresh open reads, and the secret still verifies.
    drop(store);
    let reopened = LocalStore::open(dir.path()).unwrap();
    assert_eq!(reopened.get(&id).await.unwrap(), updated);
    assert!(reopened.verify(&created.secret).await.unwrap().is_valid());

    let trail = reopened.trail_sync(1).unwrap();
    assert_eq!(trail[0].action, TrailAction::Update);
    assert_eq!(trail[0].key_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        trail[0].detail.as_deref(),
        Some("name → \"deploy bot\"; description changed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_description_clears_it() {
    let (_dir, store) = common::temp_store();
    let mut new = common::named("described");
    new.description = Some("to be cleared".into());
    let id = store.create(new).await.unwrap().key.id;
    let cleared = store
        .update(
            &id,
            &KeyUpdate {
                description: Some("   ".into()),
                ..KeyUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(store.get(&id).await.unwrap().description, None);
    assert_eq!(
        store.trail_sync(1).unwrap()[0].detail.as_deref(),
        Some("description cleared")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_extends_shortens_and_becomes_never() {
    let (_dir, store) = common::temp_store();
    let created = store.create(common::named("expiring")).await.unwrap();
    let id = created.key.id;
    let month = created.key.expires_at.unwrap();

    let before = Utc::now();
    let extended = store
        .update(&id, &expires(Expiration::After(Duration::days(365))))
        .await
        .unwrap();
    let at = extended.expires_at.unwrap();
    assert!(at > month, "extended past the first month");
    assert!(at >= before + Duration::days(365) - Duration::seconds(1));
    assert!(at <= Utc::now() + Duration::days(365));

    let shortened = store
        .update(&id, &expires(Expiration::After(Duration::hours(2))))
        .await
        .unwrap();
    assert!(shortened.expires_at.unwrap() < month, "shortened");
    assert_eq!(shortened.status, KeyStatus::Active);

    let date = Utc::now() + Duration::days(40);
    let dated = store
        .update(&id, &expires(Expiration::At(date)))
        .await
        .unwrap();
    assert_eq!(
        dated.expires_at.unwrap().timestamp_millis(),
        date.timestamp_millis()
    );

    let never = store
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap();
    assert_eq!(never.expires_at, None);
    assert_eq!(store.get(&id).await.unwrap().expires_at, None);
    let trail = store.trail_sync(4).unwrap();
    let details: Vec<_> = trail.iter().map(|e| e.detail.clone().unwrap()).collect();
    assert_eq!(details[0], "expiry → never");
    assert!(details[1].starts_with("expiry → 20"), "{}", details[1]);
    assert_eq!(details[2], "expiry → 2h from now");
    assert_eq!(details[3], "expiry → 365d from now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_given_a_new_expiry_is_active_again() {
    let (_dir, store) = common::temp_store();
    let id = store
        .create(NewKey::named(
            "short",
            Expiration::After(Duration::milliseconds(1)),
        ))
        .await
        .unwrap()
        .key
        .id;
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(store.get(&id).await.unwrap().status, KeyStatus::Expired);
    let revived = store
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::OneMonth)))
        .await
        .unwrap();
    assert_eq!(revived.status, KeyStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_are_refused_naming_the_field_and_nothing_is_written() {
    let (_dir, store) = common::temp_store();
    let mut new = common::named("kept");
    new.description = Some("kept too".into());
    let created = store.create(new).await.unwrap();
    let id = created.key.id.clone();
    let secret_text = format!(
        "pasted {}",
        secrecy::ExposeSecret::expose_secret(&created.secret)
    );

    let cases = [
        (
            KeyUpdate {
                name: Some("  ".into()),
                ..KeyUpdate::default()
            },
            "name",
        ),
        (
            KeyUpdate {
                name: Some("x".repeat(101)),
                ..KeyUpdate::default()
            },
            "name",
        ),
        (
            KeyUpdate {
                description: Some(secret_text.clone()),
                ..KeyUpdate::default()
            },
            "description",
        ),
        (
            KeyUpdate {
                description: Some("d".repeat(256)),
                ..KeyUpdate::default()
            },
            "description",
        ),
        (
            expires(Expiration::At(Utc::now() - Duration::days(1))),
            "expires",
        ),
        (expires(Expiration::After(Duration::days(4000))), "expires"),
        // The store has no scopes: refused by the capability check, before any value check.
        (
            KeyUpdate {
                scopes: Some(vec!["read".into()]),
                ..KeyUpdate::default()
            },
            "scopes",
        ),
        (KeyUpdate::default(), "update"),
    ];
    let counts = common::row_counts(&store);
    for (update, field) in cases {
        let error = store.update(&id, &update).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{field}: {error}");
        assert_eq!(error.field(), Some(field), "{error}");
        let secret = secrecy::ExposeSecret::expose_secret(&created.secret);
        assert!(!format!("{error:?}").contains(&secret[3..15]), "{error}");
    }
    assert_eq!(common::row_counts(&store), counts, "no trail entry");
    assert_eq!(store.get(&id).await.unwrap(), created.key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_are_the_one_field_the_store_declares_it_cannot_change() {
    let (_dir, store) = common::temp_store();
    assert_eq!(
        store.capabilities().updates,
        UpdateFields {
            name: true,
            description: true,
            expiry: true,
            scopes: false,
        }
    );
    let id = store.create(common::named("k")).await.unwrap().key.id;
    let error = store
        .update(
            &id,
            &KeyUpdate {
                name: Some("fine".into()),
                scopes: Some(vec![]),
                ..KeyUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("scopes"));
    assert!(error.to_string().contains("cannot change a key's scopes"));
    assert_eq!(store.get(&id).await.unwrap().name, "k", "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_not_found_and_revoked_keys_are_a_conflict() {
    let (_dir, store) = common::temp_store();
    let rename = KeyUpdate {
        name: Some("new".into()),
        ..KeyUpdate::default()
    };
    for id in ["key_ffffffffffffffff", "nonsense"] {
        let error = store.update(id, &rename).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound, "{id}");
    }
    let created = store.create(common::named("revoked")).await.unwrap();
    let id = created.key.id;
    store.revoke(&id, Some("leaked")).await.unwrap();
    let counts = common::row_counts(&store);
    let error = store.update(&id, &rename).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict);
    assert!(error.to_string().contains("revoked"), "{error}");
    let error = store
        .update(&id, &expires(Expiration::Preset(ExpiryPreset::Never)))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict);
    assert_eq!(common::row_counts(&store), counts);
    let key = store.get(&id).await.unwrap();
    assert_eq!(
        (key.name.as_str(), key.status),
        ("revoked", KeyStatus::Revoked)
    );
}

#[test]
fn a_version_3_file_keeps_its_trail_when_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in [
            include_str!("../src/migrations/001_keys_and_audit.sql"),
            include_str!("../src/migrations/002_name_search.sql"),
            include_str!("../src/migrations/003_owner_and_usage_indexes.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO audit (id, at, action, key_id, detail) VALUES
                 (7, 1, 'verify_failed', NULL, 'unknown secret'),
                 (9, 2, 'verify_failed', NULL, 'unknown secret');",
        )
        .unwrap();
    }
    let store = LocalStore::open_file(&path).unwrap();
    let trail = store.trail_sync(10).unwrap();
    assert_eq!(
        trail.iter().map(|e| e.id).collect::<Vec<_>>(),
        [9, 7],
        "rows and ids kept"
    );
    let id = store.create_sync(common::named("after")).unwrap().key.id;
    store
        .update_sync(
            &id,
            &KeyUpdate {
                name: Some("renamed".into()),
                ..KeyUpdate::default()
            },
        )
        .unwrap();
    let newest = &store.trail_sync(1).unwrap()[0];
    assert_eq!(newest.action, TrailAction::Update);
    assert!(newest.id > 9);
}
