//! FreeSewing's API keys (CONTRACTS.md §2): every route in a `/…/jwt` (Bearer JWT) and a `/…/key`
//! (HTTP Basic `key:secret`) variant, `{result, …}` bodies, 401 as plain text from the auth layer,
//! 404 with an empty body, ISO-8601 dates and integer user ids.

mod jwt;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::http::{basic_credentials, bearer_token, json as respond, json_body, too_many_requests};
use crate::seed::{SeedAccount, SeedOwner, SeedSpec};
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
    /// A user with role `admin` (level 8), who may act on other users' keys.
    pub admin_user_id: i64,
    pub admin_jwt: String,
}

const API_KEY: &str = "508e97f2-4a06-4937-a294-6360217103f3";
const API_SECRET: &str = "2d06ba09d08e709497fca38ee5ecbad9fe9869f1d6a331dd1257c5d88e6a5cd9";
/// `aud` is `${api}/${instance}`; the real default instance is a start timestamp.
const INSTANCE: &str = "emulator";
/// Keys live at most 365 days (`config.apikeys.expiryMaxSeconds`), enforced here (see README).
const MAX_EXPIRY_SECONDS: f64 = 365.0 * 24.0 * 3600.0;
const JWT_LIFETIME_DAYS: i64 = 7;

/// Valid key levels are 0..=8; the RBAC thresholds the routes use.
const MAX_LEVEL: f64 = 8.0;
const READ_LEVEL: u8 = 1;
const WRITE_LEVEL: u8 = 4;
const ADMIN_LEVEL: u8 = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    fn level(self) -> u8 {
        match self {
            Role::User => 4,
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

const USERS: [User; 2] = [
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
            }),
            clock,
            jwt_key: random_bytes(32),
            audience: format!("{base_url}/{INSTANCE}"),
            issuer: base_url.to_owned(),
            keys: Mutex::new(KeyStore::default()),
        };
        let now = fs.clock.now();
        let (jwt, admin_jwt) = (fs.mint_jwt(&USERS[0], now), fs.mint_jwt(&USERS[1], now));
        if let Credentials::FreeSewing(credentials) = &mut fs.credentials {
            credentials.jwt = jwt;
            credentials.admin_jwt = admin_jwt;
        }
        let seeded_key = ApiKey {
            id: API_KEY.to_owned(),
            name: "Seeded key".to_owned(),
            level: Role::User.level(),
            created_at: now,
            expires_at: now + chrono::Duration::days(365),
            user_id: USERS[0].id,
            calls: 0,
            last_seen: None,
        };
        fs.keys().insert(API_KEY, API_SECRET, seeded_key);
        fs
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
        Router::new()
            .route("/apikeys/jwt", get(list::<Jwt>).post(create::<Jwt>))
            .route("/apikeys/key", get(list::<Basic>).post(create::<Basic>))
            .route("/apikeys/{id}/jwt", get(read::<Jwt>).delete(remove::<Jwt>))
            .route(
                "/apikeys/{id}/key",
                get(read::<Basic>).delete(remove::<Basic>),
            )
            .route("/whoami/key", get(whoami))
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

    /// Basic `key:secret`. Unlike the real server, unknown and expired keys get a clean 401 (README).
    fn authenticate_basic(&self, headers: &HeaderMap) -> Result<Caller, Response> {
        let (id, secret) = basic_credentials(headers).ok_or_else(unauthorized_basic)?;
        let now = self.clock.now();
        let mut keys = self.keys();
        if !keys.secret_matches(&id, &secret) {
            return Err(unauthorized_basic());
        }
        let key = keys.get_mut(&id).ok_or_else(unauthorized_basic)?;
        let user = find_user(key.user_id)
            .filter(|_| key.expires_at > now)
            .ok_or_else(unauthorized_basic)?;
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

/// The validation order and codes of CONTRACTS.md §2.4, each a 400.
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
    if expires_in > MAX_EXPIRY_SECONDS {
        return Err(bad("expiresIsHigherThanMaximum"));
    }
    let level = level as u8;
    // The real check compares to the user's role, not to the calling key's level.
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
    let key = ApiKey {
        id: uuid_v4(),
        name,
        level,
        created_at: now,
        expires_at: now + chrono::Duration::milliseconds((expires_in * 1000.0) as i64),
        user_id: caller.user.id,
        calls: 0,
        last_seen: None,
    };
    let secret = random_hex(32);
    let body = json!({
        "result": "created",
        "apikey": {
            "key": key.id,
            "secret": secret,
            "level": key.level,
            "createdAt": iso(key.created_at),
            "expiresAt": iso(key.expires_at),
            "name": key.name,
            "userId": key.user_id,
        },
    });
    let id = key.id.clone();
    fs.keys().insert(&id, &secret, key);
    Ok(respond(StatusCode::CREATED, body))
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
