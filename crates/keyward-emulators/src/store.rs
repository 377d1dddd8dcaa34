//! What every flavor stores and generates: an adjustable clock, random identifiers and secrets, and
//! an in-memory key store that keeps only a SHA-256 hash of each secret.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// Wall-clock time plus an offset that tests can move forward, so expiry can be exercised without
/// sleeping. Only key expiry and JWT lifetimes read it; latency and rate-limit windows use real time.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Bytes from the OS CSPRNG.
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

/// `len` random bytes as lowercase hex (so `2 * len` characters).
pub(crate) fn random_hex(len: usize) -> String {
    hex(&random_bytes(len))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random (version 4) UUID in its usual hyphenated lowercase form.
pub(crate) fn uuid_v4() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

type SecretHash = [u8; 32];

fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

struct Entry<R> {
    secret_hash: SecretHash,
    record: R,
}

/// Keys in creation order, findable by id or by secret. The secret itself is never kept.
pub(crate) struct KeyStore<R> {
    next_seq: u64,
    entries: BTreeMap<u64, Entry<R>>,
    seq_by_id: HashMap<String, u64>,
    seq_by_hash: HashMap<SecretHash, u64>,
}

impl<R> Default for KeyStore<R> {
    fn default() -> Self {
        Self {
            next_seq: 0,
            entries: BTreeMap::new(),
            seq_by_id: HashMap::new(),
            seq_by_hash: HashMap::new(),
        }
    }
}

impl<R> KeyStore<R> {
    pub(crate) fn insert(&mut self, id: &str, secret: &str, record: R) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let secret_hash = hash_secret(secret);
        self.seq_by_id.insert(id.to_owned(), seq);
        self.seq_by_hash.insert(secret_hash, seq);
        self.entries.insert(
            seq,
            Entry {
                secret_hash,
                record,
            },
        );
    }

    pub(crate) fn get(&self, id: &str) -> Option<&R> {
        let seq = self.seq_by_id.get(id)?;
        self.entries.get(seq).map(|e| &e.record)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut R> {
        let seq = self.seq_by_id.get(id)?;
        self.entries.get_mut(seq).map(|e| &mut e.record)
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<R> {
        let seq = self.seq_by_id.remove(id)?;
        let entry = self.entries.remove(&seq)?;
        self.seq_by_hash.remove(&entry.secret_hash);
        Some(entry.record)
    }

    /// The key whose secret is `secret`, if any.
    pub(crate) fn by_secret_mut(&mut self, secret: &str) -> Option<&mut R> {
        let seq = self.seq_by_hash.get(&hash_secret(secret))?;
        self.entries.get_mut(seq).map(|e| &mut e.record)
    }

    /// Whether `id` exists and its secret is `secret`.
    pub(crate) fn secret_matches(&self, id: &str, secret: &str) -> bool {
        self.seq_by_id
            .get(id)
            .and_then(|seq| self.entries.get(seq))
            .is_some_and(|e| e.secret_hash == hash_secret(secret))
    }

    pub(crate) fn oldest_first(&self) -> impl DoubleEndedIterator<Item = &R> {
        self.entries.values().map(|e| &e.record)
    }

    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &R> {
        self.oldest_first().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn store_finds_by_id_and_secret_and_forgets_on_remove() {
        let mut store = KeyStore::default();
        store.insert("a", "secret-a", 1);
        store.insert("b", "secret-b", 2);
        assert_eq!(store.get("b"), Some(&2));
        assert!(store.secret_matches("a", "secret-a"));
        assert!(!store.secret_matches("a", "secret-b"));
        assert_eq!(store.by_secret_mut("secret-b").copied(), Some(2));
        assert_eq!(store.newest_first().copied().collect::<Vec<_>>(), [2, 1]);
        assert_eq!(store.remove("a"), Some(1));
        assert!(store.by_secret_mut("secret-a").is_none());
    }
}
