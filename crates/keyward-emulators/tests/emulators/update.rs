//! Key updates as the real services take them (docs/backends/*.md, "Update"), in raw HTTP:
//! PropelAuth's backend PATCH and its errors; FreeSewing has no update route at all.

use std::time::Duration;

use keyward_emulators::{Flavor, SeedOwner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{send, Harness, Reply};

const PA: &str = "/api/backend/v1/end_user_api_keys";

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Pa {
    h: Harness,
    key: String,
}

impl Pa {
    async fn start() -> Self {
        let h = Harness::start(Flavor::PropelAuth).await;
        let key = h
            .emulator
            .credentials()
            .propelauth()
            .unwrap()
            .integration_key
            .clone();
        Pa { h, key }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .h
            .http
            .request(method, self.h.url(&format!("{PA}{path}")))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    async fn patch(&self, id: &str, body: Value) -> Reply {
        self.call(Method::PATCH, &format!("/{id}"), Some(body))
            .await
    }

    async fn read(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/{id}"), None).await.json()
    }

    /// The ids in the active (`""`) or archived (`"/archived"`) listing.
    async fn listed(&self, shelf: &str) -> Vec<String> {
        self.call(Method::GET, &format!("{shelf}?page_size=100"), None)
            .await
            .json()["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["api_key_id"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn propelauth_patch_changes_only_the_fields_sent_and_replaces_metadata_whole() {
    let pa = Pa::start().await;
    let id = pa.h.emulator.seed(1, SeedOwner::User).remove(0);
    let before = pa.read(&id).await;
    assert_eq!(before["metadata"], json!({"seeded": true}));

    // Metadata only: the expiry stays; the object is replaced, not merged.
    let reply = pa
        .patch(&id, json!({"metadata": {"description": "d"}}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let after = pa.read(&id).await;
    assert_eq!(after["metadata"], json!({"description": "d"}));
    assert_eq!(after["expires_at_seconds"], before["expires_at_seconds"]);

    // Expiry only: the metadata stays. Shortening is allowed.
    let soon = now_seconds() + 120;
    let reply = pa.patch(&id, json!({"expires_at_seconds": soon})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let after = pa.read(&id).await;
    assert_eq!(after["expires_at_seconds"], soon);
    assert_eq!(after["metadata"], json!({"description": "d"}));

    // An empty body changes nothing and is not an error.
    assert_eq!(pa.patch(&id, json!({})).await.status, 200);
    assert_eq!(pa.read(&id).await["expires_at_seconds"], soon);
}

#[tokio::test]
async fn propelauth_patch_errors_are_keyed_by_field_and_change_nothing() {
    let pa = Pa::start().await;
    let id = pa.h.emulator.seed(1, SeedOwner::User).remove(0);
    let before = pa.read(&id).await;
    for (body, field) in [
        (
            json!({"expires_at_seconds": now_seconds() - 10}),
            "expires_at_seconds",
        ),
        (
            json!({"expires_at_seconds": "tomorrow"}),
            "expires_at_seconds",
        ),
        (json!({"metadata": "a string"}), "metadata"),
        (json!({"set_to_never_expire": 1}), "set_to_never_expire"),
    ] {
        let reply = pa.patch(&id, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert!(reply.json().get(field).is_some(), "{body}: {}", reply.text);
    }
    // A body that is not a JSON object.
    let reply = send(
        pa.h.http
            .patch(pa.h.url(&format!("{PA}/{id}")))
            .bearer_auth(&pa.key)
            .header("content-type", "application/json")
            .body("[1]"),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(pa.read(&id).await, before, "nothing changed");

    // A wrong integration key: 401 in plain text.
    let reply = send(
        pa.h.http
            .patch(pa.h.url(&format!("{PA}/{id}")))
            .bearer_auth("wrong")
            .json(&json!({"set_to_never_expire": true})),
    )
    .await;
    assert_eq!((reply.status, reply.text.as_str()), (401, "Unauthorized"));
    assert_eq!(pa.read(&id).await, before);
}

#[tokio::test]
async fn propelauth_patch_of_an_unknown_or_deleted_key_is_an_empty_404() {
    let pa = Pa::start().await;
    let reply = pa
        .patch(&"0".repeat(32), json!({"set_to_never_expire": true}))
        .await;
    assert_eq!((reply.status, reply.text.as_str()), (404, ""));

    let id = pa.h.emulator.seed(1, SeedOwner::User).remove(0);
    assert_eq!(
        pa.call(Method::DELETE, &format!("/{id}"), None)
            .await
            .status,
        200
    );
    let before = pa.read(&id).await;
    let reply = pa.patch(&id, json!({"set_to_never_expire": true})).await;
    assert_eq!((reply.status, reply.text.as_str()), (404, ""));
    assert_eq!(pa.read(&id).await, before, "the archived key is unchanged");
    assert!(pa.listed("/archived").await.contains(&id));
}

#[tokio::test]
async fn propelauth_an_expired_key_given_a_new_expiry_leaves_the_archive() {
    let pa = Pa::start().await;
    let id = pa.h.emulator.seed(1, SeedOwner::User).remove(0);
    let soon = now_seconds() + 60;
    assert_eq!(
        pa.patch(&id, json!({"expires_at_seconds": soon}))
            .await
            .status,
        200
    );
    pa.h.emulator.advance_clock(Duration::from_secs(120));
    assert!(pa.listed("/archived").await.contains(&id), "expired");
    let reply = pa.patch(&id, json!({"set_to_never_expire": true})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(pa.listed("").await.contains(&id), "active again");
    assert_eq!(pa.read(&id).await["expires_at_seconds"], Value::Null);
}

#[tokio::test]
async fn freesewing_has_no_route_to_change_a_key() {
    let h = Harness::start(Flavor::FreeSewing).await;
    let creds = h.emulator.credentials().freesewing().unwrap().clone();
    let id = h.emulator.seed(1, SeedOwner::User).remove(0);
    for path in [format!("/apikeys/{id}/key"), format!("/apikeys/{id}/jwt")] {
        for method in [Method::PATCH, Method::PUT] {
            let reply = send(
                h.http
                    .request(method.clone(), h.url(&path))
                    .basic_auth(&creds.api_key, Some(&creds.api_secret))
                    .json(&json!({"expiresIn": 3600})),
            )
            .await;
            assert!(
                matches!(reply.status, 404 | 405),
                "{method} {path}: {} {}",
                reply.status,
                reply.text
            );
        }
    }
    assert_eq!(h.emulator.crashes(), 0);
}
