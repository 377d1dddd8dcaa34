//! Bulk revokes in flight, by the job number the UI picked, so "Stop" can cancel one.
//! Tauri-free.

use keyward_core::{CancelFlag, Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct RevokeJobs {
    running: Arc<Mutex<HashMap<u64, CancelFlag>>>,
}

impl RevokeJobs {
    /// Registers job `job` until the returned guard drops. A job number already running is
    /// refused (its Stop button would stop both).
    pub fn start(&self, job: u64) -> Result<JobGuard> {
        let mut running = self.lock();
        if running.contains_key(&job) {
            return Err(Error::invalid(
                "job",
                format!("job {job} is already running"),
            ));
        }
        let cancel = CancelFlag::new();
        running.insert(job, cancel.clone());
        Ok(JobGuard {
            job,
            cancel,
            running: Arc::clone(&self.running),
        })
    }

    /// Cancels job `job`: its keys not started yet end untouched. `false` when no such job runs
    /// (it finished already, say): nothing to do.
    pub fn cancel(&self, job: u64) -> bool {
        match self.lock().get(&job) {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancelFlag>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running job; unregisters it when dropped (also when its command fails or is dropped).
pub struct JobGuard {
    job: u64,
    cancel: CancelFlag,
    running: Arc<Mutex<HashMap<u64, CancelFlag>>>,
}

impl JobGuard {
    pub fn cancel_flag(&self) -> &CancelFlag {
        &self.cancel
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_job_can_be_cancelled_until_it_ends() {
        let jobs = RevokeJobs::default();
        let guard = jobs.start(7).unwrap();
        assert!(!guard.cancel_flag().is_cancelled());
        assert!(!jobs.cancel(8), "another job number cancels nothing");
        assert!(!guard.cancel_flag().is_cancelled());
        assert!(jobs.cancel(7));
        assert!(guard.cancel_flag().is_cancelled());
        assert_eq!(
            jobs.start(7)
                .err()
                .and_then(|e| e.field().map(str::to_owned))
                .as_deref(),
            Some("job")
        );
        drop(guard);
        assert!(!jobs.cancel(7), "an ended job is gone");
        let again = jobs.start(7).unwrap();
        assert!(
            !again.cancel_flag().is_cancelled(),
            "a new job starts uncancelled"
        );
    }
}
