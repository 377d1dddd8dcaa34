//! Clerk's Frontend API (FAPI) beside the Clerk emulator's Backend API, on the same origin: what a
//! signed-in end user of a Clerk-powered application uses to manage their own API keys and those
//! of their organizations (clerk/javascript `packages/clerk-js/src/core/modules/apiKeys/index.ts`).
//!
//! - `GET|POST /sign-in`: a minimal form standing in for the application's Clerk sign-in; it
//!   sets the `__client` cookie (HttpOnly), the `__session` cookie (the first session token) and
//!   `__client_uat`, as the real FAPI and clerk-js leave a browser.
//! - `GET /v1/client`: the client of the `__client` cookie, with its active session.
//! - `POST /v1/client/sessions/{id}/tokens`: a session token (`{object:"token", jwt}`), a JWT that
//!   lives [`DEFAULT_TOKEN_LIFETIME`] unless set shorter (`PUT /__emulator/clerk-frontend`).
//! - `POST /v1/client/sessions/{id}/end`: signs the session out.
//! - `GET /v1/me/organization_memberships`: the user's one organization.
//! - `/api_keys…` with `Authorization: Bearer <session token>`: the Clerk emulator's key routes as
//!   the session's user (201 on create, only the user's and their organization's subjects), minus
//!   the routes the FAPI does not have (get one, delete, verify, read a secret again: 404).
//!
//! Each behaviour is traced to the vendor file in docs/backends/clerk-frontend.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, Response};
use axum::routing::{get, post, put};
use axum::Router;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clerk::error;
use crate::http::{bearer_token, json as respond, query_pairs};
use crate::signin_page::{SignInPage, Submitted};
use crate::store::{random_hex, Clock};

/// Clerk's default session-token lifetime: 60 seconds (clerk-js refreshes it before then,
/// `packages/clerk-js/src/core/tokenCache.ts`).
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The seeded end user who signs in.
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";
/// The form standing in for the application's Clerk sign-in.
const SIGN_IN_PAGE: SignInPage = SignInPage {
    product: "Clerk emulator",
    action: "/sign-in",
    email_label: "Email address",
    submit_label: "Continue",
};

/// How to sign the seeded user in to the emulated Frontend API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClerkSignIn {
    /// `{base}/sign-in`.
    pub url: String,
    pub email: String,
    pub password: String,
    /// The user the session acts as (`user_…`).
    pub user_id: String,
    /// The one organization the user belongs to (`org_…`).
    pub org_id: String,
}

pub(crate) struct ClerkFrontend {
    base_url: String,
    clock: Arc<Clock>,
    user_id: String,
    org_id: String,
    /// What the Clerk emulator's key routes take as this user's session.
    backend_session_token: String,
    state: Mutex<State_>,
}

#[derive(Default)]
struct State_ {
    token_lifetime: Option<Duration>,
    /// Client token (`__client`) → the client's active session, `None` once signed out.
    clients: HashMap<String, ClientRecord>,
    /// Session token → (session id, expiry in Unix ms by the emulator's clock).
    tokens: HashMap<String, (String, i64)>,
}

struct ClientRecord {
    id: String,
    session: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Session-token lifetime in whole seconds (at least 1).
    token_lifetime_secs: u64,
}

impl ClerkFrontend {
    pub(crate) fn new(
        base_url: &str,
        clock: Arc<Clock>,
        user_id: &str,
        org_id: &str,
        backend_session_token: &str,
    ) -> Self {
        ClerkFrontend {
            base_url: base_url.to_owned(),
            clock,
            user_id: user_id.to_owned(),
            org_id: org_id.to_owned(),
            backend_session_token: backend_session_token.to_owned(),
            state: Mutex::new(State_::default()),
        }
    }

    pub(crate) fn sign_in_details(&self) -> ClerkSignIn {
        ClerkSignIn {
            url: format!("{}/sign-in", self.base_url),
            email: EMAIL.to_owned(),
            password: PASSWORD.to_owned(),
            user_id: self.user_id.clone(),
            org_id: self.org_id.clone(),
        }
    }

    pub(crate) fn token_lifetime(&self) -> Duration {
        self.state()
            .token_lifetime
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
    }

    pub(crate) fn set_token_lifetime(&self, lifetime: Duration) {
        self.state().token_lifetime = Some(lifetime.max(Duration::from_secs(1)));
    }

    fn state(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new client with an active session: its client token and session id.
    fn sign_in(&self) -> (String, String) {
        let client_token = format!("client_{}", random_hex(24));
        let session_id = format!("sess_{}", &random_hex(14)[..27]);
        self.state().clients.insert(
            client_token.clone(),
            ClientRecord {
                id: format!("client_{}", &random_hex(14)[..27]),
                session: Some(session_id.clone()),
            },
        );
        (client_token, session_id)
    }

    /// A signed-in client's token, without going through the form.
    pub(crate) fn new_client_token(&self) -> String {
        self.sign_in().0
    }

    /// A session token: a JWT whose claims say who and until when. The signature is random; the
    /// emulator knows its own tokens.
    fn mint(&self, session_id: &str) -> String {
        let now = self.clock.now().timestamp();
        let lifetime = self.token_lifetime().as_secs().max(1) as i64;
        let b64 = |value: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        let jwt = format!(
            "{}.{}.{}",
            b64(json!({"alg": "RS256", "kid": "ins_keywardEmulator", "typ": "JWT"})),
            b64(json!({
                "azp": self.base_url, "iss": self.base_url, "sub": self.user_id,
                "sid": session_id, "iat": now, "nbf": now - 10, "exp": now + lifetime, "v": 2,
            })),
            random_hex(32)
        );
        self.state().tokens.insert(
            jwt.clone(),
            (session_id.to_owned(), (now + lifetime) * 1000),
        );
        jwt
    }

    /// The session of the request's `__client` cookie, if it is signed in.
    fn client_of(&self, headers: &HeaderMap) -> Option<(String, String, Option<String>)> {
        let token = cookie(headers, "__client")?;
        let state = self.state();
        let client = state.clients.get(&token)?;
        Some((token, client.id.clone(), client.session.clone()))
    }

    /// Whether a session token is one of ours, unexpired, of a session still signed in.
    fn token_is_live(&self, jwt: &str) -> bool {
        let now = self.clock.now().timestamp_millis();
        let state = self.state();
        let Some((session, expires_ms)) = state.tokens.get(jwt) else {
            return false;
        };
        *expires_ms > now
            && state
                .clients
                .values()
                .any(|client| client.session.as_deref() == Some(session))
    }
}

/// The Frontend API's routes and the translation of session tokens on the Clerk key routes.
pub(crate) fn wrap(clerk_routes: Router, fapi: Arc<ClerkFrontend>) -> Router {
    let routes = Router::new()
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/v1/client", get(client))
        .route("/v1/client/sessions/{session_id}/tokens", post(tokens))
        .route("/v1/client/sessions/{session_id}/end", post(end_session))
        .route("/v1/me/organization_memberships", get(memberships))
        .route(
            "/__emulator/clerk-frontend",
            put(put_settings).get(get_settings),
        )
        .with_state(fapi.clone());
    clerk_routes
        .layer(axum::middleware::from_fn_with_state(fapi, session_tokens))
        .merge(routes)
}

/// On `/api_keys…`, a bearer that is one of our session tokens: refused when expired or signed
/// out, 404 on the routes the FAPI does not have, and otherwise passed on as the Clerk emulator's
/// session of the seeded user. Instance keys pass untouched (the Backend API).
async fn session_tokens(
    State(fapi): State<Arc<ClerkFrontend>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let is_keys = path == "/api_keys" || path.starts_with("/api_keys/");
    let Some(bearer) = bearer_token(request.headers()).map(str::to_owned) else {
        return next.run(request).await;
    };
    // Session tokens are JWTs; secret keys are `sk_…` and the opaque stand-in is `sess_token_…`.
    if !is_keys || bearer.split('.').count() != 3 {
        return next.run(request).await;
    }
    if !fapi.token_is_live(&bearer) {
        return error(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Invalid authentication",
            "The session token is missing, invalid or expired: get a new one from /v1/client/sessions/{id}/tokens",
            None,
        );
    }
    let tail = path.trim_start_matches("/api_keys");
    let method = request.method().clone();
    let fapi_route = match tail.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
        [""] => method == Method::GET || method == Method::POST,
        [id] => id != "verify" && method == Method::PATCH,
        [_, "revoke"] => method == Method::POST,
        _ => false,
    };
    if !fapi_route {
        return error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "Resource not found",
            "The Frontend API has no such API-key route (get one, delete, verify and reading a secret again are Backend API routes)",
            None,
        );
    }
    // The FAPI's update takes a description only (fapi/2026-05-12.yml `updateApiKey`).
    if method == Method::PATCH {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Bad Request",
                "Unreadable body",
                None,
            );
        };
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) {
            if let Some(other) = object.keys().find(|k| k.as_str() != "description") {
                let long = format!("Invalid 'request_body.{other}': is not a known field");
                return error(
                    StatusCode::BAD_REQUEST,
                    "form_param_unknown",
                    "Bad Request",
                    &long,
                    None,
                );
            }
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let stand_in = format!("Bearer {}", fapi.backend_session_token);
    if let Ok(value) = HeaderValue::from_str(&stand_in) {
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    next.run(request).await
}

async fn sign_in_form() -> Html<String> {
    SIGN_IN_PAGE.form()
}

/// Checks the seeded email and password and leaves the cookies a Clerk sign-in leaves: `__client`
/// (HttpOnly, on the FAPI's origin), `__session` (the first session token, readable by the app's
/// scripts) and `__client_uat` (when the client was last updated, in Unix seconds).
async fn sign_in(State(fapi): State<Arc<ClerkFrontend>>, body: Bytes) -> Response {
    let submitted = Submitted::from_form(&body);
    if !submitted.is(EMAIL, PASSWORD) {
        return SIGN_IN_PAGE.rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            &submitted.email,
            "Password is incorrect. Try again, or use another method.",
        );
    }
    let (client_token, session_id) = fapi.sign_in();
    let jwt = fapi.mint(&session_id);
    let now = fapi.clock.now().timestamp();
    SIGN_IN_PAGE.signed_in(
        EMAIL,
        "This browser's <code>__client</code> cookie now holds the session.",
        [
            format!("__client={client_token}; Path=/; HttpOnly; SameSite=Lax"),
            format!("__session={jwt}; Path=/; SameSite=Lax"),
            format!("__client_uat={now}; Path=/; SameSite=Lax"),
        ],
    )
}

/// `GET /v1/client`: `{response: Client | null, client: null}`; no client (or an unknown one) is
/// a `null` response, a signed-out client has no sessions.
async fn client(State(fapi): State<Arc<ClerkFrontend>>, headers: HeaderMap) -> Response {
    let Some((_, client_id, session)) = fapi.client_of(&headers) else {
        return respond(StatusCode::OK, json!({ "response": null, "client": null }));
    };
    let sessions: Vec<Value> = session
        .iter()
        .map(|id| {
            json!({
                "object": "session", "id": id, "status": "active",
                "user": { "object": "user", "id": fapi.user_id },
            })
        })
        .collect();
    respond(
        StatusCode::OK,
        json!({
            "response": {
                "object": "client", "id": client_id, "sessions": sessions,
                "last_active_session_id": session,
            },
            "client": null,
        }),
    )
}

/// `POST /v1/client/sessions/{id}/tokens` (fapi/2026-05-12.yml `createSessionToken`: 200 `{jwt}`,
/// 401, 403, 404).
async fn tokens(
    State(fapi): State<Arc<ClerkFrontend>>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match fapi.client_of(&headers) {
        None => signed_out(),
        Some((_, _, Some(active))) if active == session_id => respond(
            StatusCode::OK,
            json!({ "object": "token", "jwt": fapi.mint(&session_id) }),
        ),
        Some((_, _, None)) => signed_out(),
        Some(_) => error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "Resource not found",
            "No session was found with this id in this client",
            None,
        ),
    }
}

/// `POST /v1/client/sessions/{id}/end`: the session is signed out; its tokens stop working.
async fn end_session(
    State(fapi): State<Arc<ClerkFrontend>>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((token, client_id, Some(active))) = fapi.client_of(&headers) else {
        return signed_out();
    };
    if active != session_id {
        return error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "Resource not found",
            "No session was found with this id in this client",
            None,
        );
    }
    if let Some(client) = fapi.state().clients.get_mut(&token) {
        client.session = None;
    }
    respond(
        StatusCode::OK,
        json!({
            "response": { "object": "session", "id": session_id, "status": "ended" },
            "client": { "object": "client", "id": client_id, "sessions": [], "last_active_session_id": null },
        }),
    )
}

/// `GET /v1/me/organization_memberships` (fapi/2026-05-12.yml `getOrganizationMemberships`:
/// `{response, client}`, `response` paged as `{data, total_count}` when `paginated=true`).
async fn memberships(
    State(fapi): State<Arc<ClerkFrontend>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let Some((_, _, Some(_))) = fapi.client_of(&headers) else {
        return signed_out();
    };
    let query = query_pairs(request.uri().query());
    let membership = json!({
        "object": "organization_membership",
        "id": "orgmem_2keywardEmulatorAdaAcme001",
        "role": "org:admin",
        "permissions": ["org:sys_api_keys:read", "org:sys_api_keys:manage"],
        "organization": {
            "object": "organization", "id": fapi.org_id, "name": "Acme", "slug": "acme",
        },
        "public_user_data": { "user_id": fapi.user_id, "identifier": EMAIL },
    });
    let offset: usize = query
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let data: Vec<Value> = [membership].into_iter().skip(offset).collect();
    let response = if query.get("paginated").map(String::as_str) == Some("true") {
        json!({ "data": data, "total_count": 1 })
    } else {
        json!(data)
    };
    respond(
        StatusCode::OK,
        json!({ "response": response, "client": null }),
    )
}

async fn get_settings(State(fapi): State<Arc<ClerkFrontend>>) -> Response {
    let settings = Settings {
        token_lifetime_secs: fapi.token_lifetime().as_secs(),
    };
    respond(StatusCode::OK, json!(settings))
}

async fn put_settings(State(fapi): State<Arc<ClerkFrontend>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Settings>(&body) {
        Ok(settings) if settings.token_lifetime_secs > 0 => {
            fapi.set_token_lifetime(Duration::from_secs(settings.token_lifetime_secs));
            get_settings(State(fapi)).await
        }
        _ => respond(
            StatusCode::BAD_REQUEST,
            json!({ "error": "expected {\"token_lifetime_secs\": N} with N ≥ 1" }),
        ),
    }
}

fn signed_out() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "signed_out",
        "Signed out",
        "You are signed out",
        None,
    )
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}
