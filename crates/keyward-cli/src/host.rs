//! The CLI's `keyward_ops::Host`: the chosen profile, the activity log and the saved-secret index
//! in the data dir, the OS keychain, progress on stderr and Ctrl-C as Stop.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyward_core::{BulkProgress, CancelFlag, Result, RevokeOutcome};
use keyward_local::ScheduledRevokes;
use keyward_local::{ActivityLog, NewActivity};
use keyward_ops::{Host, SecretKeeper};
use keyward_vault::{Keychain, SavedSecretIndex, INDEX_FILE_NAME};
use secrecy::SecretString;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct CliHost {
    pub profile: String,
    /// The activity log, opened at the first entry and kept: a bulk revoke writes one entry per
    /// key as it completes.
    log: std::sync::Mutex<Option<std::sync::Arc<ActivityLog>>>,
    pub secrets: CliSecrets,
    pub cancel: CancelFlag,
    /// Progress on stderr (at a terminal, for more than one key).
    pub progress: Progress,
}

impl CliHost {
    pub fn new(profile: &str, data_dir: PathBuf) -> CliHost {
        CliHost {
            profile: profile.to_owned(),
            log: std::sync::Mutex::new(None),
            secrets: CliSecrets {
                data_dir: data_dir.clone(),
            },
            cancel: CancelFlag::new(),
            progress: Progress::new(false),
        }
    }
}

#[async_trait]
impl Host for CliHost {
    fn profile(&self) -> &str {
        &self.profile
    }

    async fn record(&self, entries: Vec<NewActivity>) -> Result<()> {
        let log = {
            let mut kept = self.log.lock().unwrap_or_else(|p| p.into_inner());
            match kept.as_ref() {
                Some(log) => std::sync::Arc::clone(log),
                None => {
                    let path = self.secrets.data_dir.join(ActivityLog::FILE_NAME);
                    let log = std::sync::Arc::new(ActivityLog::open(&path)?);
                    *kept = Some(std::sync::Arc::clone(&log));
                    log
                }
            }
        };
        log.record(&entries)
    }

    fn secrets(&self) -> &dyn SecretKeeper {
        &self.secrets
    }

    fn progress(&self, _last: &RevokeOutcome, progress: BulkProgress) {
        self.progress.show(progress);
    }

    fn cancel(&self) -> &CancelFlag {
        &self.cancel
    }

    fn revoke_marks(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        // Reading marks never creates the file.
        match ScheduledRevokes::open_existing(&self.secrets.data_dir)? {
            Some(schedule) => schedule.marks(&self.profile),
            None => Ok(HashMap::new()),
        }
    }
}

/// The OS keychain, recording saves and forgets in the data dir's saved-secret index. Reading
/// the marks never writes: without an index file nothing is marked.
pub struct CliSecrets {
    data_dir: PathBuf,
}

impl CliSecrets {
    fn keychain(&self) -> Result<Keychain> {
        Ok(Keychain::new().with_index(SavedSecretIndex::open(&self.data_dir)?))
    }
}

#[async_trait]
impl SecretKeeper for CliSecrets {
    async fn probe(&self) -> Result<()> {
        Keychain::new().status().await
    }

    async fn save_key_secret(
        &self,
        profile: &str,
        key_id: &str,
        secret: &SecretString,
    ) -> Result<()> {
        self.keychain()?
            .save_key_secret(profile, key_id, secret)
            .await
    }

    async fn forget_key_secret(&self, profile: &str, key_id: &str) -> Result<bool> {
        self.keychain()?.forget_key_secret(profile, key_id).await
    }

    async fn save_credential(&self, profile: &str, credential: &SecretString) -> Result<()> {
        Keychain::new().save_credential(profile, credential).await
    }

    fn saved_ids(&self, profile: &str) -> Result<Option<HashSet<String>>> {
        if !self.data_dir.join(INDEX_FILE_NAME).is_file() {
            return Ok(Some(HashSet::new()));
        }
        let index = SavedSecretIndex::open(&self.data_dir)?;
        Ok(Some(index.ids(profile).into_iter().collect()))
    }
}

/// One status line on stderr, rewritten in place.
pub struct Progress {
    enabled: bool,
    shown: AtomicBool,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            shown: AtomicBool::new(false),
        }
    }

    fn show(&self, state: BulkProgress) {
        if !self.enabled {
            return;
        }
        self.shown.store(true, Ordering::Relaxed);
        let _ = write!(
            std::io::stderr().lock(),
            "\r\x1b[2KRevoking: {}/{} · {} revoked · {} failed",
            state.done,
            state.total,
            state.revoked,
            state.failed
        );
    }

    pub fn finish(&self) {
        if self.shown.swap(false, Ordering::Relaxed) {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}
