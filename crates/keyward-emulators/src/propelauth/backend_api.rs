//! The backend (integration) API: `Authorization: Bearer <integration key>`, 401 plain text on a
//! mismatch, 400 as a JSON object keyed by field name, 404 with an empty body.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::{empty, find_org, find_user, is_member, new_id, ApiKey, Paging, PropelAuth, USER};
use crate::http::{bearer_token, json as respond, json_body, query_pairs};

const BASE: &str = "/api/backend/v1/end_user_api_keys";

pub(super) fn routes() -> Router<Arc<PropelAuth>> {
    Router::new()
        .route(BASE, get(list_active).post(create))
        .route(&format!("{BASE}/archived"), get(list_archived))
        .route(&format!("{BASE}/validate"), post(validate))
        .route(
            &format!("{BASE}/{{api_key_id}}"),
            get(read).patch(update).delete(archive),
        )
}

type Reply = Result<Response, Response>;

/// `X-Propelauth-url`, which the SDKs send with the shared API host, is accepted and ignored.
fn authenticate(headers: &HeaderMap) -> Result<(), Response> {
    if bearer_token(headers) == Some(super::INTEGRATION_KEY) {
        return Ok(());
    }
    Err((
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Unauthorized",
    )
        .into_response())
}

/// Field errors collected while validating a request.
#[derive(Default)]
struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    fn add(&mut self, field: &str, message: &str) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.to_owned());
    }

    fn check(self) -> Result<(), Response> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(respond(StatusCode::BAD_REQUEST, json!(self.0)))
    }
}

fn field_error(field: &str, message: &str) -> Response {
    respond(StatusCode::BAD_REQUEST, json!({ field: message }))
}

fn object_body(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match json_body(body) {
        Ok(None) => Ok(Map::new()),
        Ok(Some(Value::Object(object))) => Ok(object),
        _ => Err(field_error("body", "Expected a JSON object")),
    }
}

/// A nullable string field; a wrong type is recorded in `errors`.
fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    match object.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            errors.add(name, "Must be a string");
            None
        }
    }
}

/// `expires_at_seconds`: a Unix time in the future, or null for never.
fn expiry(object: &Map<String, Value>, now: i64, errors: &mut FieldErrors) -> Option<i64> {
    match object.get("expires_at_seconds") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64() {
            Some(at) if at > now => Some(at),
            Some(_) => {
                errors.add("expires_at_seconds", "Must be in the future");
                None
            }
            None => {
                errors.add("expires_at_seconds", "Must be an integer (Unix seconds)");
                None
            }
        },
    }
}

fn metadata(object: &Map<String, Value>, errors: &mut FieldErrors) -> Option<Value> {
    match object.get("metadata") {
        None => None,
        Some(value @ (Value::Null | Value::Object(_))) => Some(value.clone()),
        Some(_) => {
            errors.add("metadata", "Must be a JSON object");
            None
        }
    }
}

/// Owner follows from the ids sent: `user_id` only → personal, `org_id` → org (with its creating
/// user if `user_id` is sent too), neither → generic.
async fn create(State(pa): State<Arc<PropelAuth>>, headers: HeaderMap, body: Bytes) -> Reply {
    authenticate(&headers)?;
    let object = object_body(&body)?;
    let now = pa.now();
    let mut errors = FieldErrors::default();
    let user_id = optional_string(&object, "user_id", &mut errors);
    let org_id = optional_string(&object, "org_id", &mut errors);
    if user_id.as_deref().is_some_and(|id| find_user(id).is_none()) {
        errors.add("user_id", "User not found");
    }
    match org_id.as_deref().map(find_org) {
        Some(None) => errors.add("org_id", "Org not found"),
        Some(Some(org)) if user_id.as_deref().is_some_and(|user| !is_member(user, org)) => {
            errors.add("user_id", "User is not a member of this org");
        }
        _ => {}
    }
    let expires_at = expiry(&object, now, &mut errors);
    let metadata = metadata(&object, &mut errors).unwrap_or(Value::Null);
    let display_name = optional_string(&object, "display_name", &mut errors);
    errors.check()?;
    Ok(pa.create_key(ApiKey {
        id: new_id(),
        created_at: now,
        expires_at,
        metadata,
        user_id,
        org_id,
        display_name,
        deleted: false,
    }))
}

async fn list_active(state: State<Arc<PropelAuth>>, headers: HeaderMap, query: RawQuery) -> Reply {
    list(state, headers, query, false)
}

async fn list_archived(
    state: State<Arc<PropelAuth>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Reply {
    list(state, headers, query, true)
}

/// Which keys `api_key_type` selects (its real values were not observed).
fn type_filter(value: Option<&String>) -> Result<fn(&ApiKey) -> bool, ()> {
    let Some(value) = value else {
        return Ok(|_| true);
    };
    match value.to_ascii_lowercase().as_str() {
        "all" => Ok(|_| true),
        "personal" => Ok(ApiKey::is_personal),
        "org" | "organization" => Ok(|k| k.org_id.is_some()),
        "generic" => Ok(|k| k.user_id.is_none() && k.org_id.is_none()),
        _ => Err(()),
    }
}

fn list(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    archived: bool,
) -> Reply {
    authenticate(&headers)?;
    let query = query_pairs(raw.as_deref());
    let mut errors = BTreeMap::new();
    let paging = Paging::parse(&query, pa.behaviour().max_page_size, &mut errors);
    let of_type = type_filter(query.get("api_key_type"));
    if of_type.is_err() {
        errors.insert(
            "api_key_type".to_owned(),
            "Must be one of personal, org, generic, all".to_owned(),
        );
    }
    if !errors.is_empty() {
        return Err(respond(StatusCode::BAD_REQUEST, json!(errors)));
    }
    let of_type = of_type.unwrap_or(|_| true);
    // An unknown email matches no key, like an unknown id.
    let email_user = query
        .get("user_email")
        .map(|email| find_user_by_email(email).map_or("", |user| user.id));

    let now = pa.now();
    let keys = pa.keys();
    let matching: Vec<&ApiKey> = keys
        .newest_first()
        .filter(|k| k.archived(now) == archived)
        .filter(|k| {
            query
                .get("user_id")
                .is_none_or(|id| k.user_id.as_ref() == Some(id))
        })
        .filter(|k| email_user.is_none_or(|id| k.user_id.as_deref() == Some(id)))
        .filter(|k| {
            query
                .get("org_id")
                .is_none_or(|id| k.org_id.as_ref() == Some(id))
        })
        .filter(|k| of_type(k))
        .collect();
    Ok(respond(
        StatusCode::OK,
        paging.page(&matching, ApiKey::full_json),
    ))
}

fn find_user_by_email(email: &str) -> Option<&'static super::User> {
    [&USER, &super::OTHER_USER]
        .into_iter()
        .find(|user| user.email.eq_ignore_ascii_case(email))
}

/// Archived keys (deleted or expired) can still be read.
async fn read(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    authenticate(&headers)?;
    let keys = pa.keys();
    let key = keys.get(&id).ok_or_else(|| empty(StatusCode::NOT_FOUND))?;
    Ok(respond(StatusCode::OK, key.full_json()))
}

/// `PATCH …/{id}` with `{expires_at_seconds?, set_to_never_expire?, metadata?}`, the fields the
/// SDKs send (node-apis `src/api/endUserApiKeys.ts` `updateApiKey`; propelauth-py
/// `propelauth_py/api/end_user_api_keys.py` `_update_api_key`, which adds `set_to_never_expire`).
/// A field left out is left alone; `metadata` replaces the whole object; 200 with a body the SDKs
/// never read; 400 keyed by field (both SDKs raise on 400 with the parsed body); 404 with an
/// empty body for an unknown id (propelauth-py raises `EndUserApiKeyNotFoundException`) and, as
/// DELETE does, for a deleted key [inferred]. An expired key may be given a new expiry, which
/// takes it out of the archive [inferred: nothing in the SDKs forbids it]. `display_name` is
/// tolerated (create takes it) though no SDK's update sends it.
async fn update(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    authenticate(&headers)?;
    if pa.keys().get(&id).is_none_or(|k| k.deleted) {
        return Err(empty(StatusCode::NOT_FOUND));
    }
    let object = object_body(&body)?;
    let mut errors = FieldErrors::default();
    let expires_at = expiry(&object, pa.now(), &mut errors);
    let metadata = metadata(&object, &mut errors);
    let display_name = optional_string(&object, "display_name", &mut errors);
    let never_expire = match object.get("set_to_never_expire") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            errors.add("set_to_never_expire", "Must be a boolean");
            false
        }
    };
    errors.check()?;

    let mut keys = pa.keys();
    let key = keys
        .get_mut(&id)
        .ok_or_else(|| empty(StatusCode::NOT_FOUND))?;
    if never_expire {
        key.expires_at = None;
    } else if expires_at.is_some() {
        key.expires_at = expires_at;
    }
    if let Some(metadata) = metadata {
        key.metadata = metadata;
    }
    if object.contains_key("display_name") {
        key.display_name = display_name;
    }
    Ok(respond(StatusCode::OK, json!({})))
}

/// DELETE archives the key; a key already deleted is 404, like an unknown one.
async fn archive(
    State(pa): State<Arc<PropelAuth>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    authenticate(&headers)?;
    match pa.keys().get_mut(&id) {
        Some(key) if !key.deleted => {
            key.deleted = true;
            Ok(respond(StatusCode::OK, json!({})))
        }
        _ => Err(empty(StatusCode::NOT_FOUND)),
    }
}

async fn validate(State(pa): State<Arc<PropelAuth>>, headers: HeaderMap, body: Bytes) -> Reply {
    authenticate(&headers)?;
    let object = object_body(&body)?;
    let token = match object.get("api_key_token") {
        Some(Value::String(token)) => token.as_str(),
        _ => return Err(field_error("api_key_token", "Required")),
    };
    // Like the SDKs: a pasted `Authorization` value works too.
    let token = match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => &token[7..],
        _ => token,
    };
    let now = pa.now();
    let mut keys = pa.keys();
    match keys.by_secret_mut(token.trim()) {
        Some(key) if !key.archived(now) => Ok(respond(StatusCode::OK, pa.validation_json(key))),
        // Both answers are ones the SDKs handle for an unknown token (see `Behaviour`).
        _ => match pa.behaviour().validate_unknown {
            super::ValidateUnknown::FieldError => {
                Err(field_error("api_key_token", "Invalid API key"))
            }
            super::ValidateUnknown::NotFound => Err(empty(StatusCode::NOT_FOUND)),
        },
    }
}
