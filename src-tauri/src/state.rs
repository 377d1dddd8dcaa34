//! What the app keeps between commands: the loaded config and the active profile's backend.

use futures::future::{BoxFuture, FutureExt, Shared};
use keyward_core::{Error, KeyBackend, Result};
use keyward_profiles::{Config, Paths, ProfileSummary};
use std::sync::Arc;

/// The profile the window works on, opened once.
pub struct Session {
    pub paths: Paths,
    pub config: Config,
    pub profile: ProfileSummary,
    pub backend: Arc<dyn KeyBackend>,
}

impl Session {
    /// Reads the config (or the implicit one) and opens the default profile's backend.
    /// Blocking: the local store opens a file and runs its migrations.
    fn open() -> Result<Session> {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        let profile = config.profile(None)?;
        let backend = profile.open_backend(&paths, &keyward_vault::Keychain::new())?;
        let summary = config
            .summaries(&paths)
            .into_iter()
            .find(|s| s.name == profile.name)
            .ok_or_else(|| {
                Error::Unexpected(format!("profile '{}' has no summary", profile.name))
            })?;
        Ok(Session {
            paths,
            config,
            profile: summary,
            backend,
        })
    }
}

/// Tauri-managed state. Opening happens once, at startup; its outcome, success or a broken
/// config, is kept so every command answers with it: the window always opens and can show the
/// error instead of the app failing to start.
pub struct AppState {
    session: Shared<BoxFuture<'static, Result<Arc<Session>>>>,
}

impl AppState {
    /// Starts opening the session on a blocking thread right away.
    pub fn start() -> AppState {
        let opening = tauri::async_runtime::spawn_blocking(Session::open);
        let session = async move {
            match opening.await {
                Ok(opened) => opened.map(Arc::new),
                Err(e) => Err(Error::Unexpected(format!(
                    "opening the profile failed: {e}"
                ))),
            }
        }
        .boxed()
        .shared();
        AppState { session }
    }

    /// The active session, once opened, or the error that stopped it from opening.
    pub async fn session(&self) -> Result<Arc<Session>> {
        self.session.clone().await
    }
}
