//! What the app keeps between commands: the active profile's session, the keychain, the one
//! clipboard handle, the secret of the key just created while its show-once panel is open, the
//! activity log, and the bulk revokes in flight.

use crate::jobs::RevokeJobs;
use futures::future::{BoxFuture, FutureExt, Shared};
use keyward_core::{Capabilities, Error, KeyBackend, Result};
use keyward_local::ActivityLog;
use keyward_ops::settings::{clear_after_env, CLEAR_AFTER_ENV};
use keyward_ops::AskOnce;
use keyward_profiles::{Config, CredentialStore, Paths, Profile, ProfileSummary};
use keyward_vault::{Keychain, SafeClipboard, SavedSecretIndex, DEFAULT_CLEAR_AFTER};
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long the secret of a new key stays available to "Copy" and "Save to keychain" when the
/// show-once panel is not closed (it is forgotten at once when the panel closes).
pub const NEW_SECRET_TTL: Duration = Duration::from_secs(5 * 60);

/// The profile the window works on.
pub struct Session {
    pub profile: ProfileSummary,
    /// The backend, or why it could not be opened (e.g. no credential yet). The window still
    /// shows the profile, so the user can fix it from the profile editor.
    backend: Result<Arc<dyn KeyBackend>>,
    /// The same profile opened for bulk revokes (`keyward_ops::revoke::bulk_http`: a rate limit
    /// pauses every worker instead of one request waiting on its own). The local store has no
    /// HTTP: there it is the same backend.
    bulk: Result<Arc<dyn KeyBackend>>,
    /// What the backend can do, learned once after opening (`keyward_ops::capabilities::learn`).
    /// Read through [`Session::capabilities`].
    learned: Option<Capabilities>,
}

impl Session {
    /// Reads the config and opens the named (or default) profile. A config that cannot be read
    /// is an error; a backend that cannot be opened is kept as the session's backend error.
    /// Blocking: the local store opens a file, and a credential may come from the keychain.
    pub fn open(name: Option<&str>, keychain: &Keychain) -> Result<Session> {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        let profile: &Profile = config.profile(name)?;
        let summary = profile.summary(&paths, profile.name == config.default_profile);
        Ok(Session::of_profile(profile, summary, &paths, keychain))
    }

    /// Opens `profile` twice over one keychain question: for the window and for bulk revokes,
    /// with `KEYWARD_HTTP_TIMEOUT_MS` as the CLI reads it (a bad value is the backend error,
    /// naming the variable). Blocking.
    pub fn of_profile(
        profile: &Profile,
        summary: ProfileSummary,
        paths: &Paths,
        credentials: &dyn CredentialStore,
    ) -> Session {
        let http = keyward_ops::settings::http_options();
        Session::of_profile_with(profile, summary, paths, credentials, http)
    }

    /// [`Session::of_profile`] with the HTTP options (or why there are none) given.
    pub fn of_profile_with(
        profile: &Profile,
        summary: ProfileSummary,
        paths: &Paths,
        credentials: &dyn CredentialStore,
        http: Result<keyward_remote::HttpOptions>,
    ) -> Session {
        let once = AskOnce::new(credentials);
        let backend = http
            .clone()
            .and_then(|http| profile.open_backend_with(paths, &once, http));
        let bulk = match (profile.needs_credential(), http) {
            (true, Ok(http)) => {
                profile.open_backend_with(paths, &once, keyward_ops::revoke::bulk_http(http))
            }
            (true, Err(error)) => Err(error),
            (false, _) => backend.clone(),
        };
        Session {
            profile: summary,
            backend,
            bulk,
            learned: None,
        }
    }

    /// Learns the backend's capabilities (one request on backends that need it).
    pub async fn learn_capabilities(mut self) -> Session {
        if let Ok(backend) = &self.backend {
            self.learned = Some(keyward_ops::capabilities::learn(backend.as_ref()).await);
        }
        self
    }

    pub fn backend(&self) -> Result<&Arc<dyn KeyBackend>> {
        self.backend.as_ref().map_err(Clone::clone)
    }

    /// The capabilities that apply to this profile: those learned after opening, else the
    /// backend's static ones (before learning); the backend's error when it could not be opened.
    pub fn capabilities(&self) -> Result<Capabilities> {
        match &self.learned {
            Some(learned) => Ok(learned.clone()),
            None => Ok(self.backend()?.capabilities()),
        }
    }

    /// The backend bulk revokes run on.
    pub fn bulk_backend(&self) -> Result<&Arc<dyn KeyBackend>> {
        self.bulk.as_ref().map_err(Clone::clone)
    }

    pub fn backend_error(&self) -> Option<&Error> {
        self.backend.as_ref().err()
    }

    pub fn name(&self) -> &str {
        &self.profile.name
    }
}

/// The activity log (`activity.db` in the data dir), opened on first use and then kept.
/// Tauri-free, so the commands' bodies can be tested with a log in a temporary folder.
pub struct ActivityCell {
    /// The data dir, or `None` for "from the environment when first needed".
    data_dir: Option<PathBuf>,
    opened: Mutex<Option<Arc<ActivityLog>>>,
}

impl ActivityCell {
    pub fn from_env() -> Self {
        ActivityCell {
            data_dir: None,
            opened: Mutex::new(None),
        }
    }

    #[cfg(test)]
    pub fn in_dir(dir: &std::path::Path) -> Self {
        ActivityCell {
            data_dir: Some(dir.to_path_buf()),
            opened: Mutex::new(None),
        }
    }

    /// The log, opened (on a blocking thread) the first time it is needed. An error (an
    /// unwritable data dir) is answered now and retried on the next call.
    pub async fn get(&self) -> Result<Arc<ActivityLog>> {
        if let Some(log) = self.lock().as_ref() {
            return Ok(Arc::clone(log));
        }
        let data_dir = self.data_dir.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let dir = match data_dir {
                Some(dir) => dir,
                None => Paths::from_env()?.data_dir,
            };
            ActivityLog::open(&dir.join(ActivityLog::FILE_NAME)).map(Arc::new)
        })
        .await
        .map_err(|e| Error::Unexpected(format!("opening the activity log failed: {e}")))??;
        // Two first calls may race: the first one kept wins, so every caller shares one handle.
        Ok(Arc::clone(self.lock().get_or_insert(opened)))
    }

    /// The data dir the log lives in; the pending revokes' `scheduled.db` lives beside it.
    pub fn data_dir(&self) -> Result<PathBuf> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => Ok(Paths::from_env()?.data_dir),
        }
    }

    /// The pending revokes (`keyward_local::ScheduledRevokes`), opened on a blocking thread.
    pub async fn scheduled_revokes(&self) -> Result<keyward_local::ScheduledRevokes> {
        let dir = self.data_dir()?;
        tokio::task::spawn_blocking(move || keyward_local::ScheduledRevokes::open(&dir))
            .await
            .map_err(|e| Error::Unexpected(format!("opening the pending revokes failed: {e}")))?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<ActivityLog>>> {
        self.opened.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Opening = Shared<BoxFuture<'static, Result<Arc<Session>>>>;

/// Tauri-managed state.
pub struct AppState {
    /// The active session: opened at startup on a blocking thread, replaced by a profile switch.
    /// Its outcome, success or a broken config, is kept so every command answers with it: the
    /// window always opens and can show the error instead of the app failing to start.
    session: RwLock<Opening>,
    pub keychain: Keychain,
    /// The one clipboard handle of the process (on X11 the owner serves the content).
    pub clipboard: SafeClipboard,
    /// The countdown of the next copy, in whole seconds (changed by `save_settings`).
    clear_after_secs: AtomicU64,
    /// A `KEYWARD_CLEAR_AFTER` that could not be read: shown in the window, not ignored.
    pub clear_after_error: Option<Error>,
    pub new_secret: NewSecret,
    /// Shared, so blocking work (the pending revokes' SQLite) can take a host onto its thread.
    pub activity: Arc<ActivityCell>,
    /// Bulk revokes in flight, by the UI's job number.
    pub revoke_jobs: RevokeJobs,
}

impl AppState {
    /// Starts opening the default profile on a blocking thread right away.
    pub fn start() -> AppState {
        // One parser for the variable (keyward_ops::settings). The app always clears, so `0`
        // (the CLI's "leave it") falls back to the config file's countdown, else 20 s.
        let (from_env, clear_after_error) =
            match clear_after_env(std::env::var(CLEAR_AFTER_ENV).ok().as_deref()) {
                Ok(secs) => (secs.filter(|d| !d.is_zero()), None),
                Err(e) => {
                    eprintln!("keyward: {e}; the countdown from the config file is used");
                    (None, Some(e))
                }
            };
        let clear_after = from_env
            // A config that cannot be read is reported by the session; the countdown defaults.
            .or_else(|| {
                Paths::from_env()
                    .and_then(|paths| Config::load(&paths))
                    .ok()
                    .and_then(|config| config.clipboard_clear_after())
            })
            .unwrap_or(DEFAULT_CLEAR_AFTER);
        let keychain = keychain();
        let opening = open_session(None, keychain.clone());
        AppState {
            session: RwLock::new(shared(opening)),
            keychain,
            clipboard: SafeClipboard::with_clear_after(clear_after),
            clear_after_secs: AtomicU64::new(clear_after.as_secs()),
            clear_after_error,
            new_secret: NewSecret::default(),
            activity: Arc::new(ActivityCell::from_env()),
            revoke_jobs: RevokeJobs::default(),
        }
    }

    /// The activity log, opened the first time it is needed.
    pub async fn activity(&self) -> Result<Arc<ActivityLog>> {
        self.activity.get().await
    }

    /// The countdown the next copy starts.
    pub fn clear_after(&self) -> Duration {
        Duration::from_secs(self.clear_after_secs.load(Ordering::Relaxed))
    }

    /// Makes `clear_after` the countdown of the next copy.
    pub fn set_clear_after(&self, clear_after: Duration) {
        self.clear_after_secs
            .store(clear_after.as_secs(), Ordering::Relaxed);
    }

    /// The active session, once opened, or the error that stopped it from opening.
    pub async fn session(&self) -> Result<Arc<Session>> {
        let opening = self
            .session
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        opening.await
    }

    /// Opens `name` on a blocking thread and makes it the active session. On error (an unknown
    /// name, a config broken since) the current session stays.
    pub async fn switch(&self, name: String) -> Result<Arc<Session>> {
        let opened = open_session(Some(name), self.keychain.clone()).await?;
        let ready = Ok(Arc::clone(&opened));
        *self.session.write().unwrap_or_else(|p| p.into_inner()) =
            shared(futures::future::ready(ready));
        // A held secret belongs to the profile it was created on.
        self.new_secret.forget_all();
        Ok(opened)
    }
}

/// Opens a profile on a blocking thread, then learns its capabilities.
async fn open_session(name: Option<String>, keychain: Keychain) -> Result<Arc<Session>> {
    let opened =
        tauri::async_runtime::spawn_blocking(move || Session::open(name.as_deref(), &keychain))
            .await
            .map_err(|e| Error::Unexpected(format!("opening the profile failed: {e}")))??;
    Ok(Arc::new(opened.learn_capabilities().await))
}

/// The app's keychain, with the saved-secret index in the data dir when there is one.
/// On a desktop, a locked keyring answers a keychain call with an unlock prompt: the limit must
/// leave the user time to type their password. Failures without a prompt (no Secret Service, a
/// locked keyring with no display) still answer within milliseconds.
const KEYCHAIN_TIME_LIMIT: Duration = Duration::from_secs(60);

fn keychain() -> Keychain {
    let keychain = Keychain::new().with_timeout(KEYCHAIN_TIME_LIMIT);
    match Paths::from_env().and_then(|paths| SavedSecretIndex::open(paths.data_dir)) {
        Ok(index) => keychain.with_index(index),
        // Without an index the keychain still works; the table just cannot mark saved secrets.
        Err(_) => keychain,
    }
}

fn shared(
    future: impl std::future::Future<Output = Result<Arc<Session>>> + Send + 'static,
) -> Opening {
    future.boxed().shared()
}

/// The secret of the key just created, held in Rust while its show-once panel is open, so that
/// "Copy" and "Save to keychain" act on it here and it never travels back from the webview.
/// One at a time; forgotten when the panel closes, on a profile switch, or after
/// [`NEW_SECRET_TTL`].
#[derive(Default)]
pub struct NewSecret {
    held: Mutex<Option<Held>>,
}

struct Held {
    profile: String,
    key_id: String,
    secret: SecretString,
    until: Instant,
}

impl NewSecret {
    /// Holds `secret` (replacing any other) until `ttl` has passed.
    pub fn hold(&self, profile: &str, key_id: &str, secret: SecretString, ttl: Duration) {
        *self.lock() = Some(Held {
            profile: profile.to_owned(),
            key_id: key_id.to_owned(),
            secret,
            until: Instant::now() + ttl,
        });
    }

    /// The held secret of `key_id` and its profile, while it is still held.
    pub fn get(&self, key_id: &str) -> Result<(String, SecretString)> {
        let mut held = self.lock();
        if held.as_ref().is_some_and(|h| h.until <= Instant::now()) {
            *held = None;
        }
        match held.as_ref() {
            Some(h) if h.key_id == key_id => Ok((h.profile.clone(), h.secret.clone())),
            _ => Err(Error::NotFound(
                "this key's secret is no longer held by Keyward (the show-once panel was closed, or \
                 it was open for more than 5 minutes): copy it from the panel's field instead"
                    .into(),
            )),
        }
    }

    /// Forgets the secret of `key_id`; `false` when it was not held.
    pub fn forget(&self, key_id: &str) -> bool {
        let mut held = self.lock();
        if held.as_ref().is_some_and(|h| h.key_id == key_id) {
            *held = None;
            return true;
        }
        false
    }

    /// Forgets a secret held past its time.
    pub fn forget_expired(&self) {
        let mut held = self.lock();
        if held.as_ref().is_some_and(|h| h.until <= Instant::now()) {
            *held = None;
        }
    }

    pub fn forget_all(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_new_secret_is_held_for_its_key_only_until_forgotten() {
        let slot = NewSecret::default();
        slot.hold(
            "work",
            "key_1",
            SecretString::from("s3cret"),
            NEW_SECRET_TTL,
        );
        let (profile, secret) = slot.get("key_1").unwrap();
        assert_eq!(profile, "work");
        assert_eq!(secret.expose_secret(), "s3cret");
        let other = slot.get("key_2").unwrap_err();
        assert_eq!(other.code(), keyward_core::ErrorCode::NotFound);
        assert!(!other.to_string().contains("s3cret"));
        assert!(!slot.forget("key_2"), "forgetting another key keeps it");
        assert!(slot.get("key_1").is_ok());
        assert!(slot.forget("key_1"));
        assert!(slot.get("key_1").is_err());
    }

    #[test]
    fn a_new_secret_expires() {
        let slot = NewSecret::default();
        slot.hold(
            "work",
            "key_1",
            SecretString::from("s3cret"),
            Duration::ZERO,
        );
        assert!(slot.get("key_1").is_err());
        slot.hold(
            "work",
            "key_2",
            SecretString::from("s3cret"),
            Duration::ZERO,
        );
        slot.forget_expired();
        assert!(slot.lock().is_none());
        slot.hold(
            "work",
            "key_3",
            SecretString::from("s3cret"),
            NEW_SECRET_TTL,
        );
        slot.forget_expired();
        assert!(slot.get("key_3").is_ok(), "not yet expired");
        slot.forget_all();
        assert!(slot.get("key_3").is_err());
    }
}
