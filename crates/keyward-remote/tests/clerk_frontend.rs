//! Contract tests of the Clerk Frontend API adapter (user mode) against the Clerk emulator's
//! Frontend API (docs/backends/clerk-frontend.md): a session from the emulator's sign-in page,
//! session tokens refreshed before they expire and after a 401, one refresh for concurrent calls,
//! personal and org keys, search and paging, revoke with a reason, every documented error, and a
//! damaged create answer that still yields its secret.

mod common;

use common::{assert_not_in_json, emulator, fast_http};
use keyward_core::{
    ErrorCode, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, Subject,
};
use keyward_emulators::{ClerkSignIn, Emulator, Flavor};
use keyward_remote::{ClerkFrontendBackend, ClerkFrontendConfig};
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const TOKEN_ROUTE: &str = "POST /v1/client/sessions/{session_id}/tokens";

struct Fixture {
    emulator: Emulator,
    details: ClerkSignIn,
    client_token: String,
    clerk: ClerkFrontendBackend,
}

/// Signs the seeded user in through the emulator's sign-in form, as a browser would, and returns
/// the `__client` cookie's value.
async fn sign_in(details: &ClerkSignIn) -> String {
    let response = reqwest::Client::new()
        .post(&details.url)
        .form(&[("email", &details.email), ("password", &details.password)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("__client="))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .expect("sign-in sets __client")
}

fn backend(emulator: &Emulator, client_token: &str) -> ClerkFrontendBackend {
    ClerkFrontendBackend::new(ClerkFrontendConfig {
        base_url: emulator.base_url(),
        client_token: SecretString::from(client_token.to_owned()),
        default_subject: None,
        http: fast_http(),
    })
    .unwrap()
}

async fn fixture() -> Fixture {
    let emulator = emulator(Flavor::Clerk).await;
    let details = emulator.clerk_sign_in().unwrap();
    let client_token = sign_in(&details).await;
    let clerk = backend(&emulator, &client_token);
    Fixture {
        emulator,
        details,
        client_token,
        clerk,
    }
}

impl Fixture {
    fn tokens_minted(&self) -> u64 {
        self.emulator.stats().get(TOKEN_ROUTE).copied().unwrap_or(0)
    }

    fn user(&self) -> Subject {
        Subject::User(self.details.user_id.clone())
    }

    fn org(&self) -> Subject {
        Subject::Org(self.details.org_id.clone())
    }

    /// Ends the session as signing out in the browser does.
    async fn sign_out(&self) {
        let http = reqwest::Client::new();
        let cookie = format!("__client={}", self.client_token);
        let client: serde_json::Value = http
            .get(format!("{}/v1/client", self.emulator.base_url()))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = client["response"]["last_active_session_id"]
            .as_str()
            .unwrap();
        let ended = http
            .post(format!(
                "{}/v1/client/sessions/{session}/end",
                self.emulator.base_url()
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 200);
    }
}

fn new_key(name: &str) -> NewKey {
    NewKey::named(name, Expiration::Preset(ExpiryPreset::OneMonth))
}

fn search(text: &str) -> ListQuery {
    ListQuery {
        search: Some(text.into()),
        ..ListQuery::default()
    }
}

#[tokio::test]
async fn personal_and_org_keys_with_the_secret_once() {
    let f = fixture().await;
    let mut personal = new_key("laptop deploy");
    personal.description = Some("my laptop".into());
    let created = f.clerk.create(personal).await.unwrap();
    let secret = created.secret.expose_secret().to_owned();
    assert!(secret.starts_with("ak_"));
    // No owner given: the signed-in user, as clerk-js fills it in.
    assert_eq!(created.key.owner, Some(f.user()));
    assert_eq!(created.key.description.as_deref(), Some("my laptop"));
    assert_eq!(created.key.status, KeyStatus::Active);

    let mut org_key = new_key("org deploy");
    org_key.owner = Some(f.org());
    let org_created = f.clerk.create(org_key).await.unwrap();
    assert_eq!(org_created.key.owner, Some(f.org()));

    let mine = f.clerk.list(&ListQuery::default()).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_not_in_json(&mine, &secret);
    let theirs = f
        .clerk
        .list(&ListQuery {
            owner: Some(f.org()),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(theirs.items[0].id, org_created.key.id);
    // The owner picker: the user's organizations, then the user.
    assert_eq!(f.clerk.owners().await.unwrap(), vec![f.org(), f.user()]);
    // One key by id, though the FAPI has no such route: found in the owners' listings.
    let got = f.clerk.get(&org_created.key.id).await.unwrap();
    assert_eq!(got.name, "org deploy");
}

#[tokio::test]
async fn list_searches_on_the_server_and_pages() {
    let f = fixture().await;
    for name in ["ci deploy one", "ci deploy two", "ci deploy three", "other"] {
        f.clerk.create(new_key(name)).await.unwrap();
    }
    let found = f.clerk.list(&search("deploy")).await.unwrap();
    assert_eq!(found.total, Some(3));
    let second_page = f
        .clerk
        .list(&ListQuery {
            limit: 2,
            page: 1,
            ..search("deploy")
        })
        .await
        .unwrap();
    assert_eq!(second_page.items.len(), 1);
    assert!(!second_page.has_more);
    let search_requests = f
        .emulator
        .stats()
        .get("GET /api_keys")
        .copied()
        .unwrap_or(0);
    assert!(search_requests >= 2, "search ran on the server");
}

#[tokio::test]
async fn revoke_keeps_the_reason() {
    let f = fixture().await;
    let created = f.clerk.create(new_key("old laptop")).await.unwrap();
    let revoked = f
        .clerk
        .revoke(&created.key.id, Some("laptop lost"))
        .await
        .unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(revoked.revocation_reason.as_deref(), Some("laptop lost"));
    let again = f.clerk.get(&created.key.id).await.unwrap();
    assert_eq!(again.revocation_reason.as_deref(), Some("laptop lost"));
    let unknown = f
        .clerk
        .revoke("ak_00000000000000000000000000000000", None)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_without_the_user_noticing() {
    let f = fixture().await;
    f.emulator.set_clerk_token_lifetime(Duration::from_secs(2));
    f.clerk.create(new_key("before expiry")).await.unwrap();
    assert_eq!(f.tokens_minted(), 1);
    // Past the token's lifetime in real time: refreshed before the call, no 401 on the way.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    f.clerk.create(new_key("after expiry")).await.unwrap();
    let page = f.clerk.list(&search("expiry")).await.unwrap();
    assert_eq!(page.total, Some(2));
    assert_eq!(f.tokens_minted(), 2);
    assert_eq!(f.emulator.stats().get("POST /api_keys").copied(), Some(2));
}

#[tokio::test]
async fn a_token_the_server_refuses_is_refreshed_once_and_shared() {
    let f = fixture().await;
    // Warm up: one token, believed fresh for a minute.
    f.clerk.list(&ListQuery::default()).await.unwrap();
    let clerk = Arc::new(f.clerk);
    // Concurrent calls on a cold backend share one token.
    let cold = Arc::new(backend(&f.emulator, &f.client_token));
    let before = f.emulator.stats().get(TOKEN_ROUTE).copied().unwrap_or(0);
    let calls = (0..8).map(|_| {
        let cold = cold.clone();
        tokio::spawn(async move { cold.list(&ListQuery::default()).await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let after = f.emulator.stats().get(TOKEN_ROUTE).copied().unwrap_or(0);
    assert_eq!(after - before, 1, "eight concurrent calls, one token");
    // The server's clock moves past every token's expiry while the backend still trusts its
    // own: each call meets a 401, and together they fetch one new token.
    f.emulator.advance_clock(Duration::from_secs(120));
    let calls = (0..8).map(|_| {
        let clerk = clerk.clone();
        tokio::spawn(async move { clerk.list(&ListQuery::default()).await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let refreshed = f.emulator.stats().get(TOKEN_ROUTE).copied().unwrap_or(0);
    assert_eq!(refreshed - after, 1, "eight refused calls, one refresh");
}

#[tokio::test]
async fn a_signed_out_session_asks_to_sign_in_again() {
    let f = fixture().await;
    f.clerk.list(&ListQuery::default()).await.unwrap();
    f.sign_out().await;
    // A backend whose token was still cached: the 401, one refresh refused, then the message.
    f.emulator.advance_clock(Duration::from_secs(120));
    for error in [
        f.clerk.list(&ListQuery::default()).await.unwrap_err(),
        backend(&f.emulator, &f.client_token)
            .create(new_key("after sign-out"))
            .await
            .unwrap_err(),
        backend(&f.emulator, "client_unknown")
            .owners()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(error.code(), ErrorCode::Unauthorized, "{error}");
        assert!(error.to_string().contains("sign in again"), "{error}");
        assert!(!error.to_string().contains(&f.client_token));
    }
}

#[tokio::test]
async fn an_instance_key_is_refused_naming_the_credential() {
    let f = fixture().await;
    let secret_key = f.emulator.credentials().clerk().unwrap().secret_key.clone();
    let error = ClerkFrontendBackend::new(ClerkFrontendConfig {
        base_url: f.emulator.base_url(),
        client_token: SecretString::from(secret_key.clone()),
        default_subject: None,
        http: fast_http(),
    })
    .unwrap_err();
    assert_eq!(error.field(), Some("credential"));
    assert!(error.to_string().contains("instance secret key (sk_…)"));
    assert!(!error.to_string().contains(&secret_key));
}

#[tokio::test]
async fn documented_errors_map_to_codes_naming_the_field() {
    let f = fixture().await;
    f.clerk.create(new_key("taken name")).await.unwrap();
    // 409: the name is taken for this owner.
    let taken = f.clerk.create(new_key("taken name")).await.unwrap_err();
    assert_eq!(taken.code(), ErrorCode::Conflict);
    // 400: a subject the spec's pattern refuses, named as our owner field.
    let mut odd = new_key("odd owner");
    odd.owner = Some(Subject::Org("org_short".into()));
    let refused = f.clerk.create(odd).await.unwrap_err();
    assert_eq!(
        (refused.code(), refused.field()),
        (ErrorCode::InvalidInput, Some("owner"))
    );
    let bad_list = f
        .clerk
        .list(&ListQuery {
            owner: Some(Subject::User("user_short".into())),
            ..ListQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_list.code(), ErrorCode::InvalidInput);
    // 403: another org of the instance, which this user does not belong to.
    let mut foreign = new_key("not mine");
    foreign.owner = Some(Subject::Org("org_2keywardEmulatorGlobex00001".into()));
    let denied = f.clerk.create(foreign).await.unwrap_err();
    assert_eq!(denied.code(), ErrorCode::PermissionDenied);
    // 400: a malformed key id on revoke.
    let malformed = f.clerk.revoke("ak_nothex", None).await.unwrap_err();
    assert_eq!(malformed.code(), ErrorCode::InvalidInput);
    // Refused before sending: scopes (the FAPI's create takes none), and verify.
    let mut scoped = new_key("scoped key");
    scoped.scopes = vec!["read".into()];
    assert_eq!(
        f.clerk.create(scoped).await.unwrap_err().field(),
        Some("scopes")
    );
    let verify = f
        .clerk
        .verify(&SecretString::from("ak_x"))
        .await
        .unwrap_err();
    assert_eq!(verify.code(), ErrorCode::InvalidInput);
    let caps = f.clerk.capabilities();
    assert!(!caps.verify && !caps.scopes && caps.descriptions && caps.revoke_reason);
}

/// Sets the Clerk emulator's create answer (`PUT /__emulator/clerk`).
async fn create_answer(emulator: &Emulator, answer: &str) {
    let response = reqwest::Client::new()
        .put(format!("{}/__emulator/clerk", emulator.base_url()))
        .json(&serde_json::json!({ "create_answer": answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_damaged_create_answer_never_loses_the_secret() {
    let f = fixture().await;
    create_answer(&f.emulator, "bad_fields").await;
    let kept = f.clerk.create(new_key("damaged answer")).await.unwrap();
    assert!(kept.secret.expose_secret().starts_with("ak_"));
    assert_eq!(kept.key.name, "damaged answer");
    // No secret in the answer, and the FAPI cannot show it again: the error names the key.
    create_answer(&f.emulator, "no_secret").await;
    let lost = f.clerk.create(new_key("no secret")).await.unwrap_err();
    assert_eq!(lost.code(), ErrorCode::Backend);
    assert!(lost.to_string().contains("keyward revoke ak_"), "{lost}");
    create_answer(&f.emulator, "not_json").await;
    let unreadable = f.clerk.create(new_key("not json")).await.unwrap_err();
    assert!(unreadable.to_string().contains("may have been created"));
}

/// A hostile Frontend API: a session and a token as Clerk gives them, then key routes that either
/// echo the request's credentials (cookie and bearer) in an error body or redirect elsewhere.
fn hostile_fapi(jwt: &'static str, keys: &'static str) -> String {
    raw_server(move |head| {
        if head.starts_with("GET /v1/client ") {
            let client = serde_json::json!({"response": {"last_active_session_id": "sess_1"}});
            ("200 OK", String::new(), client.to_string())
        } else if head.contains("/tokens") {
            (
                "200 OK",
                String::new(),
                serde_json::json!({ "jwt": jwt }).to_string(),
            )
        } else if keys == "redirect" {
            let to = "Location: https://elsewhere.example/api_keys\r\n".to_owned();
            ("302 Found", to, String::new())
        } else {
            let echo = serde_json::json!({"errors": [{"code": "bad_request", "message": "Bad Request",
                "long_message": format!("you sent {head}"), "meta": {}}]});
            ("400 Bad Request", String::new(), echo.to_string())
        }
    })
}

/// A one-thread HTTP/1.1 server on a free loopback port for the hostile servers here: `answer`
/// gets each request's head and gives the status line's tail, extra header lines and a JSON body.
/// Answers its base URL.
fn raw_server(answer: impl Fn(&str) -> (&'static str, String, String) + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let (status, extra, body) = answer(&head);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base_url
}

/// A session token shaped as Clerk's, for the hostile servers above and below.
fn session_jwt() -> &'static str {
    use base64::Engine;
    let claims = r#"{"sub":"user_aaaaaaaaaaaaaaaaaaaaaaaaaaa","sid":"sess_1","iat":1,"exp":61}"#;
    Box::leak(
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.Zq8vW3nR5tY1uI9oP2aS4dF6gH7jK0lX",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        )
        .into_boxed_str(),
    )
}

const HOSTILE_CLIENT_TOKEN: &str = "client_Zq8vW3nR5tY1uI9oP2aS4dF6gH7jK0lXc0ok1e";

#[tokio::test]
async fn the_session_never_reaches_an_error_and_a_redirect_is_not_followed() {
    let jwt = session_jwt();
    let client_token = HOSTILE_CLIENT_TOKEN;
    for keys in ["echo", "redirect"] {
        let clerk = ClerkFrontendBackend::new(ClerkFrontendConfig {
            base_url: hostile_fapi(jwt, keys),
            client_token: SecretString::from(client_token),
            default_subject: None,
            http: fast_http(),
        })
        .unwrap();
        let error = clerk.list(&ListQuery::default()).await.unwrap_err();
        let shown = format!("{error} | {error:?}");
        for secret in [client_token, jwt] {
            assert!(!shown.contains(secret), "{keys}: {shown}");
            assert!(
                !shown.contains(&secret[secret.len() - 20..]),
                "{keys}: {shown}"
            );
        }
        if keys == "redirect" {
            assert!(shown.contains("elsewhere.example"), "{shown}");
        } else {
            assert!(
                shown.contains("you sent GET /api_keys"),
                "the echo is shown, scrubbed: {shown}"
            );
        }
    }
}

/// A Frontend API whose memberships listing lies: every page is the same one organization, with
/// `total_count` as given. Answers the number of membership requests it has served.
fn lying_memberships(total_count: u64) -> (String, Arc<AtomicUsize>) {
    let jwt = session_jwt();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    let base_url = raw_server(move |head| {
        let body = if head.starts_with("GET /v1/client ") {
            serde_json::json!({"response": {"last_active_session_id": "sess_1"}})
        } else if head.contains("/tokens") {
            serde_json::json!({ "jwt": jwt })
        } else if head.starts_with("GET /v1/me/organization_memberships") {
            counter.fetch_add(1, Ordering::SeqCst);
            let membership = serde_json::json!({"organization": {"id": "org_same"}});
            serde_json::json!({"response": {"data": [membership], "total_count": total_count}})
        } else {
            serde_json::json!({"errors": [{"code": "resource_not_found", "message": "Not found"}]})
        };
        ("200 OK", String::new(), body.to_string())
    });
    (base_url, served)
}

/// The owner list reads the user's organization memberships page by page. A server that repeats
/// its page while claiming more, or claims more memberships than any listing reads, is stopped
/// (as key listings are) with an error naming why, instead of being asked forever.
#[tokio::test]
async fn a_memberships_listing_that_lies_about_its_total_stops() {
    for (total_count, requests, says) in [
        (
            50,
            2,
            "the server sent the same organization memberships again",
        ),
        (
            10_000_000,
            1,
            "the server claims 10,000,000 organization memberships",
        ),
    ] {
        let (base_url, served) = lying_memberships(total_count);
        let clerk = ClerkFrontendBackend::new(ClerkFrontendConfig {
            base_url,
            client_token: SecretString::from(HOSTILE_CLIENT_TOKEN),
            default_subject: None,
            http: fast_http(),
        })
        .unwrap();
        let error = tokio::time::timeout(Duration::from_secs(10), clerk.owners())
            .await
            .expect("the walk ends on its own")
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Backend, "{error}");
        assert!(error.to_string().contains(says), "{error}");
        assert_eq!(served.load(Ordering::SeqCst), requests, "{error}");
    }
}
