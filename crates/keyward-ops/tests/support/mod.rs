//! What the operation tests share: a keychain kept in memory that can be made to fail, and a
//! front end's host over an activity log and a schedule in a temporary folder.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyward_core::{CancelFlag, Error, Result};
use keyward_local::{ActivityLog, NewActivity, ScheduledRevokes};
use keyward_ops::{Host, SecretKeeper};
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeKeychain {
    pub unavailable: bool,
    /// Keys whose forget fails with an ordinary error.
    pub broken: HashSet<String>,
    pub saved: Mutex<HashMap<String, String>>,
    pub forgets_asked: Mutex<Vec<String>>,
}

#[async_trait]
impl SecretKeeper for FakeKeychain {
    async fn probe(&self) -> Result<()> {
        match self.unavailable {
            true => Err(Error::KeychainUnavailable("no Secret Service".into())),
            false => Ok(()),
        }
    }
    async fn save_key_secret(&self, _p: &str, key_id: &str, secret: &SecretString) -> Result<()> {
        self.probe().await?;
        self.saved
            .lock()
            .unwrap()
            .insert(key_id.to_owned(), secret.expose_secret().to_owned());
        Ok(())
    }
    async fn forget_key_secret(&self, _p: &str, key_id: &str) -> Result<bool> {
        self.forgets_asked.lock().unwrap().push(key_id.to_owned());
        self.probe().await?;
        if self.broken.contains(key_id) {
            return Err(Error::Store("this entry cannot be deleted".into()));
        }
        Ok(self.saved.lock().unwrap().remove(key_id).is_some())
    }
    async fn save_credential(&self, _p: &str, _c: &SecretString) -> Result<()> {
        self.probe().await
    }
    fn saved_ids(&self, _p: &str) -> Result<Option<HashSet<String>>> {
        Ok(Some(self.saved.lock().unwrap().keys().cloned().collect()))
    }
}

/// What a front end holds for profile "work": the activity log, the keychain, the schedule of
/// pending revokes, all in `dir`.
pub struct TestHost<K = FakeKeychain> {
    pub log: ActivityLog,
    pub keychain: K,
    pub schedule: ScheduledRevokes,
    pub cancel: CancelFlag,
}

impl<K> TestHost<K> {
    pub fn new(dir: &Path, keychain: K) -> TestHost<K> {
        TestHost {
            log: ActivityLog::open(dir).unwrap(),
            keychain,
            schedule: ScheduledRevokes::open(dir).unwrap(),
            cancel: CancelFlag::new(),
        }
    }
}

#[async_trait]
impl<K: SecretKeeper> Host for TestHost<K> {
    fn profile(&self) -> &str {
        "work"
    }
    async fn record(&self, entries: Vec<NewActivity>) -> Result<()> {
        self.log.record(&entries)
    }
    fn secrets(&self) -> &dyn SecretKeeper {
        &self.keychain
    }
    fn cancel(&self) -> &CancelFlag {
        &self.cancel
    }
    fn revoke_marks(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        self.schedule.marks(self.profile())
    }
}
