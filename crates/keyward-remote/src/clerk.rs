//! Clerk's Backend API (BAPI) for API keys, authenticated with the instance secret key.
//!
//! Clerk keeps revoked keys (with a reason) and lists per owner ("subject"), with name search and
//! limit/offset paging. Timestamps are Unix milliseconds. The contract, with the vendor file each
//! rule comes from, is in docs/backends/clerk.md.

use crate::create_answer;
use crate::endpoint::key_id;
use crate::errors::{parse, rate_limited, server_failed, server_text, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{
    fetch_everything, fetch_window, is_server_order, page_of_snapshot, AfterRevoke, Chunk,
    Snapshots,
};
use crate::time::from_unix_millis;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, ExpiryPreset, KeyBackend, KeyStatus, ListQuery,
    NewKey, Page, Result, RevokeKind, SortField, StatusFilter, Subject, TextLimits, Verification,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const SERVICE: &str = "Clerk";
/// The API version the official SDK pins; Clerk versions the `/api_keys` routes by this header.
const API_VERSION: &str = "2026-05-12";
/// Clerk's largest `limit` for `GET /api_keys` (clerk/openapi-specs `bapi/2026-05-12.yml`:
/// `maximum: 100`; the SDK's generic pagination docstring says "less than 501", which this route
/// does not promise).
const MAX_PAGE: u32 = 100;
/// The smaller pages tried, in turn, when Clerk refuses a `limit`; 10 is Clerk's own default.
const SMALLER_PAGES: [u32; 3] = [50, 20, 10];
/// Clerk refuses shorter names.
const NAME_MIN_CHARS: usize = 3;
/// What Clerk keeps of free text (docs/backends/clerk.md, Limits): a description of at most 255
/// characters (bapi spec `createApiKey`, `maxLength: 255`); no maximum is stated for a name or a
/// `revocation_reason`, so Keyward's own caps apply.
const TEXT_LIMITS: TextLimits = TextLimits {
    name: TextLimits::GENERIC.name,
    description: 255,
    reason: TextLimits::GENERIC.reason,
};

/// Where the API-key routes live. The SDK calls `/api_keys` (versioned by header); the OpenAPI
/// spec's server gives `/v1/api_keys`. Clerk serves both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClerkPath {
    #[default]
    Root,
    V1,
}

#[derive(Debug)]
pub struct ClerkConfig {
    /// `https://api.clerk.com`, or an emulator on loopback.
    pub base_url: String,
    /// The instance secret key, `sk_live_…` or `sk_test_…`.
    pub secret_key: SecretString,
    pub path: ClerkPath,
    /// The owner used when a new key or a listing names none. Clerk needs one for both.
    pub default_subject: Option<Subject>,
    pub http: HttpOptions,
}

#[derive(Debug)]
pub struct ClerkBackend {
    client: Client,
    prefix: &'static [&'static str],
    default_subject: Option<Subject>,
    /// All keys of an owner, for the queries Clerk cannot answer.
    snapshots: Snapshots,
    /// The largest page to ask for: [`MAX_PAGE`] until Clerk refuses a `limit`, then smaller.
    max_page: AtomicU32,
}

impl ClerkBackend {
    pub fn new(config: ClerkConfig) -> Result<Self> {
        let mut auth = HeaderMap::new();
        auth.insert(
            AUTHORIZATION,
            sensitive_header(&format!("Bearer {}", config.secret_key.expose_secret()))?,
        );
        auth.insert(
            HeaderName::from_static("clerk-api-version"),
            HeaderValue::from_static(API_VERSION),
        );
        Ok(ClerkBackend {
            client: Client::new(&config.base_url, config.http, auth, vec![config.secret_key])?,
            prefix: match config.path {
                ClerkPath::Root => &["api_keys"],
                ClerkPath::V1 => &["v1", "api_keys"],
            },
            default_subject: config.default_subject,
            snapshots: Snapshots::default(),
            max_page: AtomicU32::new(MAX_PAGE),
        })
    }

    /// How long a snapshot of an owner's keys answers queries Clerk cannot (default
    /// [`crate::SNAPSHOT_TTL`]; zero reads one for every such query).
    pub fn with_snapshot_ttl(mut self, ttl: Duration) -> Self {
        self.snapshots = Snapshots::new(ttl);
        self
    }

    /// HTTP requests this backend has sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn url(&self, tail: &[&str]) -> url::Url {
        let segments: Vec<&str> = self.prefix.iter().chain(tail).copied().collect();
        self.client.url(&segments)
    }

    /// Clerk needs an owner for creating and for listing: the one given, else the profile's.
    fn subject(&self, given: Option<&Subject>) -> Result<String> {
        given
            .or(self.default_subject.as_ref())
            .map(clerk_subject)
            .ok_or_else(|| {
                Error::invalid(
                    Subject::FIELD,
                    "Clerk keeps keys per owner: give one (user:ID or org:ID) or set the profile's default owner",
                )
            })
    }

    /// What Clerk can answer itself: valid or all keys, newest first, searched by name.
    fn server_can_answer(query: &ListQuery) -> bool {
        matches!(query.status, StatusFilter::All | StatusFilter::Active)
            && is_server_order(query)
            && !query.has_usage_or_expiry_filter()
    }

    /// The largest page Clerk is known to accept (shown for tests and diagnostics).
    pub fn page_size(&self) -> u32 {
        self.max_page.load(Ordering::Relaxed)
    }

    /// Runs a paged read with the largest page Clerk accepts. When Clerk refuses a `limit`,
    /// [`Self::fetch_page`] has lowered the maximum and the read starts again with it, so one
    /// refusal costs one request, not every listing after it.
    async fn with_page_size<T, F, Fut>(&self, read: F) -> Result<T>
    where
        F: Fn(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        loop {
            let max_page = self.page_size();
            match read(max_page).await {
                Err(error) if is_page_size_refusal(&error) && self.page_size() < max_page => {}
                done => return done,
            }
        }
    }

    /// A key's secret, read again (`GET /api_keys/{id}/secret`, which only the Backend API has).
    async fn read_secret(&self, id: &str) -> Result<SecretString> {
        #[derive(Deserialize)]
        struct WireSecret {
            secret: String,
        }
        let id = key_id(id)?;
        self.client
            .call(Request::get(self.url(&[id, "secret"])), |mut response| {
                if response.status != StatusCode::OK {
                    return Err(error_from(&response, &format!("API key {id}")));
                }
                let read = parse::<WireSecret>(SERVICE, &response);
                response.wipe();
                Ok(SecretString::from(read?.secret))
            })
            .await
    }

    /// Every key of the owner, revoked and expired ones included.
    async fn snapshot(&self, subject: &str) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        self.snapshots
            .get_or_read(subject, || {
                self.with_page_size(|max_page| {
                    fetch_everything(max_page, |page, size| {
                        self.fetch_page(subject, true, None, page * u64::from(size), size)
                    })
                })
            })
            .await
    }

    async fn fetch_page(
        &self,
        subject: &str,
        include_invalid: bool,
        search: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<Chunk<ApiKey>> {
        let mut params = vec![
            ("subject", subject.to_owned()),
            ("include_invalid", include_invalid.to_string()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ];
        if let Some(search) = search {
            params.push(("query", search.to_owned()));
        }
        let request = Request::get(self.url(&[])).query(&params);
        self.client
            .call(request, |response| {
                if is_limit_refusal(&response) {
                    // Remember a smaller page for every read after this one.
                    if let Some(smaller) = SMALLER_PAGES.into_iter().find(|&size| size < limit) {
                        self.max_page.fetch_min(smaller, Ordering::Relaxed);
                    }
                    return Err(Error::invalid(
                        PAGE_SIZE_FIELD,
                        format!("Clerk refused pages of {limit} keys"),
                    ));
                }
                if response.status != StatusCode::OK {
                    return Err(error_from(&response, &format!("owner {subject}")));
                }
                let list: WireList = parse(SERVICE, &response)?;
                let now = Utc::now();
                Ok(Chunk {
                    items: list
                        .data
                        .into_iter()
                        .map(|key| key.into_api_key(now))
                        .collect::<Result<_>>()?,
                    total: list.total_count,
                })
            })
            .await
    }
}

/// The field a refused page size is reported under.
const PAGE_SIZE_FIELD: &str = "limit";

fn is_page_size_refusal(error: &Error) -> bool {
    error.field() == Some(PAGE_SIZE_FIELD)
}

/// A 400 (or 422) about the `limit` query parameter: Clerk names it in `meta.param_name`, or at
/// least in the message (`Invalid 'query.limit': …`).
fn is_limit_refusal(response: &Response) -> bool {
    if !matches!(response.status.as_u16(), 400 | 422) {
        return false;
    }
    let Some(first) = serde_json::from_slice::<WireErrors>(&response.body)
        .ok()
        .and_then(|body| body.errors.into_iter().next())
    else {
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

/// Clerk ids carry their kind (`user_…`, `org_…`); `user:2abc` is accepted as `user_2abc`.
fn clerk_subject(subject: &Subject) -> String {
    let id = subject.id();
    if ["user_", "org_", "mch_", "scim_"]
        .iter()
        .any(|prefix| id.starts_with(prefix))
    {
        id.to_owned()
    } else {
        format!("{}_{id}", subject.kind())
    }
}

/// Machine (`mch_`) and SCIM subjects have no [`Subject`] kind, so they show no owner.
fn owner_of(subject: &str) -> Option<Subject> {
    if subject.starts_with("org_") {
        Some(Subject::Org(subject.to_owned()))
    } else if subject.starts_with("user_") {
        Some(Subject::User(subject.to_owned()))
    } else {
        None
    }
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

/// Maps an error answer. `target` names what a 404 did not find ("API key ak_…", "owner user_…").
fn error_from(response: &Response, target: &str) -> Error {
    let first = serde_json::from_slice::<WireErrors>(&response.body)
        .ok()
        .and_then(|body| body.errors.into_iter().next());
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
        401 => Error::Unauthorized(
            "Clerk rejected the secret key: check the profile's credential (sk_live_… or sk_test_…)".into(),
        ),
        403 => Error::PermissionDenied(text.map_or_else(
            || "this secret key may not do that".into(),
            |t| format!("Clerk refused: {t}"),
        )),
        404 => Error::NotFound(format!("Clerk has no {target}")),
        409 => Error::Conflict("a key with this name already exists for this owner".into()),
        429 => rate_limited(SERVICE, response),
        500..=599 => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

/// A 200 with one key, as get and revoke answer.
fn key_from(response: &Response, id: &str) -> Result<ApiKey> {
    if response.status != StatusCode::OK {
        return Err(error_from(response, &format!("API key {id}")));
    }
    parse::<WireKey>(SERVICE, response)?.into_api_key(Utc::now())
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WireKey>,
    total_count: u64,
}

#[derive(Deserialize)]
struct WireKey {
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

/// What a create answer gave.
enum CreateAnswer {
    Complete(CreatedKey),
    /// The key was made (its id is in the answer) but its secret is not: read it again.
    WithoutSecret(ApiKey),
}

/// Reads a create answer. An answer that carries a secret has made a key, so it always yields
/// that secret: the key is read strictly if it can be, else field by field, with what cannot be
/// read taken from the request (name, owner, description, scopes, lifetime) or defaulted (created
/// now, active). An answer with an id but no secret is [`CreateAnswer::WithoutSecret`]; one with
/// neither is an error that says a key may exist and what to do about it.
fn created_from(
    response: &Response,
    asked: &CreateBody,
    now: DateTime<Utc>,
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
                return Err(key_may_exist(asked, &what, None));
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
        .and_then(|wire| wire.into_api_key(now).ok())
        .unwrap_or_else(|| key_read_leniently(&object, asked, now));
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
        )),
    }
}

/// The error for a create whose answer did not give the secret: a key may exist; with its id when
/// known, and what to do.
fn key_may_exist(asked: &CreateBody, what: &str, id: Option<&str>) -> Error {
    let (key, todo) = match id.map(create_answer::id_for_message) {
        Some(id) => (
            format!("Clerk has created key {id} ('{}')", asked.name),
            format!("revoke it (keyward revoke {id}) and create the key again"),
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
    let status = if flag("revoked") {
        KeyStatus::Revoked
    } else if flag("expired") {
        KeyStatus::Expired
    } else {
        KeyStatus::derive(false, expires_at, now)
    };
    let scopes = object
        .get("scopes")
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_else(|| asked.scopes.to_vec());
    ApiKey {
        owner: owner_of(&subject),
        // Without an id the key cannot be named later; the secret still reaches the user.
        id: text("id").unwrap_or_default(),
        name: text("name").unwrap_or_else(|| asked.name.to_owned()),
        created_at: millis("created_at").unwrap_or(now),
        expires_at,
        status,
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

impl WireKey {
    fn into_api_key(self, now: DateTime<Utc>) -> Result<ApiKey> {
        let millis = |ms: Option<i64>| ms.map(|ms| from_unix_millis(SERVICE, ms)).transpose();
        let expires_at = millis(self.expiration)?;
        // Clerk's own flags win; the date check covers a key that expired since Clerk answered.
        let status = if self.revoked {
            KeyStatus::Revoked
        } else if self.expired {
            KeyStatus::Expired
        } else {
            KeyStatus::derive(false, expires_at, now)
        };
        Ok(ApiKey {
            owner: owner_of(&self.subject),
            id: self.id,
            name: self.name,
            created_at: from_unix_millis(SERVICE, self.created_at)?,
            expires_at,
            status,
            // Clerk records no revocation time.
            revoked_at: None,
            revocation_reason: self.revocation_reason,
            last_used_at: millis(self.last_used_at)?,
            level: None,
            scopes: self.scopes,
            description: self.description,
            metadata: self.claims.filter(|claims| !claims.is_null()),
            stub: None,
        })
    }
}

#[derive(Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    scopes: &'a [String],
    /// `null` = never expires.
    seconds_until_expiration: Option<i64>,
}

#[async_trait]
impl KeyBackend for ClerkBackend {
    fn kind(&self) -> &'static str {
        "clerk"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_search: true,
            server_paging: true,
            // Clerk lists newest first; every other order sorts a snapshot of the owner's keys.
            sorts: SortField::ALL.to_vec(),
            user_keys: true,
            org_keys: true,
            owner_is_label: false,
            levels: None,
            scopes: true,
            descriptions: true,
            revoke_reason: true,
            revoke_kind: RevokeKind::Revoke,
            last_used: true,
            verify: true,
            expiry_presets: ExpiryPreset::ALL.to_vec(),
            custom_expiry: true,
            never_expires: true,
            names_kept_locally: false,
            text_limits: TEXT_LIMITS,
        }
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated_for(&TEXT_LIMITS, &self.client.credentials())?;
        if new.name.chars().count() < NAME_MIN_CHARS {
            return Err(Error::invalid(
                "name",
                format!("Clerk needs a name of at least {NAME_MIN_CHARS} characters"),
            ));
        }
        if new.level.is_some() {
            return Err(Error::invalid(
                "level",
                "Clerk keys have no level; use scopes instead",
            ));
        }
        let body = CreateBody {
            name: &new.name,
            subject: self.subject(new.owner.as_ref())?,
            description: new.description.as_deref(),
            scopes: &new.scopes,
            seconds_until_expiration: new.expiration.seconds_from(Utc::now())?,
        };
        let request = Request::create(self.url(&[]), &body);
        let answer = self
            .client
            .call(request, |mut response| {
                // The BAPI answers 200; Clerk's frontend API answers 201 to the same call.
                if !matches!(response.status.as_u16(), 200 | 201) {
                    let error = error_from(&response, &format!("owner {}", body.subject));
                    return Err(match error {
                        // A server failure after the request arrived may come after the key was made.
                        Error::Backend(message) => Error::Backend(format!(
                            "{message}; a key named '{}' may have been created: check the owner's key list before trying again",
                            body.name
                        )),
                        other => other,
                    });
                }
                let answer = created_from(&response, &body, Utc::now());
                response.wipe();
                answer
            })
            .await;
        // Whatever the answer, a key may now exist that the snapshots do not have.
        self.snapshots.created();
        match answer? {
            CreateAnswer::Complete(created) => Ok(created),
            // The Backend API can read a secret again, so an answer without one loses nothing.
            CreateAnswer::WithoutSecret(key) => match self.read_secret(&key.id).await {
                Ok(secret) => Ok(CreatedKey { key, secret }),
                Err(_) => Err(key_may_exist(
                    &body,
                    "carried no secret and reading it again failed",
                    Some(&key.id),
                )),
            },
        }
    }

    /// Clerk filters valid keys, searches names (`query`) and pages, newest first: such queries
    /// cost one request per page of 100 (or the smaller page Clerk last accepted). Everything else (expired or revoked alone, the expiry
    /// and usage filters, other orders) is answered from a snapshot of the owner's keys.
    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        let subject = self.subject(query.owner.as_ref())?;
        if !Self::server_can_answer(&query) {
            return Ok(page_of_snapshot(&self.snapshot(&subject).await?, &query));
        }
        let include_invalid = query.status != StatusFilter::Active;
        let chunk = self
            .with_page_size(|max_page| {
                fetch_window(
                    query.offset(),
                    query.limit.into(),
                    max_page,
                    |page, size| {
                        self.fetch_page(
                            &subject,
                            include_invalid,
                            query.search.as_deref(),
                            page * u64::from(size),
                            size,
                        )
                    },
                )
            })
            .await?;
        Ok(Page {
            items: chunk.items,
            page: query.page,
            limit: query.limit,
            total: Some(chunk.total),
            has_more: query.offset() + u64::from(query.limit) < chunk.total,
        })
    }

    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id)?;
        self.client
            .call(Request::get(self.url(&[id])), |response| {
                key_from(&response, id)
            })
            .await
    }

    /// Clerk keeps the key, flagged revoked with the reason. Revoking again changes nothing.
    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        let reason = TEXT_LIMITS.checked_reason(reason, &self.client.credentials())?;
        let body = serde_json::json!({ "revocation_reason": reason });
        let request = Request::post(self.url(&[id, "revoke"]), &body);
        let key = self
            .client
            .call(request, |response| key_from(&response, id))
            .await?;
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    /// The owners in the snapshot of the default owner's keys (Clerk lists per owner, so that
    /// is the only one it can show); none without a default owner.
    fn forget_cached(&self) {
        self.snapshots.created();
    }

    async fn owners(&self) -> Result<Vec<Subject>> {
        let Some(subject) = self.default_subject.as_ref().map(clerk_subject) else {
            return Ok(Vec::new());
        };
        Ok(Snapshots::owners_of(&self.snapshot(&subject).await?))
    }

    /// Clerk answers 404 for unknown, revoked and expired secrets alike, so all three are
    /// `Unknown`; a 200 is checked against the flags anyway.
    async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        let secret = secret.expose_secret();
        let body = serde_json::json!({ "secret": secret });
        let request = Request::post(self.url(&["verify"]), &body).redact(secret);
        self.client
            .call(request, |response| match response.status {
                StatusCode::OK => {
                    let key = parse::<WireKey>(SERVICE, &response)?.into_api_key(Utc::now())?;
                    Ok(match key.status {
                        KeyStatus::Active => Verification::Valid(key),
                        KeyStatus::Revoked => Verification::Revoked(key),
                        KeyStatus::Expired => Verification::Expired(key),
                    })
                }
                StatusCode::NOT_FOUND => Ok(Verification::Unknown),
                _ => Err(error_from(&response, "API key")),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn clerk_error(param: Option<&str>) -> String {
        serde_json::json!({
            "errors": [{
                "message": "Bad Request",
                "long_message": "Invalid value: failed regex check",
                "code": "form_param_format_invalid",
                "meta": param.map(|p| serde_json::json!({"param_name": p})),
            }],
            "clerk_trace_id": "t"
        })
        .to_string()
    }

    #[test]
    fn bad_requests_name_our_field() {
        for (param, field) in [
            ("name", "name"),
            ("subject", "owner"),
            ("seconds_until_expiration", "expires"),
            ("description", "description"),
            ("scopes", "scopes"),
        ] {
            let error = error_from(&response(400, &clerk_error(Some(param))), "owner x");
            assert_eq!(error.field(), Some(field), "{param}");
            assert!(error.to_string().contains("failed regex check"));
        }
        let error = error_from(&response(422, &clerk_error(None)), "x");
        assert_eq!(error.field(), Some("request"));
    }

    #[test]
    fn statuses_map_to_codes() {
        use keyward_core::ErrorCode::*;
        for (status, code) in [
            (401, Unauthorized),
            (403, PermissionDenied),
            (404, NotFound),
            (409, Conflict),
            (429, RateLimited),
            (500, Backend),
            (503, Backend),
            (418, Unexpected),
        ] {
            let error = error_from(&response(status, &clerk_error(None)), "API key ak_1");
            assert_eq!(error.code(), code, "{status}");
        }
        let conflict = error_from(&response(409, "{}"), "x");
        assert_eq!(
            conflict.to_string(),
            "a key with this name already exists for this owner"
        );
        assert!(error_from(&response(404, ""), "API key ak_1")
            .to_string()
            .contains("ak_1"));
    }

    #[test]
    fn keys_map_from_the_wire() {
        let wire: WireKey = serde_json::from_value(serde_json::json!({
            "object": "api_key",
            "id": "ak_3beecc9c60adb5f9b850e91a8ee1e992",
            "type": "api_key",
            "name": "MY_SERVICE_API_KEY",
            "subject": "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
            "description": "nightly",
            "claims": null,
            "scopes": ["read"],
            "revoked": true,
            "revocation_reason": "rotated",
            "expired": false,
            "expiration": 1767225600000i64,
            "created_by": null,
            "last_used_at": null,
            "created_at": 1735689600000i64,
            "updated_at": 1735689600000i64
        }))
        .unwrap();
        let key = wire.into_api_key(Utc::now()).unwrap();
        assert_eq!(key.status, KeyStatus::Revoked);
        assert_eq!(key.revocation_reason.as_deref(), Some("rotated"));
        assert_eq!(
            key.owner,
            Some(Subject::Org("org_2xhFjEI5X2qWRvtV13BzSj8H6Dk".into()))
        );
        assert_eq!(key.created_at.timestamp(), 1_735_689_600);
        assert_eq!(key.metadata, None);
    }

    fn asked() -> CreateBody<'static> {
        CreateBody {
            name: "CI key",
            subject: "user_2abc".into(),
            description: Some("nightly"),
            scopes: &[],
            seconds_until_expiration: Some(3600),
        }
    }

    #[test]
    fn a_create_answer_with_a_secret_is_never_lost() {
        let now = Utc::now();
        let complete = |body: &str| match created_from(&response(200, body), &asked(), now) {
            Ok(CreateAnswer::Complete(created)) => created,
            _ => panic!("{body}"),
        };
        // Only the secret: everything else comes from the request, created now.
        let bare = complete(r#"{"secret":"ak_s3cret"}"#);
        assert_eq!(bare.secret.expose_secret(), "ak_s3cret");
        assert_eq!(bare.key.name, "CI key");
        assert_eq!(bare.key.id, "");
        assert_eq!(bare.key.owner, Some(Subject::User("user_2abc".into())));
        assert_eq!(bare.key.description.as_deref(), Some("nightly"));
        assert_eq!(bare.key.created_at, now);
        assert_eq!(
            bare.key.expires_at,
            Some(now + chrono::Duration::seconds(3600))
        );
        // A date out of range and a wrong type: the rest is still read.
        let odd = complete(
            r#"{"id":"ak_1","name":"CI key","subject":"org_9","secret":"ak_x",
            "created_at":9e300,"expiration":"never","revoked":false,"scopes":["a"]}"#,
        );
        assert_eq!(odd.key.id, "ak_1");
        assert_eq!(odd.key.owner, Some(Subject::Org("org_9".into())));
        assert_eq!(odd.key.scopes, ["a"]);
        assert_eq!(odd.key.created_at, now);
        // A number beyond f64 anywhere, bytes after the object, a body cut short: the secret and
        // id are still read.
        for body in [
            r#"{"id":"ak_1","secret":"ak_x","last_used_at":1e400}"#,
            r#"{"id":"ak_1","secret":"ak_x","claims":{"n":-1e999}} trailing"#,
            r#"{"id":"ak_1","secret":"ak_x","scopes":["#,
        ] {
            let kept = complete(body);
            assert_eq!(kept.secret.expose_secret(), "ak_x", "{body}");
            assert_eq!(kept.key.id, "ak_1", "{body}");
        }
    }

    #[test]
    fn a_create_answer_without_a_secret_is_read_again_or_says_what_may_exist() {
        let now = Utc::now();
        let answer = created_from(&response(200, r#"{"id":"ak_7"}"#), &asked(), now);
        let Ok(CreateAnswer::WithoutSecret(key)) = answer else {
            panic!("an id without a secret is read again");
        };
        assert_eq!((key.id.as_str(), key.name.as_str()), ("ak_7", "CI key"));
        let error = key_may_exist(&asked(), "carried no secret", Some("ak_7")).to_string();
        assert!(error.contains("created key ak_7") && error.contains("keyward revoke ak_7"));
        // The id is the server's text: a terminal escape in it is not passed on.
        let escape = key_may_exist(&asked(), "carried no secret", Some("\u{1b}[2J")).to_string();
        assert!(
            !escape.chars().any(char::is_control) && escape.contains("?[2J"),
            "{escape}"
        );
        for body in ["", "<html>", "[1]", r#"{"secret":""}"#] {
            let Err(error) = created_from(&response(200, body), &asked(), now) else {
                panic!("{body}");
            };
            assert_eq!(error.code(), keyward_core::ErrorCode::Backend);
            assert!(
                error.to_string().contains("'CI key' may have been created"),
                "{body}: {error}"
            );
        }
    }

    #[test]
    fn limit_refusals_are_told_apart() {
        let by_param = response(400, &clerk_error(Some("limit")));
        assert!(is_limit_refusal(&by_param));
        assert!(!is_limit_refusal(&response(
            400,
            &clerk_error(Some("offset"))
        )));
        let by_text = r#"{"errors":[{"message":"Bad Request","long_message":"Invalid 'query.limit': must be at most 50","code":"bad_request"}]}"#;
        assert!(is_limit_refusal(&response(422, by_text)));
        assert!(!is_limit_refusal(&response(404, by_text)));
        assert!(!is_limit_refusal(&response(400, "not json")));
    }

    #[test]
    fn subjects_take_the_clerk_prefix() {
        assert_eq!(clerk_subject(&Subject::User("2abc".into())), "user_2abc");
        assert_eq!(
            clerk_subject(&Subject::User("user_2abc".into())),
            "user_2abc"
        );
        assert_eq!(clerk_subject(&Subject::Org("org_9".into())), "org_9");
        assert_eq!(owner_of("mch_1"), None);
    }
}
