//! The frontend API (`/api/fe/v3`), as PropelAuth's browser library calls it: the user's session
//! cookie plus `X-CSRF-Token: -.-`. Errors are `{error_code, user_facing_error, field_errors?}`.
//!
//! The released API keeps no key names: list items are `{api_key_id, created_at,
//! expires_at_seconds, metadata}` and `api_key_search` filters by key id (PropelAuth/frontend-apis
//! `packages/frontend-apis/src/apis/apiKeys/fetchPersonalApiKeys.ts`). So the name a user gives a
//! key is kept by Keyward ([`KeyNames`], per profile), names are searched here over a snapshot of
//! the listing, and only a whole key id is searched on the server. See
//! `docs/backends/propelauth.md`.

use super::backend_api::refuse_levels_and_scopes;
use super::{created_from, Asked, PageSize, Shelf, WirePage, SERVICE};
use crate::errors::{parse, rate_limited, server_failed, server_text, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{
    fetch_everything, fetch_window, is_server_order, page_of_snapshot, AfterRevoke, Chunk,
    Snapshots,
};
use chrono::Utc;
use keyward_core::{
    ApiKey, CreatedKey, Error, Expiration, ExpiryPreset, KeyNames, KeyStatus, ListQuery,
    MemoryKeyNames, NewKey, Page, Result, StatusFilter, Subject,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, COOKIE};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const PATH: [&str; 3] = ["api", "fe", "v3"];

#[derive(Debug)]
pub(super) struct FrontendApi {
    pub(super) client: Client,
    default_subject: Option<Subject>,
    /// All active keys of the personal or an org's listing.
    pub(super) snapshots: Snapshots,
    /// The names users gave keys: the server keeps none.
    pub(super) names: Arc<dyn KeyNames>,
    page_size: PageSize,
}

impl FrontendApi {
    pub(super) fn new(
        base_url: &str,
        session_cookie: SecretString,
        default_subject: Option<Subject>,
        http: HttpOptions,
    ) -> Result<Self> {
        let mut auth = HeaderMap::new();
        auth.insert(COOKIE, sensitive_header(session_cookie.expose_secret())?);
        // PropelAuth's CSRF check: a header a cross-site form cannot send.
        auth.insert(
            HeaderName::from_static("x-csrf-token"),
            HeaderValue::from_static("-.-"),
        );
        Ok(FrontendApi {
            client: Client::new(base_url, http, auth, vec![session_cookie])?,
            default_subject,
            snapshots: Snapshots::default(),
            names: Arc::new(MemoryKeyNames::default()),
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

    /// The frontend API takes an expiry preset and an org, nothing else. The display name is
    /// sent as PropelAuth's unreleased `Display-names-for-API-keys` branch does (the released
    /// server ignores it), and kept by Keyward, which is what shows it.
    pub(super) async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated_for(&super::TEXT_LIMITS, &self.client.credentials())?;
        refuse_levels_and_scopes(&new)?;
        if new.description.is_some() {
            return Err(Error::invalid(
                "description",
                "PropelAuth's frontend API cannot store a description",
            ));
        }
        let preset = new.expiration.preset().ok_or_else(|| {
            Error::invalid(
                Expiration::FIELD,
                format!(
                    "PropelAuth's frontend API offers only these expiries: {}",
                    preset_names()
                ),
            )
        })?;
        let owner = new.owner.clone().or_else(|| self.default_subject.clone());
        let body = CreateBody {
            expiration_option: preset.as_str(),
            org_id: match &owner {
                Some(Subject::Org(id)) => Some(id),
                _ => None,
            },
            display_name: &new.name,
        };
        let now = Utc::now();
        let request = Request::create(self.url(&["api_keys"]), &body);
        let asked = Asked {
            name: new.name.clone(),
            owner: owner.clone(),
            expires_at: preset.expires_at(now),
            metadata: None,
        };
        let created = self
            .client
            .call(request, |mut response| {
                let created = created_from(&response, &asked, now, |r| error_from(r, "owner"));
                response.wipe();
                created
            })
            .await?;
        // The key exists and its secret is in hand: a name that cannot be kept costs the name
        // (the key then shows its id), never the secret.
        if !created.key.id.is_empty() {
            let _ = self.names.remember(&created.key.id, &created.key.name);
        }
        self.snapshots.created();
        Ok(created)
    }

    /// The personal listing, or an org's when the owner is an org. The frontend API shows active
    /// keys only: "all" means all active keys, and revoked or expired ones cannot be listed.
    pub(super) async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        if matches!(query.status, StatusFilter::Revoked | StatusFilter::Expired) {
            return Err(Error::invalid(
                "status",
                "PropelAuth's frontend API lists active keys only; a profile with the integration key can list revoked and expired keys",
            ));
        }
        let owner = query.owner.as_ref().or(self.default_subject.as_ref());
        // PropelAuth pages newest first and filters by whole key id; names (kept here), other
        // orders and the expiry and usage filters are answered from a snapshot of the listing.
        let server_search = match query.search.as_deref() {
            None => Some(None),
            Some(search) if is_key_id(search) => Some(Some(search.to_ascii_lowercase())),
            Some(_) => None,
        };
        let Some(search) = server_search
            .filter(|_| is_server_order(&query) && !query.has_usage_or_expiry_filter())
        else {
            return Ok(page_of_snapshot(&self.snapshot(owner).await?, &query));
        };
        let (offset, len) = (query.offset(), u64::from(query.limit));
        let search = search.as_deref();
        let chunk = self
            .page_size
            .read(|max_page| {
                fetch_window(offset, len, max_page, move |page_number, page_size| {
                    self.page(owner, search, page_number, page_size)
                })
            })
            .await?;
        Ok(Page {
            items: chunk.items,
            page: query.page,
            limit: query.limit,
            total: Some(chunk.total),
            has_more: offset + len < chunk.total,
        })
    }

    /// Every active key of the org's listing (an org owner) or the personal one.
    async fn snapshot(&self, owner: Option<&Subject>) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        let scope = match owner {
            Some(org @ Subject::Org(_)) => org.to_string(),
            _ => "personal".to_owned(),
        };
        self.snapshots
            .get_or_read(&scope, || {
                self.page_size.read(move |max_page| {
                    fetch_everything(max_page, move |page_number, page_size| {
                        self.page(owner, None, page_number, page_size)
                    })
                })
            })
            .await
    }

    /// The owners in the snapshot of the default listing.
    pub(super) async fn owners(&self) -> Result<Vec<Subject>> {
        let keys = self.snapshot(self.default_subject.as_ref()).await?;
        Ok(Snapshots::owners_of(&keys))
    }

    async fn page(
        &self,
        owner: Option<&Subject>,
        search: Option<&str>,
        page_number: u64,
        page_size: u32,
    ) -> Result<Chunk<ApiKey>> {
        let mut params = Vec::new();
        let url = match owner {
            Some(Subject::Org(id)) => {
                params.push(("org_id", id.clone()));
                self.url(&["org_api_keys"])
            }
            _ => self.url(&["personal_api_keys"]),
        };
        // Like PropelAuth's client, which sends only truthy values.
        if page_number > 0 {
            params.push(("page_number", page_number.to_string()));
        }
        params.push(("page_size", page_size.to_string()));
        if let Some(search) = search {
            params.push(("api_key_search", search.to_owned()));
        }
        self.client
            .call(Request::get(url).query(&params), |response| {
                if response.status != StatusCode::OK {
                    return Err(error_from(&response, "owner"));
                }
                let page: WirePage = parse(SERVICE, &response)?;
                let now = Utc::now();
                let names = self.names.as_ref();
                Ok(Chunk {
                    items: page
                        .api_keys
                        .into_iter()
                        .map(|key| key.into_api_key(Shelf::Active, owner, Some(names), now))
                        .collect::<Result<_>>()?,
                    total: page.total_api_keys,
                })
            })
            .await
    }

    /// There is no read route: the key is found by searching the listing of the profile's
    /// default owner (the personal keys when there is none) for its id, which is what
    /// PropelAuth's `api_key_search` filters by. Keys of another owner, and archived keys, are
    /// not found.
    pub(super) async fn get(&self, id: &str) -> Result<ApiKey> {
        let owner = self.default_subject.as_ref();
        self.page_size
            .read(|page_size| self.page(owner, Some(id), 0, page_size))
            .await?
            .items
            .into_iter()
            .find(|key| key.id == id)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "PropelAuth shows no active API key {id} (the frontend API cannot see archived keys)"
                ))
            })
    }

    /// Finds the key, then archives it.
    pub(super) async fn revoke(&self, id: &str) -> Result<ApiKey> {
        let mut key = self.get(id).await?;
        let request = Request::delete(self.url(&["api_keys", id]));
        self.client
            .call(request, |response| {
                // 404: archived since we found it, which is what was asked.
                if response.status.is_success() || response.status == StatusCode::NOT_FOUND {
                    Ok(())
                } else {
                    Err(error_from(&response, &format!("API key {id}")))
                }
            })
            .await?;
        key.status = KeyStatus::Revoked;
        key.revoked_at = Some(Utc::now());
        // The frontend API never lists the key again, so its name is no longer needed here.
        let _ = self.names.forget(id);
        // The frontend API lists active keys only.
        self.snapshots.revoked(&key, AfterRevoke::Remove);
        Ok(key)
    }
}

/// A whole PropelAuth key id (32 hex digits, as node-apis `src/utils.ts` checks): the only search
/// the server's `api_key_search` ("Filter by Key ID") can answer for sure.
fn is_key_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn preset_names() -> String {
    ExpiryPreset::ALL
        .iter()
        .map(|preset| preset.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Serialize)]
struct CreateBody<'a> {
    expiration_option: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a String>,
    display_name: &'a str,
}

#[derive(Deserialize, Default)]
struct WireError {
    error_code: Option<String>,
    user_facing_error: Option<String>,
    #[serde(default)]
    field_errors: BTreeMap<String, serde_json::Value>,
}

/// PropelAuth's field names, as ours.
fn field_of(field: &str) -> &str {
    match field {
        "org_id" => Subject::FIELD,
        "expiration_option" => Expiration::FIELD,
        "page_size" => "limit",
        "page_number" => "page",
        "api_key_search" => "search",
        other => other,
    }
}

/// Maps an error answer by its `error_code` (the status is what PropelAuth's client ignores).
fn error_from(response: &Response, target: &str) -> Error {
    let body: WireError = serde_json::from_slice(&response.body).unwrap_or_default();
    let said = body.user_facing_error.as_deref().map(server_text);
    match body.error_code.as_deref() {
        Some("bad_request") => Error::invalid(
            Expiration::FIELD,
            format!(
                "PropelAuth refused the expiry ({}); choose one of {}",
                said.as_deref().unwrap_or("invalid expiration option"),
                preset_names()
            ),
        ),
        Some("invalid_request_fields") => match body.field_errors.into_iter().next() {
            Some((field, message)) => Error::invalid(
                field_of(&field),
                server_text(message.as_str().unwrap_or("is not valid")),
            ),
            None => Error::invalid("request", said.unwrap_or_else(|| "is not valid".into())),
        },
        Some("action_forbidden") => Error::PermissionDenied(
            said.unwrap_or_else(|| "PropelAuth does not allow this for your account".into()),
        ),
        Some("action_disabled") => Error::PermissionDenied(
            "API keys are turned off for this PropelAuth project or organisation".into(),
        ),
        Some("not_logged_in") => Error::Unauthorized(
            "the PropelAuth session has ended or is not valid: sign in again".into(),
        ),
        Some("email_not_confirmed") => {
            Error::PermissionDenied("confirm your email address with PropelAuth first".into())
        }
        Some("org_not_found") => Error::NotFound("PropelAuth has no such organisation".into()),
        Some("not_found") => Error::NotFound(format!("PropelAuth has no {target}")),
        Some("rate_limit_exceeded") => rate_limited(SERVICE, response),
        _ if response.status == StatusCode::TOO_MANY_REQUESTS => rate_limited(SERVICE, response),
        _ if response.status.is_server_error() => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::ErrorCode;

    fn response(status: u16, body: serde_json::Value) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        }
    }

    fn coded(status: u16, code: &str) -> Response {
        response(
            status,
            serde_json::json!({"error_code": code, "user_facing_error": "Nope"}),
        )
    }

    #[test]
    fn error_codes_map() {
        for (status, code, want) in [
            (400, "bad_request", ErrorCode::InvalidInput),
            (403, "action_forbidden", ErrorCode::PermissionDenied),
            (401, "not_logged_in", ErrorCode::Unauthorized),
            (403, "email_not_confirmed", ErrorCode::PermissionDenied),
            (404, "org_not_found", ErrorCode::NotFound),
            (404, "not_found", ErrorCode::NotFound),
            (429, "rate_limit_exceeded", ErrorCode::RateLimited),
            (500, "unexpected_error", ErrorCode::Backend),
            (400, "something_new", ErrorCode::Unexpected),
        ] {
            assert_eq!(error_from(&coded(status, code), "x").code(), want, "{code}");
        }
        let expiry = error_from(&coded(400, "bad_request"), "x");
        assert_eq!(expiry.field(), Some("expires"));
        assert!(expiry.to_string().contains("OneYear"), "{expiry}");
        let signed_out = error_from(&coded(401, "not_logged_in"), "x");
        assert!(signed_out.to_string().contains("sign in again"));
    }

    #[test]
    fn field_errors_name_our_fields() {
        let error = error_from(
            &response(
                400,
                serde_json::json!({
                    "error_code": "invalid_request_fields",
                    "user_facing_error": "Invalid request",
                    "field_errors": {"page_size": "must be an integer from 1 to 100"}
                }),
            ),
            "x",
        );
        assert_eq!(error.field(), Some("limit"));
        assert_eq!(error.message(), "must be an integer from 1 to 100");
    }

    #[test]
    fn a_bare_429_is_a_rate_limit() {
        let limited = Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: HeaderMap::new(),
            body: b"Too Many Requests".to_vec(),
        };
        assert_eq!(error_from(&limited, "x").code(), ErrorCode::RateLimited);
    }
}
