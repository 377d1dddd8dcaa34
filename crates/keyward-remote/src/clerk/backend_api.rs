//! Clerk's Backend API (BAPI) for API keys, authenticated with the instance secret key.
//!
//! Clerk keeps revoked keys (with a reason) and lists per owner ("subject"), with name search and
//! limit/offset paging. Timestamps are Unix milliseconds. The contract, with the vendor file each
//! rule comes from, is in docs/backends/clerk.md; the wire shapes and the rules both Clerk APIs
//! share are in [`super::wire`] and [`super`].

use super::wire::{self, CreateAnswer, CreateBody, WireKey};
use super::{
    capabilities, check_new_key, checked_update, clerk_subject, read_everything, read_page,
    server_can_answer, update_body, Api, Window, MAX_PAGE, SERVICE, TEXT_LIMITS,
};
use crate::endpoint::key_id;
use crate::errors::parse;
use crate::http::{sensitive_header, Client, HttpOptions, Request};
use crate::listing::{page_of_snapshot, AfterRevoke, Chunk, Snapshots};
use async_trait::async_trait;
use chrono::Utc;
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, KeyBackend, KeyStatus, KeyUpdate, ListQuery, NewKey,
    Page, Result, Subject, Verification,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const API: Api = Api::Backend;
/// The API version the official SDK pins; Clerk versions the `/api_keys` routes by this header.
const API_VERSION: &str = "2026-05-12";
/// The smaller pages tried, in turn, when Clerk refuses a `limit`; 10 is Clerk's own default.
const SMALLER_PAGES: [u32; 3] = [50, 20, 10];
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
            .map(|subject| clerk_subject(subject, API))
            .ok_or_else(|| {
                Error::invalid(
                    Subject::FIELD,
                    "Clerk keeps keys per owner: give one (user:ID or org:ID) or set the profile's default owner",
                )
            })
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
                    return Err(wire::error_from(&response, &format!("API key {id}"), API));
                }
                let read = parse::<WireSecret>(SERVICE, &response);
                response.wipe();
                // An empty secret is none, as in a create answer ([`wire::created_from`]).
                match read?.secret {
                    secret if secret.is_empty() => Err(Error::Backend(format!(
                        "Clerk's answer for the secret of API key {id} was empty"
                    ))),
                    secret => Ok(SecretString::from(secret)),
                }
            })
            .await
    }

    /// Every key of the owner, revoked and expired ones included.
    async fn snapshot(&self, subject: &str) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        self.snapshots
            .get_or_read(subject, || {
                self.with_page_size(|max_page| {
                    read_everything(subject, max_page, |window| self.fetch_page(window))
                })
            })
            .await
    }

    async fn fetch_page(&self, window: Window<'_>) -> Result<Chunk<ApiKey>> {
        let limit = window.limit;
        let request = Request::get(self.url(&[])).query(&window.params());
        self.client
            .call(request, |response| {
                if wire::is_limit_refusal(&response) {
                    // Remember a smaller page for every read after this one.
                    if let Some(smaller) = SMALLER_PAGES.into_iter().find(|&size| size < limit) {
                        self.max_page.fetch_min(smaller, Ordering::Relaxed);
                    }
                    return Err(Error::invalid(
                        PAGE_SIZE_FIELD,
                        format!("Clerk refused pages of {limit} keys"),
                    ));
                }
                wire::chunk_from(&response, window.subject, API)
            })
            .await
    }
}

/// The field a refused page size is reported under.
const PAGE_SIZE_FIELD: &str = "limit";

fn is_page_size_refusal(error: &Error) -> bool {
    error.field() == Some(PAGE_SIZE_FIELD)
}

#[async_trait]
impl KeyBackend for ClerkBackend {
    fn kind(&self) -> &'static str {
        "clerk"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities(API)
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated_for(&TEXT_LIMITS, &self.client.credentials())?;
        check_new_key(&new, API)?;
        let body = CreateBody {
            name: &new.name,
            subject: self.subject(new.owner.as_ref())?,
            description: new.description.as_deref(),
            scopes: &new.scopes,
            seconds_until_expiration: new.expiration.seconds_from(Utc::now())?,
        };
        let request = Request::create(self.url(&[]), &body.to_wire(API));
        let answer = self
            .client
            .call(request, |mut response| {
                // The BAPI answers 200; Clerk's frontend API answers 201 to the same call.
                if !matches!(response.status.as_u16(), 200 | 201) {
                    return Err(wire::create_refused(&response, &body, API));
                }
                let answer = wire::created_from(&response, &body, Utc::now(), API);
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
                Err(_) => Err(wire::key_may_exist(
                    &body,
                    "carried no secret and reading it again failed",
                    Some(&key.id),
                    API,
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
        if !server_can_answer(&query) {
            return Ok(page_of_snapshot(&self.snapshot(&subject).await?, &query));
        }
        self.with_page_size(|max_page| {
            read_page(&query, &subject, max_page, |window| self.fetch_page(window))
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id)?;
        self.client
            .call(Request::get(self.url(&[id])), |response| {
                wire::key_from(&response, id, API)
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
            .call(request, |response| wire::key_from(&response, id, API))
            .await?;
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    /// `PATCH /api_keys/{id}` (bapi spec `updateApiKey`): description, scopes and expiry; the
    /// answer is the key as Clerk now has it. A name or a bad value is refused before sending.
    /// Clerk decides about a revoked key: it stays revoked whatever is changed.
    async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        let change = checked_update(change, API, &self.client.credentials())?;
        let id = key_id(id)?;
        let body = update_body(&change, Utc::now())?;
        let key = self
            .client
            .call(Request::patch(self.url(&[id]), &body), |response| {
                wire::key_from(&response, id, API)
            })
            .await?;
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    fn forget_cached(&self) {
        self.snapshots.created();
    }

    /// The owners in the snapshot of the default owner's keys (Clerk lists per owner, so that
    /// is the only one it can show); none without a default owner.
    async fn owners(&self) -> Result<Vec<Subject>> {
        let subject = self.default_subject.as_ref();
        let Some(subject) = subject.map(|subject| clerk_subject(subject, API)) else {
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
                    let key =
                        parse::<WireKey>(SERVICE, &response)?.into_api_key(Utc::now(), API)?;
                    Ok(match key.status {
                        KeyStatus::Active => Verification::Valid(key),
                        KeyStatus::Revoked => Verification::Revoked(key),
                        KeyStatus::Expired => Verification::Expired(key),
                    })
                }
                StatusCode::NOT_FOUND => Ok(Verification::Unknown),
                _ => Err(wire::error_from(&response, "API key", API)),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::owner_of;
    use super::wire::response;
    use super::wire::{created_from, error_from, is_limit_refusal, key_may_exist};
    use super::*;

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
            let error = error_from(&response(400, &clerk_error(Some(param))), "owner x", API);
            assert_eq!(error.field(), Some(field), "{param}");
            assert!(error.to_string().contains("failed regex check"));
        }
        let error = error_from(&response(422, &clerk_error(None)), "x", API);
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
            let error = error_from(&response(status, &clerk_error(None)), "API key ak_1", API);
            assert_eq!(error.code(), code, "{status}");
        }
        let conflict = error_from(&response(409, "{}"), "x", API);
        assert_eq!(
            conflict.to_string(),
            "a key with this name already exists for this owner"
        );
        assert!(error_from(&response(404, ""), "API key ak_1", API)
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
        let key = wire.into_api_key(Utc::now(), API).unwrap();
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
        let complete = |body: &str| match created_from(&response(200, body), &asked(), now, API) {
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
        let answer = created_from(&response(200, r#"{"id":"ak_7"}"#), &asked(), now, API);
        let Ok(CreateAnswer::WithoutSecret(key)) = answer else {
            panic!("an id without a secret is read again");
        };
        assert_eq!((key.id.as_str(), key.name.as_str()), ("ak_7", "CI key"));
        let error = key_may_exist(&asked(), "carried no secret", Some("ak_7"), API).to_string();
        assert!(error.contains("created key ak_7") && error.contains("keyward revoke ak_7"));
        // The id is the server's text: a terminal escape in it is not passed on.
        let escape =
            key_may_exist(&asked(), "carried no secret", Some("\u{1b}[2J"), API).to_string();
        assert!(
            !escape.chars().any(char::is_control) && escape.contains("?[2J"),
            "{escape}"
        );
        for body in ["", "<html>", "[1]", r#"{"secret":""}"#] {
            let Err(error) = created_from(&response(200, body), &asked(), now, API) else {
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
        assert_eq!(
            clerk_subject(&Subject::User("2abc".into()), API),
            "user_2abc"
        );
        assert_eq!(
            clerk_subject(&Subject::User("user_2abc".into()), API),
            "user_2abc"
        );
        assert_eq!(clerk_subject(&Subject::Org("org_9".into()), API), "org_9");
        assert_eq!(owner_of("mch_1"), None);
    }
}
