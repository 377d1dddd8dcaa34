//! Free text (name, description, revoke reason) is checked by keyward_core::free_text against the
//! local store's declared limits before anything is written: a refused create leaves no key and
//! no trail entry, a refused revoke leaves the key as it was (issue 12, item 6).

mod common;

use common::{named, row_counts, temp_store};
use keyward_core::{key_format, ErrorCode, KeyBackend, KeyStatus, TextLimits};
use secrecy::ExposeSecret;

const CLERK_SECRET_KEY: &str = "sk_test_Zq8WpD1x0oBv7nM2kL5jH3gFaB7c";

fn assert_refused<T: std::fmt::Debug>(result: keyward_core::Result<T>, field: &str, value: &str) {
    let error = result.expect_err("refused");
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert_eq!(error.field(), Some(field), "{error}");
    let piece: String = value.chars().take(16).collect();
    assert!(!format!("{error} {error:?}").contains(&piece), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_free_text_writes_nothing() {
    let (_dir, store) = temp_store();
    let backend: &dyn KeyBackend = &store;
    let limits = backend.capabilities().text_limits;
    assert_eq!(limits, TextLimits::GENERIC);
    let kw_key = key_format::generate().unwrap();
    let kw_key = kw_key.expose_secret();

    let long_name = "ü".repeat(limits.name + 1);
    for (name, value) in [
        (long_name.clone(), long_name.as_str()),
        (format!("prod {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
        (format!("prod {kw_key}"), kw_key),
    ] {
        assert_refused(backend.create(named(&name)).await, "name", value);
    }
    let long_description = "d".repeat(limits.description + 1);
    for (description, value) in [
        (long_description.clone(), long_description.as_str()),
        (format!("was {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
        ("bell\u{7}".to_owned(), "bell\u{7}"),
    ] {
        let mut new = named("fine");
        new.description = Some(description);
        assert_refused(backend.create(new).await, "description", value);
    }
    assert_eq!(row_counts(&store), (0, 0), "no key and no trail entry");

    let created = backend.create(named("kept")).await.unwrap();
    let rows = row_counts(&store);
    let long_reason = "r".repeat(10_000);
    for (reason, value) in [
        (long_reason.clone(), long_reason.as_str()),
        (format!("leaked {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
        (format!("leaked {kw_key}"), kw_key),
        ("line\nbreak".to_owned(), "line\nbreak"),
    ] {
        assert_refused(
            backend.revoke(&created.key.id, Some(&reason)).await,
            "reason",
            value,
        );
    }
    assert_eq!(row_counts(&store), rows, "no trail entry");
    let key = backend.get(&created.key.id).await.unwrap();
    assert_eq!(
        (key.status, key.revocation_reason),
        (KeyStatus::Active, None)
    );

    // A reason at the limit is kept, trimmed.
    let reason = "x".repeat(limits.reason);
    let revoked = backend
        .revoke(&created.key.id, Some(&format!(" {reason} ")))
        .await
        .unwrap();
    assert_eq!(revoked.revocation_reason.as_deref(), Some(reason.as_str()));
}
