//! The OS keychain: Secret Service on Linux and the BSDs, Keychain on macOS, Credential Manager
//! on Windows, through the keyring-core stores.
//!
//! Entries (the names docs/ARCHITECTURE.md, "Secrets", gives them):
//! - a key's secret: service `keyward`, account `<profile>/<key id>`;
//! - a profile's backend credential: service `keyward-credential`, account `<profile>`. Its value
//!   is what the caller gives: keyward-profiles stores the credential in an envelope naming the
//!   backend and origin it was saved for (`Profile::sealed_credential`) and refuses to use it
//!   for any other, so the binding travels with the secret and no file can move it.
//!
//! [`Keychain::with_service`] replaces `keyward` (tests use a unique name); the credential service
//! is always `<service>-credential`. Every entry is named by its profile, so two profiles never
//! share or overwrite one; a profile name may not contain `/`, so accounts never collide.
//!
//! Each operation is an async method for the app and a `_blocking` twin for the CLI. Either way
//! the call runs on its own short-lived thread and is abandoned after a time limit (5 s by
//! default), so a keychain that hangs (a dead daemon, an unanswered unlock prompt) costs the
//! caller a `keychain_unavailable` error, never a frozen window or CLI. An abandoned call is not
//! cancelled: if the keychain answers later (say, after an unlock prompt), it still completes.

use crate::index::SavedSecretIndex;
use keyring_core::{CredentialStore, Entry};
use keyward_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;
use zeroize::Zeroizing;

pub const DEFAULT_SERVICE: &str = "keyward";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Access to the OS keychain for one service name. Cheap to clone; clones share one connection.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
    timeout: Duration,
    store: Arc<StoreSlot>,
    index: Option<SavedSecretIndex>,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new()
    }
}

impl Keychain {
    /// The app's keychain: service `keyward`, 5 s time limit, no index.
    pub fn new() -> Self {
        Self::with_service(DEFAULT_SERVICE)
    }

    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            timeout: DEFAULT_TIMEOUT,
            store: Arc::new(StoreSlot::default()),
            index: None,
        }
    }

    /// The time limit of each keychain call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Records every key-secret save and forget in `index` (see [`SavedSecretIndex`]).
    pub fn with_index(mut self, index: SavedSecretIndex) -> Self {
        self.index = Some(index);
        self
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// The service under which profile credentials are stored.
    pub fn credential_service(&self) -> String {
        format!("{}-credential", self.service)
    }

    pub fn index(&self) -> Option<&SavedSecretIndex> {
        self.index.as_ref()
    }

    /// Saves (or replaces) the secret of a key.
    pub async fn save_key_secret(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<()> {
        self.run(self.save_key_secret_op(profile, key_id, secret)?)
            .await
    }

    pub fn save_key_secret_blocking(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<()> {
        self.run_blocking(self.save_key_secret_op(profile, key_id, secret)?)
    }

    /// The saved secret of a key; `NotFound` when none is saved.
    pub async fn key_secret(&self, profile: &str, key_id: &str) -> Result<SecretString> {
        self.run(self.key_secret_op(profile, key_id)?).await
    }

    pub fn key_secret_blocking(&self, profile: &str, key_id: &str) -> Result<SecretString> {
        self.run_blocking(self.key_secret_op(profile, key_id)?)
    }

    /// Deletes the saved secret of a key; `false` when there was none.
    pub async fn forget_key_secret(&self, profile: &str, key_id: &str) -> Result<bool> {
        self.run(self.forget_key_secret_op(profile, key_id)?).await
    }

    pub fn forget_key_secret_blocking(&self, profile: &str, key_id: &str) -> Result<bool> {
        self.run_blocking(self.forget_key_secret_op(profile, key_id)?)
    }

    /// Saves (or replaces) the backend credential of a profile, as given: pass
    /// `Profile::sealed_credential` (keyward-profiles) to bind it to the profile's origin; a bare
    /// secret is accepted and bound on its first use (by `Profile::credential`).
    pub async fn save_credential(&self, profile: &str, credential: &SecretString) -> Result<()> {
        self.run(self.save_credential_op(profile, credential)?)
            .await
    }

    pub fn save_credential_blocking(&self, profile: &str, credential: &SecretString) -> Result<()> {
        self.run_blocking(self.save_credential_op(profile, credential)?)
    }

    /// The saved credential of a profile, if any.
    pub async fn credential(&self, profile: &str) -> Result<Option<SecretString>> {
        self.run(self.credential_op(profile)?).await
    }

    pub fn credential_blocking(&self, profile: &str) -> Result<Option<SecretString>> {
        self.run_blocking(self.credential_op(profile)?)
    }

    /// Deletes the saved credential of a profile; `false` when there was none.
    pub async fn forget_credential(&self, profile: &str) -> Result<bool> {
        self.run(self.forget_credential_op(profile)?).await
    }

    pub fn forget_credential_blocking(&self, profile: &str) -> Result<bool> {
        self.run_blocking(self.forget_credential_op(profile)?)
    }

    /// `Ok` when the keychain can store, read and delete an entry; otherwise `KeychainUnavailable`
    /// saying what to do. It writes, reads back and deletes a probe entry (account
    /// `keyward-status-probe`, which no key account can be as those contain a `/`): a mere
    /// connection would not notice a locked keyring. Where a display is available, a locked
    /// keyring may show its unlock prompt, which is the way out the message points to anyway.
    pub async fn status(&self) -> Result<()> {
        self.run(self.status_op()).await
    }

    pub fn status_blocking(&self) -> Result<()> {
        self.run_blocking(self.status_op())
    }

    fn key_account(&self, profile: &str, key_id: &str) -> Result<Account> {
        check_profile(profile)?;
        if key_id.is_empty() {
            return Err(Error::invalid("key_id", "must not be empty"));
        }
        Ok(Account {
            service: self.service.clone(),
            user: format!("{profile}/{key_id}"),
            label: format!("Keyward: secret of key {key_id} (profile {profile})"),
        })
    }

    fn credential_account(&self, profile: &str) -> Result<Account> {
        check_profile(profile)?;
        Ok(Account {
            service: self.credential_service(),
            user: profile.to_owned(),
            label: format!("Keyward: credential of profile {profile}"),
        })
    }

    fn save_key_secret_op(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<impl KeychainOp<()>> {
        let account = self.key_account(profile, key_id)?;
        let secret = secret.clone();
        let marker = self.index_marker(profile, key_id);
        Ok(move |store: &CredentialStore| {
            account.set(store, &secret)?;
            marker.saved()
        })
    }

    fn key_secret_op(&self, profile: &str, key_id: &str) -> Result<impl KeychainOp<SecretString>> {
        let account = self.key_account(profile, key_id)?;
        let marker = self.index_marker(profile, key_id);
        let missing =
            format!("no secret of key {key_id} is saved in the keychain for profile {profile}");
        Ok(move |store: &CredentialStore| match account.get(store)? {
            Some(secret) => {
                marker.saved()?;
                Ok(secret)
            }
            None => {
                marker.forgotten()?;
                Err(Error::NotFound(missing))
            }
        })
    }

    fn forget_key_secret_op(&self, profile: &str, key_id: &str) -> Result<impl KeychainOp<bool>> {
        let account = self.key_account(profile, key_id)?;
        let marker = self.index_marker(profile, key_id);
        Ok(move |store: &CredentialStore| {
            let existed = account.delete(store)?;
            marker.forgotten()?;
            Ok(existed)
        })
    }

    fn save_credential_op(
        &self,
        profile: &str,
        credential: &SecretString,
    ) -> Result<impl KeychainOp<()>> {
        let account = self.credential_account(profile)?;
        let credential = credential.clone();
        Ok(move |store: &CredentialStore| account.set(store, &credential))
    }

    fn credential_op(&self, profile: &str) -> Result<impl KeychainOp<Option<SecretString>>> {
        let account = self.credential_account(profile)?;
        Ok(move |store: &CredentialStore| account.get(store))
    }

    fn forget_credential_op(&self, profile: &str) -> Result<impl KeychainOp<bool>> {
        let account = self.credential_account(profile)?;
        Ok(move |store: &CredentialStore| account.delete(store))
    }

    fn status_op(&self) -> impl KeychainOp<()> {
        const PROBE: &str = "keyward keychain check";
        let account = Account {
            service: self.service.clone(),
            user: "keyward-status-probe".to_owned(),
            label: "Keyward: keychain check (safe to delete)".to_owned(),
        };
        move |store: &CredentialStore| {
            account.set(store, &SecretString::from(PROBE))?;
            let read = account.get(store)?;
            account.delete(store)?;
            match read {
                Some(value) if value.expose_secret() == PROBE => Ok(()),
                _ => Err(Error::KeychainUnavailable(
                    "The keychain did not return what was just stored in it: check your keyring \
                     (gnome-keyring, KeePassXC) and try again"
                        .into(),
                )),
            }
        }
    }

    fn index_marker(&self, profile: &str, key_id: &str) -> IndexMarker {
        IndexMarker {
            index: self.index.clone(),
            profile: profile.to_owned(),
            key_id: key_id.to_owned(),
        }
    }

    /// For async callers (the app): awaits the worker without blocking a runtime thread. Needs a
    /// tokio runtime with its timer enabled, as Tauri's is.
    async fn run<T: Send + 'static>(&self, op: impl KeychainOp<T>) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.spawn_worker(op, move |result| {
            let _ = reply.send(result);
        })?;
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(worker_died()),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// For sync callers (the CLI).
    fn run_blocking<T: Send + 'static>(&self, op: impl KeychainOp<T>) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.spawn_worker(op, move |result| {
            let _ = reply.send(result);
        })?;
        match answer.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(worker_died()),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(self.timed_out()),
        }
    }

    /// A detached std thread rather than `spawn_blocking`: a tokio runtime waits for its blocking
    /// tasks when it shuts down, so one hung keychain call would also hang the app's exit.
    fn spawn_worker<T: Send + 'static>(
        &self,
        op: impl KeychainOp<T>,
        reply: impl FnOnce(Result<T>) + Send + 'static,
    ) -> Result<()> {
        let slot = Arc::clone(&self.store);
        thread::Builder::new()
            .name("keyward-keychain".into())
            .spawn(move || {
                let result = slot.connect().and_then(|store| op(&*store));
                if matches!(result, Err(Error::KeychainUnavailable(_))) {
                    // Reconnect next time: the service may have been started or restarted since.
                    slot.reset();
                }
                reply(result);
            })
            .map(drop)
            .map_err(|e| Error::Unexpected(format!("cannot start a keychain worker thread: {e}")))
    }

    fn timed_out(&self) -> Error {
        // The abandoned call may still hold the connection; later calls get a fresh one.
        self.store.reset();
        Error::KeychainUnavailable(platform::timed_out(self.timeout))
    }
}

/// One keychain operation, run on a worker thread against a connected store.
trait KeychainOp<T>: FnOnce(&CredentialStore) -> Result<T> + Send + 'static {}
impl<T, F: FnOnce(&CredentialStore) -> Result<T> + Send + 'static> KeychainOp<T> for F {}

fn worker_died() -> Error {
    Error::Unexpected("the keychain worker thread stopped without an answer".into())
}

fn check_profile(profile: &str) -> Result<()> {
    if profile.is_empty() {
        return Err(Error::invalid("profile", "must not be empty"));
    }
    if profile.contains('/') {
        return Err(Error::invalid("profile", "must not contain '/'"));
    }
    Ok(())
}

/// The store, connected on first use and dropped after a failure so the next call reconnects.
#[derive(Default)]
struct StoreSlot(Mutex<Option<Arc<CredentialStore>>>);

impl std::fmt::Debug for StoreSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreSlot")
    }
}

impl StoreSlot {
    fn connect(&self) -> Result<Arc<CredentialStore>> {
        if let Some(store) = self.lock().as_ref() {
            return Ok(Arc::clone(store));
        }
        // Connect without holding the lock, so `reset` (called from async code) never waits on a
        // connection attempt that hangs.
        let store = platform::open_store().map_err(from_keyring)?;
        Ok(Arc::clone(self.lock().get_or_insert(store)))
    }

    fn reset(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<CredentialStore>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One keychain entry: service + account, and the label a keyring UI shows for it.
struct Account {
    service: String,
    user: String,
    label: String,
}

impl Account {
    fn entry(&self, store: &CredentialStore) -> Result<Entry> {
        let modifiers = platform::modifiers(&self.label);
        store
            .build(&self.service, &self.user, modifiers.as_ref())
            .map_err(from_keyring)
    }

    fn set(&self, store: &CredentialStore, secret: &SecretString) -> Result<()> {
        self.entry(store)?
            .set_password(secret.expose_secret())
            .map_err(from_keyring)
    }

    fn get(&self, store: &CredentialStore) -> Result<Option<SecretString>> {
        match self.entry(store)?.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).map_err(|_| {
                    Error::Unexpected(format!(
                        "the keychain entry {}@{} is not valid UTF-8",
                        self.user, self.service
                    ))
                })?;
                Ok(Some(SecretString::from(text)))
            }
            Err(keyring_core::Error::NoEntry) => platform::confirm_missing().map(|()| None),
            Err(e) => Err(from_keyring(e)),
        }
    }

    fn delete(&self, store: &CredentialStore) -> Result<bool> {
        match self.entry(store)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => platform::confirm_missing().map(|()| false),
            Err(e) => Err(from_keyring(e)),
        }
    }
}

/// Keeps the saved-secret index in step with what a key operation found or did.
struct IndexMarker {
    index: Option<SavedSecretIndex>,
    profile: String,
    key_id: String,
}

impl IndexMarker {
    fn saved(&self) -> Result<()> {
        match &self.index {
            Some(index) => index.mark_saved(&self.profile, &self.key_id),
            None => Ok(()),
        }
    }

    fn forgotten(&self) -> Result<()> {
        match &self.index {
            Some(index) => index.mark_forgotten(&self.profile, &self.key_id),
            None => Ok(()),
        }
    }
}

/// Maps a keyring error to ours. Variants that carry secret bytes have them wiped, and no
/// message includes them.
fn from_keyring(error: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    match error {
        K::NoEntry => Error::NotFound("no such keychain entry".into()),
        K::NoStorageAccess(detail) => {
            Error::KeychainUnavailable(format!("{} ({detail})", platform::LOCKED))
        }
        K::PlatformFailure(detail) => {
            Error::KeychainUnavailable(format!("{} ({detail})", platform::UNREACHABLE))
        }
        K::NoDefaultStore => Error::KeychainUnavailable(platform::UNREACHABLE.into()),
        K::BadEncoding(bytes) => {
            drop(Zeroizing::new(bytes));
            Error::Unexpected("a keychain entry is not valid UTF-8".into())
        }
        K::BadDataFormat(bytes, _) => {
            drop(Zeroizing::new(bytes));
            Error::Unexpected("a keychain entry is malformed".into())
        }
        K::Ambiguous(entries) => Error::Unexpected(format!(
            "{} keychain entries match one Keyward entry: remove the duplicates in your keyring",
            entries.len()
        )),
        other => Error::Unexpected(format!("keychain error: {other}")),
    }
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod platform {
    use super::*;

    pub const UNREACHABLE: &str = "No Secret Service is running: install and start gnome-keyring \
        or KeePassXC's Secret Service integration, or unlock your keyring";
    pub const LOCKED: &str = "The keyring is locked or refused access: unlock your keyring \
        (gnome-keyring, KeePassXC) and try again";

    pub fn timed_out(limit: Duration) -> String {
        format!(
            "The Secret Service did not answer within {} s: it may be waiting for an unlock \
             prompt. Unlock your keyring, or restart gnome-keyring or KeePassXC, and try again",
            limit.as_secs_f32()
        )
    }

    /// Connects to the session bus and opens an encrypted Secret Service session.
    pub fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    /// The label a keyring UI (Seahorse, KeePassXC) shows instead of `keyring:<user>@<service>`.
    pub fn modifiers(label: &str) -> Option<HashMap<&str, &str>> {
        Some(HashMap::from([("label", label)]))
    }

    /// "No such entry" is only an answer when the default collection is unlocked: a locked one
    /// may hide its items (KeePassXC does), and searching it never prompts. Without this, a
    /// locked keyring would read as "nothing saved" and the index would drop its marks.
    pub fn confirm_missing() -> Result<()> {
        if default_collection_locked() == Some(true) {
            return Err(Error::KeychainUnavailable(LOCKED.into()));
        }
        Ok(())
    }

    /// The `Locked` property of the default collection; `None` when it cannot be told (no
    /// default collection yet), which leaves the "missing" answer standing.
    fn default_collection_locked() -> Option<bool> {
        let connection = zbus::blocking::Connection::session().ok()?;
        let reply = connection
            .call_method(
                Some("org.freedesktop.secrets"),
                "/org/freedesktop/secrets/aliases/default",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.Secret.Collection", "Locked"),
            )
            .ok()?;
        let value: zbus::zvariant::OwnedValue = reply.body().deserialize().ok()?;
        bool::try_from(value).ok()
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub const UNREACHABLE: &str =
        "The macOS Keychain is not available: unlock your login keychain in Keychain Access and try again";
    pub const LOCKED: &str =
        "The macOS Keychain is locked or refused access: unlock your login keychain and try again";

    pub fn timed_out(limit: Duration) -> String {
        format!(
            "The macOS Keychain did not answer within {} s: unlock your login keychain and try again",
            limit.as_secs_f32()
        )
    }

    pub fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    /// The Keychain store takes no label.
    pub fn modifiers(_label: &str) -> Option<HashMap<&str, &str>> {
        None
    }

    /// A locked keychain fails the lookup itself, so a missing entry is really missing.
    pub fn confirm_missing() -> Result<()> {
        Ok(())
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use super::*;

    pub const UNREACHABLE: &str =
        "Windows Credential Manager is not available: sign in to Windows with your account and try again";
    pub const LOCKED: &str =
        "Windows Credential Manager refused access: sign in again and try again";

    pub fn timed_out(limit: Duration) -> String {
        format!(
            "Windows Credential Manager did not answer within {} s: try again",
            limit.as_secs_f32()
        )
    }

    pub fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    /// The Credential Manager store takes no label.
    pub fn modifiers(_label: &str) -> Option<HashMap<&str, &str>> {
        None
    }

    /// A locked keychain fails the lookup itself, so a missing entry is really missing.
    pub fn confirm_missing() -> Result<()> {
        Ok(())
    }
}

#[cfg(not(any(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    target_os = "macos",
    target_os = "windows"
)))]
mod platform {
    use super::*;

    pub const UNREACHABLE: &str = "This platform has no keychain Keyward supports";
    pub const LOCKED: &str = UNREACHABLE;

    pub fn timed_out(_limit: Duration) -> String {
        UNREACHABLE.into()
    }

    pub fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(keyring_core::Error::NoDefaultStore)
    }

    pub fn modifiers(_label: &str) -> Option<HashMap<&str, &str>> {
        None
    }

    /// Never reached: there is no store to miss an entry in.
    pub fn confirm_missing() -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_namespaced() {
        let keychain = Keychain::new();
        let key = keychain.key_account("work", "key_123").unwrap();
        assert_eq!(
            (key.service.as_str(), key.user.as_str()),
            ("keyward", "work/key_123")
        );
        let credential = keychain.credential_account("work").unwrap();
        assert_eq!(
            (credential.service.as_str(), credential.user.as_str()),
            ("keyward-credential", "work")
        );
    }

    #[test]
    fn rejects_names_that_would_make_accounts_ambiguous() {
        let keychain = Keychain::new();
        for (profile, key_id, field) in [
            ("a/b", "c", "profile"),
            ("", "c", "profile"),
            ("a", "", "key_id"),
        ] {
            let error = keychain.key_account(profile, key_id).err().unwrap();
            assert_eq!(error.field(), Some(field), "{profile:?} {key_id:?}");
        }
    }

    #[test]
    fn errors_carrying_secret_bytes_keep_them_out_of_the_message() {
        let secret = b"kw_super_secret\xff".to_vec();
        for error in [
            keyring_core::Error::BadEncoding(secret.clone()),
            keyring_core::Error::BadDataFormat(secret.clone(), "bad".into()),
        ] {
            let mapped = from_keyring(error);
            assert_eq!(mapped.code(), keyward_core::ErrorCode::Unexpected);
            assert!(!mapped.to_string().contains("kw_super_secret"));
        }
    }

    #[test]
    fn unavailable_errors_say_what_to_do() {
        let locked = from_keyring(keyring_core::Error::NoStorageAccess(
            "prompt dismissed".into(),
        ));
        assert_eq!(locked.code(), keyward_core::ErrorCode::KeychainUnavailable);
        assert!(
            locked.to_string().contains("unlock your keyring"),
            "{locked}"
        );
        let down = from_keyring(keyring_core::Error::PlatformFailure("no bus".into()));
        assert_eq!(down.code(), keyward_core::ErrorCode::KeychainUnavailable);
    }
}
