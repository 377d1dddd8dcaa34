//! The app's `keyward_ops::Host`: the active profile, the app's activity log and keychain, the
//! `revoke-progress` event and the Stop button. Tauri-free: the progress sink is a closure, so
//! the commands' bodies run in tests without a window.

use crate::state::ActivityCell;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyward_core::{BulkProgress, CancelFlag, Result, RevokeOutcome};
use keyward_local::{NewActivity, ScheduledRevokes};
use keyward_ops::{Host, SecretKeeper};
use keyward_vault::Keychain;
use std::collections::HashMap;

type ProgressSink<'a> = Box<dyn Fn(&RevokeOutcome, BulkProgress) + Send + Sync + 'a>;

pub struct AppHost<'a> {
    pub profile: &'a str,
    pub activity: &'a ActivityCell,
    pub keychain: &'a Keychain,
    pub cancel: CancelFlag,
    pub on_progress: Option<ProgressSink<'a>>,
}

impl<'a> AppHost<'a> {
    pub fn new(profile: &'a str, activity: &'a ActivityCell, keychain: &'a Keychain) -> Self {
        AppHost {
            profile,
            activity,
            keychain,
            cancel: CancelFlag::new(),
            on_progress: None,
        }
    }
}

#[async_trait]
impl Host for AppHost<'_> {
    fn profile(&self) -> &str {
        self.profile
    }

    async fn record(&self, entries: Vec<NewActivity>) -> Result<()> {
        let log = self.activity.get().await?;
        tokio::task::spawn_blocking(move || log.record(&entries))
            .await
            .map_err(|e| {
                keyward_core::Error::Unexpected(format!("a background task failed: {e}"))
            })?
    }

    fn secrets(&self) -> &dyn SecretKeeper {
        self.keychain
    }

    fn progress(&self, last: &RevokeOutcome, progress: BulkProgress) {
        if let Some(sink) = &self.on_progress {
            sink(last, progress);
        }
    }

    fn cancel(&self) -> &CancelFlag {
        &self.cancel
    }

    fn revoke_marks(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        // Reading marks never creates the file.
        match ScheduledRevokes::open_existing(&self.activity.data_dir()?)? {
            Some(schedule) => schedule.marks(self.profile),
            None => Ok(HashMap::new()),
        }
    }
}
