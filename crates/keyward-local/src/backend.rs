//! [`KeyBackend`] for [`LocalStore`]: the blocking SQLite work runs on Tokio's blocking pool.

use crate::store::LocalStore;
use async_trait::async_trait;
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, ExpiryPreset, KeyBackend, KeyUpdate, ListQuery,
    NewKey, Page, Result, RevokeKind, SortField, Subject, TextLimits, Verification,
};
use secrecy::SecretString;

impl LocalStore {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&LocalStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            // The panic payload is not shown: a message is no place to gamble on its content.
            .map_err(|e| {
                Error::Unexpected(if e.is_panic() {
                    "the local store failed unexpectedly (a bug): please report it".to_owned()
                } else {
                    "the local store operation was cancelled".to_owned()
                })
            })?
    }
}

/// What the local store keeps of free text: Keyward's own caps ([`TextLimits::GENERIC`]), a name
/// of 100 characters, a description of 255, a revoke reason of 500.
const TEXT_LIMITS: TextLimits = TextLimits::GENERIC;

#[async_trait]
impl KeyBackend for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_search: true,
            server_paging: true,
            sorts: SortField::ALL.to_vec(),
            user_keys: true,
            org_keys: true,
            owner_is_label: true,
            levels: None,
            scopes: false,
            descriptions: true,
            revoke_reason: true,
            revoke_kind: RevokeKind::Revoke,
            last_used: true,
            verify: true,
            verify_counts_as_use: false, // check() skips the last-used write
            expiry_presets: ExpiryPreset::ALL.to_vec(),
            custom_expiry: true,
            never_expires: true,
            names_kept_locally: false,
            text_limits: TEXT_LIMITS,
            updates: LocalStore::UPDATABLE,
        }
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        // The local store has no credential of its own; a front end that holds one checks it.
        let new = new.validated_for(&TEXT_LIMITS, &[])?;
        self.blocking(move |store| store.create_sync(new)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone();
        self.blocking(move |store| store.list_sync(&query)).await
    }

    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = id.to_owned();
        self.blocking(move |store| store.get_sync(&id)).await
    }

    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = id.to_owned();
        let reason = TEXT_LIMITS.checked_reason(reason, &[])?;
        self.blocking(move |store| store.revoke_sync(&id, reason.as_deref()))
            .await
    }

    async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        let secret = secret.clone();
        self.blocking(move |store| store.verify_sync(&secret)).await
    }

    async fn check(&self, secret: &SecretString) -> Result<Verification> {
        let secret = secret.clone();
        self.blocking(move |store| store.check_sync(&secret)).await
    }

    async fn update(&self, id: &str, change: &KeyUpdate) -> Result<ApiKey> {
        // Refused fields and bad values are answered before the blocking pool is asked.
        change.check_against(&LocalStore::UPDATABLE)?;
        let change = change.clone().validated_for(&TEXT_LIMITS, &[])?;
        let id = id.to_owned();
        self.blocking(move |store| store.update_sync(&id, &change))
            .await
    }

    /// `SELECT DISTINCT` over the owner index rather than a walk of the listing.
    async fn owners(&self) -> Result<Vec<Subject>> {
        self.blocking(|store| store.owners_sync()).await
    }
}
