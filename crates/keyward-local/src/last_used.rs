//! Write-behind for "last used" times.
//!
//! A valid verify must not pay for a write transaction, so its timestamp is buffered here and
//! written in one transaction with others: when 512 keys are pending, when a second has passed
//! since the last write, before any read that shows keys (list, get, revoke), and when the store
//! is dropped. A process crash can lose the buffered timestamps (never a key or a trail row).
//!
//! Times are kept to the minute: a use within a minute of the recorded one is not recorded again,
//! so a key in constant use costs one row update a minute instead of one per verify.

use rusqlite::{Connection, TransactionBehavior};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const MAX_PENDING: usize = 512;
const MAX_DELAY: Duration = Duration::from_secs(1);
const RESOLUTION_MS: i64 = 60_000;

pub(crate) struct LastUsedBuffer {
    /// Key row (`keys.seq`) -> latest use in unix milliseconds.
    pending: HashMap<i64, i64>,
    last_flush: Instant,
}

impl LastUsedBuffer {
    pub(crate) fn new() -> Self {
        LastUsedBuffer {
            pending: HashMap::new(),
            last_flush: Instant::now(),
        }
    }

    /// Notes a use of key `seq` at `now_ms`, given the time already recorded for it (stored or
    /// pending), and returns the time the store now holds.
    pub(crate) fn record(&mut self, seq: i64, recorded_ms: Option<i64>, now_ms: i64) -> i64 {
        match recorded_ms {
            Some(recorded) if now_ms - recorded < RESOLUTION_MS => recorded,
            _ => {
                self.pending.insert(seq, now_ms);
                now_ms
            }
        }
    }

    /// The buffered use of a key, newer than what the database holds.
    pub(crate) fn pending_for(&self, seq: i64) -> Option<i64> {
        self.pending.get(&seq).copied()
    }

    pub(crate) fn is_due(&self) -> bool {
        !self.pending.is_empty()
            && (self.pending.len() >= MAX_PENDING || self.last_flush.elapsed() >= MAX_DELAY)
    }

    /// Writes every pending time in one transaction. On failure the times stay buffered.
    pub(crate) fn flush(&mut self, conn: &mut Connection) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch: Vec<(i64, i64)> = self.pending.iter().map(|(s, at)| (*s, *at)).collect();
        // Row order touches each b-tree page once.
        batch.sort_unstable();
        write_batch(conn, &batch)?;
        self.pending.clear();
        self.last_flush = Instant::now();
        Ok(())
    }
}

fn write_batch(conn: &mut Connection, batch: &[(i64, i64)]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        // Never move a time backwards: another process may have written a later one.
        let mut update = tx.prepare_cached(
            "UPDATE keys SET last_used_at = ?2
             WHERE seq = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
        )?;
        for (seq, at_ms) in batch {
            update.execute((seq, at_ms))?;
        }
    }
    tx.commit()
}
