//! PropelAuth (docs/backends/propelauth.md): the backend API, the frontend API and the login page.

use std::time::Duration;

use keyward_emulators::{Flavor, PropelAuthCredentials, SeedOwner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{assert_no_secret, is_lower_hex, send, Harness, Reply};

const BE: &str = "/api/backend/v1/end_user_api_keys";
const FE: &str = "/api/fe/v3";

struct PropelAuth {
    h: Harness,
    creds: PropelAuthCredentials,
    cookie: String,
}

impl PropelAuth {
    async fn start() -> Self {
        let h = Harness::start(Flavor::PropelAuth).await;
        let creds = h
            .emulator
            .credentials()
            .propelauth()
            .expect("propelauth credentials")
            .clone();
        let cookie = h.emulator.propelauth_session().expect("a session");
        Self { h, creds, cookie }
    }

    async fn backend(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .h
            .http
            .request(method, self.h.url(&format!("{BE}{path}")))
            .bearer_auth(&self.creds.integration_key)
            .header("X-Propelauth-url", "123456.propelauthtest.com");
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// Creates a key on the backend API; returns `(id, token)`.
    async fn create(&self, body: Value) -> (String, String) {
        let reply = self.backend(Method::POST, "", Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let created = reply.json();
        let id = created["api_key_id"].as_str().unwrap().to_owned();
        let token = created["api_key_token"].as_str().unwrap().to_owned();
        (id, token)
    }

    async fn validate(&self, token: &str) -> Reply {
        self.backend(
            Method::POST,
            "/validate",
            Some(json!({ "api_key_token": token })),
        )
        .await
    }

    /// A frontend call as the browser makes it: session cookie and CSRF header.
    async fn frontend(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .h
            .http
            .request(method, self.h.url(&format!("{FE}{path}")))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", "-.-");
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn fe_error(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["user_facing_error"].is_string());
    body
}

#[tokio::test]
async fn the_backend_api_needs_the_integration_key() {
    let p = PropelAuth::start().await;
    let url = p.h.url(BE);
    for request in [
        p.h.http.get(&url),
        p.h.http.get(&url).bearer_auth("wrong"),
        p.h.http.get(&url).basic_auth("x", Some("y")),
    ] {
        let reply = send(request).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.text, "Unauthorized");
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
    }
    // Auth comes before the 404 of an unknown id.
    let unknown = send(p.h.http.get(p.h.url(&format!("{BE}/{}", "0".repeat(32))))).await;
    assert_eq!(unknown.status, 401);
}

#[tokio::test]
async fn create_and_read_a_personal_key_in_unix_seconds() {
    let p = PropelAuth::start().await;
    let expires = now_seconds() + 3600;
    let (id, token) = p
        .create(json!({ "user_id": p.creds.user_id, "expires_at_seconds": expires, "metadata": {"purpose": "cli"}, "display_name": "laptop" }))
        .await;
    assert!(is_lower_hex(&id, 32), "{id}");
    assert!(
        token.len() > 32 && is_lower_hex(&token, token.len()),
        "{token}"
    );

    let read = p.backend(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(read.status, 200);
    let key = read.json();
    assert_eq!(key["api_key_id"], id.as_str());
    assert_eq!(key["expires_at_seconds"], expires);
    let created = key["created_at"].as_i64().unwrap();
    assert!((created - now_seconds()).abs() < 60, "seconds: {created}");
    assert_eq!(key["metadata"], json!({"purpose": "cli"}));
    assert_eq!(key["user_id"], p.creds.user_id.as_str());
    assert_eq!(key["org_id"], Value::Null);
    assert_eq!(key["display_name"], "laptop");

    let list = p
        .backend(Method::GET, &format!("?user_id={}", p.creds.user_id), None)
        .await;
    let validate = p.validate(&token).await;
    for reply in [&read, &list, &validate] {
        assert_eq!(reply.status, 200);
        assert_no_secret(&reply.text, &token);
        assert!(!reply.text.contains("api_key_token"));
    }
    let page = list.json();
    assert_eq!(page["total_api_keys"], 1);
    assert_eq!(page["current_page"], 0);
    assert_eq!(page["page_size"], 10);
    assert_eq!(page["has_more_results"], false);
}

#[tokio::test]
async fn validate_fills_the_shape_by_key_type() {
    let p = PropelAuth::start().await;
    let (_, personal) = p
        .create(json!({ "user_id": p.creds.user_id, "metadata": {"tier": "pro"} }))
        .await;
    let (_, org) = p.create(json!({ "org_id": p.creds.org_id })).await;
    let (_, org_with_user) = p
        .create(json!({ "org_id": p.creds.org_id, "user_id": p.creds.user_id }))
        .await;
    let (_, generic) = p
        .create(json!({ "metadata": {"service": "billing"} }))
        .await;

    let v = p.validate(&personal).await.json();
    assert_eq!(v["metadata"], json!({"tier": "pro"}));
    assert_eq!(v["user"]["user_id"], p.creds.user_id.as_str());
    assert_eq!(v["user"]["email"], p.creds.user_email.as_str());
    assert!(v["user"]["created_at"].as_i64().unwrap() < 10_000_000_000);
    assert_eq!(v["org"], Value::Null);
    assert_eq!(v["user_in_org"], Value::Null);

    let v = p.validate(&org).await.json();
    assert_eq!(v["org"]["org_id"], p.creds.org_id.as_str());
    assert!(v["org"]["org_name"].is_string());
    assert_eq!(v["user"], Value::Null);
    assert_eq!(v["user_in_org"], Value::Null);

    let v = p.validate(&org_with_user).await.json();
    assert_eq!(v["user"]["user_id"], p.creds.user_id.as_str());
    assert_eq!(v["user_in_org"]["org_id"], p.creds.org_id.as_str());
    assert!(v["user_in_org"]["user_role"].is_string());

    let v = p.validate(&generic).await.json();
    assert_eq!(v["metadata"], json!({"service": "billing"}));
    assert_eq!(
        (&v["user"], &v["org"], &v["user_in_org"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );

    for pasted in [
        format!("Bearer {personal}"),
        format!("bearer {personal}"),
        format!("BEARER {personal}"),
    ] {
        assert_eq!(p.validate(&pasted).await.status, 200, "{pasted}");
    }
}

#[tokio::test]
async fn backend_create_reports_field_errors() {
    let p = PropelAuth::start().await;
    let cases = [
        (
            json!({ "user_id": "00000000-0000-4000-8000-000000000000" }),
            "user_id",
        ),
        (
            json!({ "org_id": "00000000-0000-4000-8000-000000000000" }),
            "org_id",
        ),
        (
            json!({ "org_id": p.creds.other_org_id, "user_id": p.creds.user_id }),
            "user_id",
        ),
        (
            json!({ "expires_at_seconds": now_seconds() - 10 }),
            "expires_at_seconds",
        ),
        (
            json!({ "expires_at_seconds": "soon" }),
            "expires_at_seconds",
        ),
        (json!({ "metadata": [1] }), "metadata"),
        (json!({ "display_name": 5 }), "display_name"),
    ];
    for (body, field) in cases {
        let reply = p.backend(Method::POST, "", Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}");
        assert!(reply.json()[field].is_string(), "{body}: {}", reply.text);
    }
}

#[tokio::test]
async fn delete_archives_and_expiry_archives_too() {
    let p = PropelAuth::start().await;
    let (deleted, deleted_token) = p.create(json!({ "user_id": p.creds.user_id })).await;
    let (expiring, expiring_token) = p
        .create(json!({ "user_id": p.creds.user_id, "expires_at_seconds": now_seconds() + 60 }))
        .await;
    let (active, _) = p.create(json!({ "user_id": p.creds.user_id })).await;

    let archive = p
        .backend(Method::DELETE, &format!("/{deleted}"), None)
        .await;
    assert_eq!(archive.status, 200);
    p.h.emulator.advance_clock(Duration::from_secs(120));

    let ids = |reply: Reply| -> Vec<String> {
        reply.json()["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["api_key_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(p.backend(Method::GET, "", None).await), [active]);
    assert_eq!(
        ids(p.backend(Method::GET, "/archived", None).await),
        [expiring.clone(), deleted.clone()]
    );
    // Archived keys can still be read.
    assert_eq!(
        p.backend(Method::GET, &format!("/{deleted}"), None)
            .await
            .status,
        200
    );

    for token in [deleted_token.as_str(), expiring_token.as_str(), "deadbeef"] {
        let reply = p.validate(token).await;
        assert_eq!(reply.status, 400);
        assert!(reply.json()["api_key_token"].is_string(), "{}", reply.text);
    }
    let again = p
        .backend(Method::DELETE, &format!("/{deleted}"), None)
        .await;
    assert_eq!(again.status, 404);
    let unknown = p
        .backend(Method::DELETE, &format!("/{}", "0".repeat(32)), None)
        .await;
    assert_eq!((unknown.status, unknown.text.as_str()), (404, ""));
    assert_eq!(
        p.backend(Method::GET, &format!("/{}", "f".repeat(32)), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn patch_updates_expiry_and_metadata() {
    let p = PropelAuth::start().await;
    let (id, _) = p
        .create(json!({ "user_id": p.creds.user_id, "expires_at_seconds": now_seconds() + 60 }))
        .await;
    let later = now_seconds() + 7200;
    let patched = p
        .backend(
            Method::PATCH,
            &format!("/{id}"),
            Some(json!({ "expires_at_seconds": later, "metadata": {"v": 2} })),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let key = p.backend(Method::GET, &format!("/{id}"), None).await.json();
    assert_eq!(
        (key["expires_at_seconds"].as_i64(), &key["metadata"]),
        (Some(later), &json!({"v": 2}))
    );

    p.backend(
        Method::PATCH,
        &format!("/{id}"),
        Some(json!({ "set_to_never_expire": true })),
    )
    .await;
    assert_eq!(
        p.backend(Method::GET, &format!("/{id}"), None).await.json()["expires_at_seconds"],
        Value::Null
    );

    let bad = p
        .backend(
            Method::PATCH,
            &format!("/{id}"),
            Some(json!({ "set_to_never_expire": "yes" })),
        )
        .await;
    assert_eq!(bad.status, 400);
    let unknown = p
        .backend(
            Method::PATCH,
            &format!("/{}", "0".repeat(32)),
            Some(json!({})),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn backend_lists_page_filter_and_validate_paging() {
    let p = PropelAuth::start().await;
    p.h.emulator.seed(25, SeedOwner::User);
    p.h.emulator.seed(3, SeedOwner::Org);
    let page = p
        .backend(
            Method::GET,
            &format!("?user_id={}&page_size=10&page_number=2", p.creds.user_id),
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            page["total_api_keys"].as_u64(),
            page["api_keys"].as_array().unwrap().len()
        ),
        (Some(25), 5)
    );
    assert_eq!(
        (
            page["current_page"].as_u64(),
            page["has_more_results"].as_bool()
        ),
        (Some(2), Some(false))
    );
    let org = p
        .backend(Method::GET, &format!("?org_id={}", p.creds.org_id), None)
        .await
        .json();
    assert_eq!(org["total_api_keys"], 3);
    let by_email = p
        .backend(
            Method::GET,
            &format!("?user_email={}", p.creds.user_email),
            None,
        )
        .await
        .json();
    assert_eq!(by_email["total_api_keys"], 25);
    let personal = p
        .backend(Method::GET, "?api_key_type=personal", None)
        .await
        .json();
    assert_eq!(personal["total_api_keys"], 25);

    for (query, field) in [
        ("?page_size=0", "page_size"),
        ("?page_size=101", "page_size"),
        ("?page_number=-1", "page_number"),
        ("?api_key_type=robot", "api_key_type"),
    ] {
        let reply = p.backend(Method::GET, query, None).await;
        assert_eq!(reply.status, 400, "{query}");
        assert!(reply.json()[field].is_string(), "{query}: {}", reply.text);
    }
}

#[tokio::test]
async fn the_frontend_api_needs_a_session_and_the_csrf_header() {
    let p = PropelAuth::start().await;
    let url = p.h.url(&format!("{FE}/personal_api_keys"));
    let no_cookie = send(p.h.http.get(&url).header("X-CSRF-Token", "-.-")).await;
    fe_error(&no_cookie, 401, "not_logged_in");
    let forged = send(
        p.h.http
            .get(&url)
            .header("Cookie", "propelauth_session=forged")
            .header("X-CSRF-Token", "-.-"),
    )
    .await;
    fe_error(&forged, 401, "not_logged_in");
    let no_csrf = send(p.h.http.get(&url).header("Cookie", &p.cookie)).await;
    fe_error(&no_csrf, 401, "not_logged_in");
    let ok = p.frontend(Method::GET, "/personal_api_keys", None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn frontend_create_maps_expiration_options() {
    let p = PropelAuth::start().await;
    let now = now_seconds();
    let expected = [
        ("TwoWeeks", 14..=14),
        ("OneMonth", 28..=31),
        ("ThreeMonths", 89..=92),
        ("SixMonths", 181..=184),
        ("OneYear", 365..=366),
    ];
    for (option, range) in expected {
        let reply = p
            .frontend(
                Method::POST,
                "/api_keys",
                Some(json!({ "expiration_option": option })),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let id = reply.json()["api_key_id"].as_str().unwrap().to_owned();
        let key = p.backend(Method::GET, &format!("/{id}"), None).await.json();
        let got = (key["expires_at_seconds"].as_i64().unwrap() - now) / 86_400;
        assert!(range.contains(&got), "{option}: {got} days");
        assert_eq!(key["user_id"], p.creds.user_id.as_str());
    }
    let never = p
        .frontend(
            Method::POST,
            "/api_keys",
            Some(json!({ "expiration_option": "Never" })),
        )
        .await
        .json();
    let key = p
        .backend(
            Method::GET,
            &format!("/{}", never["api_key_id"].as_str().unwrap()),
            None,
        )
        .await
        .json();
    assert_eq!(key["expires_at_seconds"], Value::Null);

    for bad in [
        json!({ "expiration_option": "Fortnight" }),
        json!({ "expiration_option": 14 }),
    ] {
        let reply = p.frontend(Method::POST, "/api_keys", Some(bad)).await;
        fe_error(&reply, 400, "bad_request");
    }
}

#[tokio::test]
async fn frontend_org_keys_need_membership() {
    let p = PropelAuth::start().await;
    let created = p
        .frontend(
            Method::POST,
            "/api_keys",
            Some(json!({ "org_id": p.creds.org_id, "expiration_option": "OneYear" })),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let forbidden = p
        .frontend(
            Method::POST,
            "/api_keys",
            Some(json!({ "org_id": p.creds.other_org_id, "expiration_option": "OneYear" })),
        )
        .await;
    fe_error(&forbidden, 403, "action_forbidden");

    let list = p
        .frontend(
            Method::GET,
            &format!("/org_api_keys?org_id={}", p.creds.org_id),
            None,
        )
        .await;
    assert_eq!(list.status, 200);
    let page = list.json();
    assert_eq!(page["total_api_keys"], 1);
    let item = page["api_keys"][0].as_object().unwrap();
    assert!(
        !item.contains_key("user_id") && !item.contains_key("org_id"),
        "{item:?}"
    );

    let other = p
        .frontend(
            Method::GET,
            &format!("/org_api_keys?org_id={}", p.creds.other_org_id),
            None,
        )
        .await;
    fe_error(&other, 403, "action_forbidden");
    let unknown = p
        .frontend(
            Method::GET,
            "/org_api_keys?org_id=00000000-0000-4000-8000-000000000000",
            None,
        )
        .await;
    fe_error(&unknown, 404, "org_not_found");
    let missing = p.frontend(Method::GET, "/org_api_keys", None).await;
    assert!(
        fe_error(&missing, 400, "invalid_request_fields")["field_errors"]["org_id"].is_string()
    );
}

#[tokio::test]
async fn frontend_personal_list_pages_and_searches() {
    let p = PropelAuth::start().await;
    p.h.emulator.seed(12, SeedOwner::User);
    let (named, _) = p
        .create(json!({ "user_id": p.creds.user_id, "display_name": "CI runner" }))
        .await;
    // Org keys are not personal keys.
    p.create(json!({ "org_id": p.creds.org_id, "user_id": p.creds.user_id }))
        .await;

    let first = p
        .frontend(Method::GET, "/personal_api_keys?page_size=5", None)
        .await
        .json();
    assert_eq!(first["total_api_keys"], 13);
    assert_eq!(first["api_keys"].as_array().unwrap().len(), 5);
    assert_eq!(first["has_more_results"], true);
    // Released list items: id, times and metadata; no owner ids and no display name
    // (frontend-apis `fetchPersonalApiKeys.ts`, `PersonalApiKey`).
    let newest = first["api_keys"][0].as_object().unwrap();
    let mut fields: Vec<&str> = newest.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["api_key_id", "created_at", "expires_at_seconds", "metadata"]
    );
    assert_eq!(newest["api_key_id"], named.as_str());
    let last = p
        .frontend(
            Method::GET,
            "/personal_api_keys?page_size=5&page_number=2",
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            last["api_keys"].as_array().unwrap().len(),
            &last["has_more_results"]
        ),
        (3, &json!(false))
    );
    // `api_key_search` filters by key id ("Filter by Key ID"): a name finds nothing.
    let by_name = p
        .frontend(
            Method::GET,
            "/personal_api_keys?api_key_search=ci%20RUN",
            None,
        )
        .await
        .json();
    assert_eq!(by_name["total_api_keys"], 0);
    let by_id = p
        .frontend(
            Method::GET,
            &format!("/personal_api_keys?api_key_search={named}"),
            None,
        )
        .await
        .json();
    assert_eq!(by_id["total_api_keys"], 1);
    assert_eq!(by_id["api_keys"][0]["api_key_id"], named.as_str());

    for query in ["page_size=0", "page_size=1000", "page_number=x"] {
        let reply = p
            .frontend(Method::GET, &format!("/personal_api_keys?{query}"), None)
            .await;
        let body = fe_error(&reply, 400, "invalid_request_fields");
        let field = query.split('=').next().unwrap();
        assert!(body["field_errors"][field].is_string(), "{query}: {body}");
        assert!(body["user_facing_errors"][field].is_string());
    }
}

#[tokio::test]
async fn frontend_delete_archives_the_users_keys_only() {
    let p = PropelAuth::start().await;
    let created = p
        .frontend(
            Method::POST,
            "/api_keys",
            Some(json!({ "expiration_option": "TwoWeeks" })),
        )
        .await
        .json();
    let id = created["api_key_id"].as_str().unwrap();
    let deleted = p
        .frontend(Method::DELETE, &format!("/api_keys/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    fe_error(
        &p.frontend(Method::DELETE, &format!("/api_keys/{id}"), None)
            .await,
        404,
        "not_found",
    );
    assert_eq!(
        p.frontend(Method::GET, "/personal_api_keys", None)
            .await
            .json()["total_api_keys"],
        0
    );
    let archived = p.backend(Method::GET, "/archived", None).await.json();
    assert_eq!(archived["api_keys"][0]["api_key_id"], id);

    // A generic key belongs to nobody the session can speak for.
    let (generic, _) = p.create(json!({})).await;
    fe_error(
        &p.frontend(Method::DELETE, &format!("/api_keys/{generic}"), None)
            .await,
        403,
        "action_forbidden",
    );
}

#[tokio::test]
async fn the_login_page_sets_a_session_cookie_for_the_frontend_api() {
    let p = PropelAuth::start().await;
    let page = send(p.h.http.get(&p.creds.login_url)).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("<form") && page.text.contains("name=\"password\""));
    assert!(
        !page.text.contains("http://")
            && !page.text.contains("https://")
            && !page.text.contains("<script")
    );

    let wrong = send(
        p.h.http
            .post(&p.creds.login_url)
            .form(&[("email", p.creds.user_email.as_str()), ("password", "nope")]),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    assert!(wrong.text.contains("Incorrect email or password") && wrong.text.contains("<form"));

    let right = send(p.h.http.post(&p.creds.login_url).form(&[
        ("email", p.creds.user_email.as_str()),
        ("password", p.creds.user_password.as_str()),
    ]))
    .await;
    assert_eq!(right.status, 200);
    assert!(right.text.contains("Signed in"));
    let set_cookie = right.header("set-cookie").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with(&format!("{}=", p.creds.session_cookie)));

    let list = send(
        p.h.http
            .get(p.h.url(&format!("{FE}/personal_api_keys")))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", "-.-"),
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text);

    let logout = send(
        p.h.http
            .post(p.h.url(&format!("{FE}/logout")))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", "-.-"),
    )
    .await;
    assert_eq!(logout.status, 200);
    let after = send(
        p.h.http
            .get(p.h.url(&format!("{FE}/personal_api_keys")))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", "-.-"),
    )
    .await;
    fe_error(&after, 401, "not_logged_in");
}

#[tokio::test]
async fn frontend_create_answers_as_released_and_keeps_no_name() {
    let p = PropelAuth::start().await;
    let reply = p
        .frontend(
            Method::POST,
            "/api_keys",
            Some(json!({ "expiration_option": "OneMonth", "display_name": "laptop" })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let created = reply.json();
    let mut fields: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["api_key_id", "api_key_token"]);
    let id = created["api_key_id"].as_str().unwrap();
    // The released server ignores the name: the backend API reads none back either.
    let read = p.backend(Method::GET, &format!("/{id}"), None).await.json();
    assert_eq!(read["display_name"], Value::Null);
}

#[tokio::test]
async fn validate_answers_an_unknown_token_as_switched() {
    let p = PropelAuth::start().await;
    // Default: the 400 keyed by field, which node-apis handles.
    let unknown = p.validate("00ff00ff").await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
    assert!(unknown.json()["api_key_token"].is_string());

    let switched =
        p.h.http
            .put(p.h.url("/__emulator/propelauth"))
            .json(&json!({ "validate_unknown": "not_found" }))
            .send()
            .await
            .unwrap();
    assert_eq!(switched.status(), 200);
    let unknown = p.validate("00ff00ff").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text.is_empty(), "{}", unknown.text);
    // A live token still validates.
    let (_, token) = p.create(json!({ "user_id": p.creds.user_id })).await;
    assert_eq!(p.validate(&token).await.status, 200);

    let state: Value =
        p.h.http
            .get(p.h.url("/__emulator/propelauth"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(state["validate_unknown"], "not_found");
    let bad =
        p.h.http
            .put(p.h.url("/__emulator/propelauth"))
            .json(&json!({ "validate_unknown": "maybe" }))
            .send()
            .await
            .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_lower_page_size_limit_is_refused_with_each_apis_field_error() {
    let p = PropelAuth::start().await;
    let set =
        p.h.http
            .put(p.h.url("/__emulator/propelauth"))
            .json(&json!({ "max_page_size": 25 }))
            .send()
            .await
            .unwrap();
    assert_eq!(set.status(), 200);
    let backend = p.backend(Method::GET, "?page_size=50", None).await;
    assert_eq!(backend.status, 400, "{}", backend.text);
    assert!(backend.json()["page_size"].is_string(), "{}", backend.text);
    assert_eq!(
        p.backend(Method::GET, "?page_size=25", None).await.status,
        200
    );
    let frontend = p
        .frontend(Method::GET, "/personal_api_keys?page_size=50", None)
        .await;
    let body = fe_error(&frontend, 400, "invalid_request_fields");
    assert!(body["field_errors"]["page_size"].is_string(), "{body}");
    let fine = p
        .frontend(Method::GET, "/personal_api_keys?page_size=25", None)
        .await;
    assert_eq!(fine.status, 200);
}
