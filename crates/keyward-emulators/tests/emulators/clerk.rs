//! Clerk: the emulator against the real Backend and Frontend API, as docs/backends/clerk.md
//! describes them (each behaviour with its clerk/javascript or clerk/openapi-specs file).

use std::time::Duration;

use keyward_emulators::{ClerkCredentials, Flavor, SeedOwner};
use serde_json::{json, Value};

use crate::common::{assert_no_secret, is_lower_hex, send, Harness, Reply};

struct Clerk {
    h: Harness,
    creds: ClerkCredentials,
}

impl Clerk {
    async fn start() -> Self {
        let h = Harness::start(Flavor::Clerk).await;
        let creds = h
            .emulator
            .credentials()
            .clerk()
            .expect("clerk credentials")
            .clone();
        Self { h, creds }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .h
            .http
            .request(method, self.h.url(path))
            .bearer_auth(&self.creds.secret_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn create(&self, name: &str) -> Value {
        let reply = self
            .post(
                "/api_keys",
                json!({ "name": name, "subject": self.creds.user_id }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }

    async fn list(&self, query: &str) -> Reply {
        self.get(&format!("/api_keys?subject={}{query}", self.creds.user_id))
            .await
    }
}

/// Asserts the Clerk error shape and returns the first error.
fn clerk_error(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    let body = reply.json();
    assert!(body["clerk_trace_id"].is_string());
    let error = body["errors"][0].clone();
    for field in ["message", "long_message", "code"] {
        assert!(error[field].is_string(), "{field} in {error}");
    }
    error
}

#[tokio::test]
async fn create_returns_the_secret_once_with_millisecond_times() {
    let c = Clerk::start().await;
    let reply = c
        .post(
            "/api_keys",
            json!({
                "name": "CI key", "subject": c.creds.user_id, "description": "nightly",
                "scopes": ["read"], "claims": {"env": "ci"}, "seconds_until_expiration": 2592000,
                "created_by": c.creds.user_id,
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let key = reply.json();
    let id = key["id"].as_str().unwrap().to_owned();
    let secret = key["secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ak_") && is_lower_hex(&id[3..], 32), "{id}");
    assert!(secret.starts_with("ak_") && secret != id);
    assert_eq!(key["object"], "api_key");
    assert_eq!(key["type"], "api_key");
    assert_eq!(key["scopes"], json!(["read"]));
    assert_eq!(key["claims"], json!({"env": "ci"}));
    assert_eq!(key["revoked"], false);
    assert_eq!(key["expired"], false);
    assert_eq!(key["last_used_at"], Value::Null);
    let created = key["created_at"].as_i64().unwrap();
    assert!(created > 1_000_000_000_000, "milliseconds: {created}");
    assert_eq!(key["expiration"].as_i64().unwrap(), created + 2_592_000_000);
    assert_eq!(key["updated_at"].as_i64().unwrap(), created);

    let views = [
        c.get(&format!("/api_keys/{id}")).await,
        c.list("").await,
        c.post("/api_keys/verify", json!({ "secret": secret }))
            .await,
        c.post(
            &format!("/api_keys/{id}/revoke"),
            json!({ "revocation_reason": null }),
        )
        .await,
    ];
    for view in views {
        assert_eq!(view.status, 200, "{}", view.text);
        assert_no_secret(&view.text, &secret);
        assert!(!view.text.contains("\"secret\""), "{}", view.text);
    }
}

#[tokio::test]
async fn both_path_prefixes_are_served_and_version_hints_ignored() {
    let c = Clerk::start().await;
    let reply = send(
        c.h.http
            .post(c.h.url("/v1/api_keys?__clerk_api_version=2026-05-12&_clerk_js_version=5.0"))
            .bearer_auth(&c.creds.secret_key)
            .header("Clerk-API-Version", "2026-05-12")
            .json(&json!({ "name": "versioned", "subject": c.creds.user_id })),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(c.get(&format!("/api_keys/{id}")).await.status, 200);
    assert_eq!(c.get(&format!("/v1/api_keys/{id}")).await.status, 200);
    let stats = c.h.emulator.stats();
    assert_eq!(stats["POST /v1/api_keys"], 1);
    assert_eq!(stats["GET /v1/api_keys/{id}"], 1);
    assert_eq!(stats["GET /api_keys/{id}"], 1);
}

#[tokio::test]
async fn a_missing_or_wrong_secret_key_is_401() {
    let c = Clerk::start().await;
    let url = c.h.url("/api_keys?subject=x");
    for request in [
        c.h.http.get(&url),
        c.h.http.get(&url).bearer_auth("sk_test_wrong"),
    ] {
        let reply = send(request).await;
        assert_eq!(clerk_error(&reply, 401)["code"], "authentication_invalid");
    }
    let verify = send(
        c.h.http
            .post(c.h.url("/api_keys/verify"))
            .bearer_auth("nope")
            .json(&json!({"secret": "ak_x"})),
    )
    .await;
    clerk_error(&verify, 401);
}

#[tokio::test]
async fn create_validation_reports_the_failing_parameter() {
    let c = Clerk::start().await;
    let user = c.creds.user_id.clone();
    let cases = [
        (
            json!({ "name": "abc", "subject": user, "bogus": 1 }),
            "bogus",
        ),
        (json!({ "subject": user }), "name"),
        (json!({ "name": "ab", "subject": user }), "name"),
        (json!({ "name": " abc", "subject": user }), "name"),
        (json!({ "name": "abc ", "subject": user }), "name"),
        (json!({ "name": 123, "subject": user }), "name"),
        // Name is checked before subject.
        (json!({ "name": "ab", "subject": "bad" }), "name"),
        (json!({ "name": "abc" }), "subject"),
        (json!({ "name": "abc", "subject": "user_short" }), "subject"),
        (
            json!({ "name": "abc", "subject": "team_2keywardEmulatorAda00000001" }),
            "subject",
        ),
        (
            json!({ "name": "abc", "subject": user, "description": "x".repeat(256) }),
            "description",
        ),
        (
            json!({ "name": "abc", "subject": user, "created_by": "usr_1" }),
            "created_by",
        ),
        (
            json!({ "name": "abc", "subject": user, "seconds_until_expiration": 0 }),
            "seconds_until_expiration",
        ),
        (
            json!({ "name": "abc", "subject": user, "seconds_until_expiration": -5 }),
            "seconds_until_expiration",
        ),
        (
            json!({ "name": "abc", "subject": user, "seconds_until_expiration": "60" }),
            "seconds_until_expiration",
        ),
        (
            json!({ "name": "abc", "subject": user, "scopes": "read" }),
            "scopes",
        ),
        (
            json!({ "name": "abc", "subject": user, "scopes": [1] }),
            "scopes",
        ),
        (
            json!({ "name": "abc", "subject": user, "type": "ab" }),
            "type",
        ),
        (json!([1, 2]), "body"),
    ];
    for (body, param) in cases {
        let reply = c.post("/api_keys", body.clone()).await;
        let error = clerk_error(&reply, 400);
        assert_eq!(error["code"], "bad_request", "{body}");
        assert_eq!(error["meta"]["param_name"], param, "{body}: {error}");
    }
    let not_json = send(
        c.h.http
            .post(c.h.url("/api_keys"))
            .bearer_auth(&c.creds.secret_key)
            .body("{"),
    )
    .await;
    clerk_error(&not_json, 400);
    // Boundaries that pass.
    let ok = c
        .post("/api_keys", json!({ "name": "abc", "subject": user, "description": "x".repeat(255), "seconds_until_expiration": null, "type": "x".repeat(25) }))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["expiration"], Value::Null);
}

#[tokio::test]
async fn unknown_subjects_are_404() {
    let c = Clerk::start().await;
    let machine = "mch_2keywardEmulatorAcme0000001";
    let create = c
        .post(
            "/api_keys",
            json!({ "name": "machine", "subject": machine }),
        )
        .await;
    assert_eq!(clerk_error(&create, 404)["code"], "resource_not_found");
    let list = c.get(&format!("/api_keys?subject={machine}")).await;
    clerk_error(&list, 404);
}

#[tokio::test]
async fn names_are_unique_per_subject_among_valid_keys() {
    let c = Clerk::start().await;
    let first = c.create("CI key").await;
    let again = c
        .post(
            "/api_keys",
            json!({ "name": "CI key", "subject": c.creds.user_id }),
        )
        .await;
    assert_eq!(
        clerk_error(&again, 409)["code"],
        "api_key_name_already_exists"
    );
    let other_subject = c
        .post(
            "/api_keys",
            json!({ "name": "CI key", "subject": c.creds.org_id }),
        )
        .await;
    assert_eq!(other_subject.status, 200);
    c.post(
        &format!("/api_keys/{}/revoke", first["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    c.create("CI key").await;
}

#[tokio::test]
async fn list_pages_searches_and_hides_invalid_keys() {
    let c = Clerk::start().await;
    for name in ["alpha", "beta", "gamma", "alpha-two"] {
        c.create(name).await;
    }
    let page = c.list("&limit=2&offset=1").await.json();
    assert_eq!(page["total_count"], 4);
    let names: Vec<_> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    // Newest first.
    assert_eq!(names, [json!("gamma"), json!("beta")]);
    let found = c.list("&query=ALPHA").await.json();
    assert_eq!(found["total_count"], 2);

    let beta = c.list("&query=beta").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(
        &format!("/api_keys/{beta}/revoke"),
        json!({ "revocation_reason": "rotated" }),
    )
    .await;
    let short = c.post("/api_keys", json!({ "name": "short-lived", "subject": c.creds.user_id, "seconds_until_expiration": 60 })).await;
    assert_eq!(short.status, 200);
    c.h.emulator.advance_clock(Duration::from_secs(61));
    assert_eq!(c.list("").await.json()["total_count"], 3);
    let all = c.list("&include_invalid=true").await.json();
    assert_eq!(all["total_count"], 5);
    let expired = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "short-lived")
        .unwrap()
        .clone();
    assert_eq!(expired["expired"], true);
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let c = Clerk::start().await;
    let missing = c.get("/api_keys").await;
    assert_eq!(clerk_error(&missing, 400)["meta"]["param_name"], "subject");
    for (query, param) in [
        ("&limit=0", "limit"),
        ("&limit=101", "limit"),
        ("&limit=ten", "limit"),
        ("&offset=-1", "offset"),
        ("&include_invalid=maybe", "include_invalid"),
    ] {
        let reply = c.list(query).await;
        assert_eq!(
            clerk_error(&reply, 400)["meta"]["param_name"],
            param,
            "{query}"
        );
    }
    for query in [
        "&limit=1",
        "&limit=100",
        "&offset=0",
        "&include_invalid=false",
    ] {
        assert_eq!(c.list(query).await.status, 200, "{query}");
    }
}

#[tokio::test]
async fn ids_are_checked_then_looked_up() {
    let c = Clerk::start().await;
    let unknown = format!("ak_{}", "0".repeat(32));
    for path in ["/api_keys/nope", "/api_keys/ak_123"] {
        clerk_error(&c.get(path).await, 400);
    }
    clerk_error(&c.post("/api_keys/ak_zz/revoke", json!({})).await, 400);
    clerk_error(&c.get(&format!("/api_keys/{unknown}")).await, 404);
    clerk_error(
        &c.post(&format!("/api_keys/{unknown}/revoke"), json!({}))
            .await,
        404,
    );
    clerk_error(
        &c.call(
            reqwest::Method::DELETE,
            &format!("/api_keys/{unknown}"),
            None,
        )
        .await,
        404,
    );
    // The legacy `api_key_` prefix passes the format check.
    clerk_error(
        &c.get(&format!("/api_keys/api_key_{}", "A".repeat(32)))
            .await,
        404,
    );
}

#[tokio::test]
async fn revoke_is_idempotent() {
    let c = Clerk::start().await;
    let id = c.create("to revoke").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api_keys/{id}/revoke");
    c.h.emulator.advance_clock(Duration::from_secs(5));
    let first = c
        .post(&path, json!({ "revocation_reason": "rotated" }))
        .await
        .json();
    assert_eq!(first["revoked"], true);
    assert_eq!(first["revocation_reason"], "rotated");
    assert!(first["updated_at"].as_i64() > first["created_at"].as_i64());
    c.h.emulator.advance_clock(Duration::from_secs(5));
    let second = c.post(&path, json!({ "revocation_reason": "again" })).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.json(), first);
    let bad_reason = c.post(&path, json!({ "revocation_reason": 5 })).await;
    assert_eq!(
        clerk_error(&bad_reason, 400)["meta"]["param_name"],
        "revocation_reason"
    );
}

#[tokio::test]
async fn verify_accepts_only_valid_secrets() {
    let c = Clerk::start().await;
    let key = c.create("verified").await;
    let secret = key["secret"].as_str().unwrap();
    let ok = c
        .post("/api_keys/verify", json!({ "secret": secret }))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["id"], key["id"]);
    assert!(ok.json()["last_used_at"].as_i64().unwrap() >= key["created_at"].as_i64().unwrap());

    clerk_error(
        &c.post("/api_keys/verify", json!({ "secret": "ak_unknown" }))
            .await,
        404,
    );
    clerk_error(&c.post("/api_keys/verify", json!({})).await, 400);

    c.post(
        &format!("/api_keys/{}/revoke", key["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let revoked = c
        .post("/api_keys/verify", json!({ "secret": secret }))
        .await;
    assert_eq!(clerk_error(&revoked, 404)["code"], "resource_not_found");

    let short = c
        .post(
            "/api_keys",
            json!({ "name": "brief", "subject": c.creds.user_id, "seconds_until_expiration": 1 }),
        )
        .await
        .json();
    c.h.emulator.advance_clock(Duration::from_secs(2));
    clerk_error(
        &c.post("/api_keys/verify", json!({ "secret": short["secret"] }))
            .await,
        404,
    );
}

#[tokio::test]
async fn delete_update_and_secret_routes() {
    let c = Clerk::start().await;
    let id = c.create("editable").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api_keys/{id}");

    c.h.emulator.advance_clock(Duration::from_secs(1));
    let patched = c
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "description": "new", "scopes": ["a"] })),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let patched = patched.json();
    assert_eq!(patched["description"], "new");
    assert!(patched["updated_at"].as_i64() > patched["created_at"].as_i64());
    let rename = c
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "name": "renamed" })),
        )
        .await;
    assert_eq!(clerk_error(&rename, 400)["meta"]["param_name"], "name");

    let deleted = c.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json(),
        json!({ "id": id, "object": "api_key", "deleted": true })
    );
    clerk_error(&c.get(&path).await, 404);
}

/// The Backend API reads a secret again (clerk/openapi-specs `bapi/2026-05-12.yml`
/// `getApiKeySecret`; `@clerk/backend` `APIKeysApi.getSecret`): `{secret}`, also after a revoke.
#[tokio::test]
async fn the_backend_api_reads_a_secret_again() {
    let c = Clerk::start().await;
    let key = c.create("readable").await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    for prefix in ["", "/v1"] {
        let reply = c.get(&format!("{prefix}/api_keys/{id}/secret")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json(), json!({ "secret": secret }));
    }
    c.post(
        &format!("/api_keys/{id}/revoke"),
        json!({ "revocation_reason": null }),
    )
    .await;
    assert_eq!(
        c.get(&format!("/api_keys/{id}/secret")).await.json()["secret"],
        secret
    );

    let seeded = c.h.emulator.seed(1, SeedOwner::User);
    let reply = c.get(&format!("/api_keys/{}/secret", seeded[0])).await;
    assert!(reply.json()["secret"].as_str().unwrap().starts_with("ak_"));

    clerk_error(
        &c.get(&format!("/api_keys/ak_{}/secret", "0".repeat(32)))
            .await,
        404,
    );
    clerk_error(&c.get("/api_keys/not-an-id/secret").await, 400);
    // Only the Frontend API keeps secrets once: a session token may not call this route.
    let by_session = send(
        c.h.http
            .get(c.h.url(&format!("/api_keys/{id}/secret")))
            .bearer_auth(&c.creds.session_token),
    )
    .await;
    clerk_error(&by_session, 401);
}

/// `type` defaults to `api_key` on the list (bapi/2026-05-12.yml): keys of another type show only
/// when asked for.
#[tokio::test]
async fn the_list_shows_api_key_type_unless_asked() {
    let c = Clerk::start().await;
    c.create("plain").await;
    let other = c
        .post(
            "/api_keys",
            json!({ "name": "machine kind", "subject": c.creds.user_id, "type": "machine_key" }),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.text);
    assert_eq!(c.list("").await.json()["total_count"], 1);
    let typed = c.list("&type=machine_key").await.json();
    assert_eq!(typed["data"][0]["name"], "machine kind");
}

/// The emulator-only switches (`PUT /__emulator/clerk`): a smaller page maximum, refused with the
/// usual `limit` error, and damaged create answers that still made a key.
#[tokio::test]
async fn quirks_shrink_the_page_and_damage_create_answers() {
    let c = Clerk::start().await;
    let put = |body: Value| send(c.h.http.put(c.h.url("/__emulator/clerk")).json(&body));
    assert_eq!(put(json!({ "max_list_limit": 20 })).await.status, 200);
    let refused = c.list("&limit=21").await;
    assert_eq!(clerk_error(&refused, 400)["meta"]["param_name"], "limit");
    assert_eq!(c.list("&limit=20").await.status, 200);
    assert_eq!(put(json!({ "max_list_limti": 20 })).await.status, 400);

    assert_eq!(
        put(json!({ "create_answer": "bad_fields" })).await.status,
        200
    );
    let bad = c.create("bad fields").await;
    assert!(bad["secret"].as_str().unwrap().starts_with("ak_"));
    assert_eq!(bad["created_at"], "yesterday");

    assert_eq!(
        put(json!({ "create_answer": "no_secret" })).await.status,
        200
    );
    let no_secret = c.create("no secret").await;
    assert!(no_secret.get("secret").is_none() && no_secret["id"].is_string());

    assert_eq!(
        put(json!({ "create_answer": "not_json" })).await.status,
        200
    );
    let not_json = c
        .post(
            "/api_keys",
            json!({ "name": "not json", "subject": c.creds.user_id }),
        )
        .await;
    assert_eq!(not_json.status, 200);
    assert!(serde_json::from_str::<Value>(&not_json.text).is_err());

    // Every one of those answers came after the key was made.
    assert_eq!(
        put(json!({})).await.json(),
        json!({ "max_list_limit": null, "create_answer": "normal" })
    );
    assert_eq!(c.list("").await.json()["total_count"], 3);
    assert_eq!(c.list("&limit=100").await.status, 200);
}

#[tokio::test]
async fn the_frontend_api_acts_for_the_session_user() {
    let c = Clerk::start().await;
    let session = c.creds.session_token.clone();
    let create = send(c.h.http.post(c.h.url("/api_keys")).bearer_auth(&session).json(&json!({ "type": "api_key", "name": "from the browser", "description": null, "seconds_until_expiration": 604800 }))).await;
    assert_eq!(create.status, 201, "{}", create.text);
    let key = create.json();
    assert_eq!(key["subject"], c.creds.user_id.as_str());
    assert!(key["secret"].is_string());

    let list = send(
        c.h.http
            .get(c.h.url(&format!("/api_keys?subject={}", c.creds.org_id)))
            .bearer_auth(&session),
    )
    .await;
    assert_eq!(list.status, 200);
    let machine = send(
        c.h.http
            .post(c.h.url("/api_keys"))
            .bearer_auth(&session)
            .json(&json!({ "name": "machine", "subject": "mch_2keywardEmulatorAcme0000001" })),
    )
    .await;
    assert_eq!(clerk_error(&machine, 400)["meta"]["param_name"], "subject");
    // Backend-only routes refuse a session token.
    let read = send(
        c.h.http
            .get(c.h.url(&format!("/api_keys/{}", key["id"].as_str().unwrap())))
            .bearer_auth(&session),
    )
    .await;
    clerk_error(&read, 401);
}

#[tokio::test]
async fn seeded_keys_are_listed_for_their_subject() {
    let c = Clerk::start().await;
    let ids = c.h.emulator.seed(12, SeedOwner::Org);
    assert_eq!(ids.len(), 12);
    let page = c
        .get(&format!("/api_keys?subject={}&limit=100", c.creds.org_id))
        .await
        .json();
    assert_eq!(page["total_count"], 12);
    assert_eq!(page["data"][0]["id"], ids[11].as_str());
}
