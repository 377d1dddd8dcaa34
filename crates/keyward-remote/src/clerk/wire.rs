//! The shapes both Clerk APIs share on the wire (clerk/openapi-specs `bapi/2026-05-12.yml` and
//! `fapi/2026-05-12.yml` use the same `APIKey` object, list answer and error body): how an error
//! answer maps to [`Error`], how a key and a listing are read, and how a create answer is read
//! without ever losing a secret. Where the two APIs differ, [`Api`] says how.

use super::{owner_of, Api, SERVICE};
use crate::create_answer;
use crate::errors::{parse, rate_limited, server_failed, server_text, unexpected_status};
use crate::http::Response;
use crate::listing::Chunk;
use crate::time::from_unix_millis;
use chrono::{DateTime, Utc};
use keyward_core::{ApiKey, CreatedKey, Error, KeyStatus, Result, Subject};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;

/// `{errors:[{code,message,long_message,meta}], clerk_trace_id}`.
#[derive(Deserialize)]
struct WireErrors {
    #[serde(default)]
    errors: Vec<WireError>,
}

#[derive(Deserialize)]
struct WireError {
    message: Option<String>,
    long_message: Option<String>,
    meta: Option<WireMeta>,
}

#[derive(Deserialize)]
struct WireMeta {
    param_name: Option<String>,
}

/// The first error of an error answer, if the body is Clerk's error shape.
fn first_error(response: &Response) -> Option<WireError> {
    serde_json::from_slice::<WireErrors>(&response.body)
        .ok()
        .and_then(|body| body.errors.into_iter().next())
}

/// Clerk's parameter names, as our field names.
fn field_of(param: &str) -> &str {
    match param {
        "subject" => Subject::FIELD,
        "seconds_until_expiration" => "expires",
        "apiKeyID" => "id",
        "offset" => "page",
        other => other,
    }
}

/// Maps an error answer of the API-key routes. `target` names what a 404 did not find
/// ("API key ak_…", "owner user_…").
pub(super) fn error_from(response: &Response, target: &str, api: Api) -> Error {
    let first = first_error(response);
    let text = first
        .as_ref()
        .and_then(|e| e.long_message.as_deref().or(e.message.as_deref()))
        .map(server_text);
    let param = first.and_then(|e| e.meta).and_then(|meta| meta.param_name);
    match response.status.as_u16() {
        400 | 422 => Error::invalid(
            param.as_deref().map_or("request", field_of),
            text.unwrap_or_else(|| "Clerk refused the request".into()),
        ),
        401 => api.credential_refused(),
        403 => Error::PermissionDenied(
            text.map_or_else(|| api.may_not(target), |t| format!("Clerk refused: {t}")),
        ),
        404 => Error::NotFound(format!("Clerk has no {target}")),
        409 => Error::Conflict("a key with this name already exists for this owner".into()),
        429 => rate_limited(SERVICE, response),
        500..=599 => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

/// A 400 (or 422) about the `limit` query parameter: Clerk names it in `meta.param_name`, or at
/// least in the message (`Invalid 'query.limit': …`).
pub(super) fn is_limit_refusal(response: &Response) -> bool {
    if !matches!(response.status.as_u16(), 400 | 422) {
        return false;
    }
    let Some(first) = first_error(response) else {
        return false;
    };
    match first.meta.and_then(|meta| meta.param_name) {
        Some(param) => param == "limit",
        None => [first.long_message, first.message]
            .iter()
            .flatten()
            .any(|text| text.contains("limit")),
    }
}

/// A 200 with one key, as get and revoke answer.
pub(super) fn key_from(response: &Response, id: &str, api: Api) -> Result<ApiKey> {
    if response.status != StatusCode::OK {
        return Err(error_from(response, &format!("API key {id}"), api));
    }
    parse::<WireKey>(SERVICE, response)?.into_api_key(Utc::now(), api)
}

/// A page of a listing (`{data, total_count}`) for `subject`.
pub(super) fn chunk_from(response: &Response, subject: &str, api: Api) -> Result<Chunk<ApiKey>> {
    if response.status != StatusCode::OK {
        return Err(error_from(response, &format!("owner {subject}"), api));
    }
    let list: WireList = parse(SERVICE, response)?;
    let now = Utc::now();
    Ok(Chunk {
        items: list
            .data
            .into_iter()
            .map(|key| key.into_api_key(now, api))
            .collect::<Result<_>>()?,
        total: list.total_count,
    })
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WireKey>,
    total_count: u64,
}

#[derive(Deserialize)]
pub(super) struct WireKey {
    id: String,
    name: String,
    subject: String,
    description: Option<String>,
    claims: Option<serde_json::Value>,
    #[serde(default)]
    scopes: Vec<String>,
    revoked: bool,
    revocation_reason: Option<String>,
    expired: bool,
    expiration: Option<i64>,
    last_used_at: Option<i64>,
    created_at: i64,
}

impl WireKey {
    pub(super) fn into_api_key(self, now: DateTime<Utc>, api: Api) -> Result<ApiKey> {
        let millis = |ms: Option<i64>| ms.map(|ms| from_unix_millis(SERVICE, ms)).transpose();
        let expires_at = millis(self.expiration)?;
        Ok(ApiKey {
            owner: owner_of(&self.subject),
            id: self.id,
            name: self.name,
            created_at: from_unix_millis(SERVICE, self.created_at)?,
            expires_at,
            status: status_of(self.revoked, self.expired, expires_at, now),
            // Clerk records no revocation time.
            revoked_at: None,
            revocation_reason: self.revocation_reason,
            last_used_at: millis(self.last_used_at)?,
            level: None,
            scopes: if api.shows_scopes() {
                self.scopes
            } else {
                Vec::new()
            },
            description: self.description,
            metadata: self.claims.filter(|claims| !claims.is_null()),
            stub: None,
        })
    }
}

/// Clerk's own flags win; the date check covers a key that expired since Clerk answered.
fn status_of(
    revoked: bool,
    expired: bool,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> KeyStatus {
    if revoked {
        KeyStatus::Revoked
    } else if expired {
        KeyStatus::Expired
    } else {
        KeyStatus::derive(false, expires_at, now)
    }
}

/// A key as asked to be created: what a create sends, and what fills the gaps of an answer that
/// does not match the contract.
pub(super) struct CreateBody<'a> {
    pub name: &'a str,
    pub subject: String,
    pub description: Option<&'a str>,
    pub scopes: &'a [String],
    /// `None` = never expires (sent as `null`).
    pub seconds_until_expiration: Option<i64>,
}

impl CreateBody<'_> {
    /// The JSON body of `POST /api_keys`.
    pub(super) fn to_wire(&self, api: Api) -> serde_json::Value {
        match api {
            // bapi spec `createApiKey`: scopes may be set; no description is left out.
            Api::Backend => {
                let mut body = serde_json::json!({
                    "name": self.name,
                    "subject": self.subject,
                    "scopes": self.scopes,
                    "seconds_until_expiration": self.seconds_until_expiration,
                });
                if let Some(description) = self.description {
                    body["description"] = description.into();
                }
                body
            }
            // What clerk-js sends (`packages/clerk-js/src/core/modules/apiKeys/index.ts`): `type`
            // and a `description` that may be null; the fapi spec refuses any other field, scopes
            // included (`additionalProperties: false`).
            Api::Frontend => serde_json::json!({
                "type": "api_key",
                "name": self.name,
                "subject": self.subject,
                "description": self.description,
                "seconds_until_expiration": self.seconds_until_expiration,
            }),
        }
    }
}

/// The error for a create Clerk refused. A server failure after the request arrived may come
/// after the key was made, so it says to look before trying again.
pub(super) fn create_refused(response: &Response, asked: &CreateBody, api: Api) -> Error {
    match error_from(response, &format!("owner {}", asked.subject), api) {
        Error::Backend(message) => Error::Backend(format!(
            "{message}; a key named '{}' may have been created: check the owner's key list before trying again",
            asked.name
        )),
        other => other,
    }
}

/// What a create answer gave.
pub(super) enum CreateAnswer {
    Complete(CreatedKey),
    /// The key was made (its id is in the answer) but its secret is not.
    WithoutSecret(ApiKey),
}

/// Reads a create answer. An answer that carries a secret has made a key, so it always yields
/// that secret: the key is read strictly if it can be, else field by field, with what cannot be
/// read taken from the request (name, owner, description, scopes, lifetime) or defaulted (created
/// now, active). An answer with an id but no secret is [`CreateAnswer::WithoutSecret`]; one with
/// neither is an error that says a key may exist and what to do about it.
pub(super) fn created_from(
    response: &Response,
    asked: &CreateBody,
    now: DateTime<Utc>,
    api: Api,
) -> Result<CreateAnswer> {
    let status = response.status.as_u16();
    let mut object = match create_answer::parse(&response.body) {
        Some(serde_json::Value::Object(object)) => object,
        // Not JSON even leniently (cut short, say): the id and secret if they are whole in it.
        _ => {
            let found: serde_json::Map<String, serde_json::Value> = ["id", "secret"]
                .into_iter()
                .filter_map(|name| {
                    create_answer::string_field(&response.body, name)
                        .map(|text| (name.to_owned(), serde_json::Value::String(text)))
                })
                .collect();
            if found.is_empty() {
                let what = format!("is not a JSON object Keyward can read (HTTP {status})");
                return Err(key_may_exist(asked, &what, None, api));
            }
            found
        }
    };
    let secret = match object.remove("secret") {
        Some(serde_json::Value::String(secret)) if !secret.is_empty() => Some(secret),
        _ => None,
    };
    let object = serde_json::Value::Object(object);
    let key = serde_json::from_value::<WireKey>(object.clone())
        .ok()
        .and_then(|wire| wire.into_api_key(now, api).ok())
        .unwrap_or_else(|| key_read_leniently(&object, asked, now, api));
    match secret {
        Some(secret) => Ok(CreateAnswer::Complete(CreatedKey {
            key,
            secret: SecretString::from(secret),
        })),
        None if !key.id.is_empty() => Ok(CreateAnswer::WithoutSecret(key)),
        None => Err(key_may_exist(
            asked,
            &format!("carries neither the key's id nor its secret (HTTP {status})"),
            None,
            api,
        )),
    }
}

/// The error for a create whose answer did not give the secret: a key may exist; with its id when
/// known, and what to do.
pub(super) fn key_may_exist(asked: &CreateBody, what: &str, id: Option<&str>, api: Api) -> Error {
    let (key, todo) = match id.map(create_answer::id_for_message) {
        Some(id) => (
            format!("Clerk has created key {id} ('{}')", asked.name),
            format!(
                "{}revoke it (keyward revoke {id}) and create the key again",
                api.why_revoke()
            ),
        ),
        None => (
            format!(
                "a key named '{}' may have been created for {}",
                asked.name, asked.subject
            ),
            "look for it in the owner's key list (newest first) and revoke it if it is there, \
             then create the key again"
                .to_owned(),
        ),
    };
    Error::Backend(format!(
        "Clerk's answer to the create {what}: {key}, but Keyward did not get its secret; {todo}"
    ))
}

/// A created key from an answer that does not match the contract: each field that can be read
/// is used, the rest comes from what was asked for.
fn key_read_leniently(
    object: &serde_json::Value,
    asked: &CreateBody,
    now: DateTime<Utc>,
    api: Api,
) -> ApiKey {
    let text = |name: &str| object.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let flag = |name: &str| object.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
    let millis = |name: &str| {
        object
            .get(name)
            .and_then(|v| v.as_i64())
            .and_then(|ms| from_unix_millis(SERVICE, ms).ok())
    };
    let expires_at = millis("expiration").or_else(|| {
        asked
            .seconds_until_expiration
            .map(|secs| now + chrono::Duration::seconds(secs))
    });
    let subject = text("subject").unwrap_or_else(|| asked.subject.clone());
    let scopes = if api.shows_scopes() {
        object
            .get("scopes")
            .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
            .unwrap_or_else(|| asked.scopes.to_vec())
    } else {
        Vec::new()
    };
    ApiKey {
        owner: owner_of(&subject),
        // Without an id the key cannot be named later; the secret still reaches the user.
        id: text("id").unwrap_or_default(),
        name: text("name").unwrap_or_else(|| asked.name.to_owned()),
        created_at: millis("created_at").unwrap_or(now),
        expires_at,
        status: status_of(flag("revoked"), flag("expired"), expires_at, now),
        revoked_at: None,
        revocation_reason: text("revocation_reason"),
        last_used_at: millis("last_used_at"),
        level: None,
        scopes,
        description: text("description").or_else(|| asked.description.map(str::to_owned)),
        metadata: object.get("claims").filter(|c| !c.is_null()).cloned(),
        stub: None,
    }
}

/// An answer as the HTTP layer hands it over, for the adapters' unit tests.
#[cfg(test)]
pub(super) fn response(status: u16, body: &str) -> Response {
    Response {
        status: StatusCode::from_u16(status).unwrap(),
        headers: reqwest::header::HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    }
}
