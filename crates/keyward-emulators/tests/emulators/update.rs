//! Key updates as the real services take them (docs/backends/*.md, "Update"), in raw HTTP:
//! PropelAuth's backend PATCH and Clerk's two (Backend and Frontend API) with their errors;
//! FreeSewing has no update route at all.

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

/// Clerk's Backend API, `PATCH /api_keys/{id}` (clerk/openapi-specs `bapi/2026-05-12.yml`
/// `updateApiKey`): the fields Keyward sends and the errors it must map.
#[tokio::test]
async fn clerk_backend_patch_sets_expiry_description_and_scopes_with_its_errors() {
    let h = Harness::start(Flavor::Clerk).await;
    let creds = h.emulator.credentials().clerk().unwrap().clone();
    let call = |method: Method, path: String, body: Option<Value>| {
        let mut request = h
            .http
            .request(method, h.url(&path))
            .bearer_auth(&creds.secret_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request)
    };
    let created = call(
        Method::POST,
        "/api_keys".into(),
        Some(
            json!({"name": "deploy", "subject": creds.user_id, "description": "d",
                    "seconds_until_expiration": 3600}),
        ),
    )
    .await
    .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api_keys/{id}");
    let first_expiry = created["expiration"].as_i64().unwrap();

    // Extend: the expiry counts from now; other fields stay.
    let reply = call(
        Method::PATCH,
        path.clone(),
        Some(json!({"seconds_until_expiration": 86_400})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let key = reply.json();
    assert!(key["expiration"].as_i64().unwrap() > first_expiry + 80_000_000);
    assert_eq!(key["description"], "d");
    // null: never expires, like create; a null description clears it; scopes are replaced.
    let key = call(
        Method::PATCH,
        path.clone(),
        Some(json!({"seconds_until_expiration": null, "description": null, "scopes": ["x"]})),
    )
    .await
    .json();
    assert_eq!(
        (&key["expiration"], &key["description"], &key["scopes"]),
        (&Value::Null, &Value::Null, &json!(["x"]))
    );
    assert_eq!(key["name"], "deploy");

    // Errors: 400 naming the parameter, nothing changed; 404 for an unknown id.
    for (body, param) in [
        (
            json!({"seconds_until_expiration": 0}),
            "seconds_until_expiration",
        ),
        (json!({"description": "d".repeat(256)}), "description"),
        (json!({"scopes": "x"}), "scopes"),
        (json!({"name": "renamed"}), "name"),
    ] {
        let reply = call(Method::PATCH, path.clone(), Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert_eq!(
            reply.json()["errors"][0]["meta"]["param_name"],
            param,
            "{body}"
        );
    }
    let unchanged = call(Method::GET, path.clone(), None).await.json();
    assert_eq!(unchanged["scopes"], json!(["x"]));
    let unknown = call(
        Method::PATCH,
        format!("/api_keys/ak_{}", "0".repeat(32)),
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    // A revoked key takes the change and stays revoked.
    call(
        Method::POST,
        format!("{path}/revoke"),
        Some(json!({"revocation_reason": "leaked"})),
    )
    .await;
    let key = call(Method::PATCH, path, Some(json!({"description": "old"})))
        .await
        .json();
    assert_eq!(
        (&key["revoked"], &key["description"]),
        (&json!(true), &json!("old"))
    );
}

/// Clerk's Frontend API, `PATCH /api_keys/{id}` (clerk/openapi-specs `fapi/2026-05-12.yml`
/// `updateApiKey`): `{description}` only, anything else a 400.
#[tokio::test]
async fn clerk_frontend_patch_takes_a_description_only() {
    let h = Harness::start(Flavor::Clerk).await;
    let client = h.emulator.clerk_client_token().unwrap();
    let cookie = format!("__client={client}");
    let session = send(h.http.get(h.url("/v1/client")).header("cookie", &cookie))
        .await
        .json()["response"]["last_active_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwt = send(
        h.http
            .post(h.url(&format!("/v1/client/sessions/{session}/tokens")))
            .header("cookie", &cookie),
    )
    .await
    .json()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = h.emulator.clerk_sign_in().unwrap().user_id;
    let created = send(
        h.http
            .post(h.url("/api_keys"))
            .bearer_auth(&jwt)
            .json(&json!({"name": "laptop", "subject": user})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let patch = |body: Value| {
        send(
            h.http
                .patch(h.url(&format!("/api_keys/{id}")))
                .bearer_auth(&jwt)
                .json(&body),
        )
    };
    let key = patch(json!({"description": "work"})).await;
    assert_eq!(key.status, 200, "{}", key.text);
    assert_eq!(key.json()["description"], "work");
    assert_eq!(
        patch(json!({"description": null})).await.json()["description"],
        Value::Null
    );
    for body in [
        json!({"seconds_until_expiration": 60}),
        json!({"scopes": ["a"]}),
        json!({"name": "renamed"}),
    ] {
        let reply = patch(body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert_eq!(reply.json()["errors"][0]["code"], "form_param_unknown");
    }
}
