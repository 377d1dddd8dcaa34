//! What differs per front end, behind two small traits: the [`Host`] an operation runs for (its
//! profile, its activity log, its progress and its Stop) and the [`SecretKeeper`] it reaches the
//! keychain through.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyward_core::{BulkProgress, CancelFlag, Result, RevokeOutcome};
use keyward_local::NewActivity;
use keyward_vault::Keychain;
use secrecy::SecretString;
use std::collections::{HashMap, HashSet};

/// The front end an operation runs for.
#[async_trait]
pub trait Host: Send + Sync {
    /// The profile the operation acts on (activity entries and keychain accounts name it).
    fn profile(&self) -> &str;

    /// Writes `entries` to the activity log. A failure is reported beside the operation's answer,
    /// never instead of it: the keys were changed either way.
    async fn record(&self, entries: Vec<NewActivity>) -> Result<()>;

    /// How the keychain is reached.
    fn secrets(&self) -> &dyn SecretKeeper;

    /// After each key of a bulk revoke that ended revoked or failed.
    fn progress(&self, _last: &RevokeOutcome, _progress: BulkProgress) {}

    /// Stops a bulk revoke: keys not started yet end untouched.
    fn cancel(&self) -> &CancelFlag;

    /// Key id → due time of the profile's pending revokes (`keyward_local::ScheduledRevokes`),
    /// joined into listings as "revoke scheduled"; empty where the front end keeps none.
    fn revoke_marks(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        Ok(HashMap::new())
    }
}

/// The keychain as operations use it. `keyward_vault::Keychain` is the real one; tests use fakes
/// (an unavailable keychain, a failing entry).
#[async_trait]
pub trait SecretKeeper: Send + Sync {
    /// Whether the keychain answers at all (no prompt for an entry).
    async fn probe(&self) -> Result<()>;
    async fn save_key_secret(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<()>;
    /// `Ok(false)` when nothing was saved for the key.
    async fn forget_key_secret(&self, profile: &str, key_id: &str) -> Result<bool>;
    async fn save_credential(&self, profile: &str, credential: &SecretString) -> Result<()>;
    /// The ids of `profile`'s keys with a saved secret, from the saved-secret index (never the
    /// keychain itself, so this never prompts); `Ok(None)` when there is no index to ask.
    fn saved_ids(&self, profile: &str) -> Result<Option<HashSet<String>>>;
}

#[async_trait]
impl SecretKeeper for Keychain {
    async fn probe(&self) -> Result<()> {
        self.status().await
    }

    async fn save_key_secret(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<()> {
        Keychain::save_key_secret(self, profile, key_id, secret).await
    }

    async fn forget_key_secret(&self, profile: &str, key_id: &str) -> Result<bool> {
        Keychain::forget_key_secret(self, profile, key_id).await
    }

    async fn save_credential(&self, profile: &str, credential: &SecretString) -> Result<()> {
        Keychain::save_credential(self, profile, credential).await
    }

    fn saved_ids(&self, profile: &str) -> Result<Option<HashSet<String>>> {
        let Some(index) = self.index() else {
            return Ok(None);
        };
        // Another process (the CLI, the app) may have saved or forgotten secrets since.
        index.reload()?;
        Ok(Some(index.ids(profile).into_iter().collect()))
    }
}
