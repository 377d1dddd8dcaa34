//! PropelAuth end-user API keys, over either of PropelAuth's two APIs:
//!
//! - the **backend API** (`/api/backend/v1/end_user_api_keys`) with the project's integration
//!   key: any expiry date, descriptions, active and archived listings, validation;
//! - the **frontend API** (`/api/fe/v3`) with a signed-in user's session cookie: the six expiry
//!   presets, search by key id only, active keys only, no validation, and no key names (the
//!   names are kept by Keyward, see [`keyward_core::KeyNames`]).
//!
//! Deleting a key archives it. Times are Unix seconds. What each behaviour rests on (vendor repo
//! and file) is in `docs/backends/propelauth.md`.

mod backend_api;
mod frontend_api;

use crate::create_answer;
use crate::endpoint::key_id;
use crate::http::HttpOptions;
use crate::time::whole_seconds;
use async_trait::async_trait;
use backend_api::BackendApi;
use chrono::{DateTime, Utc};
use frontend_api::FrontendApi;
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, ErrorCode, ExpiryPreset, KeyBackend, KeyNames,
    KeyStatus, KeyUpdate, ListQuery, NewKey, Page, Result, RevokeKind, Subject, TextLimits,
    Verification,
};
use secrecy::SecretString;
use serde::Deserialize;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const SERVICE: &str = "PropelAuth";
/// The page sizes Keyward tries, largest first. No PropelAuth SDK documents a maximum (they
/// default to 10 and pass any number through), so Keyward starts at 100 and steps down whenever
/// the server refuses the `page_size` field, ending at the SDKs' own default.
const PAGE_SIZES: [u32; 4] = [100, 50, 25, 10];

/// What PropelAuth keeps of free text (docs/backends/propelauth.md, Limits): neither API states a
/// maximum for the name (the backend API's metadata, or kept by Keyward for the frontend API) or
/// the description (metadata), and no reason is kept, so Keyward's own caps apply.
pub(super) const TEXT_LIMITS: TextLimits = TextLimits::GENERIC;

/// Which of PropelAuth's APIs to use, with its credential.
#[derive(Debug)]
pub enum PropelAuthApi {
    Backend {
        integration_key: SecretString,
        /// The project's Auth URL (e.g. `https://123456.propelauthtest.com`). Needed only when
        /// `base_url` is the shared `https://propelauth-api.com`, which routes by this host.
        auth_url: Option<String>,
    },
    Frontend {
        /// The `Cookie` header value of a signed-in browser session (`name=value; …`).
        session_cookie: SecretString,
    },
}

#[derive(Debug)]
pub struct PropelAuthConfig {
    /// The project's Auth URL, or `https://propelauth-api.com` for the backend API.
    pub base_url: String,
    pub api: PropelAuthApi,
    /// The owner used when a new key or a listing names none.
    pub default_subject: Option<Subject>,
    pub http: HttpOptions,
}

#[derive(Debug)]
pub struct PropelAuthBackend {
    api: Api,
}

#[derive(Debug)]
enum Api {
    Backend(BackendApi),
    Frontend(FrontendApi),
}

impl PropelAuthBackend {
    pub fn new(config: PropelAuthConfig) -> Result<Self> {
        let api = match config.api {
            PropelAuthApi::Backend {
                integration_key,
                auth_url,
            } => Api::Backend(BackendApi::new(
                &config.base_url,
                integration_key,
                auth_url.as_deref(),
                config.default_subject,
                config.http,
            )?),
            PropelAuthApi::Frontend { session_cookie } => Api::Frontend(FrontendApi::new(
                &config.base_url,
                session_cookie,
                config.default_subject,
                config.http,
            )?),
        };
        Ok(PropelAuthBackend { api })
    }

    /// How long a snapshot of an owner's keys answers queries PropelAuth cannot (default
    /// [`crate::SNAPSHOT_TTL`]; zero reads one for every such query).
    pub fn with_snapshot_ttl(mut self, ttl: std::time::Duration) -> Self {
        let snapshots = crate::listing::Snapshots::new(ttl);
        match &mut self.api {
            Api::Backend(api) => api.snapshots = snapshots,
            Api::Frontend(api) => api.snapshots = snapshots,
        }
        self
    }

    /// Where the frontend API's key names are kept (the server keeps none). Without one, names
    /// given in this session are kept in memory only. The backend API keeps its own names.
    pub fn with_key_names(mut self, names: Arc<dyn KeyNames>) -> Self {
        if let Api::Frontend(api) = &mut self.api {
            api.names = names;
        }
        self
    }

    /// HTTP requests this backend has sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        match &self.api {
            Api::Backend(api) => api.requests_sent(),
            Api::Frontend(api) => api.requests_sent(),
        }
    }
}

#[async_trait]
impl KeyBackend for PropelAuthBackend {
    fn kind(&self) -> &'static str {
        "propelauth"
    }

    fn capabilities(&self) -> Capabilities {
        let frontend = matches!(self.api, Api::Frontend(_));
        Capabilities {
            // The backend API has no search and the frontend API's searches key ids only, so
            // names are searched here, over a snapshot of the listing.
            server_search: false,
            server_paging: true,
            // PropelAuth lists newest first; every other order sorts a snapshot of the keys.
            sorts: keyward_core::SortField::ALL.to_vec(),
            user_keys: true,
            org_keys: true,
            owner_is_label: false,
            levels: None,
            scopes: false,
            // Kept in the key's metadata, which only the backend API can set.
            descriptions: !frontend,
            revoke_reason: false,
            revoke_kind: RevokeKind::Archive,
            last_used: false,
            verify: !frontend,
            verify_counts_as_use: false,
            expiry_presets: ExpiryPreset::ALL.to_vec(),
            custom_expiry: !frontend,
            never_expires: true,
            // The released frontend API keeps no names: Keyward keeps them per profile.
            names_kept_locally: frontend,
            text_limits: TEXT_LIMITS,
            // The backend API's PATCH (expiry, metadata); the released frontend API has none
            // (docs/backends/propelauth.md, Update).
            updates: if frontend {
                keyward_core::UpdateFields::NONE
            } else {
                backend_api::BACKEND_UPDATES
            },
        }
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        match &self.api {
            Api::Backend(api) => api.create(new).await,
            Api::Frontend(api) => api.create(new).await,
        }
    }

    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        match &self.api {
            Api::Backend(api) => api.list(query).await,
            Api::Frontend(api) => api.list(query).await,
        }
    }

    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id)?;
        match &self.api {
            Api::Backend(api) => api.get(id).await,
            Api::Frontend(api) => api.get(id).await,
        }
    }

    /// Archives the key. PropelAuth takes no reason, so one given is not sent.
    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        // Not sent, but checked like every reason: a front end may keep it.
        let credentials = match &self.api {
            Api::Backend(api) => api.client.credentials(),
            Api::Frontend(api) => api.client.credentials(),
        };
        TEXT_LIMITS.checked_reason(reason, &credentials)?;
        match &self.api {
            Api::Backend(api) => api.revoke(id).await,
            Api::Frontend(api) => api.revoke(id).await,
        }
    }

    /// The backend API changes expiry and description; the frontend API refuses every field
    /// (the trait's default), before anything is sent.
    async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        change.check_against(&self.capabilities().updates)?;
        let id = key_id(id)?;
        match &self.api {
            Api::Backend(api) => api.update(id, change).await,
            Api::Frontend(_) => Err(Error::invalid(
                KeyUpdate::FIELD,
                "PropelAuth's frontend API cannot change keys; use a profile with the integration key",
            )),
        }
    }

    fn forget_cached(&self) {
        match &self.api {
            Api::Backend(api) => api.snapshots.created(),
            Api::Frontend(api) => api.snapshots.created(),
        }
    }

    async fn owners(&self) -> Result<Vec<Subject>> {
        match &self.api {
            Api::Backend(api) => api.owners().await,
            Api::Frontend(api) => api.owners().await,
        }
    }

    async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        match &self.api {
            Api::Backend(api) => api.verify(secret).await,
            Api::Frontend(_) => Err(keyward_core::Error::invalid(
                "secret",
                "PropelAuth's frontend API cannot check secrets; use a profile with the integration key",
            )),
        }
    }
}

/// Which listing a key came from: that is all PropelAuth says about whether it was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shelf {
    Active,
    /// Deleted or expired keys.
    Archived,
}

/// A key as both APIs list it (`ApiKeyFull`; frontend items lack the owner ids).
#[derive(Deserialize)]
struct WireKey {
    api_key_id: String,
    created_at: i64,
    expires_at_seconds: Option<i64>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct WirePage {
    api_keys: Vec<WireKey>,
    total_api_keys: u64,
}

impl WireKey {
    /// `listed_owner` stands in for the owner ids the frontend API leaves out.
    /// The name shown is the server's, else the one Keyward kept (`kept_names`), else the id:
    /// never blank.
    fn into_api_key(
        self,
        shelf: Shelf,
        listed_owner: Option<&Subject>,
        kept_names: Option<&dyn KeyNames>,
        now: DateTime<Utc>,
    ) -> Result<ApiKey> {
        let seconds = |s: i64| crate::time::from_unix_seconds(SERVICE, s);
        let expires_at = self.expires_at_seconds.map(seconds).transpose()?;
        let expired = expires_at.is_some_and(|at| at <= now);
        let status = match (shelf, expired) {
            (_, true) => KeyStatus::Expired,
            (Shelf::Active, false) => KeyStatus::Active,
            (Shelf::Archived, false) => KeyStatus::Revoked,
        };
        let owner = match (self.org_id, self.user_id) {
            (Some(org), _) => Some(Subject::Org(org)),
            (None, Some(user)) => Some(Subject::User(user)),
            (None, None) => listed_owner.cloned(),
        };
        let metadata = self.metadata.filter(|m| !m.is_null());
        let name = self
            .display_name
            .filter(|name| !name.trim().is_empty())
            .or_else(|| kept_names.and_then(|names| names.name(&self.api_key_id)))
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| self.api_key_id.clone());
        Ok(ApiKey {
            id: self.api_key_id,
            name,
            owner,
            created_at: seconds(self.created_at)?,
            expires_at,
            status,
            revoked_at: None,
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: Vec::new(),
            description: description_of(metadata.as_ref()),
            metadata,
            stub: None,
        })
    }
}

/// Keyward keeps a key's description in its metadata, under `description`.
fn description_of(metadata: Option<&serde_json::Value>) -> Option<String> {
    metadata?.get("description")?.as_str().map(str::to_owned)
}

/// What was asked for in a create, to fill in the key PropelAuth's answer leaves out.
pub(super) struct Asked {
    pub(super) name: String,
    pub(super) owner: Option<Subject>,
    pub(super) expires_at: Option<DateTime<Utc>>,
    pub(super) metadata: Option<serde_json::Value>,
}

/// Reads a create answer (`{api_key_id, api_key_token}`, the only time PropelAuth shows the
/// token). An answer that carries a token has made a key, whatever its status or other fields:
/// it always yields the token, with the id if it can be read and the rest taken from the request
/// (created now, in whole seconds as PropelAuth keeps time). An answer without a token, from a
/// server that may have made the key, is an error saying so, with the id when there is one, and
/// what to do. `refusal` maps an error answer that carries no token.
pub(super) fn created_from(
    response: &crate::http::Response,
    asked: &Asked,
    now: DateTime<Utc>,
    refusal: impl FnOnce(&crate::http::Response) -> Error,
) -> Result<CreatedKey> {
    let answer = create_answer::parse(&response.body);
    let field = |name: &str| {
        match &answer {
            Some(answer) => answer
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            None => create_answer::string_field(&response.body, name),
        }
        .filter(|text| !text.trim().is_empty())
    };
    let id = field("api_key_id");
    if let Some(token) = field("api_key_token") {
        return Ok(CreatedKey {
            key: ApiKey {
                id: id.unwrap_or_default(),
                name: asked.name.clone(),
                owner: asked.owner.clone(),
                created_at: whole_seconds(now),
                expires_at: asked.expires_at.map(whole_seconds),
                status: KeyStatus::Active,
                revoked_at: None,
                revocation_reason: None,
                last_used_at: None,
                level: None,
                scopes: Vec::new(),
                description: description_of(asked.metadata.as_ref()),
                metadata: asked.metadata.clone(),
                stub: None,
            },
            secret: SecretString::from(token),
        });
    }
    let status = response.status.as_u16();
    let what = match status {
        200..=299 => "carries no API key token",
        500..=599 => "is a server failure",
        // PropelAuth refused the request: no key was made.
        _ => return Err(refusal(response)),
    };
    let (key, todo) = match &id {
        Some(id) => {
            let id = create_answer::id_for_message(id);
            (
                format!("PropelAuth has probably created key {id} ('{}')", asked.name),
                format!("revoke it (keyward revoke {id}) and create the key again"),
            )
        }
        None => (
            format!("a key named '{}' may have been created", asked.name),
            "look for a new key at the top of the key list (newest first) and revoke it if it is there, then create the key again".to_owned(),
        ),
    };
    Err(Error::Backend(format!(
        "PropelAuth's answer to the create {what} (HTTP {status}): {key}, but Keyward did not get its secret; {todo}"
    )))
}

/// The page size a listing asks for, learnt from the server: the largest of [`PAGE_SIZES`] it has
/// not refused.
#[derive(Debug)]
pub(super) struct PageSize {
    current: AtomicU32,
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize {
            current: AtomicU32::new(PAGE_SIZES[0]),
        }
    }
}

impl PageSize {
    pub(super) fn get(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }

    /// Runs `read` with the largest page size the server accepts; when it refuses `page_size`,
    /// runs it again with the next smaller size, and keeps that size for later listings.
    pub(super) async fn read<T, F, Fut>(&self, read: F) -> Result<T>
    where
        F: Fn(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        loop {
            let size = self.get();
            match read(size).await {
                Err(error) if refuses_page_size(&error) => {
                    let Some(&smaller) = PAGE_SIZES.iter().find(|&&s| s < size) else {
                        return Err(error);
                    };
                    // Another listing may have stepped down already; never step back up.
                    self.current.fetch_min(smaller, Ordering::Relaxed);
                }
                other => return other,
            }
        }
    }
}

/// Both adapters map a refused `page_size` to the `limit` field; the query's own limit is checked
/// before anything is sent, so such an error is the server refusing the page size.
fn refuses_page_size(error: &Error) -> bool {
    error.code() == ErrorCode::InvalidInput && error.field() == Some("limit")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn wire(expires: Option<i64>) -> WireKey {
        serde_json::from_value(serde_json::json!({
            "api_key_id": "3f9c1e0a7b2d4c6e8f1a2b3c4d5e6f70",
            "created_at": 1735689600,
            "expires_at_seconds": expires,
            "metadata": {"description": "nightly", "tier": "pro"},
            "user_id": "0b6c8c0e-2f43-4b7e-9d7a-5a2f6f9b1c11",
            "org_id": null,
            "display_name": "CI key"
        }))
        .unwrap()
    }

    #[test]
    fn status_follows_the_shelf_and_the_date() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let past = Some(1_767_225_600); // 2026-01-01
        let future = Some(1_893_456_000); // 2030-01-01
        let status = |shelf, expires| {
            wire(expires)
                .into_api_key(shelf, None, None, now)
                .unwrap()
                .status
        };
        assert_eq!(status(Shelf::Active, None), KeyStatus::Active);
        assert_eq!(status(Shelf::Active, future), KeyStatus::Active);
        assert_eq!(status(Shelf::Archived, None), KeyStatus::Revoked);
        assert_eq!(status(Shelf::Archived, future), KeyStatus::Revoked);
        assert_eq!(status(Shelf::Archived, past), KeyStatus::Expired);
    }

    #[test]
    fn keys_map_from_the_wire() {
        let org = Subject::Org("acme".into());
        let key = wire(None)
            .into_api_key(Shelf::Active, Some(&org), None, Utc::now())
            .unwrap();
        assert_eq!(key.name, "CI key");
        assert_eq!(key.description.as_deref(), Some("nightly"));
        assert_eq!(
            key.owner,
            Some(Subject::User("0b6c8c0e-2f43-4b7e-9d7a-5a2f6f9b1c11".into())),
            "the key's own ids win over the listing's owner"
        );
        assert_eq!(key.created_at.timestamp(), 1_735_689_600);
    }

    fn answer(status: u16, body: &str) -> crate::http::Response {
        crate::http::Response {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn asked() -> Asked {
        Asked {
            name: "laptop".into(),
            owner: Some(Subject::User("u1".into())),
            expires_at: None,
            metadata: None,
        }
    }

    fn refused(_: &crate::http::Response) -> Error {
        Error::invalid("expires", "refused")
    }

    #[test]
    fn an_answer_with_a_token_always_yields_it() {
        use secrecy::ExposeSecret;
        let now = Utc::now();
        for (status, body) in [
            (200, r#"{"api_key_id":"abc","api_key_token":"f00d"}"#),
            // Extra or odd fields, a missing id, an unexpected status: the token still counts.
            (
                200,
                r#"{"api_key_id":7,"api_key_token":"f00d","created_at":"soon"}"#,
            ),
            (201, r#"{"api_key_token":"f00d"}"#),
            (
                500,
                r#"{"api_key_id":"abc","api_key_token":"f00d","error_code":"x"}"#,
            ),
        ] {
            let created = created_from(&answer(status, body), &asked(), now, refused)
                .unwrap_or_else(|e| panic!("{status} {body}: {e}"));
            assert_eq!(created.secret.expose_secret(), "f00d");
            assert_eq!(created.key.name, "laptop");
            assert_eq!(created.key.status, KeyStatus::Active);
            assert_eq!(created.key.created_at, whole_seconds(now));
        }
    }

    #[test]
    fn a_token_survives_a_broken_neighbour() {
        use secrecy::ExposeSecret;
        for body in [
            r#"{"api_key_id":"abc","api_key_token":"f00d","metadata":-1e400}"#,
            r#"{"api_key_id":"abc","api_key_token" : "f00d"}."#,
            r#"{"note":"a \"quoted\" \\ thing","api_key_token":"f\u0030\u0030d","x":1e999}"#,
        ] {
            let created = created_from(&answer(200, body), &asked(), Utc::now(), refused)
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(created.secret.expose_secret(), "f00d", "{body}");
        }
        assert_eq!(
            create_answer::string_field(br#"{"api_key_id":"abc","x":-1e400}"#, "api_key_id")
                .as_deref(),
            Some("abc")
        );
        assert_eq!(
            create_answer::string_field(br#"{"api_key_token":5,"x":-1e400}"#, "api_key_token"),
            None
        );
    }

    #[test]
    fn an_answer_without_a_token_says_a_key_may_exist() {
        let now = Utc::now();
        let with_id = created_from(
            &answer(200, r#"{"api_key_id":"abc"}"#),
            &asked(),
            now,
            refused,
        )
        .unwrap_err();
        assert_eq!(with_id.code(), ErrorCode::Backend);
        let text = with_id.to_string();
        assert!(
            text.contains("abc") && text.contains("keyward revoke abc"),
            "{text}"
        );
        let unreadable =
            created_from(&answer(200, "<html>oops</html>"), &asked(), now, refused).unwrap_err();
        let text = unreadable.to_string();
        assert!(
            text.contains("may have been created") && text.contains("laptop"),
            "{text}"
        );
        let failed = created_from(&answer(502, ""), &asked(), now, refused).unwrap_err();
        assert!(
            failed.to_string().contains("may have been created"),
            "{failed}"
        );
        // A refusal made no key: it is the refusal, nothing more.
        let refusal = created_from(&answer(400, "{}"), &asked(), now, refused).unwrap_err();
        assert_eq!(refusal.field(), Some("expires"));
        // The id is the server's text: a terminal escape in it is not passed on.
        let escape = created_from(
            &answer(200, r#"{"api_key_id":"\u001b[2J"}"#),
            &asked(),
            now,
            refused,
        )
        .unwrap_err()
        .to_string();
        assert!(
            !escape.chars().any(char::is_control) && escape.contains("?[2J"),
            "{escape}"
        );
    }

    #[test]
    fn a_key_is_never_shown_without_a_name() {
        let names = keyward_core::MemoryKeyNames::default();
        let nameless = || -> WireKey {
            serde_json::from_value(serde_json::json!({
                "api_key_id": "0123456789abcdef0123456789abcdef",
                "created_at": 1735689600,
                "expires_at_seconds": null,
                "metadata": null
            }))
            .unwrap()
        };
        let shown = |names: Option<&dyn KeyNames>| {
            nameless()
                .into_api_key(Shelf::Active, None, names, Utc::now())
                .unwrap()
                .name
        };
        assert_eq!(shown(None), "0123456789abcdef0123456789abcdef");
        assert_eq!(shown(Some(&names)), "0123456789abcdef0123456789abcdef");
        names
            .remember("0123456789abcdef0123456789abcdef", "laptop")
            .unwrap();
        assert_eq!(shown(Some(&names)), "laptop");
        // The server's own name, where it keeps one, wins.
        assert_eq!(
            wire(None)
                .into_api_key(Shelf::Active, None, Some(&names), Utc::now())
                .unwrap()
                .name,
            "CI key"
        );
    }
}
