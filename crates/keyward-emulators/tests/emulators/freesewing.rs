//! FreeSewing, as the real v3 server behaves (docs/backends/freesewing.md), warts included.

use std::time::Duration;

use chrono::{DateTime, Utc};
use keyward_emulators::{Flavor, FreeSewingCredentials, FreeSewingSwitches};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::common::{assert_no_secret, is_lower_hex, send, Harness, Reply};

struct FreeSewing {
    h: Harness,
    creds: FreeSewingCredentials,
}

/// How a request authenticates.
enum Auth<'a> {
    Jwt(&'a str),
    Key(&'a str, &'a str),
}

impl FreeSewing {
    async fn start() -> Self {
        let h = Harness::start(Flavor::FreeSewing).await;
        let creds = h
            .emulator
            .credentials()
            .freesewing()
            .expect("freesewing credentials")
            .clone();
        Self { h, creds }
    }

    fn user(&self) -> Auth<'_> {
        Auth::Jwt(&self.creds.jwt)
    }

    fn seeded_key(&self) -> Auth<'_> {
        Auth::Key(&self.creds.api_key, &self.creds.api_secret)
    }

    /// `path` without its suffix: `/jwt` or `/key` is added according to `auth`.
    fn request(&self, method: Method, path: &str, auth: &Auth) -> RequestBuilder {
        let suffix = match auth {
            Auth::Jwt(_) => "jwt",
            Auth::Key(..) => "key",
        };
        let builder = self
            .h
            .http
            .request(method, self.h.url(&format!("{path}/{suffix}")));
        match auth {
            Auth::Jwt(token) => builder.bearer_auth(token),
            Auth::Key(key, secret) => builder.basic_auth(key, Some(secret)),
        }
    }

    async fn create(&self, auth: &Auth<'_>, body: Value) -> Reply {
        send(self.request(Method::POST, "/apikeys", auth).json(&body)).await
    }

    /// Creates a key as the seeded user; returns `(key, secret)`.
    async fn create_key(&self, level: u8, expires_in: u64) -> (String, String) {
        let reply = self
            .create(
                &self.user(),
                json!({ "name": "test key", "level": level, "expiresIn": expires_in }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let apikey = reply.json()["apikey"].clone();
        (
            apikey["key"].as_str().unwrap().to_owned(),
            apikey["secret"].as_str().unwrap().to_owned(),
        )
    }
}

fn date(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a date: {value}"));
    // `toISOString` form: milliseconds and `Z`.
    assert!(text.ends_with('Z') && text.len() == 24, "{text}");
    text.parse().unwrap()
}

fn fs_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "result": "error", "error": code }));
}

#[tokio::test]
async fn create_shows_the_secret_once() {
    let f = FreeSewing::start().await;
    let reply = f
        .create(
            &f.user(),
            json!({ "name": "My CI key", "level": 3, "expiresIn": 2_592_000 }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["result"], "created");
    let key = &body["apikey"];
    let id = key["key"].as_str().unwrap().to_owned();
    let secret = key["secret"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "UUID v4: {id}");
    assert!(is_lower_hex(&secret, 64));
    assert_eq!(
        (key["level"].as_u64(), &key["name"], key["userId"].as_i64()),
        (Some(3), &json!("My CI key"), Some(f.creds.user_id))
    );
    assert_eq!(
        (date(&key["expiresAt"]) - date(&key["createdAt"])).num_seconds(),
        2_592_000
    );

    let new_key = Auth::Key(&id, &secret);
    let views = [
        send(f.request(Method::GET, "/apikeys", &f.user())).await,
        send(f.request(Method::GET, &format!("/apikeys/{id}"), &f.user())).await,
        send(f.request(Method::GET, &format!("/apikeys/{id}"), &new_key)).await,
        send(f.request(Method::GET, "/whoami", &new_key)).await,
    ];
    for view in views {
        assert_eq!(view.status, 200, "{}", view.text);
        assert_eq!(view.json()["result"], "success");
        assert_no_secret(&view.text, &secret);
        assert!(!view.text.contains("\"secret\""));
    }
}

#[tokio::test]
async fn create_validates_in_the_documented_order() {
    let f = FreeSewing::start().await;
    let day = 86_400;
    let cases = [
        (json!({}), "postBodyMissing"),
        (json!({ "level": 1, "expiresIn": day }), "nameMissing"),
        (
            json!({ "name": "", "level": 1, "expiresIn": day }),
            "nameMissing",
        ),
        // Name before level.
        (json!({ "name": "", "level": 0 }), "nameMissing"),
        (json!({ "name": "k", "expiresIn": day }), "levelMissing"),
        (
            json!({ "name": "k", "level": 0, "expiresIn": day }),
            "levelMissing",
        ),
        (
            json!({ "name": "k", "level": "3", "expiresIn": day }),
            "levelNotNumeric",
        ),
        (
            json!({ "name": "k", "level": 10, "expiresIn": day }),
            "invalidLevel",
        ),
        (
            json!({ "name": "k", "level": 2.5, "expiresIn": day }),
            "invalidLevel",
        ),
        (
            json!({ "name": "k", "level": -1, "expiresIn": day }),
            "invalidLevel",
        ),
        (json!({ "name": "k", "level": 1 }), "expiresInMissing"),
        (
            json!({ "name": "k", "level": 1, "expiresIn": 0 }),
            "expiresInMissing",
        ),
        (
            json!({ "name": "k", "level": 1, "expiresIn": "60" }),
            "expiresIsNotNumeric",
        ),
        (
            json!({ "name": "k", "level": 5, "expiresIn": day }),
            "keyLevelExceedsRoleLevel",
        ),
    ];
    for (body, code) in cases {
        let reply = f.create(&f.user(), body.clone()).await;
        assert_eq!(reply.json()["error"], code, "{body}");
        fs_error(&reply, 400, code);
    }
    let empty = send(f.request(Method::POST, "/apikeys", &f.user())).await;
    fs_error(&empty, 400, "postBodyMissing");
    // No maximum lifetime: the real check reads a config key that does not exist.
    let ten_years = f
        .create(
            &f.user(),
            json!({ "name": "k", "level": 4, "expiresIn": 3650 * day }),
        )
        .await;
    assert_eq!(ten_years.status, 201, "{}", ten_years.text);
    // Role caps: support 8, admin 9.
    for (jwt, cap) in [(&f.creds.support_jwt, 8), (&f.creds.admin_jwt, 9)] {
        let top = f
            .create(
                &Auth::Jwt(jwt),
                json!({ "name": "k", "level": cap, "expiresIn": day }),
            )
            .await;
        assert_eq!(top.status, 201, "{}", top.text);
        if cap < 9 {
            let above = f
                .create(
                    &Auth::Jwt(jwt),
                    json!({ "name": "k", "level": cap + 1, "expiresIn": day }),
                )
                .await;
            fs_error(&above, 400, "keyLevelExceedsRoleLevel");
        }
    }
    let admin_key = f
        .create(
            &Auth::Key(&f.creds.admin_api_key, &f.creds.admin_api_secret),
            json!({ "name": "k", "level": 9, "expiresIn": day }),
        )
        .await;
    assert_eq!(admin_key.status, 201, "{}", admin_key.text);
}

#[tokio::test]
async fn a_low_level_key_may_mint_a_key_up_to_the_role_level() {
    // The real server compares with the user's role, not the calling key's level.
    let f = FreeSewing::start().await;
    let (id, secret) = f.create_key(1, 3600).await;
    let minted = f
        .create(
            &Auth::Key(&id, &secret),
            json!({ "name": "k", "level": 4, "expiresIn": 60 }),
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.text);
}

#[tokio::test]
async fn bad_credentials_are_401_plain_text() {
    let f = FreeSewing::start().await;
    let unknown_id = "00000000-0000-4000-8000-000000000000";
    let basic_failures = [
        f.h.http.get(f.h.url("/whoami/key")),
        f.h.http
            .get(f.h.url("/whoami/key"))
            .basic_auth(&f.creds.api_key, Some("wrong")),
        f.h.http
            .get(f.h.url("/apikeys/key"))
            .bearer_auth(&f.creds.jwt),
    ];
    for request in basic_failures {
        let reply = send(request).await;
        assert_eq!((reply.status, reply.text.as_str()), (401, "Unauthorized"));
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"Users\"")
        );
    }
    let tampered = format!("{}x", f.creds.jwt);
    let jwt_failures = [
        f.h.http.get(f.h.url("/apikeys/jwt")),
        f.h.http.get(f.h.url("/apikeys/jwt")).bearer_auth(&tampered),
        f.h.http
            .get(f.h.url("/apikeys/jwt"))
            .basic_auth(&f.creds.api_key, Some(&f.creds.api_secret)),
    ];
    for request in jwt_failures {
        let reply = send(request).await;
        assert_eq!((reply.status, reply.text.as_str()), (401, "Unauthorized"));
        assert!(reply.header("www-authenticate").is_none());
    }
    // An unknown key id is a clean 401 only with the crash switch off (see the next test).
    f.h.emulator.set_freesewing_switches(FreeSewingSwitches {
        crash_on_unknown_key: false,
        ..FreeSewingSwitches::default()
    });
    let unknown = send(
        f.h.http
            .get(f.h.url("/whoami/key"))
            .basic_auth(unknown_id, Some(&f.creds.api_secret)),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.text.as_str()),
        (401, "Unauthorized")
    );
    assert_eq!(f.h.emulator.crashes(), 0);
}

#[tokio::test]
async fn an_unknown_key_id_in_basic_auth_crashes_the_server() {
    let f = FreeSewing::start().await;
    assert!(
        f.h.emulator
            .freesewing_switches()
            .unwrap()
            .crash_on_unknown_key
    );
    let unknown_id = "00000000-0000-4000-8000-000000000000";
    // Whatever the secret, on every Basic route: the connection closes with an empty reply.
    for path in [
        "/whoami/key",
        "/apikeys/key",
        "/account/key",
        &format!("/apikeys/{}/key", f.creds.api_key),
    ] {
        let error =
            f.h.http
                .get(f.h.url(path))
                .basic_auth(unknown_id, Some("whatever"))
                .send()
                .await
                .expect_err("no answer");
        assert!(
            !error.is_timeout() && !error.is_connect(),
            "{path}: {error:?}"
        );
    }
    // A Bearer route ignores Basic auth (401), and a known id with a wrong secret is a 401.
    let jwt_route = send(
        f.h.http
            .get(f.h.url("/apikeys/jwt"))
            .basic_auth(unknown_id, Some("whatever")),
    )
    .await;
    assert_eq!(jwt_route.status, 401);
    let wrong = send(
        f.h.http
            .get(f.h.url("/whoami/key"))
            .basic_auth(&f.creds.api_key, Some("wrong")),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(f.h.emulator.crashes(), 4);

    // The admin routes report the crashes and switch the fault.
    let stats = send(f.h.http.get(f.h.url("/__emulator/stats")))
        .await
        .json();
    assert_eq!(stats["crashes"], 4);
    let switches = send(f.h.http.get(f.h.url("/__emulator/freesewing")))
        .await
        .json();
    assert_eq!(
        switches,
        json!({ "crash_on_unknown_key": true, "seed_shaped_create": false, "crashes": 4 })
    );
    let off = send(
        f.h.http
            .put(f.h.url("/__emulator/freesewing"))
            .json(&json!({ "crash_on_unknown_key": false })),
    )
    .await
    .json();
    assert_eq!(off["crash_on_unknown_key"], false);
    assert_eq!(
        send(
            f.h.http
                .get(f.h.url("/whoami/key"))
                .basic_auth(unknown_id, Some("x"))
        )
        .await
        .status,
        401
    );
    let typo = send(
        f.h.http
            .put(f.h.url("/__emulator/freesewing"))
            .json(&json!({ "crash_on_unknown": false })),
    )
    .await;
    assert_eq!(typo.status, 400);
    send(f.h.http.post(f.h.url("/__emulator/stats/reset"))).await;
    assert_eq!(f.h.emulator.crashes(), 0);
}

#[tokio::test]
async fn create_can_answer_in_the_seed_documents_shape() {
    let f = FreeSewing::start().await;
    f.h.emulator.set_freesewing_switches(FreeSewingSwitches {
        seed_shaped_create: true,
        ..FreeSewingSwitches::default()
    });
    let reply = f
        .create(
            &f.user(),
            json!({ "name": "seeded", "level": 2, "expiresIn": 3600 }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["result"], "success");
    let key = &body["apikey"];
    assert!(key.get("createdAt").is_none(), "{key}");
    assert!(is_lower_hex(key["secret"].as_str().unwrap(), 64));
    for field in ["key", "level", "expiresAt", "name", "userId"] {
        assert!(!key[field].is_null(), "{field}");
    }
}

#[tokio::test]
async fn the_account_routes_answer_the_role() {
    let f = FreeSewing::start().await;
    for (auth, path, role) in [
        (f.user(), "/whoami", "user"),
        (f.user(), "/account", "user"),
        (Auth::Jwt(&f.creds.support_jwt), "/whoami", "support"),
        (Auth::Jwt(&f.creds.admin_jwt), "/whoami", "admin"),
        (f.seeded_key(), "/account", "user"),
        (
            Auth::Key(&f.creds.admin_api_key, &f.creds.admin_api_secret),
            "/account",
            "admin",
        ),
    ] {
        let reply = send(f.request(Method::GET, path, &auth)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        let body = reply.json();
        assert_eq!(
            (body["result"].as_str(), body["account"]["role"].as_str()),
            (Some("success"), Some(role))
        );
    }
}

#[tokio::test]
async fn expired_keys_still_authenticate_and_expired_jwts_are_refused() {
    let f = FreeSewing::start().await;
    let (id, secret) = f.create_key(2, 1).await;
    assert_eq!(
        send(f.request(Method::GET, "/whoami", &Auth::Key(&id, &secret)))
            .await
            .status,
        200
    );
    // The real Basic strategy never looks at expiresAt.
    f.h.emulator.advance_clock(Duration::from_secs(2));
    let expired = send(f.request(Method::GET, "/whoami", &Auth::Key(&id, &secret))).await;
    assert_eq!(expired.status, 200, "{}", expired.text);
    assert!(
        date(&expired.json()["apikey"]["expiresAt"]) < Utc::now() + chrono::Duration::seconds(2)
    );
    // Expired keys are still listed.
    let list = send(f.request(Method::GET, "/apikeys", &f.user()))
        .await
        .json();
    assert!(list["apikeys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id.as_str()));
    f.h.emulator.advance_clock(Duration::from_secs(8 * 86_400));
    assert_eq!(
        send(f.request(Method::GET, "/apikeys", &f.user()))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn whoami_returns_the_key_used_and_calls_are_counted() {
    let f = FreeSewing::start().await;
    let reply = send(f.request(Method::GET, "/whoami", &f.seeded_key())).await;
    assert_eq!(reply.status, 200);
    let key = reply.json()["apikey"].clone();
    assert_eq!(key["key"], f.creds.api_key.as_str());
    assert_eq!(
        (key["level"].as_u64(), key["userId"].as_i64()),
        (Some(4), Some(f.creds.user_id))
    );
    date(&key["expiresAt"]);
    assert!(key.get("createdAt").is_none());

    let list = send(f.request(Method::GET, "/apikeys", &f.seeded_key()))
        .await
        .json();
    let item = list["apikeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == f.creds.api_key.as_str())
        .unwrap()
        .clone();
    // whoami and this list call.
    assert_eq!(item["calls"], 2);
    date(&item["lastSeen"]);
    for field in ["createdAt", "expiresAt", "level", "name", "userId"] {
        assert!(!item[field].is_null(), "{field}");
    }
}

#[tokio::test]
async fn read_checks_level_existence_then_ownership() {
    let f = FreeSewing::start().await;
    let (mine, _) = f.create_key(1, 3600).await;
    let read = send(f.request(Method::GET, &format!("/apikeys/{mine}"), &f.seeded_key())).await;
    assert_eq!(read.status, 200);
    let key = read.json()["apikey"].clone();
    assert_eq!(
        (key["key"].as_str(), key["level"].as_u64()),
        (Some(mine.as_str()), Some(1))
    );
    date(&key["createdAt"]);

    let unknown = send(f.request(
        Method::GET,
        "/apikeys/00000000-0000-4000-8000-000000000000",
        &f.user(),
    ))
    .await;
    assert_eq!((unknown.status, unknown.text.as_str()), (404, ""));

    let admin = Auth::Jwt(&f.creds.admin_jwt);
    let admins_key = f
        .create(
            &admin,
            json!({ "name": "admin key", "level": 9, "expiresIn": 3600 }),
        )
        .await
        .json()["apikey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    fs_error(
        &send(f.request(Method::GET, &format!("/apikeys/{admins_key}"), &f.user())).await,
        403,
        "insufficientAccessLevel",
    );
    assert_eq!(
        send(f.request(Method::GET, &format!("/apikeys/{mine}"), &admin))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn delete_needs_level_4_and_returns_204() {
    let f = FreeSewing::start().await;
    let (low, low_secret) = f.create_key(1, 3600).await;
    let (victim, _) = f.create_key(2, 3600).await;
    let refused = send(f.request(
        Method::DELETE,
        &format!("/apikeys/{victim}"),
        &Auth::Key(&low, &low_secret),
    ))
    .await;
    fs_error(&refused, 403, "insufficientAccessLevel");

    let deleted = send(f.request(Method::DELETE, &format!("/apikeys/{victim}"), &f.user())).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    let gone = send(f.request(Method::GET, &format!("/apikeys/{victim}"), &f.user())).await;
    assert_eq!((gone.status, gone.text.as_str()), (404, ""));
    let again = send(f.request(
        Method::DELETE,
        &format!("/apikeys/{victim}"),
        &f.seeded_key(),
    ))
    .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn list_returns_only_the_callers_keys() {
    let f = FreeSewing::start().await;
    f.create_key(3, 60).await;
    f.create(
        &Auth::Jwt(&f.creds.admin_jwt),
        json!({ "name": "admin", "level": 1, "expiresIn": 60 }),
    )
    .await;
    let list = send(f.request(Method::GET, "/apikeys", &f.user()))
        .await
        .json();
    let keys = list["apikeys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the seeded key and the new one");
    assert!(keys.iter().all(|k| k["userId"] == f.creds.user_id));
    assert_eq!(
        f.h.emulator
            .seed(5, keyward_emulators::SeedOwner::User)
            .len(),
        5
    );
    let list = send(f.request(Method::GET, "/apikeys", &f.user()))
        .await
        .json();
    assert_eq!(list["apikeys"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn unknown_routes_are_404_without_a_body() {
    let f = FreeSewing::start().await;
    let reply = send(f.h.http.get(f.h.url("/apikeys/x/y/z"))).await;
    assert_eq!((reply.status, reply.text.as_str()), (404, ""));
}
