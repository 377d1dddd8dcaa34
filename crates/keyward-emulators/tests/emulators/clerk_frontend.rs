//! Clerk's Frontend API on the Clerk emulator, over raw HTTP (docs/backends/clerk-frontend.md):
//! sign-in and its cookies, the client, session tokens and their lifetime, memberships, and the
//! API-key routes as the FAPI serves them.

use std::time::Duration;

use keyward_emulators::Flavor;
use serde_json::{json, Value};

use crate::common::{assert_no_secret, send, Harness, Reply};

/// A signed-in browser: its `__client` cookie, session id and first session token.
struct SignedIn {
    client: String,
    session: String,
    jwt: String,
}

async fn sign_in(h: &Harness) -> SignedIn {
    let details = h
        .emulator
        .clerk_sign_in()
        .expect("the Clerk flavor signs users in");
    let reply = send(h.http.post(&details.url).form(&[
        ("email", details.email.as_str()),
        ("password", &details.password),
    ]))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cookies: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let value_of = |name: &str| {
        cookies
            .iter()
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
    };
    let client_cookie = cookies.iter().find(|c| c.starts_with("__client=")).unwrap();
    assert!(client_cookie.contains("HttpOnly"), "{client_cookie}");
    let client = value_of("__client");
    let jwt = value_of("__session");
    let answer = send(
        h.http
            .get(h.url("/v1/client"))
            .header("cookie", format!("__client={client}")),
    )
    .await;
    assert_eq!(answer.status, 200);
    let session = answer.json()["response"]["last_active_session_id"]
        .as_str()
        .expect("an active session")
        .to_owned();
    SignedIn {
        client,
        session,
        jwt,
    }
}

impl SignedIn {
    fn cookie(&self) -> String {
        format!("__client={}", self.client)
    }
}

async fn new_token(h: &Harness, s: &SignedIn) -> Reply {
    send(
        h.http
            .post(h.url(&format!("/v1/client/sessions/{}/tokens", s.session)))
            .header("cookie", s.cookie()),
    )
    .await
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn code(reply: &Reply) -> String {
    reply.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_sign_in_page_checks_the_seeded_account() {
    let h = Harness::start(Flavor::Clerk).await;
    let details = h.emulator.clerk_sign_in().unwrap();
    let form = send(h.http.get(&details.url)).await;
    assert_eq!(form.status, 200);
    assert!(form
        .text
        .contains("<form method=\"post\" action=\"/sign-in\">"));
    let wrong = send(
        h.http
            .post(&details.url)
            .form(&[("email", details.email.as_str()), ("password", "nope")]),
    )
    .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.headers.get("set-cookie").is_none());
    // A client signed in without the form has a session too.
    let token = h.emulator.clerk_client_token().unwrap();
    let client = send(
        h.http
            .get(h.url("/v1/client"))
            .header("cookie", format!("__client={token}")),
    )
    .await;
    assert!(client.json()["response"]["last_active_session_id"].is_string());
    // No cookie, or an unknown one: no client.
    let none = send(h.http.get(h.url("/v1/client"))).await;
    assert_eq!(none.json()["response"], Value::Null);
}

#[tokio::test]
async fn session_tokens_are_short_lived_jwts_of_the_signed_in_user() {
    let h = Harness::start(Flavor::Clerk).await;
    h.emulator.set_clerk_token_lifetime(Duration::from_secs(2));
    let s = sign_in(&h).await;
    let details = h.emulator.clerk_sign_in().unwrap();
    let reply = new_token(&h, &s).await;
    assert_eq!(reply.status, 200);
    let jwt = reply.json()["jwt"].as_str().unwrap().to_owned();
    let c = claims(&jwt);
    assert_eq!(c["sub"], json!(details.user_id));
    assert_eq!(c["sid"], json!(s.session));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 2);

    // A live token lists the user's keys; once expired it is refused as Clerk refuses one.
    let list = |token: String| {
        h.http
            .get(h.url("/api_keys"))
            .query(&[("subject", details.user_id.as_str())])
            .bearer_auth(token)
    };
    assert_eq!(send(list(jwt.clone())).await.status, 200);
    h.emulator.advance_clock(Duration::from_secs(3));
    let expired = send(list(jwt)).await;
    assert_eq!(expired.status, 401);
    assert_eq!(code(&expired), "authentication_invalid");
    // The client token outlives its session tokens: a new one works.
    let fresh = new_token(&h, &s).await.json()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(send(list(fresh)).await.status, 200);
    // Tokens of another session id of this client: 404; without the client cookie: signed out.
    let other = send(
        h.http
            .post(h.url("/v1/client/sessions/sess_2keywardNoSuchSession00001/tokens"))
            .header("cookie", s.cookie()),
    )
    .await;
    assert_eq!(other.status, 404);
    let anonymous = send(
        h.http
            .post(h.url(&format!("/v1/client/sessions/{}/tokens", s.session))),
    )
    .await;
    assert_eq!(
        (anonymous.status, code(&anonymous)),
        (401, "signed_out".into())
    );
    // The cookie set at sign-in was a token too.
    assert_eq!(claims(&s.jwt)["sid"], json!(s.session));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_its_tokens() {
    let h = Harness::start(Flavor::Clerk).await;
    let s = sign_in(&h).await;
    let jwt = new_token(&h, &s).await.json()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let end = send(
        h.http
            .post(h.url(&format!("/v1/client/sessions/{}/end", s.session)))
            .header("cookie", s.cookie()),
    )
    .await;
    assert_eq!(end.status, 200);
    let refused = new_token(&h, &s).await;
    assert_eq!((refused.status, code(&refused)), (401, "signed_out".into()));
    let client = send(h.http.get(h.url("/v1/client")).header("cookie", s.cookie())).await;
    assert_eq!(
        client.json()["response"]["last_active_session_id"],
        Value::Null
    );
    let keys = send(
        h.http
            .post(h.url("/api_keys"))
            .bearer_auth(jwt)
            .json(&json!({"name": "late"})),
    )
    .await;
    assert_eq!(keys.status, 401);
}

#[tokio::test]
async fn memberships_list_the_users_organization() {
    let h = Harness::start(Flavor::Clerk).await;
    let s = sign_in(&h).await;
    let details = h.emulator.clerk_sign_in().unwrap();
    let paged = send(
        h.http
            .get(h.url("/v1/me/organization_memberships"))
            .query(&[("paginated", "true"), ("limit", "10"), ("offset", "0")])
            .header("cookie", s.cookie()),
    )
    .await;
    assert_eq!(paged.status, 200);
    let body = paged.json();
    assert_eq!(body["response"]["total_count"], json!(1));
    assert_eq!(
        body["response"]["data"][0]["organization"]["id"],
        json!(details.org_id)
    );
    let signed_out = send(h.http.get(h.url("/v1/me/organization_memberships"))).await;
    assert_eq!(signed_out.status, 401);
}

#[tokio::test]
async fn api_keys_follow_the_frontend_api_rules() {
    let h = Harness::start(Flavor::Clerk).await;
    let s = sign_in(&h).await;
    let details = h.emulator.clerk_sign_in().unwrap();
    let jwt = new_token(&h, &s).await.json()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = |path: &str| h.url(&format!("/api_keys{path}"));

    // Create: 201 with the secret, once (the body clerk-js sends).
    let body = json!({"type": "api_key", "name": "laptop", "subject": details.user_id,
        "description": "mine", "seconds_until_expiration": 3600});
    let created = send(h.http.post(keys("")).bearer_auth(&jwt).json(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.json();
    let (id, secret) = (
        key["id"].as_str().unwrap().to_owned(),
        key["secret"].as_str().unwrap().to_owned(),
    );
    // The same name again for the same subject: 409. An org key for the user's org: 201.
    let again = send(h.http.post(keys("")).bearer_auth(&jwt).json(&body)).await;
    assert_eq!(again.status, 409);
    let org = send(
        h.http
            .post(keys(""))
            .bearer_auth(&jwt)
            .json(&json!({"name": "org deploy", "subject": details.org_id})),
    )
    .await;
    assert_eq!(org.status, 201);
    // Documented 400s: a short name, a bad subject, an unknown field.
    for bad in [
        json!({"name": "ab", "subject": details.user_id}),
        json!({"name": "fine name", "subject": "team_1"}),
        json!({"name": "fine name", "subject": details.user_id, "color": "red"}),
    ] {
        let refused = send(h.http.post(keys("")).bearer_auth(&jwt).json(&bad)).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.text);
    }
    // A subject the user may not act for.
    let foreign = send(
        h.http
            .post(keys(""))
            .bearer_auth(&jwt)
            .json(&json!({"name": "theirs", "subject": "org_2keywardEmulatorGlobex00001"})),
    )
    .await;
    assert_eq!(foreign.status, 403);

    // List with search and paging; the secret is never in it.
    let list = send(h.http.get(keys("")).bearer_auth(&jwt).query(&[
        ("subject", details.user_id.as_str()),
        ("query", "lap"),
        ("limit", "1"),
        ("offset", "0"),
    ]))
    .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["total_count"], json!(1));
    assert_no_secret(&list.text, &secret);
    let no_subject = send(
        h.http
            .get(keys(""))
            .bearer_auth(&jwt)
            .query(&[("subject", "nobody")]),
    )
    .await;
    assert_eq!(no_subject.status, 400);

    // The FAPI has no route to read one key, its secret, verify or delete: 404.
    for (method, path) in [
        (reqwest::Method::GET, format!("/{id}")),
        (reqwest::Method::GET, format!("/{id}/secret")),
        (reqwest::Method::DELETE, format!("/{id}")),
        (reqwest::Method::POST, "/verify".to_owned()),
    ] {
        let reply = send(
            h.http
                .request(method.clone(), keys(&path))
                .bearer_auth(&jwt)
                .json(&json!({"secret": secret})),
        )
        .await;
        assert_eq!(reply.status, 404, "{method} {path}");
        assert_no_secret(&reply.text, &secret);
    }
    // Update takes a description only.
    let described = send(
        h.http
            .patch(keys(&format!("/{id}")))
            .bearer_auth(&jwt)
            .json(&json!({"description": "work laptop"})),
    )
    .await;
    assert_eq!(described.status, 200, "{}", described.text);
    let scoped = send(
        h.http
            .patch(keys(&format!("/{id}")))
            .bearer_auth(&jwt)
            .json(&json!({"scopes": ["admin"]})),
    )
    .await;
    assert_eq!(scoped.status, 400);
    let unknown = send(
        h.http
            .patch(keys("/ak_00000000000000000000000000000000"))
            .bearer_auth(&jwt)
            .json(&json!({"description": "x"})),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Revoke with a reason; an unknown id is 404, a malformed one 400.
    let revoked = send(
        h.http
            .post(keys(&format!("/{id}/revoke")))
            .bearer_auth(&jwt)
            .json(&json!({"revocation_reason": "lost laptop"})),
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.json()["revocation_reason"], json!("lost laptop"));
    assert_no_secret(&revoked.text, &secret);
    let unknown = send(
        h.http
            .post(keys("/ak_00000000000000000000000000000000/revoke"))
            .bearer_auth(&jwt)
            .json(&json!({"revocation_reason": null})),
    )
    .await;
    assert_eq!(unknown.status, 404);
    let malformed = send(
        h.http
            .post(keys("/nope/revoke"))
            .bearer_auth(&jwt)
            .json(&json!({})),
    )
    .await;
    assert_eq!(malformed.status, 400);
}
