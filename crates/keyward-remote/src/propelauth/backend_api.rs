//! The backend (integration) API: `Authorization: Bearer <integration key>`, errors as a JSON
//! object keyed by field name, 404 with an empty body.

use super::{created_from, Asked, PageSize, Shelf, WireKey, WirePage, SERVICE};
use crate::endpoint::validate_base_url;
use crate::errors::{parse, rate_limited, server_failed, server_text, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{
    dedup, fetch_everything, fetch_window, is_server_order, page_of_snapshot, AfterRevoke, Chunk,
    Snapshots,
};
use chrono::Utc;
use keyward_core::{
    ApiKey, CreatedKey, Error, Expiration, KeyStatus, KeyUpdate, ListQuery, NewExpiry, NewKey,
    Page, Result, StatusFilter, Subject, UpdateFields, Verification,
};
use reqwest::header::{HeaderMap, HeaderName, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::BTreeMap;

const PATH: [&str; 4] = ["api", "backend", "v1", "end_user_api_keys"];
/// The shared API host, which routes by the `X-Propelauth-url` header.
const SHARED_HOST: &str = "propelauth-api.com";

#[derive(Debug)]
pub(super) struct BackendApi {
    pub(super) client: Client,
    default_subject: Option<Subject>,
    /// All keys of an owner (or of the project), active and archived.
    pub(super) snapshots: Snapshots,
    page_size: PageSize,
}

impl BackendApi {
    pub(super) fn new(
        base_url: &str,
        integration_key: SecretString,
        auth_url: Option<&str>,
        default_subject: Option<Subject>,
        http: HttpOptions,
    ) -> Result<Self> {
        let mut auth = HeaderMap::new();
        auth.insert(
            AUTHORIZATION,
            sensitive_header(&format!("Bearer {}", integration_key.expose_secret()))?,
        );
        if let Some(host) = propelauth_url_header(base_url, auth_url)? {
            auth.insert(
                HeaderName::from_static("x-propelauth-url"),
                sensitive_header(&host)?,
            );
        }
        Ok(BackendApi {
            client: Client::new(base_url, http, auth, vec![integration_key])?,
            default_subject,
            snapshots: Snapshots::default(),
            page_size: PageSize::default(),
        })
    }

    pub(super) fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn url(&self, tail: &[&str]) -> url::Url {
        let segments: Vec<&str> = PATH.iter().chain(tail).copied().collect();
        self.client.url(&segments)
    }

    pub(super) async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated_for(&super::TEXT_LIMITS, &self.client.credentials())?;
        refuse_levels_and_scopes(&new)?;
        let owner = new.owner.clone().or_else(|| self.default_subject.clone());
        let now = Utc::now();
        let expires_at = new.expiration.resolve(now)?;
        let metadata = new
            .description
            .as_ref()
            .map(|d| serde_json::json!({ "description": d }));
        let body = CreateBody {
            user_id: match &owner {
                Some(Subject::User(id)) => Some(id),
                _ => None,
            },
            org_id: match &owner {
                Some(Subject::Org(id)) => Some(id),
                _ => None,
            },
            expires_at_seconds: expires_at.map(|at| at.timestamp()),
            metadata: metadata.as_ref(),
            display_name: &new.name,
        };
        let request = Request::create(self.url(&[]), &body);
        let asked = Asked {
            name: new.name.clone(),
            owner: owner.clone(),
            expires_at,
            metadata: metadata.clone(),
        };
        self.client
            .call(request, |mut response| {
                let created = created_from(&response, &asked, now, |r| error_from(r, "owner"));
                response.wipe();
                created
            })
            .await
            .inspect(|_| self.snapshots.created())
    }

    /// Active keys, newest first, come page by page from the main listing; "all", newest first,
    /// is the active listing followed by the archive (PropelAuth's own order). Anything else
    /// (expired or revoked alone, which share the archive; a search, which PropelAuth's backend
    /// API lacks; the expiry and usage filters; other orders) is answered from a snapshot of the
    /// owner's active and archived keys.
    pub(super) async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        let owner = query.owner.as_ref().or(self.default_subject.as_ref());
        let shelves: &[Shelf] = match query.status {
            StatusFilter::Active => &[Shelf::Active],
            StatusFilter::All => &[Shelf::Active, Shelf::Archived],
            StatusFilter::Expired | StatusFilter::Revoked => &[],
        };
        let server_can_answer = !shelves.is_empty()
            && query.search.is_none()
            && is_server_order(&query)
            && !query.has_usage_or_expiry_filter();
        if !server_can_answer {
            return Ok(page_of_snapshot(&self.snapshot(owner).await?, &query));
        }
        let (offset, len) = (query.offset(), u64::from(query.limit));
        let first = self.window(shelves[0], owner, offset, len).await?;
        let mut items = first.items;
        let mut total = first.total;
        if let Some(archive) = shelves.get(1) {
            // The archive continues where the active listing ends; when the page is already
            // full, one smallest page still tells how many archived keys follow.
            // Saturating: a server may send more keys than asked or claim any total.
            let missing = len.saturating_sub(items.len() as u64);
            let from = offset.saturating_sub(first.total);
            let rest = self.window(*archive, owner, from, missing.max(1)).await?;
            if missing > 0 {
                items.extend(rest.items);
            }
            total = total.saturating_add(rest.total);
        }
        Ok(Page {
            items,
            page: query.page,
            limit: query.limit,
            total: Some(total),
            has_more: offset.saturating_add(len) < total,
        })
    }

    /// Every key of the owner (all of the project's without one): both listings, whole.
    async fn snapshot(&self, owner: Option<&Subject>) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        let scope = owner.map_or_else(|| "*".to_owned(), ToString::to_string);
        self.snapshots
            .get_or_read(&scope, || async {
                let (active, archived) = futures::try_join!(
                    self.everything(Shelf::Active, owner),
                    self.everything(Shelf::Archived, owner),
                )?;
                Ok(dedup(active.into_iter().chain(archived).collect()))
            })
            .await
    }

    async fn everything(&self, shelf: Shelf, owner: Option<&Subject>) -> Result<Vec<ApiKey>> {
        self.page_size
            .read(|max_page| {
                fetch_everything(max_page, move |page_number, page_size| {
                    self.page(shelf, owner, page_number, page_size)
                })
            })
            .await
    }

    /// The owners in the snapshot of the default owner's keys (all of the project's keys when
    /// the profile names no owner).
    pub(super) async fn owners(&self) -> Result<Vec<Subject>> {
        let keys = self.snapshot(self.default_subject.as_ref()).await?;
        Ok(Snapshots::owners_of(&keys))
    }

    /// Keys `[offset, offset + len)` of one listing, for one owner or all.
    async fn window(
        &self,
        shelf: Shelf,
        owner: Option<&Subject>,
        offset: u64,
        len: u64,
    ) -> Result<Chunk<ApiKey>> {
        self.page_size
            .read(|max_page| {
                fetch_window(offset, len, max_page, move |page_number, page_size| {
                    self.page(shelf, owner, page_number, page_size)
                })
            })
            .await
    }

    async fn page(
        &self,
        shelf: Shelf,
        owner: Option<&Subject>,
        page_number: u64,
        page_size: u32,
    ) -> Result<Chunk<ApiKey>> {
        let url = match shelf {
            Shelf::Active => self.url(&[]),
            Shelf::Archived => self.url(&["archived"]),
        };
        let mut params = vec![
            ("page_size", page_size.to_string()),
            ("page_number", page_number.to_string()),
        ];
        match owner {
            Some(Subject::User(id)) => params.push(("user_id", id.clone())),
            Some(Subject::Org(id)) => params.push(("org_id", id.clone())),
            None => {}
        }
        self.client
            .call(Request::get(url).query(&params), |response| {
                if response.status != StatusCode::OK {
                    return Err(error_from(&response, "owner"));
                }
                let page: WirePage = parse(SERVICE, &response)?;
                let now = Utc::now();
                Ok(Chunk {
                    items: page
                        .api_keys
                        .into_iter()
                        .map(|key| key.into_api_key(shelf, None, None, now))
                        .collect::<Result<_>>()?,
                    total: page.total_api_keys,
                })
            })
            .await
    }

    /// PropelAuth's read answers archived keys too, without saying so: a deleted key that has not
    /// expired reads as active here (the listings tell them apart).
    pub(super) async fn get(&self, id: &str) -> Result<ApiKey> {
        self.client
            .call(Request::get(self.url(&[id])), |response| {
                if response.status != StatusCode::OK {
                    return Err(error_from(&response, &format!("API key {id}")));
                }
                parse::<WireKey>(SERVICE, &response)?.into_api_key(
                    Shelf::Active,
                    None,
                    None,
                    Utc::now(),
                )
            })
            .await
    }

    /// Reads the key, then archives it. A key already archived is returned as it is.
    pub(super) async fn revoke(&self, id: &str) -> Result<ApiKey> {
        let mut key = self.get(id).await?;
        let archived_now = self
            .client
            .call(Request::delete(self.url(&[id])), |response| {
                match response.status.as_u16() {
                    200..=299 => Ok(true),
                    // Known (we just read it) but not deletable: already archived.
                    404 => Ok(false),
                    _ => Err(error_from(&response, &format!("API key {id}"))),
                }
            })
            .await?;
        if key.status != KeyStatus::Expired {
            key.status = KeyStatus::Revoked;
        }
        if archived_now {
            key.revoked_at = Some(Utc::now());
        }
        // The archive lists it from now on.
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    /// `PATCH …/{id}` with `{expires_at_seconds?, set_to_never_expire?, metadata?}`: the fields
    /// PropelAuth's SDKs send (node-apis `src/api/endUserApiKeys.ts` `updateApiKey`, propelauth-py
    /// `propelauth_py/api/end_user_api_keys.py` `_update_api_key`); no SDK sends a name, so a
    /// name cannot be changed. The key is read first: an unknown id is `not_found` before
    /// anything is changed, and the description is merged into the key's metadata (PropelAuth
    /// replaces the whole object) so that other metadata survives. The answer's body is not read
    /// (the SDKs ignore it); the key returned is the one read, with the change applied. A 404
    /// from the PATCH of a key just read means PropelAuth archived it: a `conflict`.
    pub(super) async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        change.check_against(&BACKEND_UPDATES)?;
        let change = change
            .clone()
            .validated_for(&super::TEXT_LIMITS, &self.client.credentials())?;
        let mut key = self.get(id).await?;
        let now = Utc::now();
        let new_expiry = change.new_expiry(now)?;
        let metadata = change.description.as_ref().map(|_| {
            let mut metadata = match key.metadata.take() {
                Some(serde_json::Value::Object(object)) => object,
                _ => serde_json::Map::new(),
            };
            match change.description_text() {
                Some(text) => {
                    metadata.insert("description".into(), text.into());
                }
                None => {
                    metadata.remove("description");
                }
            }
            serde_json::Value::Object(metadata)
        });
        let body = UpdateBody {
            expires_at_seconds: match new_expiry {
                Some(NewExpiry::At(at)) => Some(at.timestamp()),
                _ => None,
            },
            set_to_never_expire: matches!(new_expiry, Some(NewExpiry::Never)).then_some(true),
            metadata: metadata.as_ref(),
        };
        self.client
            .call(Request::patch(self.url(&[id]), &body), |response| {
                match response.status.as_u16() {
                    200..=299 => Ok(()),
                    404 => Err(Error::Conflict(format!(
                        "PropelAuth has archived API key {id} (revoked or deleted): it cannot be changed"
                    ))),
                    _ => Err(error_from(&response, &format!("API key {id}"))),
                }
            })
            .await?;
        match new_expiry {
            Some(NewExpiry::Never) => key.expires_at = None,
            Some(NewExpiry::At(at)) => key.expires_at = Some(crate::time::whole_seconds(at)),
            None => {}
        }
        if let Some(metadata) = metadata {
            key.description = super::description_of(Some(&metadata));
            key.metadata = Some(metadata);
        }
        if key.status != KeyStatus::Revoked {
            key.status = KeyStatus::derive(false, key.expires_at, now);
        }
        // An update changes the key in place, as a revoke that keeps it listed does.
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    /// `POST …/validate`. A 404, or a refusal naming `api_key_token`, means no active key has
    /// the token: the SDKs treat both so (propelauth-py `api/end_user_api_keys.py` raises
    /// `EndUserApiKeyNotFoundException` on 404; node-apis `src/api/endUserApiKeys.ts` throws
    /// `ApiKeyValidateException` on the 400 keyed by field). PropelAuth's answer
    /// names the owner and metadata but not the key, so the key in a `Valid` answer has an empty
    /// id and name, the Unix epoch as its (unknown) creation time, and no known expiry.
    pub(super) async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        let token = strip_bearer(secret.expose_secret());
        let body = serde_json::json!({ "api_key_token": token });
        let request = Request::post(self.url(&["validate"]), &body).redact(token);
        self.client
            .call(request, |response| match response.status {
                StatusCode::OK => {
                    let answer: WireValidation = parse(SERVICE, &response)?;
                    Ok(Verification::Valid(answer.into_api_key()))
                }
                StatusCode::NOT_FOUND => Ok(Verification::Unknown),
                status
                    if status.is_client_error()
                        && !matches!(status.as_u16(), 401 | 429)
                        && names_the_token(&response) =>
                {
                    Ok(Verification::Unknown)
                }
                _ => Err(error_from(&response, "API key")),
            })
            .await
    }
}

/// `X-Propelauth-url`: the Auth URL's host, required by the shared `propelauth-api.com` host.
fn propelauth_url_header(base_url: &str, auth_url: Option<&str>) -> Result<Option<String>> {
    let base = validate_base_url(base_url)?;
    if !base
        .host_str()
        .is_some_and(|host| host.eq_ignore_ascii_case(SHARED_HOST))
    {
        return Ok(None);
    }
    let auth_url = auth_url.ok_or_else(|| {
        Error::invalid(
            "url",
            format!("with https://{SHARED_HOST}, also give the project's Auth URL (like https://123456.propelauthtest.com)"),
        )
    })?;
    let host = validate_base_url(auth_url)?
        .host_str()
        .map(str::to_owned)
        .unwrap_or_default();
    Ok(Some(host))
}

/// SDKs accept a pasted `Authorization` value; so do we.
fn strip_bearer(token: &str) -> &str {
    let token = token.trim();
    match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => token[7..].trim(),
        _ => token,
    }
}

pub(super) fn refuse_levels_and_scopes(new: &NewKey) -> Result<()> {
    if new.level.is_some() {
        return Err(Error::invalid("level", "PropelAuth keys have no level"));
    }
    if !new.scopes.is_empty() {
        return Err(Error::invalid("scopes", "PropelAuth keys have no scopes"));
    }
    Ok(())
}

/// What the backend API's PATCH can change (see [`BackendApi::update`]).
pub(super) const BACKEND_UPDATES: UpdateFields = UpdateFields {
    name: false,
    description: true,
    expiry: true,
    scopes: false,
};

/// The PATCH body; a field left out is left alone.
#[derive(Serialize)]
struct UpdateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_to_never_expire: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a String>,
    /// Left out for a key that never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
    display_name: &'a str,
}

/// The validation answer: who the key belongs to, and its metadata.
#[derive(serde::Deserialize)]
struct WireValidation {
    metadata: Option<serde_json::Value>,
    user: Option<WireUser>,
    org: Option<WireOrg>,
}

#[derive(serde::Deserialize)]
struct WireUser {
    user_id: String,
}

#[derive(serde::Deserialize)]
struct WireOrg {
    org_id: String,
}

impl WireValidation {
    fn into_api_key(self) -> ApiKey {
        let owner = match (self.org, self.user) {
            (Some(org), _) => Some(Subject::Org(org.org_id)),
            (None, Some(user)) => Some(Subject::User(user.user_id)),
            (None, None) => None,
        };
        let metadata = self.metadata.filter(|m| !m.is_null());
        ApiKey {
            id: String::new(),
            name: String::new(),
            owner,
            created_at: chrono::DateTime::UNIX_EPOCH,
            expires_at: None,
            status: KeyStatus::Active,
            revoked_at: None,
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: Vec::new(),
            description: super::description_of(metadata.as_ref()),
            metadata,
            stub: None,
        }
    }
}

/// A 400 body: field name → message, or → list of messages.
fn field_errors(response: &Response) -> BTreeMap<String, String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(&response.body) else {
        return BTreeMap::new();
    };
    fields
        .into_iter()
        .filter_map(|(field, value)| {
            let message = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => return None,
            };
            Some((field, message))
        })
        .collect()
}

/// Whether an error body names `api_key_token`: as a field of the backend API's error object, or
/// in a `field_errors` object.
fn names_the_token(response: &Response) -> bool {
    const TOKEN: &str = "api_key_token";
    field_errors(response).contains_key(TOKEN)
        || serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|body| body.get("field_errors")?.get(TOKEN).cloned())
            .is_some()
}

/// PropelAuth's field names, as ours.
fn field_of(field: &str) -> &str {
    match field {
        "user_id" | "org_id" | "user_email" => Subject::FIELD,
        "expires_at_seconds" => Expiration::FIELD,
        "display_name" => "name",
        "metadata" => "description",
        "page_size" => "limit",
        "page_number" => "page",
        "api_key_token" => "secret",
        other => other,
    }
}

/// Maps an error answer. `target` names what a 404 did not find.
fn error_from(response: &Response, target: &str) -> Error {
    match response.status.as_u16() {
        400 => match field_errors(response).into_iter().next() {
            Some((field, message)) => Error::invalid(field_of(&field), server_text(&message)),
            None => Error::invalid("request", "PropelAuth refused the request"),
        },
        401 => Error::Unauthorized(
            "PropelAuth rejected the integration key: check the profile's credential".into(),
        ),
        403 => Error::PermissionDenied("the integration key may not do that".into()),
        404 => Error::NotFound(format!("PropelAuth has no {target}")),
        429 => rate_limited(SERVICE, response),
        500..=599 => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::ErrorCode;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn field_errors_may_be_strings_or_lists() {
        let error = error_from(
            &response(
                400,
                r#"{"expires_at_seconds": ["Must be in the future", "Too far"]}"#,
            ),
            "x",
        );
        assert_eq!(error.field(), Some("expires"));
        assert_eq!(error.message(), "Must be in the future; Too far");
        let error = error_from(&response(400, r#"{"user_id": "User not found"}"#), "x");
        assert_eq!(error.field(), Some("owner"));
        assert_eq!(error.message(), "User not found");
    }

    #[test]
    fn statuses_map_to_codes() {
        for (status, body, code) in [
            (401, "Unauthorized", ErrorCode::Unauthorized),
            (404, "", ErrorCode::NotFound),
            (429, "Too Many Requests", ErrorCode::RateLimited),
            (
                429,
                r#"{"wait_seconds": 1.5, "error_code": "rate_limit_exceeded"}"#,
                ErrorCode::RateLimited,
            ),
            (500, "", ErrorCode::Backend),
            (400, "not json", ErrorCode::InvalidInput),
        ] {
            assert_eq!(
                error_from(&response(status, body), "x").code(),
                code,
                "{status} {body}"
            );
        }
        let limited = error_from(&response(429, r#"{"wait_seconds": 1.5}"#), "x");
        assert_eq!(
            limited.retry_after(),
            Some(std::time::Duration::from_millis(1500))
        );
    }

    #[test]
    fn the_shared_host_needs_the_auth_url() {
        assert_eq!(
            propelauth_url_header("http://127.0.0.1:9", None).unwrap(),
            None
        );
        assert_eq!(
            propelauth_url_header(
                "https://propelauth-api.com",
                Some("https://123456.propelauthtest.com")
            )
            .unwrap()
            .as_deref(),
            Some("123456.propelauthtest.com")
        );
        let error = propelauth_url_header("https://propelauth-api.com", None).unwrap_err();
        assert_eq!(error.field(), Some("url"));
    }

    #[test]
    fn bearer_prefixes_are_stripped() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc "), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
    }

    #[test]
    fn validation_names_the_owner() {
        let answer: WireValidation = serde_json::from_value(serde_json::json!({
            "metadata": {"description": "ci"},
            "user": {"user_id": "u1", "email": "a@b.com"},
            "org": {"org_id": "o1", "org_name": "Acme"},
            "user_in_org": null
        }))
        .unwrap();
        let key = answer.into_api_key();
        assert_eq!(key.owner, Some(Subject::Org("o1".into())));
        assert_eq!(key.description.as_deref(), Some("ci"));
    }
}
