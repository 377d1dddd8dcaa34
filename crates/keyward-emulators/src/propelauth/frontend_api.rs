//! The frontend API (`/api/fe/v3`), as `@propelauth/frontend-apis` calls it from a signed-in
//! browser: the session cookie plus `X-CSRF-Token: -.-`. Errors are
//! `{"error_code", "user_facing_error"}` (plus `field_errors` for `invalid_request_fields`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{Duration, Months};
use serde_json::{json, Value};

use super::{find_org, is_member, new_id, ApiKey, Paging, PropelAuth, SESSION_COOKIE, USER};
use crate::http::{json as respond, json_body, query_pairs};

pub(super) fn routes() -> Router<Arc<PropelAuth>> {
    Router::new()
        .route("/api/fe/v3/api_keys", post(create))
        .route("/api/fe/v3/api_keys/{api_key_id}", delete(archive))
        .route("/api/fe/v3/personal_api_keys", get(list_personal))
        .route("/api/fe/v3/org_api_keys", get(list_org))
        .route("/api/fe/v3/logout", post(logout))
}

type Reply = Result<Response, Response>;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    respond(
        status,
        json!({ "error_code": code, "user_facing_error": message }),
    )
}

fn invalid_fields(errors: BTreeMap<String, String>) -> Response {
    let body = json!({
        "error_code": "invalid_request_fields",
        "user_facing_error": "Invalid request",
        "user_facing_errors": errors,
        "field_errors": errors,
    });
    respond(StatusCode::BAD_REQUEST, body)
}

fn not_logged_in(message: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, "not_logged_in", message)
}

fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, "action_forbidden", message)
}

/// The session cookie's value, if the request carries one.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find_map(|(name, value)| (name == SESSION_COOKIE).then_some(value))
}

impl PropelAuth {
    /// A valid session cookie, then the CSRF header the client library always sends. A request
    /// without the header is treated as not logged in: its cookie may have been sent by another site.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), Response> {
        let signed_in =
            session_token(headers).is_some_and(|token| self.lock_sessions().contains(token));
        if !signed_in {
            return Err(not_logged_in("You must be logged in"));
        }
        if headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) != Some("-.-") {
            return Err(not_logged_in("Missing or invalid X-CSRF-Token header"));
        }
        Ok(())
    }
}

/// `ApiKeyExpirationOption` → expiry in Unix seconds (`None` = never). Months are calendar months.
fn expiry_for(option: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Option<i64>> {
    let at = match option {
        "TwoWeeks" => Some(now + Duration::days(14)),
        "OneMonth" => now.checked_add_months(Months::new(1)),
        "ThreeMonths" => now.checked_add_months(Months::new(3)),
        "SixMonths" => now.checked_add_months(Months::new(6)),
        "OneYear" => now.checked_add_months(Months::new(12)),
        "Never" => return Some(None),
        _ => return None,
    };
    at.map(|at| Some(at.timestamp()))
}

/// Validation order: body, `expiration_option`, then the org permission.
async fn create(State(pa): State<Arc<PropelAuth>>, headers: HeaderMap, body: Bytes) -> Reply {
    pa.authenticate(&headers)?;
    let object = match json_body(&body) {
        Ok(None) => serde_json::Map::new(),
        Ok(Some(Value::Object(object))) => object,
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Invalid request body",
            ))
        }
    };
    let now = pa.clock.now();
    // No option sent means no expiry, like the backend API without `expires_at_seconds`.
    let expires_at = match object.get("expiration_option") {
        None | Some(Value::Null) => None,
        Some(Value::String(option)) => expiry_for(option, now).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Invalid expiration option",
            )
        })?,
        Some(_) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Invalid expiration option",
            ))
        }
    };
    let org_id = match object.get("org_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => match find_org(id) {
            Some(org) if is_member(USER.id, org) => Some(id.clone()),
            _ => {
                return Err(forbidden(
                    "You don't have permission to create API keys for this organization",
                ))
            }
        },
        Some(_) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Invalid org_id",
            ))
        }
    };
    // The released client sends only `expiration_option` (and `org_id`); a `display_name` is not
    // kept (createPersonalApiKey.ts / createOrgApiKey.ts in PropelAuth/frontend-apis, main).
    Ok(pa.create_key(ApiKey {
        id: new_id(),
        created_at: now.timestamp(),
        expires_at,
        metadata: Value::Null,
        user_id: Some(USER.id.to_owned()),
        org_id,
        display_name: None,
        deleted: false,
    }))
}

/// The active keys matching `keep` and `api_key_search`, as a page.
fn page_of(
    pa: &PropelAuth,
    query: &HashMap<String, String>,
    paging: &Paging,
    keep: impl Fn(&ApiKey) -> bool,
) -> Value {
    let search = query.get("api_key_search").map(|s| s.to_lowercase());
    let now = pa.now();
    let keys = pa.keys();
    let matching: Vec<&ApiKey> = keys
        .newest_first()
        .filter(|k| !k.archived(now) && keep(k))
        .filter(|k| {
            search
                .as_deref()
                .is_none_or(|needle| k.matches_search(needle))
        })
        .collect();
    paging.page(&matching, ApiKey::frontend_json)
}

async fn list_personal(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Reply {
    pa.authenticate(&headers)?;
    let query = query_pairs(raw.as_deref());
    let mut errors = BTreeMap::new();
    let paging = Paging::parse(&query, pa.behaviour().max_page_size, &mut errors);
    if !errors.is_empty() {
        return Err(invalid_fields(errors));
    }
    let mine = |k: &ApiKey| k.is_personal() && k.user_id.as_deref() == Some(USER.id);
    Ok(respond(StatusCode::OK, page_of(&pa, &query, &paging, mine)))
}

/// Validation order: fields (`org_id`, paging), then the org exists, then membership.
async fn list_org(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Reply {
    pa.authenticate(&headers)?;
    let query = query_pairs(raw.as_deref());
    let mut errors = BTreeMap::new();
    let paging = Paging::parse(&query, pa.behaviour().max_page_size, &mut errors);
    let org_id = query.get("org_id").filter(|id| !id.is_empty());
    if org_id.is_none() {
        errors.insert("org_id".to_owned(), "is required".to_owned());
    }
    if !errors.is_empty() {
        return Err(invalid_fields(errors));
    }
    let org_id = org_id.map(String::as_str).unwrap_or_default();
    let org = find_org(org_id).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "org_not_found",
            "Organization not found",
        )
    })?;
    if !is_member(USER.id, org) {
        return Err(forbidden(
            "You don't have permission to view this organization's API keys",
        ));
    }
    let of_org = |k: &ApiKey| k.org_id.as_deref() == Some(org_id);
    Ok(respond(
        StatusCode::OK,
        page_of(&pa, &query, &paging, of_org),
    ))
}

/// Archives a key the user may manage: their personal keys and keys of their orgs.
async fn archive(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    pa.authenticate(&headers)?;
    let now = pa.now();
    let mut keys = pa.keys();
    let key = keys
        .get_mut(&id)
        .filter(|k| !k.archived(now))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "not_found", "API key not found"))?;
    let allowed = match key.org_id.as_deref() {
        Some(org_id) => find_org(org_id).is_some_and(|org| is_member(USER.id, org)),
        None => key.user_id.as_deref() == Some(USER.id),
    };
    if !allowed {
        return Err(forbidden(
            "You don't have permission to delete this API key",
        ));
    }
    key.deleted = true;
    Ok(respond(StatusCode::OK, json!({})))
}

/// Ends the session (if any) and clears the cookie.
async fn logout(State(pa): State<Arc<PropelAuth>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        pa.lock_sessions().remove(token);
    }
    let mut response = respond(StatusCode::OK, json!({}));
    let expired = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    response
        .headers_mut()
        .insert(SET_COOKIE, expired.parse().expect("a valid header value"));
    response
}
