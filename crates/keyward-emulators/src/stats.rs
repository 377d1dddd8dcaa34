//! Request counts per route, so tests can count the requests one user action costs.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// Counts one request to `route` (`METHOD /template`).
    pub(crate) fn record(&self, route: &str) {
        *self.lock().entry(route.to_owned()).or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    pub(crate) fn total(&self) -> u64 {
        self.lock().values().sum()
    }

    pub(crate) fn reset(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
