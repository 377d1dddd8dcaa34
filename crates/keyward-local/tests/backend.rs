//! The store through the async `KeyBackend` trait, as the app and the CLI use it.

mod common;

use keyward_core::{
    ExpiryPreset, KeyBackend, KeyStatus, ListQuery, RevokeKind, SortField, Verification,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_runs_through_the_trait() {
    let (_dir, store) = common::temp_store();
    let backend: &dyn KeyBackend = &store;
    assert_eq!(backend.kind(), "local");

    let created = backend.create(common::named("async key")).await.unwrap();
    let page = backend.list(&ListQuery::default()).await.unwrap();
    assert_eq!(page.items, vec![created.key.clone()]);
    assert_eq!(backend.get(&created.key.id).await.unwrap(), created.key);
    assert!(backend.verify(&created.secret).await.unwrap().is_valid());
    let revoked = backend
        .revoke(&created.key.id, Some("rotated"))
        .await
        .unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert!(matches!(
        backend.verify(&created.secret).await.unwrap(),
        Verification::Revoked(_)
    ));
    let err = backend.get("key_ffffffffffffffff").await.unwrap_err();
    assert_eq!(err.code(), keyward_core::ErrorCode::NotFound);

    let mut owned = common::named("owned");
    owned.owner = Some(keyward_core::Subject::Org("acme".into()));
    backend.create(owned).await.unwrap();
    let owners = backend.owners().await.unwrap();
    assert_eq!(owners, [keyward_core::Subject::Org("acme".into())]);
}

#[test]
fn capabilities_describe_the_local_store() {
    let (_dir, store) = common::temp_store();
    let caps = store.capabilities();
    assert!(caps.server_search && caps.server_paging);
    assert_eq!(caps.sorts, SortField::ALL);
    assert!(caps.user_keys && caps.org_keys && caps.owner_is_label);
    assert_eq!(caps.levels, None);
    assert!(!caps.scopes);
    assert!(caps.descriptions && caps.revoke_reason && caps.last_used && caps.verify);
    assert_eq!(caps.revoke_kind, RevokeKind::Revoke);
    assert_eq!(caps.expiry_presets, ExpiryPreset::ALL);
    assert!(caps.custom_expiry && caps.never_expires);
}

/// The window's Verify box checks a key a person holds: Last used must not move, or the revoke
/// dialog's "used in the last 7 days" and the stale-key filters would count the check as a use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_leaves_last_used_as_it_was_while_a_verify_records_the_use() {
    let (_dir, store) = common::temp_store();
    let backend: &dyn KeyBackend = &store;
    assert!(!backend.capabilities().verify_counts_as_use);
    let created = backend.create(common::named("held")).await.unwrap();

    let Verification::Valid(checked) = backend.check(&created.secret).await.unwrap() else {
        panic!("a check of a good secret is valid");
    };
    assert_eq!(checked.last_used_at, None);
    assert_eq!(
        backend.get(&created.key.id).await.unwrap().last_used_at,
        None
    );

    let Verification::Valid(used) = backend.verify(&created.secret).await.unwrap() else {
        panic!("valid");
    };
    let used_at = used.last_used_at.expect("a verify records the use");
    let Verification::Valid(checked) = backend.check(&created.secret).await.unwrap() else {
        panic!("valid");
    };
    assert_eq!(
        checked.last_used_at,
        Some(used_at),
        "a check shows the last use"
    );
    assert_eq!(
        backend.get(&created.key.id).await.unwrap().last_used_at,
        Some(used_at)
    );

    // A revoked key still answers revoked to a check.
    backend.revoke(&created.key.id, None).await.unwrap();
    assert!(matches!(
        backend.check(&created.secret).await.unwrap(),
        Verification::Revoked(_)
    ));
}
