//! PropelAuth end-user API keys, over either of PropelAuth's two APIs:
//!
//! - the **backend API** (`/api/backend/v1/end_user_api_keys`) with the project's integration
//!   key: any expiry date, descriptions, active and archived listings, validation;
//! - the **frontend API** (`/api/fe/v3`) with a signed-in user's session cookie: the six expiry
//!   presets, server-side search, active keys only, no validation.
//!
//! Deleting a key archives it. Times are Unix seconds.

mod backend_api;
mod frontend_api;

use crate::endpoint::key_id;
use crate::http::HttpOptions;
use crate::time::whole_seconds;
use async_trait::async_trait;
use backend_api::BackendApi;
use chrono::{DateTime, Utc};
use frontend_api::FrontendApi;
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey, Page,
    Result, RevokeKind, Subject, Verification,
};
use secrecy::SecretString;
use serde::Deserialize;

const SERVICE: &str = "PropelAuth";
/// The largest `page_size` Keyward asks for (PropelAuth's own maximum is not documented).
const MAX_PAGE: u32 = 100;

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
            // Only the frontend API searches; the backend API's listings are searched here.
            server_search: frontend,
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
            expiry_presets: ExpiryPreset::ALL.to_vec(),
            custom_expiry: !frontend,
            never_expires: true,
            // Set by the frontend adapter once it keeps names on this machine (issue 9).
            names_kept_locally: false,
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
    async fn revoke(&self, id: &str, _reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        match &self.api {
            Api::Backend(api) => api.revoke(id).await,
            Api::Frontend(api) => api.revoke(id).await,
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

/// The create answer, the only time PropelAuth shows the token.
#[derive(Deserialize)]
struct WireCreated {
    api_key_id: String,
    api_key_token: String,
}

impl WireKey {
    /// `listed_owner` stands in for the owner ids the frontend API leaves out.
    fn into_api_key(
        self,
        shelf: Shelf,
        listed_owner: Option<&Subject>,
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
        Ok(ApiKey {
            id: self.api_key_id,
            name: self.display_name.unwrap_or_default(),
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

/// PropelAuth answers a create with the id and token only; the rest of the key is what was
/// asked for, in whole seconds as PropelAuth keeps it. (Reading it back could fail after the key
/// exists, losing the one-time secret.)
fn created_key(
    created: WireCreated,
    name: String,
    owner: Option<Subject>,
    expires_at: Option<DateTime<Utc>>,
    metadata: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> CreatedKey {
    CreatedKey {
        key: ApiKey {
            id: created.api_key_id,
            name,
            owner,
            created_at: whole_seconds(now),
            expires_at: expires_at.map(whole_seconds),
            status: KeyStatus::Active,
            revoked_at: None,
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: Vec::new(),
            description: description_of(metadata.as_ref()),
            metadata,
            stub: None,
        },
        secret: SecretString::from(created.api_key_token),
    }
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
        let status = |shelf, expires| wire(expires).into_api_key(shelf, None, now).unwrap().status;
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
            .into_api_key(Shelf::Active, Some(&org), Utc::now())
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
}
