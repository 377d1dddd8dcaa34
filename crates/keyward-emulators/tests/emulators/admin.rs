//! `/__emulator/*` and the library's control API: info, seeding, stats and the clock.

use keyward_emulators::{Flavor, SeedOwner};
use serde_json::{json, Value};

use crate::common::{send, Harness};

#[tokio::test]
async fn info_names_the_flavor_and_its_credentials() {
    for flavor in Flavor::ALL {
        let h = Harness::start(flavor).await;
        let info = send(h.http.get(h.url("/__emulator/info"))).await.json();
        assert_eq!(info["flavor"], flavor.as_str());
        assert_eq!(info["base_url"], h.emulator.base_url().as_str());
        assert_eq!(
            info["credentials"],
            serde_json::to_value(h.emulator.credentials()).unwrap()
        );
        let expected_field = match flavor {
            Flavor::PropelAuth => "integration_key",
            Flavor::Clerk => "secret_key",
            Flavor::FreeSewing => "api_secret",
        };
        assert!(info["credentials"][expected_field].is_string(), "{info}");
        assert!(h.emulator.base_url().starts_with("http://127.0.0.1:"));
        h.emulator.shutdown().await;
    }
}

#[tokio::test]
async fn seeding_over_http_mixes_expiries() {
    let h = Harness::start(Flavor::Clerk).await;
    let clerk = h.emulator.credentials().clerk().unwrap().clone();
    let body =
        json!({ "count": 30, "owner": "org", "name_prefix": "bulk-", "expiring_within_days": 10 });
    let reply = send(h.http.post(h.url("/__emulator/seed")).json(&body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["ids"].as_array().unwrap().len(), 30);

    let list = |query: &str| {
        let url = h.url(&format!(
            "/api_keys?subject={}&limit=100{query}",
            clerk.org_id
        ));
        send(h.http.get(url).bearer_auth(&clerk.secret_key))
    };
    let all = list("&include_invalid=true").await.json();
    assert_eq!(all["total_count"], 30);
    let keys = all["data"].as_array().unwrap();
    assert!(keys
        .iter()
        .all(|k| k["name"].as_str().unwrap().starts_with("bulk-")));
    let count = |pred: &dyn Fn(&Value) -> bool| keys.iter().filter(|k| pred(k)).count();
    assert!(count(&|k| k["expiration"].is_null()) > 0);
    assert!(count(&|k| k["expired"] == true) > 0);
    assert!(count(&|k| k["expired"] == false && !k["expiration"].is_null()) > 0);
    let valid = list("").await.json();
    assert_eq!(
        valid["total_count"].as_u64().unwrap() as usize,
        30 - count(&|k| k["expired"] == true)
    );

    for bad in [
        json!({}),
        json!({ "count": 1, "owner": "team" }),
        json!({ "count": 2_000_000 }),
    ] {
        assert_eq!(
            send(h.http.post(h.url("/__emulator/seed")).json(&bad))
                .await
                .status,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn stats_count_backend_requests_per_route() {
    let h = Harness::start(Flavor::Clerk).await;
    let clerk = h.emulator.credentials().clerk().unwrap().clone();
    let id = h.emulator.seed(1, SeedOwner::User).remove(0);
    for _ in 0..2 {
        send(
            h.http
                .get(h.url(&format!("/api_keys?subject={}", clerk.user_id)))
                .bearer_auth(&clerk.secret_key),
        )
        .await;
    }
    send(
        h.http
            .post(h.url(&format!("/api_keys/{id}/revoke")))
            .bearer_auth(&clerk.secret_key)
            .json(&json!({})),
    )
    .await;
    send(h.http.get(h.url("/no/such/route"))).await;
    send(h.http.get(h.url("/__emulator/info"))).await;

    let stats = h.emulator.stats();
    assert_eq!(stats["GET /api_keys"], 2);
    assert_eq!(stats["POST /api_keys/{id}/revoke"], 1);
    assert_eq!(stats["GET (unmatched)"], 1);
    assert_eq!(
        h.emulator.request_count(),
        4,
        "admin routes are not counted: {stats:?}"
    );

    let over_http = send(h.http.get(h.url("/__emulator/stats"))).await.json();
    assert_eq!(over_http["total"], 4);
    assert_eq!(over_http["routes"]["GET /api_keys"], 2);

    assert_eq!(
        send(h.http.post(h.url("/__emulator/stats/reset")))
            .await
            .status,
        204
    );
    assert_eq!(h.emulator.request_count(), 0);
    h.emulator.reset_stats();
    assert!(h.emulator.stats().is_empty());
}

#[tokio::test]
async fn the_clock_can_be_advanced_over_http() {
    let h = Harness::start(Flavor::Clerk).await;
    let clerk = h.emulator.credentials().clerk().unwrap().clone();
    let key = send(
        h.http
            .post(h.url("/api_keys"))
            .bearer_auth(&clerk.secret_key)
            .json(&json!({ "name": "minute", "subject": clerk.user_id, "seconds_until_expiration": 60 })),
    )
    .await
    .json();
    let advanced = send(
        h.http
            .post(h.url("/__emulator/clock"))
            .json(&json!({ "advance_ms": 61_000 })),
    )
    .await;
    assert_eq!(advanced.status, 200);
    assert!(advanced.json()["now"].is_string());
    let read = send(
        h.http
            .get(h.url(&format!("/api_keys/{}", key["id"].as_str().unwrap())))
            .bearer_auth(&clerk.secret_key),
    )
    .await;
    assert_eq!(read.json()["expired"], true);
}

#[tokio::test]
async fn propelauth_session_is_only_for_propelauth() {
    let h = Harness::start(Flavor::FreeSewing).await;
    assert!(h.emulator.propelauth_session().is_none());
    assert!(h.emulator.credentials().propelauth().is_none());
}

/// `owners` and `usage_mix` over HTTP: Clerk keys of four subjects (each listable with the
/// instance key, only Ada's and her org's with her session), with last-used times and creation
/// dates before them.
#[tokio::test]
async fn seeding_spreads_owners_and_last_use_on_clerk() {
    let h = Harness::start(Flavor::Clerk).await;
    let clerk = h.emulator.credentials().clerk().unwrap().clone();
    let body = json!({ "count": 400, "owner": "org", "owners": 4, "usage_mix": true,
                       "expiring_within_days": 60 });
    let reply = send(h.http.post(h.url("/__emulator/seed")).json(&body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let accounts = h.emulator.seed_accounts();
    assert_eq!(accounts.len(), 4);
    assert_eq!(accounts[0].id, clerk.user_id);
    assert_eq!(accounts[1].id, clerk.org_id);
    let mut listed = 0;
    for account in &accounts {
        let url = h.url(&format!(
            "/api_keys?subject={}&limit=100&include_invalid=true",
            account.id
        ));
        let page = send(h.http.get(&url).bearer_auth(&clerk.secret_key))
            .await
            .json();
        assert_eq!(page["total_count"], 100, "{}: {page}", account.id);
        let keys = page["data"].as_array().unwrap();
        listed += keys.len();
        assert!(keys.iter().all(|k| k["subject"] == account.id.as_str()));
        let never = keys.iter().filter(|k| k["last_used_at"].is_null()).count();
        assert!(never > 10 && never < 60, "never used: {never} of 100");
        for key in keys.iter().filter(|k| !k["last_used_at"].is_null()) {
            let (used, created) = (
                key["last_used_at"].as_i64().unwrap(),
                key["created_at"].as_i64().unwrap(),
            );
            assert!(created < used, "{key}");
        }
        // Ada's session may act for her and her org only.
        let by_session = send(h.http.get(&url).bearer_auth(&clerk.session_token)).await;
        let mine = account.id == clerk.user_id || account.id == clerk.org_id;
        assert_eq!(
            by_session.status,
            if mine { 200 } else { 403 },
            "{}",
            account.id
        );
    }
    assert_eq!(listed, 400);
}

/// The same mix on PropelAuth (owners; it reports no last use) and FreeSewing (last use as
/// `lastSeen`; all keys are the caller's).
#[tokio::test]
async fn seeding_spreads_owners_on_propelauth_and_last_use_on_freesewing() {
    let h = Harness::start(Flavor::PropelAuth).await;
    let propel = h.emulator.credentials().propelauth().unwrap().clone();
    let body = json!({ "count": 40, "owner": "user", "owners": 4, "usage_mix": true });
    assert_eq!(
        send(h.http.post(h.url("/__emulator/seed")).json(&body))
            .await
            .status,
        200
    );
    let page = send(
        h.http
            .get(h.url("/api/backend/v1/end_user_api_keys?page_size=100"))
            .bearer_auth(&propel.integration_key),
    )
    .await
    .json();
    assert_eq!(page["total_api_keys"], 40, "{page}");
    let keys = page["api_keys"].as_array().unwrap();
    for account in h.emulator.seed_accounts() {
        let field = match account.kind {
            SeedOwner::User => "user_id",
            SeedOwner::Org => "org_id",
        };
        let owned = keys
            .iter()
            .filter(|k| k[field] == account.id.as_str())
            .count();
        assert_eq!(owned, 10, "{} {}", field, account.id);
    }

    let h = Harness::start(Flavor::FreeSewing).await;
    let sewing = h.emulator.credentials().freesewing().unwrap().clone();
    let body = json!({ "count": 60, "owners": 4, "usage_mix": true });
    assert_eq!(
        send(h.http.post(h.url("/__emulator/seed")).json(&body))
            .await
            .status,
        200
    );
    let list = send(h.http.get(h.url("/apikeys/jwt")).bearer_auth(&sewing.jwt))
        .await
        .json();
    let keys = list["apikeys"].as_array().unwrap();
    // The 60 seeded keys and the key Keyward signs in with.
    assert_eq!(keys.len(), 61, "{list}");
    let seen = keys.iter().filter(|k| !k["lastSeen"].is_null()).count();
    assert!(seen > 20 && seen < 60, "keys with lastSeen: {seen}");
}
