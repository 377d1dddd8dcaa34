//! FreeSewing's API keys as the real v3 backend (freesewing/freesewing `sites/backend`) serves them:
//! every route in a `/…/jwt` (Bearer JWT) and a `/…/key` (HTTP Basic `key:secret`) variant,
//! `{result, …}` bodies, 401 as plain text from the auth layer, 404 with an empty body, ISO-8601
//! dates and integer user ids, and the server's warts: an unknown key id in Basic auth crashes it,
//! expired keys still authenticate, `expiresIn` has no maximum. Each behaviour and its vendor file
//! is listed in `docs/backends/freesewing.md`.

mod jwt;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::http::{basic_credentials, bearer_token, json as respond, json_body, too_many_requests};
use crate::seed::{SeedAccount, SeedOwner, SeedSpec};
use crate::server::ConnectionKill;
use crate::store::{random_bytes, random_hex, uuid_v4, Clock, KeyStore};
use crate::Credentials;

/// The seeded FreeSewing accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FreeSewingCredentials {
    /// A user with role `user` (level 4).
    pub user_id: i64,
    pub username: String,
    /// A level-4 key of that user, for the `/…/key` routes: HTTP Basic `api_key:api_secret`.
    pub api_key: String,
    pub api_secret: String,
    /// A JWT of that user, for the `/…/jwt` routes; minted at start, valid for 7 days.
    pub jwt: String,
    /// A user with role `admin` (level 9), who may act on other users' keys.
    pub admin_user_id: i64,
    pub admin_jwt: String,
    /// A level-9 key of the admin.
    pub admin_api_key: String,
    pub admin_api_secret: String,
    /// A user with role `support` (level 8).
    pub support_user_id: i64,
    pub support_jwt: String,
}

/// The switches for the real server's behaviours a test may want to turn off (or on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FreeSewingSwitches {
    /// Basic auth with a key id that does not exist drops the connection unanswered and counts a
    /// crash, as the real server's process dies there. On by default, like the real server; off,
    /// such a request is a clean 401.
    pub crash_on_unknown_key: bool,
    /// Create answers `200 {"result":"success", apikey}` without `createdAt`, as the seed
    /// document's example (and the older model) do, instead of `201 {"result":"created", …}`.
    pub seed_shaped_create: bool,
}

impl Default for FreeSewingSwitches {
    fn default() -> Self {
        Self {
            crash_on_unknown_key: true,
            seed_shaped_create: false,
        }
    }
}

const API_KEY: &str = "508e97f2-4a06-4937-a294-6360217103f3";
const API_SECRET: &str = "2d06ba09d08e709497fca38ee5ecbad9fe9869f1d6a331dd1257c5d88e6a5cd9";
const ADMIN_API_KEY: &str = "9b1f3c2e-6d4a-4e8b-b7c1-0a2d4f6e8c93";
const ADMIN_API_SECRET: &str = "7f3e9a1c5b2d8e4f6a0c1b3d5e7f9a2c4b6d8e0f1a3c5b7d9e2f4a6c8b0d1e3f";
/// `aud` is `${api}/${instance}`; the real default instance is a start timestamp.
const INSTANCE: &str = "emulator";
const JWT_LIFETIME_DAYS: i64 = 7;

/// Valid key levels are 0..=9 (`apikeys.levels` in sites/backend/src/config.mjs); the RBAC
/// thresholds the routes use (sites/backend/src/utils/rbac.mjs with the role levels: readSome 1,
/// user 4, admin 9).
const MAX_LEVEL: f64 = 9.0;
const READ_LEVEL: u8 = 1;
const WRITE_LEVEL: u8 = 4;
const ADMIN_LEVEL: u8 = 9;

/// Roles and their levels, from packages/config/src/roles.mjs (`roles.levels`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Support,
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }

    fn level(self) -> u8 {
        match self {
            Role::User => 4,
            Role::Support => 8,
            Role::Admin => ADMIN_LEVEL,
        }
    }
}

struct User {
    id: i64,
    username: &'static str,
    role: Role,
    /// The real middleware needs `status ≥ 1` and `consent ≥ 1`; the seeded users pass both.
    status: i64,
    consent: i64,
}

const USERS: [User; 3] = [
    User {
        id: 1,
        username: "ada",
        role: Role::User,
        status: 1,
        consent: 1,
    },
    User {
        id: 2,
        username: "admin",
        role: Role::Admin,
        status: 1,
        consent: 1,
    },
    User {
        id: 3,
        username: "sam",
        role: Role::Support,
        status: 1,
        consent: 1,
    },
];

fn find_user(id: i64) -> Option<&'static User> {
    USERS
        .iter()
        .find(|user| user.id == id && user.status >= 1 && user.consent >= 1)
}

struct ApiKey {
    id: String,
    name: String,
    level: u8,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_id: i64,
    calls: u64,
    last_seen: Option<DateTime<Utc>>,
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Who is calling, and at which level: the key's level with Basic auth, the role's with a JWT.
struct Caller {
    user: &'static User,
    level: u8,
    /// The key used, with Basic auth.
    key_id: Option<String>,
}

pub(crate) struct FreeSewing {
    pub(crate) credentials: Credentials,
    clock: Arc<Clock>,
    jwt_key: Vec<u8>,
    audience: String,
    issuer: String,
    keys: Mutex<KeyStore<ApiKey>>,
    switches: Mutex<FreeSewingSwitches>,
    /// Requests that would have crashed the real server.
    crashes: AtomicU64,
}

impl FreeSewing {
    pub(crate) fn new(base_url: &str, clock: Arc<Clock>) -> Self {
        let mut fs = Self {
            credentials: Credentials::FreeSewing(FreeSewingCredentials {
                user_id: USERS[0].id,
                username: USERS[0].username.to_owned(),
                api_key: API_KEY.to_owned(),
                api_secret: API_SECRET.to_owned(),
                jwt: String::new(),
                admin_user_id: USERS[1].id,
                admin_jwt: String::new(),
                admin_api_key: ADMIN_API_KEY.to_owned(),
                admin_api_secret: ADMIN_API_SECRET.to_owned(),
                support_user_id: USERS[2].id,
                support_jwt: String::new(),
            }),
            clock,
            jwt_key: random_bytes(32),
            audience: format!("{base_url}/{INSTANCE}"),
            issuer: base_url.to_owned(),
            keys: Mutex::new(KeyStore::default()),
            switches: Mutex::new(FreeSewingSwitches::default()),
            crashes: AtomicU64::new(0),
        };
        let now = fs.clock.now();
        let jwts = USERS.map(|user| fs.mint_jwt(&user, now));
        if let Credentials::FreeSewing(credentials) = &mut fs.credentials {
            let [jwt, admin_jwt, support_jwt] = jwts;
            credentials.jwt = jwt;
            credentials.admin_jwt = admin_jwt;
            credentials.support_jwt = support_jwt;
        }
        let mut keys = fs.keys();
        for (id, secret, name, user) in [
            (API_KEY, API_SECRET, "Seeded key", &USERS[0]),
            (
                ADMIN_API_KEY,
                ADMIN_API_SECRET,
                "Seeded admin key",
                &USERS[1],
            ),
        ] {
            let key = ApiKey {
                id: id.to_owned(),
                name: name.to_owned(),
                level: user.role.level(),
                created_at: now,
                expires_at: now + chrono::Duration::days(365),
                user_id: user.id,
                calls: 0,
                last_seen: None,
            };
            keys.insert(id, secret, key);
        }
        drop(keys);
        fs
    }

    pub(crate) fn switches(&self) -> FreeSewingSwitches {
        *self
            .switches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn set_switches(&self, switches: FreeSewingSwitches) {
        *self
            .switches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = switches;
    }

    /// Requests that would have crashed the real server since start (or the last reset).
    pub(crate) fn crashes(&self) -> u64 {
        self.crashes.load(Ordering::Relaxed)
    }

    pub(crate) fn reset_crashes(&self) {
        self.crashes.store(0, Ordering::Relaxed);
    }

    fn mint_jwt(&self, user: &User, now: DateTime<Utc>) -> String {
        let claims = json!({
            "_id": user.id,
            "username": user.username,
            "role": user.role.name(),
            "status": user.status,
            "aud": self.audience,
            "iss": self.issuer,
            "iat": now.timestamp(),
            "exp": (now + chrono::Duration::days(JWT_LIFETIME_DAYS)).timestamp(),
        });
        jwt::sign(&claims, &self.jwt_key)
    }

    pub(crate) fn router(self: Arc<Self>) -> Router {
        // The routes passport guards with its Basic strategy, where an unknown key id crashes.
        let basic = Router::new()
            .route("/apikeys/key", get(list::<Basic>).post(create::<Basic>))
            .route(
                "/apikeys/{id}/key",
                get(read::<Basic>).delete(remove::<Basic>),
            )
            .route("/whoami/key", get(whoami))
            .route("/account/key", get(account::<Basic>))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                crash_on_unknown_key,
            ));
        Router::new()
            .route("/apikeys/jwt", get(list::<Jwt>).post(create::<Jwt>))
            .route("/apikeys/{id}/jwt", get(read::<Jwt>).delete(remove::<Jwt>))
            .route("/whoami/jwt", get(account::<Jwt>))
            .route("/account/jwt", get(account::<Jwt>))
            .merge(basic)
            .fallback(|| async { not_found() })
            .with_state(self)
    }

    /// Its one account that owns keys: the seeded user (the admin's keys are not seeded).
    pub(crate) fn accounts(&self) -> Vec<SeedAccount> {
        vec![SeedAccount {
            kind: SeedOwner::User,
            id: USERS[0].id.to_string(),
        }]
    }

    /// Seeded keys belong to the seeded user (FreeSewing has no orgs, and lists only the caller's
    /// keys, so `SeedSpec::owners` does not apply), with levels 1 to 4.
    pub(crate) fn seed(&self, spec: &SeedSpec, first: usize) -> Vec<String> {
        let now = self.clock.now();
        let mut keys = self.keys();
        let mut ids = vec![String::new(); spec.count];
        for index in spec.insertion_order(now) {
            let id = uuid_v4();
            let last_seen = spec.last_used(index, now);
            let key = ApiKey {
                id: id.clone(),
                name: spec.name(first, index),
                level: 1 + (index % 4) as u8,
                created_at: spec.created(index, now),
                // Every FreeSewing key expires: "never" becomes the 365-day maximum.
                expires_at: spec
                    .expiry(index, now)
                    .unwrap_or(now + chrono::Duration::days(365)),
                user_id: USERS[0].id,
                // Used keys were called a few times; how often does not matter.
                calls: if last_seen.is_some() {
                    1 + (index % 50) as u64
                } else {
                    0
                },
                last_seen,
            };
            keys.insert(&id, &random_hex(32), key);
            ids[index] = id;
        }
        ids
    }

    fn keys(&self) -> MutexGuard<'_, KeyStore<ApiKey>> {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn authenticate_jwt(&self, headers: &HeaderMap) -> Result<Caller, Response> {
        let claims = bearer_token(headers)
            .and_then(|token| jwt::verify(token, &self.jwt_key))
            .ok_or_else(unauthorized)?;
        let now = self.clock.now().timestamp();
        let valid = claims["aud"] == self.audience.as_str()
            && claims["iss"] == self.issuer.as_str()
            && claims["exp"].as_i64().is_some_and(|exp| exp > now);
        let user = claims["_id"]
            .as_i64()
            .and_then(find_user)
            .filter(|_| valid)
            .ok_or_else(unauthorized)?;
        Ok(Caller {
            user,
            level: user.role.level(),
            key_id: None,
        })
    }

    /// Basic `key:secret`. Like the real server (sites/backend/src/middleware.mjs: the Basic
    /// strategy checks the secret, `aud` and the user, never `expiresAt`), an expired key still
    /// gets in. An unknown id only reaches here with the crash switch off (then: a clean 401).
    fn authenticate_basic(&self, headers: &HeaderMap) -> Result<Caller, Response> {
        let (id, secret) = basic_credentials(headers).ok_or_else(unauthorized_basic)?;
        let now = self.clock.now();
        let mut keys = self.keys();
        if !keys.secret_matches(&id, &secret) {
            return Err(unauthorized_basic());
        }
        let key = keys.get_mut(&id).ok_or_else(unauthorized_basic)?;
        let user = find_user(key.user_id).ok_or_else(unauthorized_basic)?;
        key.calls += 1;
        key.last_seen = Some(now);
        Ok(Caller {
            user,
            level: key.level,
            key_id: Some(id),
        })
    }
}

/// The two auth variants of every route, chosen by the route's suffix.
trait Scheme: Send + Sync + 'static {
    fn authenticate(fs: &FreeSewing, headers: &HeaderMap) -> Result<Caller, Response>;
}

/// `/…/jwt`: `Authorization: Bearer <JWT>`.
struct Jwt;
/// `/…/key`: HTTP Basic with the key id and secret.
struct Basic;

impl Scheme for Jwt {
    fn authenticate(fs: &FreeSewing, headers: &HeaderMap) -> Result<Caller, Response> {
        fs.authenticate_jwt(headers)
    }
}

impl Scheme for Basic {
    fn authenticate(fs: &FreeSewing, headers: &HeaderMap) -> Result<Caller, Response> {
        fs.authenticate_basic(headers)
    }
}

/// The real server's crash: its Basic strategy (sites/backend/src/middleware.mjs) calls
/// `ApikeyModel.verify` (sites/backend/src/models/apikey.mjs), which reads the record and then
/// uses `this.record.secret` without a null check. For an unknown id that throws inside an async
/// passport callback; nothing catches it, the process exits and the client gets an empty reply.
/// Here the connection is closed unanswered and a crash is counted; the emulator itself lives on.
async fn crash_on_unknown_key(
    State(fs): State<Arc<FreeSewing>>,
    request: Request,
    next: Next,
) -> Response {
    let unknown = basic_credentials(request.headers())
        .is_some_and(|(id, _)| fs.switches().crash_on_unknown_key && fs.keys().get(&id).is_none());
    if !unknown {
        return next.run(request).await;
    }
    fs.crashes.fetch_add(1, Ordering::Relaxed);
    request
        .extensions()
        .get::<ConnectionKill>()
        .expect("server::serve_connection inserts a ConnectionKill into every request")
        .kill();
    // The connection task drops the connection; nothing is ever answered.
    std::future::pending().await
}

// ---------------------------------------------------------------------------------------------
// Responses

type Reply = Result<Response, Response>;

fn error(status: StatusCode, code: &str) -> Response {
    respond(status, json!({ "result": "error", "error": code }))
}

/// passport's failure: plain `Unauthorized`, no JSON.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Unauthorized",
    )
        .into_response()
}

/// passport-http's Basic failure adds the challenge.
fn unauthorized_basic() -> Response {
    let mut response = unauthorized();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        "Basic realm=\"Users\""
            .parse()
            .expect("a valid header value"),
    );
    response
}

/// The model decorator sends 404 with no body at all.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Body::empty()).into_response()
}

fn forbidden() -> Response {
    error(StatusCode::FORBIDDEN, "insufficientAccessLevel")
}

/// The fault layer's 500: create's documented code, a generic one elsewhere.
pub(crate) fn failure(route: &str) -> Response {
    let code = if route.starts_with("POST /apikeys/") {
        "createApikeyFailed"
    } else {
        "internalError"
    };
    error(StatusCode::INTERNAL_SERVER_ERROR, code)
}

pub(crate) fn rate_limited(retry_in: Duration) -> Response {
    too_many_requests(
        retry_in,
        json!({ "result": "error", "error": "tooManyRequests" }),
    )
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// JavaScript truthiness, which the real validation uses (so `0` and `""` count as missing).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The validation order and codes of `ApikeyModel.create` (sites/backend/src/models/apikey.mjs),
/// each a 400. `expiresIn` has no maximum: the code compares with `config.apikeys.maxExpirySeconds`,
/// which the config never defines (it has `expiryMaxSeconds`), so `x > undefined` is always false.
fn validate_create(body: &[u8], caller: &Caller) -> Result<(String, u8, f64), Response> {
    let bad = |code| error(StatusCode::BAD_REQUEST, code);
    let object = match json_body(body) {
        Ok(Some(Value::Object(object))) if !object.is_empty() => object,
        _ => return Err(bad("postBodyMissing")),
    };
    let present = |name: &str| object.get(name).filter(|v| truthy(v));
    let name = present("name").ok_or_else(|| bad("nameMissing"))?;
    let level = present("level").ok_or_else(|| bad("levelMissing"))?;
    let level = level.as_f64().ok_or_else(|| bad("levelNotNumeric"))?;
    if level.fract() != 0.0 || !(0.0..=MAX_LEVEL).contains(&level) {
        return Err(bad("invalidLevel"));
    }
    let expires_in = present("expiresIn").ok_or_else(|| bad("expiresInMissing"))?;
    let expires_in = expires_in
        .as_f64()
        .ok_or_else(|| bad("expiresIsNotNumeric"))?;
    let level = level as u8;
    // The real check compares to the user's role (`config.roles.levels[user.role]`), not to the
    // calling key's level.
    if level > caller.user.role.level() {
        return Err(bad("keyLevelExceedsRoleLevel"));
    }
    let name = match name {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    Ok((name, level, expires_in))
}

async fn create<S: Scheme>(
    State(fs): State<Arc<FreeSewing>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let caller = S::authenticate(&fs, &headers)?;
    let (name, level, expires_in) = validate_create(&body, &caller)?;
    let now = fs.clock.now();
    // With no maximum, a huge `expiresIn` makes an invalid JS Date, which the database refuses.
    let expires_at = chrono::Duration::try_milliseconds((expires_in * 1000.0) as i64)
        .and_then(|lifetime| now.checked_add_signed(lifetime))
        .filter(|at| at.timestamp().abs() < 8_640_000_000_000)
        .ok_or_else(|| error(StatusCode::INTERNAL_SERVER_ERROR, "createApikeyFailed"))?;
    let key = ApiKey {
        id: uuid_v4(),
        name,
        level,
        created_at: now,
        expires_at,
        user_id: caller.user.id,
        calls: 0,
        last_seen: None,
    };
    let secret = random_hex(32);
    let mut apikey = json!({
        "key": key.id,
        "secret": secret,
        "level": key.level,
        "createdAt": iso(key.created_at),
        "expiresAt": iso(key.expires_at),
        "name": key.name,
        "userId": key.user_id,
    });
    // The v3 model answers 201 "created" (tests/apikey.mjs asserts it); the seed document and
    // the older model answer 200 "success" without `createdAt`.
    let (status, result) = if fs.switches().seed_shaped_create {
        apikey.as_object_mut().map(|key| key.remove("createdAt"));
        (StatusCode::OK, "success")
    } else {
        (StatusCode::CREATED, "created")
    };
    let id = key.id.clone();
    fs.keys().insert(&id, &secret, key);
    Ok(respond(
        status,
        json!({ "result": result, "apikey": apikey }),
    ))
}

/// All of the caller's keys, expired ones included; no paging, no search.
async fn list<S: Scheme>(State(fs): State<Arc<FreeSewing>>, headers: HeaderMap) -> Reply {
    let caller = S::authenticate(&fs, &headers)?;
    let keys = fs.keys();
    let items: Vec<Value> = keys
        .oldest_first()
        .filter(|k| k.user_id == caller.user.id)
        .map(|k| {
            json!({
                "id": k.id,
                "calls": k.calls,
                "createdAt": iso(k.created_at),
                "expiresAt": iso(k.expires_at),
                "lastSeen": k.last_seen.map(iso),
                "level": k.level,
                "name": k.name,
                "userId": k.user_id,
            })
        })
        .collect();
    Ok(respond(
        StatusCode::OK,
        json!({ "result": "success", "apikeys": items }),
    ))
}

/// RBAC for acting on key `id`: the caller's level first, then existence, then ownership (other
/// users' keys need admin level).
fn check_access(
    keys: &KeyStore<ApiKey>,
    id: &str,
    caller: &Caller,
    min_level: u8,
) -> Result<(), Response> {
    if caller.level < min_level {
        return Err(forbidden());
    }
    let key = keys.get(id).ok_or_else(not_found)?;
    if key.user_id != caller.user.id && caller.level < ADMIN_LEVEL {
        return Err(forbidden());
    }
    Ok(())
}

async fn read<S: Scheme>(
    State(fs): State<Arc<FreeSewing>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let caller = S::authenticate(&fs, &headers)?;
    let keys = fs.keys();
    check_access(&keys, &id, &caller, READ_LEVEL)?;
    let key = keys.get(&id).ok_or_else(not_found)?;
    let apikey = json!({
        "key": key.id,
        "level": key.level,
        "createdAt": iso(key.created_at),
        "expiresAt": iso(key.expires_at),
        "name": key.name,
        "userId": key.user_id,
    });
    Ok(respond(
        StatusCode::OK,
        json!({ "result": "success", "apikey": apikey }),
    ))
}

/// A hard delete: 204 and no body.
async fn remove<S: Scheme>(
    State(fs): State<Arc<FreeSewing>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let caller = S::authenticate(&fs, &headers)?;
    let mut keys = fs.keys();
    check_access(&keys, &id, &caller, WRITE_LEVEL)?;
    keys.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The key used for this request (Basic auth only; there is no other way to verify a key).
async fn whoami(State(fs): State<Arc<FreeSewing>>, headers: HeaderMap) -> Reply {
    let caller = Basic::authenticate(&fs, &headers)?;
    let keys = fs.keys();
    let key = caller
        .key_id
        .as_deref()
        .and_then(|id| keys.get(id))
        .ok_or_else(not_found)?;
    let apikey = json!({
        "key": key.id,
        "level": key.level,
        "expiresAt": iso(key.expires_at),
        "name": key.name,
        "userId": key.user_id,
    });
    Ok(respond(
        StatusCode::OK,
        json!({ "result": "success", "apikey": apikey }),
    ))
}

/// `GET /whoami/jwt`, `/account/jwt`, `/account/key` (sites/backend/src/routes/users.mjs ->
/// `UserModel.guardedRead`): readSome (level ≥ 1) first, then the account, with its `role`. The
/// real account has many more fields; these are the ones a key manager needs.
async fn account<S: Scheme>(State(fs): State<Arc<FreeSewing>>, headers: HeaderMap) -> Reply {
    let caller = S::authenticate(&fs, &headers)?;
    if caller.level < READ_LEVEL {
        return Err(forbidden());
    }
    let user = caller.user;
    let account = json!({
        "id": user.id,
        "username": user.username,
        "role": user.role.name(),
        "status": user.status,
        "consent": user.consent,
    });
    Ok(respond(
        StatusCode::OK,
        json!({ "result": "success", "account": account }),
    ))
}
