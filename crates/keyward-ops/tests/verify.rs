//! The verify operation's purpose: a front end says why it checks a secret, the operation decides
//! whether that is a use of the key.

use keyward_core::{Expiration, ExpiryPreset, KeyBackend, NewKey, Verification};
use keyward_local::LocalStore;
use keyward_ops::verify::{self, Purpose};
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_is_not_a_use_and_a_use_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let backend: &dyn KeyBackend = &store;
    let created = backend
        .create(NewKey::named(
            "held",
            Expiration::Preset(ExpiryPreset::OneMonth),
        ))
        .await
        .unwrap();

    let checked = verify::verify(backend, &created.secret, Purpose::Check)
        .await
        .unwrap();
    assert!(checked.is_valid());
    assert_eq!(
        backend.get(&created.key.id).await.unwrap().last_used_at,
        None
    );

    let Verification::Valid(used) = verify::verify(backend, &created.secret, Purpose::Use)
        .await
        .unwrap()
    else {
        panic!("valid");
    };
    assert!(used.last_used_at.is_some());
    assert_eq!(
        backend.get(&created.key.id).await.unwrap().last_used_at,
        used.last_used_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_local_secret_is_refused_offline_whatever_the_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    for purpose in [Purpose::Check, Purpose::Use] {
        let error = verify::verify(&store, &SecretString::from("kw_typo"), purpose)
            .await
            .unwrap_err();
        assert_eq!(
            error.code(),
            keyward_core::ErrorCode::InvalidInput,
            "{error}"
        );
    }
}
