//! Listing helpers: windows over paged server APIs, and short-lived snapshots of a backend's keys
//! for the queries a server cannot answer.
//!
//! Each adapter answers a query on the server when the server can give exactly what was asked
//! (its filters, its order, its paging); anything else (another sort, the expiry and usage
//! filters, a status the server cannot pick out, a search it does not have) is answered here from
//! a snapshot of all the scope's keys, read once over the server's pages and kept for
//! [`SNAPSHOT_TTL`]. Scrolling, sorting and filtering within that time cost no request. Creating
//! through the same adapter drops the snapshots, revoking patches them.

use chrono::Utc;
use futures::stream::{self, StreamExt, TryStreamExt};
use keyward_core::filter::{Walk, WalkLimits};
use keyward_core::{page_locally, ApiKey, ListQuery, Page, Result, SortField};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use keyward_core::list_all;

/// How many page requests one listing keeps in flight.
pub(crate) const PAGE_CONCURRENCY: usize = 4;
/// How many page requests reading a whole snapshot keeps in flight.
pub(crate) const SNAPSHOT_CONCURRENCY: usize = 8;
/// How long a snapshot answers queries before the next one is read.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(30);

/// What one server page request returns: its items and the server's count of all matches.
pub(crate) struct Chunk<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: u64,
}

/// Fetches items `[offset, offset + len)` from an API paged by page number and page size, with
/// pages of at most `max_page` items. A window that is itself a page (`len ≤ max_page`, offset a
/// multiple of `len`) costs exactly one request; larger windows cost one request per page they
/// touch, the first alone (it tells the total) and the rest [`PAGE_CONCURRENCY`] at a time. The
/// window bounds the pages asked for, whatever total a server claims.
pub(crate) async fn fetch_window<T, F, Fut>(
    offset: u64,
    len: u64,
    max_page: u32,
    fetch_page: F,
) -> Result<Chunk<T>>
where
    F: Fn(u64, u32) -> Fut,
    Fut: Future<Output = Result<Chunk<T>>>,
{
    let len = len.max(1);
    let page_size = if len <= u64::from(max_page) && offset.is_multiple_of(len) {
        len
    } else {
        u64::from(max_page)
    };
    let first_page = offset / page_size;
    let first = fetch_page(first_page, page_size as u32).await?;
    let total = first.total;
    let end = offset.saturating_add(len).min(total);
    let last_page = if end == 0 { 0 } else { (end - 1) / page_size };
    let mut items = first.items;
    if last_page > first_page {
        let rest: Vec<Chunk<T>> = stream::iter(first_page + 1..=last_page)
            .map(|page| fetch_page(page, page_size as u32))
            .buffered(PAGE_CONCURRENCY)
            .try_collect()
            .await?;
        items.extend(rest.into_iter().flat_map(|chunk| chunk.items));
    }
    let skip = (offset - first_page * page_size) as usize;
    let items = items.into_iter().skip(skip).take(len as usize).collect();
    Ok(Chunk { items, total })
}

/// Every key of a paged listing, [`SNAPSHOT_CONCURRENCY`] pages at a time after the first,
/// within keyward-core's caps on one walk ([`ListQuery::MAX_WALK_KEYS`],
/// [`ListQuery::MAX_WALK_TIME`]): a server claiming a total over the cap is refused after its
/// first page, and one that sends more than it claimed, repeats a page or is too slow is stopped
/// with an error naming the limit.
pub(crate) async fn fetch_everything<F, Fut>(max_page: u32, fetch_page: F) -> Result<Vec<ApiKey>>
where
    F: Fn(u64, u32) -> Fut,
    Fut: Future<Output = Result<Chunk<ApiKey>>>,
{
    fetch_everything_within(WalkLimits::default(), max_page, fetch_page).await
}

pub(crate) async fn fetch_everything_within<F, Fut>(
    limits: WalkLimits,
    max_page: u32,
    fetch_page: F,
) -> Result<Vec<ApiKey>>
where
    F: Fn(u64, u32) -> Fut,
    Fut: Future<Output = Result<Chunk<ApiKey>>>,
{
    let size = max_page.max(1);
    let walk = Walk::new(limits);
    walk.within(async {
        let first = fetch_page(0, size).await?;
        walk.claimed(first.total)?;
        walk.add(0, first.items)?;
        // At most MAX_WALK_KEYS pages, after the check above.
        let pages = first.total.div_ceil(u64::from(size));
        stream::iter(1..pages)
            .map(|page| {
                let chunk = fetch_page(page, size);
                async move { chunk.await.map(|chunk| (page, chunk.items)) }
            })
            .buffered(SNAPSHOT_CONCURRENCY)
            .try_for_each(|(page, items)| std::future::ready(walk.add(page, items)))
            .await
    })
    .await?;
    Ok(walk.into_items())
}

/// Drops repeated ids (a key created during a paged read shifts the pages after it).
pub(crate) fn dedup(keys: Vec<ApiKey>) -> Vec<ApiKey> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|key| seen.insert(key.id.clone()))
        .collect()
}

/// Whether the server's own order (newest first) is the one asked for.
pub(crate) fn is_server_order(query: &ListQuery) -> bool {
    query.sort == SortField::Created && query.descending
}

/// A page of `query` out of a snapshot of one scope. The snapshot already is the owner's keys
/// (servers list per owner, and may spell owners their own way), so the owner is not checked
/// again.
pub(crate) fn page_of_snapshot(keys: &[ApiKey], query: &ListQuery) -> Page<ApiKey> {
    let now = Utc::now();
    let query = ListQuery {
        owner: None,
        ..query.clone()
    };
    let matching: Vec<ApiKey> = keys
        .iter()
        .filter(|key| query.matches(key, now))
        .cloned()
        .collect();
    page_locally(matching, &query, now)
}

/// What a revoke through the adapter does to the snapshots that hold the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterRevoke {
    /// The server keeps listing the key (revoked, archived): replace it.
    Replace,
    /// The server no longer lists it (deleted, or a listing of active keys only): remove it.
    Remove,
}

/// Snapshots of all keys per scope (an owner, or the account), each kept for a time to live.
pub(crate) struct Snapshots {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    /// One read at a time: concurrent queries for a missing scope wait for it and share it.
    reading: tokio::sync::Mutex<()>,
    /// Bumped by every create and revoke, so that a read that overlapped one is not kept.
    generation: AtomicU64,
}

struct Entry {
    keys: Arc<Vec<ApiKey>>,
    taken: Instant,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("ttl", &self.ttl)
            .field("scopes", &self.lock().len())
            .finish()
    }
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots::new(SNAPSHOT_TTL)
    }
}

impl Snapshots {
    pub(crate) fn new(ttl: Duration) -> Self {
        Snapshots {
            ttl,
            entries: Mutex::new(HashMap::new()),
            reading: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, scope: &str) -> Option<Arc<Vec<ApiKey>>> {
        self.lock()
            .get(scope)
            .filter(|entry| entry.taken.elapsed() < self.ttl)
            .map(|entry| entry.keys.clone())
    }

    /// The scope's snapshot, read with `read` when there is none younger than the TTL.
    pub(crate) async fn get_or_read<F, Fut>(&self, scope: &str, read: F) -> Result<Arc<Vec<ApiKey>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<ApiKey>>>,
    {
        if let Some(keys) = self.fresh(scope) {
            return Ok(keys);
        }
        let _reading = self.reading.lock().await;
        if let Some(keys) = self.fresh(scope) {
            return Ok(keys);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let taken = Instant::now();
        let keys = Arc::new(read().await?);
        if self.ttl > Duration::ZERO && self.generation.load(Ordering::SeqCst) == generation {
            self.lock().insert(
                scope.to_owned(),
                Entry {
                    keys: keys.clone(),
                    taken,
                },
            );
        }
        Ok(keys)
    }

    /// A key was created (or keys changed elsewhere, on a refresh): every snapshot may be stale.
    pub(crate) fn created(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.lock().clear();
    }

    /// A key was revoked: the snapshots that hold it show it as the server now does.
    pub(crate) fn revoked(&self, key: &ApiKey, after: AfterRevoke) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for entry in self.lock().values_mut() {
            let Some(index) = entry.keys.iter().position(|k| k.id == key.id) else {
                continue;
            };
            let keys = Arc::make_mut(&mut entry.keys);
            match after {
                AfterRevoke::Replace => keys[index] = key.clone(),
                AfterRevoke::Remove => {
                    keys.remove(index);
                }
            }
        }
    }

    /// The distinct owners in one scope's keys, sorted as written.
    pub(crate) fn owners_of(keys: &[ApiKey]) -> Vec<keyward_core::Subject> {
        let mut owners: Vec<keyward_core::Subject> =
            keys.iter().filter_map(|key| key.owner.clone()).collect();
        owners.sort_by(|a, b| (a.kind(), a.id()).cmp(&(b.kind(), b.id())));
        owners.dedup();
        owners
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use keyward_core::{KeyStatus, StatusFilter};
    use std::sync::Mutex;

    pub(crate) fn key(id: &str, name: &str, created_day: u32) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: name.into(),
            owner: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, created_day, 0, 0, 0).unwrap(),
            expires_at: None,
            status: KeyStatus::Active,
            revoked_at: None,
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: vec![],
            description: None,
            metadata: None,
            stub: None,
        }
    }

    /// A fake page-numbered server over `0..total`, recording the pages it was asked for.
    async fn window(offset: u64, len: u64, total: u64) -> (Vec<u64>, Vec<(u64, u32)>) {
        let asked = Mutex::new(Vec::new());
        let chunk = fetch_window(offset, len, 100, |page, size| {
            asked.lock().unwrap().push((page, size));
            async move {
                let start = page * u64::from(size);
                let items = (start..(start + u64::from(size)).min(total)).collect();
                Ok(Chunk { items, total })
            }
        })
        .await
        .unwrap();
        assert_eq!(chunk.total, total);
        let asked = asked.into_inner().unwrap();
        (chunk.items, asked)
    }

    #[tokio::test]
    async fn an_aligned_page_is_one_request() {
        let (items, asked) = window(50, 50, 1000).await;
        assert_eq!(items, (50..100).collect::<Vec<_>>());
        assert_eq!(asked, [(1, 50)]);
        let (items, asked) = window(0, 10, 3).await;
        assert_eq!(items, [0, 1, 2]);
        assert_eq!(asked, [(0, 10)]);
    }

    #[tokio::test]
    async fn big_or_unaligned_windows_are_stitched() {
        let (items, asked) = window(1000, 500, 1234).await;
        assert_eq!(items, (1000..1234).collect::<Vec<_>>());
        assert_eq!(asked, [(10, 100), (11, 100), (12, 100)]);
        let (items, asked) = window(250, 250, 10_000).await;
        assert_eq!(items, (250..500).collect::<Vec<_>>());
        assert_eq!(asked.len(), 3);
        let (items, asked) = window(30, 7, 100).await;
        assert_eq!(items, (30..37).collect::<Vec<_>>());
        assert_eq!(asked, [(0, 100)]);
        let (items, asked) = window(5000, 100, 10).await;
        assert!(items.is_empty());
        assert_eq!(asked, [(50, 100)]);
    }

    #[tokio::test]
    async fn everything_is_read_in_pages_without_repeats() {
        let asked = Mutex::new(Vec::new());
        let keys = fetch_everything(100, |page, size| {
            asked.lock().unwrap().push(page);
            async move {
                let start = page * u64::from(size);
                // Page 1 repeats the last key of page 0, as a key created meanwhile would cause.
                let first = if page == 1 { start - 1 } else { start };
                let items = (first..(start + u64::from(size)).min(250))
                    .map(|i| key(&format!("k{i:03}"), "n", 1))
                    .collect();
                Ok(Chunk { items, total: 250 })
            }
        })
        .await
        .unwrap();
        assert_eq!(keys.len(), 250);
        assert_eq!(asked.into_inner().unwrap(), [0, 1, 2]);
    }

    /// A lying paged server: it claims `total`, sends `per_page` keys whatever size is asked
    /// for, may ignore the page asked for, and may take `delay` per page.
    struct Liar {
        total: u64,
        per_page: Option<u64>,
        ignores_page: bool,
        delay: Duration,
        asked: AtomicU64,
    }

    impl Liar {
        fn claiming(total: u64) -> Self {
            Liar {
                total,
                per_page: None,
                ignores_page: false,
                delay: Duration::ZERO,
                asked: AtomicU64::new(0),
            }
        }

        async fn page(&self, page: u64, size: u32) -> Result<Chunk<ApiKey>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let size = self.per_page.unwrap_or(size.into());
            let start = if self.ignores_page { 0 } else { page * size };
            let items = (start..start + size)
                .map(|i| key(&format!("k{i}"), "n", 1))
                .collect();
            Ok(Chunk {
                items,
                total: self.total,
            })
        }

        async fn everything(&self, limits: WalkLimits) -> keyward_core::Error {
            fetch_everything_within(limits, 100, |page, size| self.page(page, size))
                .await
                .unwrap_err()
        }
    }

    #[tokio::test]
    async fn a_snapshot_of_a_server_claiming_too_many_keys_stops_at_once() {
        let liar = Liar::claiming(1_000_000_000_000);
        let error = fetch_everything(100, |page, size| liar.page(page, size))
            .await
            .unwrap_err();
        assert_eq!(error.code(), keyward_core::ErrorCode::Backend);
        assert!(
            error.to_string().contains(
                "the server claims 1,000,000,000,000 keys, more than the 100,000 Keyward reads"
            ),
            "{error}"
        );
        assert_eq!(liar.asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_snapshot_stops_at_the_key_cap_when_pages_carry_more_than_asked() {
        // The claimed total is under the cap, but every page of 100 carries 1000 keys.
        let liar = Liar {
            per_page: Some(1000),
            ..Liar::claiming(100_000)
        };
        let error = liar.everything(WalkLimits::default()).await;
        assert!(
            error.to_string().starts_with("stopped after 100,000 keys"),
            "{error}"
        );
        let asked = liar.asked.load(Ordering::SeqCst);
        assert!(
            (101..=101 + SNAPSHOT_CONCURRENCY as u64).contains(&asked),
            "{asked}"
        );
    }

    #[tokio::test]
    async fn a_snapshot_of_a_server_ignoring_the_page_ends() {
        let liar = Liar {
            ignores_page: true,
            ..Liar::claiming(5000)
        };
        let error = liar.everything(WalkLimits::default()).await;
        assert!(
            error
                .to_string()
                .starts_with("stopped at page 2: the server sent the same keys again"),
            "{error}"
        );
        assert!(liar.asked.load(Ordering::SeqCst) <= 1 + SNAPSHOT_CONCURRENCY as u64);
    }

    #[tokio::test]
    async fn a_slow_snapshot_stops_at_the_time_cap() {
        let liar = Liar {
            delay: Duration::from_millis(40),
            ..Liar::claiming(100_000)
        };
        let limits = WalkLimits {
            max_time: Duration::from_millis(300),
            ..WalkLimits::default()
        };
        let error = liar.everything(limits).await;
        assert!(
            error.to_string().starts_with("stopped after 0.3 s and "),
            "{error}"
        );
        assert!(liar.asked.load(Ordering::SeqCst) < 1000, "stopped early");
    }

    #[tokio::test]
    async fn snapshots_are_read_once_per_ttl_and_patched() {
        let snapshots = Snapshots::new(Duration::from_secs(60));
        let reads = AtomicU64::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(vec![key("a", "a", 1), key("b", "b", 2)])
        };
        let first = snapshots.get_or_read("scope", read).await.unwrap();
        let again = snapshots.get_or_read("scope", read).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        snapshots.get_or_read("other", read).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one snapshot per scope");

        let mut revoked = key("a", "a", 1);
        revoked.status = KeyStatus::Revoked;
        snapshots.revoked(&revoked, AfterRevoke::Replace);
        let patched = snapshots.get_or_read("scope", read).await.unwrap();
        assert_eq!(patched[0].status, KeyStatus::Revoked);
        snapshots.revoked(&revoked, AfterRevoke::Remove);
        let patched = snapshots.get_or_read("scope", read).await.unwrap();
        assert_eq!(patched.len(), 1);
        assert_eq!(reads.load(Ordering::SeqCst), 2, "patches cost no read");

        snapshots.created();
        snapshots.get_or_read("scope", read).await.unwrap();
        assert_eq!(
            reads.load(Ordering::SeqCst),
            3,
            "a create drops the snapshots"
        );

        let expired = Snapshots::new(Duration::ZERO);
        expired.get_or_read("scope", read).await.unwrap();
        expired.get_or_read("scope", read).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 5, "a zero TTL keeps nothing");
    }

    #[test]
    fn snapshot_pages_ignore_the_owner_and_apply_the_rest() {
        let mut keys: Vec<ApiKey> = (1..=25)
            .map(|i| key(&format!("k{i:02}"), &format!("Key {i}"), i))
            .collect();
        keys[3].status = KeyStatus::Revoked;
        keys[4].owner = Some(keyward_core::Subject::User("user_x".into()));
        let query = ListQuery {
            owner: Some(keyward_core::Subject::User("x".into())),
            limit: 10,
            page: 1,
            ..Default::default()
        };
        let page = page_of_snapshot(&keys, &query);
        assert_eq!(page.total, Some(25));
        assert_eq!(page.items[0].id, "k15", "newest first by default");
        let revoked = page_of_snapshot(
            &keys,
            &ListQuery {
                status: StatusFilter::Revoked,
                ..Default::default()
            },
        );
        assert_eq!(revoked.total, Some(1));
        assert_eq!(
            Snapshots::owners_of(&keys),
            [keyward_core::Subject::User("user_x".into())]
        );
    }
}
