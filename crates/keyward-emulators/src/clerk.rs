//! Clerk API keys: the Backend API (instance secret key) and the Frontend API (session token) on
//! one server, under both `/api_keys…` and `/v1/api_keys…`. Times are Unix milliseconds; every
//! error is `{"errors":[{message,long_message,code,meta?}],"clerk_trace_id"}`. What each route does
//! and which vendor file it comes from: docs/backends/clerk.md.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::http::{bearer_token, json as respond, json_body, query_pairs, too_many_requests};
use crate::seed::{SeedAccount, SeedOwner, SeedSpec};
use crate::store::{random_hex, Clock, KeyStore};
use crate::Credentials;

/// The seeded Clerk instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClerkCredentials {
    /// Backend API: `Authorization: Bearer <secret_key>`.
    pub secret_key: String,
    /// Frontend API: `Authorization: Bearer <session_token>` acts as `user_id`. An opaque stand-in
    /// for a session JWT.
    pub session_token: String,
    /// `user_` + 27 characters.
    pub user_id: String,
    /// `org_` + 27 characters; `user_id` is a member.
    pub org_id: String,
}

const SECRET_KEY: &str = "sk_test_keywardEmulatorInstanceSecretKey0001";
const SESSION_TOKEN: &str = "sess_token_keywardEmulatorSessionOfAda0001";
const USER_ID: &str = "user_2keywardEmulatorAda00000001";
const ORG_ID: &str = "org_2keywardEmulatorAcme0000001";
/// More accounts of the instance, for keys of several owners (`SeedSpec::owners`). Ada's session
/// may not act for them.
const OTHER_USER_ID: &str = "user_2keywardEmulatorGrace000001";
const OTHER_ORG_ID: &str = "org_2keywardEmulatorGlobex00001";

/// Every account that can own keys, in the order `SeedSpec::owners` spreads keys over them.
pub(crate) fn accounts() -> Vec<SeedAccount> {
    [
        (SeedOwner::User, USER_ID),
        (SeedOwner::Org, ORG_ID),
        (SeedOwner::User, OTHER_USER_ID),
        (SeedOwner::Org, OTHER_ORG_ID),
    ]
    .into_iter()
    .map(|(kind, id)| SeedAccount {
        kind,
        id: id.to_owned(),
    })
    .collect()
}

const CREATE_FIELDS: &[&str] = &[
    "name",
    "subject",
    "description",
    "claims",
    "scopes",
    "created_by",
    "seconds_until_expiration",
    "type",
];
const UPDATE_FIELDS: &[&str] = &[
    "subject",
    "description",
    "claims",
    "scopes",
    "seconds_until_expiration",
];

pub(crate) struct Clerk {
    pub(crate) credentials: Credentials,
    clock: Arc<Clock>,
    keys: Mutex<KeyStore<ApiKey>>,
    quirks: Mutex<Quirks>,
}

/// The largest `limit` of `GET /api_keys` (clerk/openapi-specs `bapi/2026-05-12.yml`: `minimum: 1,
/// maximum: 100, default: 10`).
const MAX_LIST_LIMIT: u64 = 100;

/// Emulator-only switches, read and set with `GET`/`PUT /__emulator/clerk`: answers the real
/// service could give (a smaller page maximum, a damaged create answer) that a client must survive.
/// Omitted fields mean "as the real BAPI".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Quirks {
    /// Refuse list pages larger than this (with the usual `limit` error), instead of 100.
    #[serde(default)]
    max_list_limit: Option<u64>,
    /// How create answers, after the key is made.
    #[serde(default)]
    create_answer: CreateAnswer,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum CreateAnswer {
    /// The key with its secret, as the spec says.
    #[default]
    Normal,
    /// The secret is there, the dates are not numbers and `scopes` is not a list.
    BadFields,
    /// The key without its secret.
    NoSecret,
    /// A body that is not JSON, as a proxy in front of Clerk might send.
    NotJson,
}

/// Who is calling: the instance (BAPI secret key) or the seeded user's session (FAPI).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    Instance,
    Session,
}

struct ApiKey {
    id: String,
    /// Kept so the Backend API can answer it again (`GET /api_keys/{id}/secret`), as Clerk does.
    secret: String,
    key_type: String,
    name: String,
    subject: String,
    description: Option<String>,
    claims: Value,
    scopes: Vec<String>,
    revoked: bool,
    revocation_reason: Option<String>,
    /// Unix ms; `None` = never.
    expiration: Option<i64>,
    created_by: Option<String>,
    last_used_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ApiKey {
    fn expired(&self, now: i64) -> bool {
        self.expiration.is_some_and(|at| at <= now)
    }

    fn valid(&self, now: i64) -> bool {
        !self.revoked && !self.expired(now)
    }

    /// The wire object, without `secret` (create adds it).
    fn to_json(&self, now: i64) -> Value {
        json!({
            "object": "api_key",
            "id": self.id,
            "type": self.key_type,
            "name": self.name,
            "subject": self.subject,
            "description": self.description,
            "claims": self.claims,
            "scopes": self.scopes,
            "revoked": self.revoked,
            "revocation_reason": self.revocation_reason,
            "expired": self.expired(now),
            "expiration": self.expiration,
            "created_by": self.created_by,
            "last_used_at": self.last_used_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

impl Clerk {
    pub(crate) fn new(clock: Arc<Clock>) -> Self {
        let credentials = Credentials::Clerk(ClerkCredentials {
            secret_key: SECRET_KEY.to_owned(),
            session_token: SESSION_TOKEN.to_owned(),
            user_id: USER_ID.to_owned(),
            org_id: ORG_ID.to_owned(),
        });
        Self {
            credentials,
            clock,
            keys: Mutex::new(KeyStore::default()),
            quirks: Mutex::new(Quirks::default()),
        }
    }

    pub(crate) fn router(self: Arc<Self>) -> Router {
        let routes = Router::new()
            .route("/api_keys", get(list).post(create))
            .route("/api_keys/verify", post(verify))
            .route("/api_keys/{id}", get(read).patch(update).delete(remove))
            .route("/api_keys/{id}/revoke", post(revoke))
            .route("/api_keys/{id}/secret", get(secret));
        // `@clerk/backend` calls `/api_keys`, versioned by header (clerk/javascript
        // `packages/backend/src/api/factory.ts`, `skipApiVersionInUrl`); the OpenAPI server is `/v1`.
        Router::new()
            .merge(routes.clone())
            .nest("/v1", routes)
            .route("/__emulator/clerk", put(put_quirks).get(get_quirks))
            .fallback(unknown_route)
            .with_state(self)
    }

    pub(crate) fn seed(&self, spec: &SeedSpec, first: usize) -> Vec<String> {
        let accounts = accounts();
        let now = self.clock.now();
        let mut keys = self.keys();
        let mut ids = vec![String::new(); spec.count];
        for index in spec.insertion_order(now) {
            let id = new_id();
            let secret = new_secret();
            let created = spec.created(index, now).timestamp_millis();
            let record = ApiKey {
                id: id.clone(),
                secret: secret.clone(),
                key_type: "api_key".to_owned(),
                name: spec.name(first, index),
                subject: spec.owner_of(index, &accounts).id.clone(),
                description: None,
                claims: Value::Null,
                scopes: Vec::new(),
                revoked: false,
                revocation_reason: None,
                expiration: spec.expiry(index, now).map(|at| at.timestamp_millis()),
                created_by: None,
                last_used_at: spec.last_used(index, now).map(|at| at.timestamp_millis()),
                created_at: created,
                updated_at: created,
            };
            keys.insert(&id, &secret, record);
            ids[index] = id;
        }
        ids
    }

    fn quirks(&self) -> Quirks {
        self.quirks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn keys(&self) -> MutexGuard<'_, KeyStore<ApiKey>> {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Response> {
        match bearer_token(headers) {
            Some(SECRET_KEY) => Ok(Caller::Instance),
            Some(SESSION_TOKEN) => Ok(Caller::Session),
            _ => Err(unauthenticated()),
        }
    }

    /// Backend-API-only routes (get, delete, verify, secret) take no session token.
    fn authenticate_instance(&self, headers: &HeaderMap) -> Result<(), Response> {
        match self.authenticate(headers)? {
            Caller::Instance => Ok(()),
            Caller::Session => Err(unauthenticated()),
        }
    }
}

/// Whether `caller` may act for `subject`: the instance for every existing subject, a session for
/// its user and that user's org. Unknown subjects are 404 for the instance, 403 for a session.
fn check_subject(caller: Caller, subject: &str) -> Result<(), Response> {
    let known = match caller {
        Caller::Instance => [USER_ID, ORG_ID, OTHER_USER_ID, OTHER_ORG_ID].contains(&subject),
        Caller::Session => subject == USER_ID || subject == ORG_ID,
    };
    match (known, caller) {
        (true, _) => Ok(()),
        (false, Caller::Instance) => Err(not_found(&format!(
            "No user or organization with id '{subject}' was found"
        ))),
        (false, Caller::Session) => Err(error(
            StatusCode::FORBIDDEN,
            "authorization_invalid",
            "Unauthorized request",
            "You are not authorized to manage API keys of this subject".to_owned(),
            Some("subject"),
        )),
    }
}

fn new_id() -> String {
    format!("ak_{}", random_hex(16))
}

fn new_secret() -> String {
    format!("ak_{}", random_hex(24))
}

// ---------------------------------------------------------------------------------------------
// Error bodies

/// `{"errors":[…],"clerk_trace_id"}` (bapi spec error schemas; clerk/javascript
/// `packages/backend/src/api/request.ts` `parseErrors`), on the Frontend API too (its spec has
/// the same `ClerkError`, whose `meta` is optional: here only with a `param_name`).
pub(crate) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    long_message: impl Into<String>,
    param: Option<&str>,
) -> Response {
    let long_message = long_message.into();
    let mut error = json!({ "message": message, "long_message": long_message, "code": code });
    if let Some(param) = param {
        error["meta"] = json!({ "param_name": param });
    }
    respond(
        status,
        json!({ "errors": [error], "clerk_trace_id": random_hex(16) }),
    )
}

fn bad_request(param: &str, long_message: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "Bad Request",
        long_message,
        Some(param),
    )
}

fn unauthenticated() -> Response {
    let long = "The request could not be authenticated: send a valid secret key (or session token) as a Bearer token";
    error(
        StatusCode::UNAUTHORIZED,
        "authentication_invalid",
        "Invalid authentication",
        long.to_owned(),
        None,
    )
}

fn not_found(long_message: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "Resource not found",
        long_message.to_owned(),
        None,
    )
}

pub(crate) fn failure() -> Response {
    let long = "There was an internal error on our servers. We've been notified and are working on fixing it.";
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_clerk_error",
        "Oops, an unexpected error occurred",
        long.to_owned(),
        None,
    )
}

pub(crate) fn rate_limited(retry_in: Duration) -> Response {
    let body = json!({
        "errors": [{
            "message": "Too Many Requests",
            "long_message": "Too many requests, please try again later.",
            "code": "too_many_requests",
        }],
        "clerk_trace_id": random_hex(16),
    });
    too_many_requests(retry_in, body)
}

async fn unknown_route() -> Response {
    not_found("The requested resource was not found")
}

// ---------------------------------------------------------------------------------------------
// Request validation: clerk/openapi-specs `bapi/2026-05-12.yml` (schemas of `/api_keys…`)

/// `\w{27}`: ASCII letters, digits and `_`, as in the spec's regexes.
fn is_word27(text: &str) -> bool {
    text.len() == 27 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `^(user|org|mch|scim)_\w{27}$` for the BAPI, `^(user|org)_\w{27}$` for the FAPI.
fn is_subject(text: &str, caller: Caller) -> bool {
    let prefixes: &[&str] = match caller {
        Caller::Instance => &["user_", "org_", "mch_", "scim_"],
        Caller::Session => &["user_", "org_"],
    };
    prefixes
        .iter()
        .any(|p| text.strip_prefix(p).is_some_and(is_word27))
}

/// `^(ak|api_key)_[0-9A-Fa-f]{32}$`
fn check_id(id: &str) -> Result<(), Response> {
    let hex = id
        .strip_prefix("ak_")
        .or_else(|| id.strip_prefix("api_key_"));
    if hex.is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err(bad_request(
            "apiKeyID",
            format!("Invalid 'path_parameter.apiKeyID': Failed regex check: '{id}'"),
        ))
    }
}

/// The body as a JSON object with only `allowed` fields; an empty body is `{}`.
fn object_body(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, Response> {
    let object = match json_body(body) {
        Ok(None) => Map::new(),
        Ok(Some(Value::Object(object))) => object,
        _ => {
            return Err(bad_request(
                "body",
                "Request body must be a JSON object".to_owned(),
            ))
        }
    };
    if let Some(unknown) = object.keys().find(|name| !allowed.contains(&name.as_str())) {
        return Err(bad_request(
            unknown,
            format!("Invalid 'request_body': unknown field '{unknown}'"),
        ));
    }
    Ok(object)
}

fn string_field<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Response> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(bad_request(
            name,
            format!("Invalid 'request_body.{name}': must be a string"),
        )),
    }
}

fn validate_name(object: &Map<String, Value>) -> Result<String, Response> {
    let name = string_field(object, "name")?.ok_or_else(|| {
        bad_request(
            "name",
            "Invalid 'request_body.name': is required".to_owned(),
        )
    })?;
    if name.chars().count() < 3 {
        return Err(bad_request(
            "name",
            "Invalid 'request_body.name': must be at least 3 characters".to_owned(),
        ));
    }
    if name.trim() != name {
        return Err(bad_request(
            "name",
            "Invalid 'request_body.name': Failed regex check".to_owned(),
        ));
    }
    Ok(name.to_owned())
}

fn validate_subject(
    object: &Map<String, Value>,
    caller: Caller,
) -> Result<Option<String>, Response> {
    match string_field(object, "subject")? {
        None => Ok(None),
        Some(subject) if is_subject(subject, caller) => Ok(Some(subject.to_owned())),
        Some(_) => Err(bad_request(
            "subject",
            "Invalid 'request_body.subject': Failed regex check".to_owned(),
        )),
    }
}

fn validate_description(object: &Map<String, Value>) -> Result<Option<String>, Response> {
    let description = string_field(object, "description")?;
    if description.is_some_and(|d| d.chars().count() > 255) {
        return Err(bad_request(
            "description",
            "Invalid 'request_body.description': must be at most 255 characters".to_owned(),
        ));
    }
    Ok(description.map(str::to_owned))
}

fn validate_created_by(object: &Map<String, Value>) -> Result<Option<String>, Response> {
    match string_field(object, "created_by")? {
        None => Ok(None),
        Some(user) if user.strip_prefix("user_").is_some_and(is_word27) => {
            Ok(Some(user.to_owned()))
        }
        Some(_) => Err(bad_request(
            "created_by",
            "Invalid 'request_body.created_by': Failed regex check".to_owned(),
        )),
    }
}

/// `Ok(None)`: field absent; `Ok(Some(None))`: null, never expires; `Ok(Some(Some(ms)))`: lifetime.
fn validate_lifetime(object: &Map<String, Value>) -> Result<Option<Option<i64>>, Response> {
    const NAME: &str = "seconds_until_expiration";
    match object.get(NAME) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(value) => match value.as_f64() {
            // Float-to-int `as` saturates, so absurd lifetimes become "far future", not a panic.
            Some(seconds) if seconds > 0.0 => Ok(Some(Some((seconds * 1000.0).round() as i64))),
            _ => Err(bad_request(
                NAME,
                format!("Invalid 'request_body.{NAME}': must be a number greater than 0"),
            )),
        },
    }
}

fn validate_scopes(object: &Map<String, Value>) -> Result<Option<Vec<String>>, Response> {
    let Some(value) = object.get("scopes") else {
        return Ok(None);
    };
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .map(Some)
        .ok_or_else(|| {
            bad_request(
                "scopes",
                "Invalid 'request_body.scopes': must be an array of strings".to_owned(),
            )
        })
}

fn validate_type(object: &Map<String, Value>) -> Result<String, Response> {
    let invalid = || {
        bad_request(
            "type",
            "Invalid 'request_body.type': must be 3 to 25 characters".to_owned(),
        )
    };
    match object.get("type") {
        None => Ok("api_key".to_owned()),
        Some(Value::String(t)) if (3..=25).contains(&t.chars().count()) => Ok(t.clone()),
        Some(_) => Err(invalid()),
    }
}

/// 409 when `subject` already has a valid key called `name` (other than `except`).
fn check_unique_name(
    keys: &KeyStore<ApiKey>,
    subject: &str,
    name: &str,
    except: Option<&str>,
    now: i64,
) -> Result<(), Response> {
    let taken = keys.oldest_first().any(|k| {
        k.subject == subject && k.name == name && k.valid(now) && Some(k.id.as_str()) != except
    });
    if taken {
        return Err(error(
            StatusCode::CONFLICT,
            "api_key_name_already_exists",
            "API Key name already exists.",
            format!("An API key named '{name}' already exists for this subject"),
            Some("name"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Handlers

type Reply = Result<Response, Response>;

async fn create(State(clerk): State<Arc<Clerk>>, headers: HeaderMap, body: Bytes) -> Reply {
    let caller = clerk.authenticate(&headers)?;
    let object = object_body(&body, CREATE_FIELDS)?;
    let name = validate_name(&object)?;
    let subject = match (validate_subject(&object, caller)?, caller) {
        (Some(subject), _) => subject,
        // clerk-js fills in the session's user when the app passes no subject.
        (None, Caller::Session) => USER_ID.to_owned(),
        (None, Caller::Instance) => {
            return Err(bad_request(
                "subject",
                "Invalid 'request_body.subject': is required".to_owned(),
            ))
        }
    };
    let description = validate_description(&object)?;
    let created_by = validate_created_by(&object)?;
    let lifetime_ms = validate_lifetime(&object)?.flatten();
    let scopes = validate_scopes(&object)?.unwrap_or_default();
    let key_type = validate_type(&object)?;
    check_subject(caller, &subject)?;

    let now = clerk.now_ms();
    let mut keys = clerk.keys();
    check_unique_name(&keys, &subject, &name, None, now)?;
    let id = new_id();
    let secret = new_secret();
    let record = ApiKey {
        id: id.clone(),
        secret: secret.clone(),
        key_type,
        name,
        subject,
        description,
        claims: object.get("claims").cloned().unwrap_or(Value::Null),
        scopes,
        revoked: false,
        revocation_reason: None,
        expiration: lifetime_ms.map(|ms| now.saturating_add(ms)),
        created_by,
        last_used_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut reply = record.to_json(now);
    reply["secret"] = json!(secret);
    keys.insert(&id, &secret, record);
    // The BAPI answers 200 (bapi/2026-05-12.yml `createApiKey`), the FAPI 201
    // (fapi/2026-05-12.yml; clerk-js `core/modules/apiKeys`).
    let status = match caller {
        Caller::Instance => StatusCode::OK,
        Caller::Session => StatusCode::CREATED,
    };
    match clerk.quirks().create_answer {
        CreateAnswer::Normal => {}
        CreateAnswer::BadFields => {
            reply["created_at"] = json!("yesterday");
            reply["updated_at"] = json!(null);
            reply["expiration"] = json!("soon");
            reply["scopes"] = json!("read");
        }
        CreateAnswer::NoSecret => {
            reply.as_object_mut().map(|object| object.remove("secret"));
        }
        CreateAnswer::NotJson => {
            return Ok((status, "<html><body>upstream answered</body></html>").into_response());
        }
    }
    Ok(respond(status, reply))
}

async fn get_quirks(State(clerk): State<Arc<Clerk>>) -> Response {
    respond(StatusCode::OK, json!(clerk.quirks()))
}

async fn put_quirks(State(clerk): State<Arc<Clerk>>, body: Bytes) -> Reply {
    let quirks: Quirks = serde_json::from_slice(&body)
        .map_err(|problem| bad_request("body", format!("Invalid emulator quirks: {problem}")))?;
    *clerk
        .quirks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = quirks.clone();
    Ok(respond(StatusCode::OK, json!(quirks)))
}

/// A query parameter parsed as an integer within `range`, or `default` when absent.
fn bounded(
    query: &HashMap<String, String>,
    name: &str,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, Response> {
    match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                bad_request(
                    name,
                    format!(
                        "Invalid 'query.{name}': must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// `{data, total_count}`, newest first (bapi spec `GET /api_keys`; clerk/javascript
/// `packages/backend/src/api/resources/Deserializer.ts` reads exactly these two fields).
async fn list(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Reply {
    let caller = clerk.authenticate(&headers)?;
    let query = query_pairs(raw.as_deref());
    let subject = query
        .get("subject")
        .ok_or_else(|| bad_request("subject", "Invalid 'query.subject': is required".to_owned()))?;
    if !is_subject(subject, caller) {
        return Err(bad_request(
            "subject",
            "Invalid 'query.subject': Failed regex check".to_owned(),
        ));
    }
    let max_limit = clerk.quirks().max_list_limit.unwrap_or(MAX_LIST_LIMIT);
    let limit = bounded(&query, "limit", 10, 1..=max_limit)?;
    let offset = bounded(&query, "offset", 0, 0..=u64::from(u32::MAX))?;
    let include_invalid = match query.get("include_invalid").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(bad_request(
                "include_invalid",
                "Invalid 'query.include_invalid': must be true or false".to_owned(),
            ))
        }
    };
    check_subject(caller, subject)?;
    let search = query.get("query").map(|q| q.to_lowercase());
    // `type` defaults to `api_key` (bapi/2026-05-12.yml, `GET /api_keys` parameters).
    let key_type = query.get("type").map_or("api_key", String::as_str);

    let now = clerk.now_ms();
    let keys = clerk.keys();
    let matching: Vec<&ApiKey> = keys
        .newest_first()
        .filter(|k| &k.subject == subject)
        .filter(|k| include_invalid || k.valid(now))
        .filter(|k| {
            search
                .as_ref()
                .is_none_or(|q| k.name.to_lowercase().contains(q))
        })
        .filter(|k| k.key_type == key_type)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|k| k.to_json(now))
        .collect();
    Ok(respond(
        StatusCode::OK,
        json!({ "data": page, "total_count": matching.len() }),
    ))
}

fn unknown_key(id: &str) -> Response {
    not_found(&format!("No API key was found with id '{id}'"))
}

async fn read(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    clerk.authenticate_instance(&headers)?;
    check_id(&id)?;
    let now = clerk.now_ms();
    let keys = clerk.keys();
    let key = keys.get(&id).ok_or_else(|| unknown_key(&id))?;
    Ok(respond(StatusCode::OK, key.to_json(now)))
}

/// `PATCH /api_keys/{id}` (bapi/2026-05-12.yml `updateApiKey`): `{subject?, description?, claims?,
/// scopes?, seconds_until_expiration?}`, nothing else (a `name` is 400: keys are not renamed); a
/// field left out is left alone, a `null` lifetime never expires (as on create), a `null`
/// description clears it; 200 with the key, 400 naming the parameter, 404 for an unknown id. A
/// revoked key takes the change and stays revoked [inferred: the spec does not say].
async fn update(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let caller = clerk.authenticate(&headers)?;
    check_id(&id)?;
    let object = object_body(&body, UPDATE_FIELDS)?;
    let subject = validate_subject(&object, caller)?;
    let description = validate_description(&object)?;
    let lifetime_ms = validate_lifetime(&object)?;
    let scopes = validate_scopes(&object)?;
    if let Some(subject) = &subject {
        check_subject(caller, subject)?;
    }

    let now = clerk.now_ms();
    let mut keys = clerk.keys();
    let key = keys.get(&id).ok_or_else(|| unknown_key(&id))?;
    // A session sees only its own subjects' keys; anything else does not exist for it.
    if check_subject(caller, &key.subject).is_err() {
        return Err(unknown_key(&id));
    }
    if let Some(subject) = &subject {
        check_unique_name(&keys, subject, &key.name, Some(&id), now)?;
    }
    let key = keys.get_mut(&id).ok_or_else(|| unknown_key(&id))?;
    if let Some(subject) = subject {
        key.subject = subject;
    }
    if object.contains_key("description") {
        key.description = description;
    }
    if let Some(claims) = object.get("claims") {
        key.claims = claims.clone();
    }
    if let Some(scopes) = scopes {
        key.scopes = scopes;
    }
    if let Some(lifetime_ms) = lifetime_ms {
        key.expiration = lifetime_ms.map(|ms| now.saturating_add(ms));
    }
    key.updated_at = now;
    Ok(respond(StatusCode::OK, key.to_json(now)))
}

/// Deletes for good: `{id, object, deleted}` (bapi spec `DELETE /api_keys/{apiKeyID}`).
async fn remove(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    clerk.authenticate_instance(&headers)?;
    check_id(&id)?;
    clerk.keys().remove(&id).ok_or_else(|| unknown_key(&id))?;
    Ok(respond(
        StatusCode::OK,
        json!({ "id": id, "object": "api_key", "deleted": true }),
    ))
}

/// `{revocation_reason: string|null}`; `@clerk/backend` always sends it, `null` without a reason
/// (clerk/javascript `packages/backend/src/api/endpoints/APIKeysApi.ts` `revoke`).
async fn revoke(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let caller = clerk.authenticate(&headers)?;
    check_id(&id)?;
    let object = object_body(&body, &["revocation_reason"])?;
    let reason = string_field(&object, "revocation_reason")?.map(str::to_owned);

    let now = clerk.now_ms();
    let mut keys = clerk.keys();
    let key = keys.get_mut(&id).ok_or_else(|| unknown_key(&id))?;
    if check_subject(caller, &key.subject).is_err() {
        return Err(unknown_key(&id));
    }
    // Idempotent: a second revoke changes nothing, not even the reason.
    if !key.revoked {
        key.revoked = true;
        key.revocation_reason = reason;
        key.updated_at = now;
    }
    Ok(respond(StatusCode::OK, key.to_json(now)))
}

/// The Backend API answers a key's secret again, `{secret}` (clerk/openapi-specs
/// `bapi/2026-05-12.yml` `getApiKeySecret`; clerk/javascript `packages/backend/src/api/endpoints/
/// APIKeysApi.ts` `getSecret`). Only the Frontend API says a secret is shown once, so a session
/// token gets the same 401 as on the other Backend-only routes.
async fn secret(
    State(clerk): State<Arc<Clerk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    clerk.authenticate_instance(&headers)?;
    check_id(&id)?;
    let keys = clerk.keys();
    let key = keys.get(&id).ok_or_else(|| unknown_key(&id))?;
    Ok(respond(StatusCode::OK, json!({ "secret": key.secret })))
}

/// 404 for an unknown, revoked or expired secret (bapi spec `verifyApiKey`), which
/// clerk/javascript `packages/backend/src/tokens/verify.ts` reads as "API key not found".
async fn verify(State(clerk): State<Arc<Clerk>>, headers: HeaderMap, body: Bytes) -> Reply {
    clerk.authenticate_instance(&headers)?;
    let object = object_body(&body, &["secret"])?;
    let secret = string_field(&object, "secret")?.ok_or_else(|| {
        bad_request(
            "secret",
            "Invalid 'request_body.secret': is required".to_owned(),
        )
    })?;
    let now = clerk.now_ms();
    let mut keys = clerk.keys();
    match keys.by_secret_mut(secret) {
        Some(key) if key.valid(now) => {
            key.last_used_at = Some(now);
            Ok(respond(StatusCode::OK, key.to_json(now)))
        }
        _ => Err(not_found("API key not found, revoked or expired")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_match_the_spec_regexes() {
        assert!(is_subject(USER_ID, Caller::Session));
        assert!(is_subject(ORG_ID, Caller::Session));
        for account in accounts() {
            assert!(is_subject(&account.id, Caller::Instance), "{}", account.id);
            assert!(check_subject(Caller::Instance, &account.id).is_ok());
        }
        assert!(check_subject(Caller::Session, OTHER_ORG_ID).is_err());
        assert!(SECRET_KEY.starts_with("sk_test_"));
        assert!(check_id(&new_id()).is_ok());
        assert!(!is_subject(
            "mch_2keywardEmulatorAcme0000001",
            Caller::Session
        ));
        assert!(is_subject(
            "mch_2keywardEmulatorAcme0000001",
            Caller::Instance
        ));
    }
}
