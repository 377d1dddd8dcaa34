//! Clerk's Frontend API (FAPI) for API keys, as a signed-in end user of a Clerk-powered
//! application: the user's own keys and those of the organizations they belong to.
//!
//! The credential is the user's session as the sign-in leaves it: the long-lived client token
//! (the `__client` cookie of the Frontend API's origin). From it Keyward finds the client's active
//! session (`GET /v1/client`) and mints short-lived session tokens
//! (`POST /v1/client/sessions/{id}/tokens`, about 60 s), which the API-key routes take as
//! `Authorization: Bearer …`, as clerk-js does. Tokens are cached and refreshed shortly before they
//! expire and once more on a 401, one refresh at a time. Never an instance secret key (`sk_…`).
//! The contract, with the vendor file each rule comes from, is in docs/backends/clerk-frontend.md;
//! the wire shapes and the rules both Clerk APIs share are in [`super::wire`] and [`super`].

use super::wire::{self, CreateAnswer, CreateBody};
use super::{
    capabilities, check_new_key, checked_update, clerk_subject, read_everything, read_page,
    server_can_answer, update_body, Api, Window, MAX_PAGE, SERVICE, TEXT_LIMITS,
};
use crate::endpoint::key_id;
use crate::errors::{parse, rate_limited, server_failed, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{page_of_snapshot, AfterRevoke, Chunk, Snapshots};
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use keyward_core::filter::{Walk, WalkItem, WalkLimits};
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, KeyBackend, KeyUpdate, ListQuery, NewKey, Page,
    Result, Subject, Verification,
};
use reqwest::header::{HeaderMap, AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};

const API: Api = Api::Frontend;
/// clerk-js treats a cached token as stale when fewer than 10 s (its leeway) + 5 s (its poller's
/// interval) remain (`packages/clerk-js/src/core/tokenCache.ts`). Shorter lifetimes (emulators,
/// tests) refresh at half their lifetime instead.
const REFRESH_LEEWAY: Duration = Duration::from_secs(15);
/// What a user does about a refused session.
pub(super) const SIGN_IN_AGAIN: &str =
    "sign in again (Sign in in the app, or give a new session in KEYWARD_CREDENTIAL_<PROFILE>)";

#[derive(Debug)]
pub struct ClerkFrontendConfig {
    /// The application's Frontend API origin, e.g. `https://clerk.example.com` (the domain in its
    /// `pk_…` publishable key), or an emulator on loopback.
    pub base_url: String,
    /// The signed-in client's token: the value of the `__client` cookie (`__client=` may be left on).
    pub client_token: SecretString,
    /// The owner used when a new key or a listing names none; else the signed-in user.
    pub default_subject: Option<Subject>,
    pub http: HttpOptions,
}

/// A session token in hand, with when to stop using it.
#[derive(Clone)]
struct SessionToken {
    jwt: SecretString,
    session_id: String,
    /// The signed-in user (`sub`).
    user_id: String,
    refresh_at: Instant,
}

#[derive(Default)]
struct SessionState {
    session_id: Option<String>,
    token: Option<SessionToken>,
}

pub struct ClerkFrontendBackend {
    /// Carries the client token as the `__client` cookie on every request.
    client: Client,
    /// One refresh at a time: callers that find the token stale wait here and share the new one.
    session: tokio::sync::Mutex<SessionState>,
    default_subject: Option<Subject>,
    snapshots: Snapshots,
}

impl std::fmt::Debug for ClerkFrontendBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClerkFrontendBackend")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl ClerkFrontendBackend {
    pub fn new(config: ClerkFrontendConfig) -> Result<Self> {
        let token = client_token(&config.client_token)?;
        let mut auth = HeaderMap::new();
        auth.insert(COOKIE, sensitive_header(&format!("__client={token}"))?);
        Ok(ClerkFrontendBackend {
            client: Client::new(
                &config.base_url,
                config.http,
                auth,
                vec![SecretString::from(token.to_owned())],
            )?,
            session: tokio::sync::Mutex::new(SessionState::default()),
            default_subject: config.default_subject,
            snapshots: Snapshots::default(),
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

    /// A session token fresh enough to use. `rejected` is a token the server just refused: it is
    /// replaced even if it looks fresh, unless another call has replaced it already.
    async fn session_token(&self, rejected: Option<&SecretString>) -> Result<SessionToken> {
        let mut state = self.session.lock().await;
        if let Some(token) = &state.token {
            let refused = rejected.is_some_and(|r| r.expose_secret() == token.jwt.expose_secret());
            if !refused && Instant::now() < token.refresh_at {
                return Ok(token.clone());
            }
        }
        let session_id = match state.session_id.clone() {
            Some(id) => id,
            None => {
                let id = self.active_session().await?;
                state.session_id = Some(id.clone());
                id
            }
        };
        match self.mint_token(&session_id).await {
            Ok(token) => {
                state.token = Some(token.clone());
                Ok(token)
            }
            Err(error) => {
                // A session that is gone is looked up again next time (the user may sign in anew).
                state.session_id = None;
                state.token = None;
                Err(error)
            }
        }
    }

    /// The client's active session, as clerk-js reads it on load (`GET /v1/client`,
    /// `last_active_session_id`).
    async fn active_session(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Envelope {
            response: Option<WireClient>,
        }
        #[derive(Deserialize)]
        struct WireClient {
            last_active_session_id: Option<String>,
        }
        let request = Request::get(self.client.url(&["v1", "client"]));
        self.client
            .call(request, |response| {
                if response.status != StatusCode::OK {
                    return Err(session_error(&response));
                }
                parse::<Envelope>(SERVICE, &response)?
                    .response
                    .and_then(|client| client.last_active_session_id)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| {
                        Error::Unauthorized(format!(
                            "Clerk has no signed-in session for this client: {SIGN_IN_AGAIN}"
                        ))
                    })
            })
            .await
    }

    /// A new session token (`POST /v1/client/sessions/{id}/tokens` → `{jwt}`).
    async fn mint_token(&self, session_id: &str) -> Result<SessionToken> {
        #[derive(Deserialize)]
        struct WireToken {
            jwt: String,
        }
        let url = self
            .client
            .url(&["v1", "client", "sessions", session_id, "tokens"]);
        let request = Request::post(url, &serde_json::json!({}));
        let jwt = self
            .client
            .call(request, |mut response| {
                if response.status != StatusCode::OK {
                    return Err(session_error(&response));
                }
                let read = parse::<WireToken>(SERVICE, &response);
                response.wipe();
                Ok(SecretString::from(read?.jwt))
            })
            .await?;
        let claims = token_claims(&jwt)?;
        let lifetime = Duration::from_secs(claims.exp.saturating_sub(claims.iat).max(0) as u64);
        let leeway = REFRESH_LEEWAY.min(lifetime / 2);
        Ok(SessionToken {
            jwt,
            session_id: claims.sid.unwrap_or_else(|| session_id.to_owned()),
            user_id: claims.sub,
            refresh_at: Instant::now() + lifetime.saturating_sub(leeway),
        })
    }

    /// Sends a request built for a fresh session token; a 401 gets one new token and one more try.
    async fn authed<T>(
        &self,
        build: impl Fn(&SessionToken) -> Request,
        handle: impl Fn(Response, &SessionToken) -> Result<T>,
    ) -> Result<T> {
        let mut token = self.session_token(None).await?;
        let mut retried = false;
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(
                AUTHORIZATION,
                sensitive_header(&format!("Bearer {}", token.jwt.expose_secret()))?,
            );
            let request = build(&token)
                .headers(headers)
                .redact(token.jwt.expose_secret());
            let answer = self
                .client
                .call(request, |response| {
                    if response.status == StatusCode::UNAUTHORIZED && !retried {
                        return Ok(None);
                    }
                    handle(response, &token).map(Some)
                })
                .await?;
            match answer {
                Some(answer) => return Ok(answer),
                None => {
                    retried = true;
                    token = self.session_token(Some(&token.jwt)).await?;
                }
            }
        }
    }

    /// `GET /api_keys` with the session id clerk-js adds to every non-`/client` request.
    fn list_request(&self, token: &SessionToken) -> Request {
        Request::get(self.client.url(&["api_keys"]))
            .query(&[("_clerk_session_id", token.session_id.clone())])
    }

    /// The subject a create or a listing is for: the one given, else the profile's, else the
    /// signed-in user (clerk-js falls back to the active organization, then the user).
    async fn subject(&self, given: Option<&Subject>) -> Result<String> {
        match given.or(self.default_subject.as_ref()) {
            Some(subject) => Ok(clerk_subject(subject, API)),
            None => Ok(self.session_token(None).await?.user_id),
        }
    }

    async fn snapshot(&self, subject: &str) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        self.snapshots
            .get_or_read(subject, || {
                read_everything(subject, MAX_PAGE, |window| self.fetch_page(window))
            })
            .await
    }

    async fn fetch_page(&self, window: Window<'_>) -> Result<Chunk<ApiKey>> {
        let params = window.params();
        self.authed(
            |token| self.list_request(token).query(&params),
            |response, _| wire::chunk_from(&response, window.subject, API),
        )
        .await
    }

    /// The organizations the user belongs to (`GET /v1/me/organization_memberships`, paged),
    /// within the caps of any listing walk (`keyward_core::filter::Walk`): a server that claims
    /// too many, repeats a page or is too slow ends the walk with an error naming the limit.
    async fn organizations(&self) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Envelope {
            response: Memberships,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Memberships {
            Paged {
                data: Vec<Membership>,
                total_count: u64,
            },
            Plain(Vec<Membership>),
        }
        #[derive(Deserialize)]
        struct Membership {
            organization: Organization,
        }
        #[derive(Deserialize)]
        struct Organization {
            id: String,
        }
        impl WalkItem for Membership {
            const NOUN: &'static str = "organization memberships";
            const ADVICE: Option<&'static str> = None;
            fn walk_id(&self) -> &str {
                &self.organization.id
            }
        }
        let walk = Walk::<Membership>::new(WalkLimits::default());
        walk.within(async {
            let mut offset: u64 = 0;
            for page in 0.. {
                let params = [
                    ("paginated", "true".to_owned()),
                    ("limit", MAX_PAGE.to_string()),
                    ("offset", offset.to_string()),
                ];
                let (data, total) = self
                    .authed(
                        |token| {
                            Request::get(self.client.url(&["v1", "me", "organization_memberships"]))
                                .query(&params)
                                .query(&[("_clerk_session_id", token.session_id.clone())])
                        },
                        |response, _| {
                            if response.status != StatusCode::OK {
                                return Err(session_error(&response));
                            }
                            Ok(match parse::<Envelope>(SERVICE, &response)?.response {
                                Memberships::Paged { data, total_count } => (data, total_count),
                                Memberships::Plain(data) => {
                                    let total = data.len() as u64;
                                    (data, total)
                                }
                            })
                        },
                    )
                    .await?;
                walk.claimed(total)?;
                let got = data.len() as u64;
                walk.add(page, data)?;
                offset = offset.saturating_add(got);
                if got == 0 || offset >= total {
                    break;
                }
            }
            Ok(())
        })
        .await?;
        Ok(walk
            .into_items()
            .into_iter()
            .map(|m| m.organization.id)
            .collect())
    }
}

/// The client token from the credential, refusing what is clearly not one.
fn client_token(credential: &SecretString) -> Result<&str> {
    let text = credential.expose_secret().trim();
    let text = text.strip_prefix("__client=").unwrap_or(text);
    let refuse = |what: &str| {
        Err(Error::invalid(
            "credential",
            format!(
                "this is {what}, not a signed-in session: a Clerk user-mode (frontend) profile signs in as its user and never takes an instance key. Sign in in the app, or give the session's client token (the __client cookie); use a backend profile for an sk_… key"
            ),
        ))
    };
    if text.starts_with("sk_live_") || text.starts_with("sk_test_") || text.starts_with("sk_") {
        return refuse("the instance secret key (sk_…)");
    }
    if text.starts_with("pk_") {
        return refuse("the publishable key (pk_…)");
    }
    if text.is_empty() {
        return Err(Error::invalid(
            "credential",
            format!("the Clerk session is empty: {SIGN_IN_AGAIN}"),
        ));
    }
    Ok(text)
}

#[derive(Deserialize)]
struct TokenClaims {
    sub: String,
    sid: Option<String>,
    exp: i64,
    iat: i64,
}

/// The claims of a session token (a JWT); Keyward reads them, the server checks the signature.
fn token_claims(jwt: &SecretString) -> Result<TokenClaims> {
    let bad = || {
        Error::Backend(
            "Clerk's session token is not a JWT Keyward can read (its expiry and user)".into(),
        )
    };
    let payload = jwt.expose_secret().split('.').nth(1).ok_or_else(bad)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// A refused session (signed out, expired, revoked) asks the user to sign in again.
fn session_error(response: &Response) -> Error {
    match response.status.as_u16() {
        401 | 403 | 404 | 422 => Error::Unauthorized(format!(
            "Clerk says this session is signed out or has expired: {SIGN_IN_AGAIN}"
        )),
        429 => rate_limited(SERVICE, response),
        500..=599 => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

/// Reads a create answer by the rules both Clerk APIs share ([`wire::created_from`]: a secret in
/// it is never lost). The Frontend API cannot show a secret again (no `/secret` route in the fapi
/// spec), so an answer with the key's id but no secret is an error that names the key and says
/// what to do.
fn created_from(response: &Response, asked: &CreateBody, now: DateTime<Utc>) -> Result<CreatedKey> {
    match wire::created_from(response, asked, now, API)? {
        CreateAnswer::Complete(created) => Ok(created),
        CreateAnswer::WithoutSecret(key) => Err(wire::key_may_exist(
            asked,
            &format!("carried no secret (HTTP {})", response.status.as_u16()),
            Some(&key.id),
            API,
        )),
    }
}

#[async_trait]
impl KeyBackend for ClerkFrontendBackend {
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
            subject: self.subject(new.owner.as_ref()).await?,
            description: new.description.as_deref(),
            // Refused above: the Frontend API takes none.
            scopes: &[],
            seconds_until_expiration: new.expiration.seconds_from(Utc::now())?,
        };
        let answer = self
            .authed(
                |token| {
                    Request::create(self.client.url(&["api_keys"]), &body.to_wire(API))
                        .query(&[("_clerk_session_id", token.session_id.clone())])
                },
                |mut response, _| {
                    // The FAPI answers 201 (fapi/2026-05-12.yml `createApiKey`); 200 is read too.
                    if !matches!(response.status.as_u16(), 200 | 201) {
                        return Err(wire::create_refused(&response, &body, API));
                    }
                    let created = created_from(&response, &body, Utc::now());
                    response.wipe();
                    created
                },
            )
            .await;
        self.snapshots.created();
        answer
    }

    /// Clerk filters valid keys, searches names (`query`) and pages, newest first; everything else
    /// is answered from a snapshot of the owner's keys.
    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        let subject = self.subject(query.owner.as_ref()).await?;
        if !server_can_answer(&query) {
            return Ok(page_of_snapshot(&self.snapshot(&subject).await?, &query));
        }
        read_page(&query, &subject, MAX_PAGE, |window| self.fetch_page(window)).await
    }

    /// The Frontend API has no route for one key: it is looked up in the listings of the user
    /// and of each of the user's organizations.
    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id)?;
        for owner in self.owners().await? {
            let keys = self.snapshot(&clerk_subject(&owner, API)).await?;
            if let Some(key) = keys.iter().find(|key| key.id == id) {
                return Ok(key.clone());
            }
        }
        Err(Error::NotFound(format!(
            "Clerk has no API key {id} for this user or their organizations"
        )))
    }

    /// Clerk keeps the key, flagged revoked with the reason.
    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        let reason = TEXT_LIMITS.checked_reason(reason, &self.client.credentials())?;
        let body = serde_json::json!({ "revocation_reason": reason });
        let key = self
            .authed(
                |token| {
                    Request::post(self.client.url(&["api_keys", id, "revoke"]), &body)
                        .query(&[("_clerk_session_id", token.session_id.clone())])
                },
                |response, _| wire::key_from(&response, id, API),
            )
            .await?;
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    /// `PATCH /api_keys/{id}` with `{description}`, all the Frontend API can change (fapi spec
    /// `updateApiKey`); any other field is refused naming it, before anything is sent.
    async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        let change = checked_update(change, API, &self.client.credentials())?;
        let id = key_id(id)?;
        let body = update_body(&change, Utc::now())?;
        let key = self
            .authed(
                |token| {
                    Request::patch(self.client.url(&["api_keys", id]), &body)
                        .query(&[("_clerk_session_id", token.session_id.clone())])
                },
                |response, _| wire::key_from(&response, id, API),
            )
            .await?;
        self.snapshots.revoked(&key, AfterRevoke::Replace);
        Ok(key)
    }

    async fn verify(&self, _secret: &SecretString) -> Result<Verification> {
        Err(Error::invalid(
            "secret",
            "Clerk's Frontend API cannot verify a key; a backend (instance key) profile can",
        ))
    }

    /// The signed-in user and the organizations they belong to, organizations first.
    async fn owners(&self) -> Result<Vec<Subject>> {
        let user = self.session_token(None).await?.user_id;
        let mut owners: Vec<Subject> = self
            .organizations()
            .await?
            .into_iter()
            .map(Subject::Org)
            .collect();
        owners.sort_by(|a, b| a.id().cmp(b.id()));
        owners.dedup();
        owners.push(Subject::User(user));
        Ok(owners)
    }

    fn forget_cached(&self) {
        self.snapshots.created();
    }
}

#[cfg(test)]
mod tests {
    use super::wire::response;
    use super::*;

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
    fn instance_and_publishable_keys_are_refused_without_being_quoted() {
        for credential in ["sk_test_abc123", "sk_live_abc123", " pk_test_abc123"] {
            let error = client_token(&SecretString::from(credential)).unwrap_err();
            assert_eq!(error.field(), Some("credential"));
            assert!(!error.to_string().contains("abc123"), "{error}");
        }
        assert!(client_token(&SecretString::from("sk_x"))
            .unwrap_err()
            .to_string()
            .contains("instance secret key (sk_…)"));
        let token = SecretString::from("__client=eyJ.a.b");
        assert_eq!(client_token(&token).unwrap(), "eyJ.a.b");
    }

    #[test]
    fn token_claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"user_1","sid":"sess_1","iat":100,"exp":160}"#);
        let claims = token_claims(&SecretString::from(format!("h.{payload}.s"))).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.exp - claims.iat),
            ("user_1", 60)
        );
        assert!(token_claims(&SecretString::from("opaque")).is_err());
    }

    #[test]
    fn a_create_answer_with_a_secret_is_never_lost() {
        let now = Utc::now();
        for body in [
            r#"{"secret":"ak_s3cret"}"#,
            r#"{"id":"ak_1","secret":"ak_s3cret","created_at":"yesterday","scopes":"x"}"#,
            r#"{"id":"ak_1","secret":"ak_s3cret","last_used_at":1e400}"#,
            r#"{"id":"ak_1","secret":"ak_s3cret","claims":["#,
        ] {
            let created = created_from(&response(201, body), &asked(), now).expect(body);
            assert_eq!(created.secret.expose_secret(), "ak_s3cret", "{body}");
            assert_eq!(created.key.name, "CI key", "{body}");
        }
        let error = created_from(&response(201, r#"{"id":"ak_7"}"#), &asked(), now).unwrap_err();
        assert!(error.to_string().contains("keyward revoke ak_7"), "{error}");
        let error = created_from(&response(201, "<html>"), &asked(), now).unwrap_err();
        assert!(error.to_string().contains("'CI key' may have been created"));
    }

    #[test]
    fn statuses_map_to_codes() {
        use keyward_core::ErrorCode::*;
        for (status, code) in [
            (400, InvalidInput),
            (401, Unauthorized),
            (403, PermissionDenied),
            (404, NotFound),
            (409, Conflict),
            (429, RateLimited),
            (500, Backend),
        ] {
            assert_eq!(
                wire::error_from(&response(status, "{}"), "x", API).code(),
                code
            );
        }
        let signed_out = session_error(&response(401, "{}"));
        assert_eq!(signed_out.code(), Unauthorized);
        assert!(signed_out.to_string().contains("sign in again"));
    }
}
