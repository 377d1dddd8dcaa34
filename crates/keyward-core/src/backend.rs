//! The one trait every key-management backend implements, and what each can do.

use crate::error::Result;
use crate::expiration::ExpiryPreset;
use crate::model::{ApiKey, CreatedKey, ListQuery, NewKey, Page, Subject, Verification};
use crate::update::KeyUpdate;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::Serialize;

/// What "revoke" means on a backend, so front ends can label the action truthfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeKind {
    /// The key stays listed with status `revoked` (local store, Clerk).
    Revoke,
    /// The key moves to an archive (PropelAuth).
    Archive,
    /// The key is gone for good (FreeSewing).
    Delete,
}

/// What a backend supports. The UI and the CLI adapt to these flags instead of special-casing
/// backend names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capabilities {
    /// Search runs on the server (otherwise the front end filters what it has).
    pub server_search: bool,
    /// The backend pages its listings itself.
    pub server_paging: bool,
    /// Sort orders the backend can apply.
    pub sorts: Vec<crate::model::SortField>,
    pub user_keys: bool,
    pub org_keys: bool,
    /// Owner is free text kept with the key (local store) rather than an account on a server.
    pub owner_is_label: bool,
    /// Inclusive level range, where keys carry a privilege level.
    pub levels: Option<(u8, u8)>,
    pub scopes: bool,
    pub descriptions: bool,
    pub revoke_reason: bool,
    pub revoke_kind: RevokeKind,
    pub last_used: bool,
    pub verify: bool,
    /// The server records every check of a secret as a use (it sets the key's last used time),
    /// so Keyward cannot check a secret without touching it; front ends say so next to a verify
    /// box. False where [`KeyBackend::check`] leaves the key as it was.
    pub verify_counts_as_use: bool,
    /// Presets the backend can express; the others are refused before a request is sent.
    pub expiry_presets: Vec<ExpiryPreset>,
    /// Whether a custom duration or date can be sent.
    pub custom_expiry: bool,
    /// Whether a key can be made that never expires.
    pub never_expires: bool,
    /// The server keeps no name for a key (PropelAuth's released frontend API): the name a user
    /// gives is kept by Keyward on this machine, per profile, and searched there. Front ends say so.
    pub names_kept_locally: bool,
    /// The most characters the backend keeps of a name, a description and a revoke reason;
    /// longer text is refused before anything is sent ([`crate::free_text`]).
    pub text_limits: crate::free_text::TextLimits,
    /// Which fields of an existing key [`KeyBackend::update`] can change.
    pub updates: crate::update::UpdateFields,
}

#[async_trait]
pub trait KeyBackend: Send + Sync {
    /// A short name of the backend kind, e.g. `local`, `clerk`.
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// Asks the server what this account may do, where that is knowable only from the server
    /// (FreeSewing caps key levels by the account's role), and answers the capabilities from then
    /// on. Front ends call it once after opening a backend, before offering a create form; a
    /// failure leaves [`KeyBackend::capabilities`] as it was. By default nothing is asked.
    async fn refresh_capabilities(&self) -> Result<Capabilities> {
        Ok(self.capabilities())
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey>;

    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>>;

    async fn get(&self, id: &str) -> Result<ApiKey>;

    /// Revokes (or archives, or deletes, per [`RevokeKind`]) a key. Revoking a key that is already
    /// revoked is not an error: it returns the key as it is.
    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey>;

    /// Checks a presented secret as a *use*: what a service calls when a client shows a key, so
    /// backends that track it record the key's last use.
    async fn verify(&self, secret: &SecretString) -> Result<Verification>;

    /// Checks a secret without recording a use (a person checking a key they hold, in a front
    /// end). By default it is [`KeyBackend::verify`]: a server that records every check as a use
    /// says so with [`Capabilities::verify_counts_as_use`]; backends that can skip the record do.
    async fn check(&self, secret: &SecretString) -> Result<Verification> {
        self.verify(secret).await
    }

    /// Changes a key's name, description, expiry or scopes, as far as
    /// [`Capabilities::updates`] allows, and returns the key as it now is. Every implementation
    /// first calls [`KeyUpdate::check_against`] with its capabilities (a field it cannot change is
    /// refused naming the field, before anything is sent) and [`KeyUpdate::validated_for`] with
    /// its text limits. By default a backend changes nothing: every field is refused that way.
    async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        let _ = id;
        change.check_against(&self.capabilities().updates)?;
        Err(crate::error::Error::invalid(
            KeyUpdate::FIELD,
            "this backend cannot change its keys",
        ))
    }

    /// The distinct owners of this backend's keys, sorted as written (`org:…` before `user:…`),
    /// for an owner picker. By default this walks the listing (all statuses, pages of 1000);
    /// backends that can ask their store directly do.
    async fn owners(&self) -> Result<Vec<Subject>> {
        let query = ListQuery {
            limit: ListQuery::MAX_LIMIT,
            ..ListQuery::default()
        };
        let keys = crate::filter::list_all(self, &query, 4).await?;
        let mut owners: Vec<Subject> = keys.into_iter().filter_map(|key| key.owner).collect();
        owners.sort_by(|a, b| (a.kind(), a.id()).cmp(&(b.kind(), b.id())));
        owners.dedup();
        Ok(owners)
    }

    /// Drops whatever the backend keeps of earlier listings (remote adapters keep a short-lived
    /// snapshot of all keys), so the next `list` reads the server: the user's "Refresh", after
    /// keys changed somewhere else.
    fn forget_cached(&self) {}
}
