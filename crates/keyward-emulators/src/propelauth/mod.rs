//! PropelAuth end-user API keys: the backend API under `/api/backend/v1/end_user_api_keys`
//! (integration key), the frontend API under `/api/fe/v3` (session cookie + CSRF header) and a
//! minimal login page that hands out the session cookie. Times are Unix seconds.
//!
//! Modelled on the released service as PropelAuth's own clients show it, warts included; each
//! behaviour and the vendor file it comes from is listed in `docs/backends/propelauth.md`.
//! `/__emulator/propelauth` switches between the answers the SDKs show the real service can give
//! ([`Behaviour`]).

mod backend_api;
mod frontend_api;
mod login;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use serde_json::{json, Value};

use crate::http::{json as respond, too_many_requests};
use crate::seed::{SeedAccount, SeedOwner, SeedSpec};
use crate::store::{random_hex, Clock, KeyStore};
use crate::Credentials;

/// The seeded PropelAuth project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropelAuthCredentials {
    /// Backend API: `Authorization: Bearer <integration_key>`.
    pub integration_key: String,
    /// The seeded user (a UUID), who can sign in on the login page.
    pub user_id: String,
    pub user_email: String,
    pub user_password: String,
    /// An org (UUID) the user is a member of.
    pub org_id: String,
    /// An org (UUID) the user is not a member of.
    pub other_org_id: String,
    /// `GET` shows the sign-in form; a successful `POST` sets the session cookie.
    pub login_url: String,
    /// The name of the session cookie the frontend API reads.
    pub session_cookie: String,
}

const INTEGRATION_KEY: &str = "keyward-emulator-propelauth-integration-key-4c1f9a2e7b";
const SESSION_COOKIE: &str = "propelauth_session";
/// 2025-01-01T00:00:00Z, when the seeded accounts "signed up".
const ACCOUNTS_CREATED_AT: i64 = 1_735_689_600;

struct User {
    id: &'static str,
    email: &'static str,
    password: &'static str,
    first_name: &'static str,
    last_name: &'static str,
}

struct Org {
    id: &'static str,
    name: &'static str,
    url_safe_name: &'static str,
    /// The seeded user's role here, or `None` when not a member.
    user_role: Option<&'static str>,
}

const USER: User = User {
    id: "6a0ed2b1-8c5d-4e1f-9a3b-2c7d5e8f1a40",
    email: "ada@example.com",
    password: "keyward-emulator",
    first_name: "Ada",
    last_name: "Lovelace",
};

/// Another user of the project, for keys of several owners (`SeedSpec::owners`); cannot sign in.
const OTHER_USER: User = User {
    id: "c3d9a1f4-7e2b-4a6c-8d5f-1b0e9a7c6d21",
    email: "grace@example.com",
    password: "",
    first_name: "Grace",
    last_name: "Hopper",
};

const ORGS: [Org; 2] = [
    Org {
        id: "1f0c5a7e-3b2d-4c8e-9f6a-0b1c2d3e4f50",
        name: "Acme",
        url_safe_name: "acme",
        user_role: Some("Admin"),
    },
    Org {
        id: "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4",
        name: "Globex",
        url_safe_name: "globex",
        user_role: None,
    },
];

fn find_user(id: &str) -> Option<&'static User> {
    [&USER, &OTHER_USER].into_iter().find(|user| user.id == id)
}

/// Every account that can own keys, in the order `SeedSpec::owners` spreads keys over them.
pub(crate) fn accounts() -> Vec<SeedAccount> {
    [
        (SeedOwner::User, USER.id),
        (SeedOwner::Org, ORGS[0].id),
        (SeedOwner::User, OTHER_USER.id),
        (SeedOwner::Org, ORGS[1].id),
    ]
    .into_iter()
    .map(|(kind, id)| SeedAccount {
        kind,
        id: id.to_owned(),
    })
    .collect()
}

fn find_org(id: &str) -> Option<&'static Org> {
    ORGS.iter().find(|org| org.id == id)
}

fn is_member(user_id: &str, org: &Org) -> bool {
    user_id == USER.id && org.user_role.is_some()
}

pub(crate) struct PropelAuth {
    pub(crate) credentials: Credentials,
    clock: Arc<Clock>,
    keys: Mutex<KeyStore<ApiKey>>,
    /// Session cookie values of signed-in browsers; all belong to the seeded user.
    sessions: Mutex<HashSet<String>>,
    behaviour: Mutex<Behaviour>,
}

/// Answers the SDKs show the real service can give, switched by `PUT /__emulator/propelauth`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Behaviour {
    /// How validate answers a token no active key has: `field_error` (400 `{"api_key_token":
    /// "Invalid API key"}`, the answer node-apis `src/api/endUserApiKeys.ts` handles as
    /// `ApiKeyValidateException`, the default) or `not_found` (404, which propelauth-py
    /// `propelauth_py/api/end_user_api_keys.py` `_validate_api_key` raises as
    /// `EndUserApiKeyNotFoundException`).
    validate_unknown: ValidateUnknown,
    /// The largest `page_size` the lists accept; bigger is refused with the `page_size` field
    /// error of each API. No PropelAuth client shows the real maximum (node-apis, propelauth-py and
    /// frontend-apis pass any number through); 100 is this emulator's assumption.
    max_page_size: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum ValidateUnknown {
    FieldError,
    NotFound,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            validate_unknown: ValidateUnknown::FieldError,
            max_page_size: DEFAULT_MAX_PAGE_SIZE,
        }
    }
}

struct ApiKey {
    id: String,
    created_at: i64,
    /// Unix seconds; `None` = never.
    expires_at: Option<i64>,
    metadata: Value,
    /// Owner of a personal key, or the creator of an org key.
    user_id: Option<String>,
    org_id: Option<String>,
    display_name: Option<String>,
    /// Deleted keys stay, archived; expired keys are archived too (see `archived`).
    deleted: bool,
}

impl ApiKey {
    fn archived(&self, now: i64) -> bool {
        self.deleted || self.expires_at.is_some_and(|at| at <= now)
    }

    fn is_personal(&self) -> bool {
        self.user_id.is_some() && self.org_id.is_none()
    }

    /// `ApiKeyFull`, as the backend API returns it.
    fn full_json(&self) -> Value {
        json!({
            "api_key_id": self.id,
            "created_at": self.created_at,
            "expires_at_seconds": self.expires_at,
            "metadata": self.metadata,
            "user_id": self.user_id,
            "org_id": self.org_id,
            "display_name": self.display_name,
        })
    }

    /// The released frontend API's list item: `{api_key_id, created_at, expires_at_seconds,
    /// metadata}`, no owner ids and no display name (`PersonalApiKey` in PropelAuth/frontend-apis
    /// `packages/frontend-apis/src/apis/apiKeys/fetchPersonalApiKeys.ts`, main; display names
    /// exist only on the unmerged `Display-names-for-API-keys` branch).
    fn frontend_json(&self) -> Value {
        json!({
            "api_key_id": self.id,
            "created_at": self.created_at,
            "expires_at_seconds": self.expires_at,
            "metadata": self.metadata,
        })
    }

    /// `api_key_search` filters by key id ("Filter by Key ID" in PropelAuth's docs), never by
    /// name or metadata. Whether the real filter is exact or a fragment is not shown; this one
    /// takes a case-insensitive fragment, which a whole id also matches.
    fn matches_search(&self, needle: &str) -> bool {
        self.id.to_lowercase().contains(needle)
    }
}

impl PropelAuth {
    pub(crate) fn new(base_url: &str, clock: Arc<Clock>) -> Self {
        let credentials = Credentials::PropelAuth(PropelAuthCredentials {
            integration_key: INTEGRATION_KEY.to_owned(),
            user_id: USER.id.to_owned(),
            user_email: USER.email.to_owned(),
            user_password: USER.password.to_owned(),
            org_id: ORGS[0].id.to_owned(),
            other_org_id: ORGS[1].id.to_owned(),
            login_url: format!("{base_url}/login"),
            session_cookie: SESSION_COOKIE.to_owned(),
        });
        Self {
            credentials,
            clock,
            keys: Mutex::new(KeyStore::default()),
            sessions: Mutex::new(HashSet::new()),
            behaviour: Mutex::new(Behaviour::default()),
        }
    }

    pub(crate) fn router(self: Arc<Self>) -> Router {
        Router::new()
            .merge(backend_api::routes())
            .merge(frontend_api::routes())
            .merge(login::routes())
            .route(
                "/__emulator/propelauth",
                axum::routing::get(get_behaviour).put(put_behaviour),
            )
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(self)
    }

    /// Signs the seeded user in; returns `name=value` for a `Cookie` header.
    pub(crate) fn new_session_cookie(&self) -> String {
        let token = random_hex(32);
        self.lock_sessions().insert(token.clone());
        format!("{SESSION_COOKIE}={token}")
    }

    pub(crate) fn seed(&self, spec: &SeedSpec, first: usize) -> Vec<String> {
        let accounts = accounts();
        let now = self.clock.now();
        let mut keys = self.keys();
        (0..spec.count)
            .map(|index| {
                let owner = spec.owner_of(index, &accounts);
                let (user_id, org_id) = match owner.kind {
                    SeedOwner::User => (Some(owner.id.clone()), None),
                    SeedOwner::Org => (None, Some(owner.id.clone())),
                };
                let key = ApiKey {
                    id: new_id(),
                    created_at: now.timestamp(),
                    expires_at: spec.expiry(index, now).map(|at| at.timestamp()),
                    metadata: json!({ "seeded": true }),
                    user_id,
                    org_id,
                    display_name: Some(spec.name(first, index)),
                    deleted: false,
                };
                let id = key.id.clone();
                keys.insert(&id, &new_token(), key);
                id
            })
            .collect()
    }

    fn keys(&self) -> MutexGuard<'_, KeyStore<ApiKey>> {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_sessions(&self) -> MutexGuard<'_, HashSet<String>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn behaviour(&self) -> Behaviour {
        self.behaviour
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Stores a new key and returns the create response, the only place its token appears.
    fn create_key(&self, key: ApiKey) -> Response {
        let token = new_token();
        let body = json!({ "api_key_id": key.id, "api_key_token": token });
        let id = key.id.clone();
        self.keys().insert(&id, &token, key);
        respond(StatusCode::OK, body)
    }

    /// The `validate` response, filled according to the key's type (docs/backends/propelauth.md).
    fn validation_json(&self, key: &ApiKey) -> Value {
        let user = key.user_id.as_deref().and_then(find_user);
        let org = key.org_id.as_deref().and_then(find_org);
        let user_in_org = match (user, org) {
            (Some(user), Some(org)) if is_member(user.id, org) => user_in_org_json(org),
            _ => Value::Null,
        };
        json!({
            "metadata": key.metadata,
            "user": user.map(|u| self.user_json(u)),
            "org": org.map(org_json),
            "user_in_org": user_in_org,
        })
    }

    fn user_json(&self, user: &User) -> Value {
        json!({
            "user_id": user.id,
            "email": user.email,
            "email_confirmed": true,
            "has_password": true,
            "username": null,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "picture_url": "https://img.example.com/avatar.png",
            "locked": false,
            "enabled": true,
            "mfa_enabled": false,
            "can_create_orgs": true,
            "created_at": ACCOUNTS_CREATED_AT,
            "last_active_at": self.now(),
            "legacy_user_id": null,
            "metadata": null,
            "properties": {},
        })
    }
}

fn org_json(org: &Org) -> Value {
    json!({
        "org_id": org.id,
        "org_name": org.name,
        "max_users": null,
        "metadata": {},
        "can_setup_saml": false,
        "is_saml_configured": false,
        "legacy_org_id": null,
        "custom_role_mapping_name": null,
    })
}

fn user_in_org_json(org: &Org) -> Value {
    let role = org.user_role.unwrap_or("Member");
    json!({
        "org_id": org.id,
        "org_name": org.name,
        "org_metadata": {},
        "url_safe_org_name": org.url_safe_name,
        "user_role": role,
        "inherited_user_roles_plus_current_role": [role, "Member"],
        "user_permissions": ["propelauth::can_manage_api_keys"],
        "org_role_structure": "single_role_in_hierarchy",
        "additional_roles": [],
        "legacy_org_id": null,
    })
}

/// `api_key_id`: 32 lowercase hex characters, as the SDKs check.
fn new_id() -> String {
    random_hex(16)
}

fn new_token() -> String {
    random_hex(32)
}

/// Largest `page_size` accepted by default (the real maximum is not shown by any client).
const DEFAULT_MAX_PAGE_SIZE: usize = 100;

async fn get_behaviour(
    axum::extract::State(pa): axum::extract::State<Arc<PropelAuth>>,
) -> Response {
    respond(StatusCode::OK, json!(pa.behaviour()))
}

/// Replaces the switches with the body's (fields left out take their defaults).
async fn put_behaviour(
    axum::extract::State(pa): axum::extract::State<Arc<PropelAuth>>,
    body: axum::body::Bytes,
) -> Response {
    match serde_json::from_slice::<Behaviour>(&body) {
        Ok(behaviour) if behaviour.max_page_size >= 1 => {
            *pa.behaviour
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = behaviour.clone();
            respond(StatusCode::OK, json!(behaviour))
        }
        Ok(_) => respond(
            StatusCode::BAD_REQUEST,
            json!({ "error": "max_page_size must be at least 1" }),
        ),
        Err(e) => respond(
            StatusCode::BAD_REQUEST,
            json!({ "error": format!("expected {{validate_unknown: field_error|not_found, max_page_size: n}}: {e}") }),
        ),
    }
}

/// 0-based paging, shared by the backend and frontend lists.
struct Paging {
    page_number: usize,
    page_size: usize,
}

impl Paging {
    /// Reads `page_number` (default 0) and `page_size` (default 10, at most `max_page_size`);
    /// problems go into `errors`.
    fn parse(
        query: &HashMap<String, String>,
        max_page_size: usize,
        errors: &mut BTreeMap<String, String>,
    ) -> Self {
        let mut read =
            |name: &str, default: usize, range: RangeInclusive<usize>, message: &str| match query
                .get(name)
                .map(|text| text.parse::<usize>())
            {
                None => default,
                Some(Ok(n)) if range.contains(&n) => n,
                Some(_) => {
                    errors.insert(name.to_owned(), message.to_owned());
                    default
                }
            };
        let page_number = read(
            "page_number",
            0,
            0..=usize::MAX,
            "must be a non-negative integer",
        );
        let size_message = format!("must be an integer from 1 to {max_page_size}");
        let page_size = read("page_size", 10, 1..=max_page_size, &size_message);
        Self {
            page_number,
            page_size,
        }
    }

    /// The page object over `items` (already filtered and ordered).
    fn page(&self, items: &[&ApiKey], render: fn(&ApiKey) -> Value) -> Value {
        let start = self.page_number.saturating_mul(self.page_size);
        let keys: Vec<Value> = items
            .iter()
            .skip(start)
            .take(self.page_size)
            .map(|k| render(k))
            .collect();
        json!({
            "api_keys": keys,
            "total_api_keys": items.len(),
            "current_page": self.page_number,
            "page_size": self.page_size,
            "has_more_results": start.saturating_add(self.page_size) < items.len(),
        })
    }
}

const UNEXPECTED_ERROR: &str = "An unexpected error has occurred";

pub(crate) fn failure() -> Response {
    let body = json!({ "error_code": "unexpected_error", "user_facing_error": UNEXPECTED_ERROR });
    respond(StatusCode::INTERNAL_SERVER_ERROR, body)
}

pub(crate) fn rate_limited(retry_in: Duration) -> Response {
    let body = json!({
        // Rounded to the millisecond, as a float.
        "wait_seconds": (retry_in.as_secs_f64() * 1000.0).ceil() / 1000.0,
        "error_code": "rate_limit_exceeded",
        "user_facing_error": "Too many requests, please try again later",
    });
    too_many_requests(retry_in, body)
}

/// A status with an empty body, as the backend API sends for 404.
fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}
