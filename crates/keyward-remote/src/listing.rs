//! Listing helpers: windows over paged server APIs, filtering, sorting and paging on the client
//! for what a server cannot do, and [`list_all`].

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use keyward_core::{
    ApiKey, KeyBackend, KeyStatus, ListQuery, Page, Result, SortField, StatusFilter,
};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::future::Future;

/// How many page requests one listing keeps in flight.
pub(crate) const PAGE_CONCURRENCY: usize = 4;

/// What one server page request returns: its items and the server's count of all matches.
pub(crate) struct Chunk<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: u64,
}

/// Fetches items `[offset, offset + len)` from an API paged by page number and page size, with
/// pages of at most `max_page` items. A window that is itself a page (`len ≤ max_page`, offset a
/// multiple of `len`) costs exactly one request; larger windows cost one request per page they
/// touch, the first alone (it tells the total) and the rest `PAGE_CONCURRENCY` at a time.
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

/// Every key matching `query` (its `page` is ignored), fetched page by page with at most
/// `concurrency` requests in flight.
///
/// When the backend reports a total, the first page tells how many pages there are and the rest
/// are fetched together; otherwise pages are walked one after another until `has_more` is false.
/// Keys created or revoked during the walk can shift later pages: duplicates are dropped, but a
/// key can be missed, as with any paged listing.
pub async fn list_all(
    backend: &dyn KeyBackend,
    query: &ListQuery,
    concurrency: usize,
) -> Result<Vec<ApiKey>> {
    let page_query = |page: u32| ListQuery {
        page,
        ..query.clone()
    };
    let first = backend.list(&page_query(0)).await?;
    let mut pages = vec![first.items];
    match first.total {
        Some(total) if first.has_more => {
            let page_count = total.div_ceil(u64::from(query.limit.max(1))) as u32;
            let rest: Vec<Page<ApiKey>> = stream::iter(1..page_count)
                .map(|page| {
                    let query = page_query(page);
                    async move { backend.list(&query).await }
                })
                .buffered(concurrency.max(1))
                .try_collect()
                .await?;
            pages.extend(rest.into_iter().map(|page| page.items));
        }
        _ => {
            let mut has_more = first.has_more;
            let mut page = 1;
            while has_more {
                let next = backend.list(&page_query(page)).await?;
                has_more = next.has_more && !next.items.is_empty();
                pages.push(next.items);
                page += 1;
            }
        }
    }
    let mut seen = HashSet::new();
    Ok(pages
        .into_iter()
        .flatten()
        .filter(|key| seen.insert(key.id.clone()))
        .collect())
}

pub(crate) fn matches_status(key: &ApiKey, status: StatusFilter) -> bool {
    match status {
        StatusFilter::All => true,
        StatusFilter::Active => key.status == KeyStatus::Active,
        StatusFilter::Expired => key.status == KeyStatus::Expired,
        StatusFilter::Revoked => key.status == KeyStatus::Revoked,
    }
}

/// Case-insensitive substring of the name, id or description.
pub(crate) fn matches_search(key: &ApiKey, search: Option<&str>) -> bool {
    let Some(search) = search else { return true };
    let needle = search.to_lowercase();
    [Some(&key.name), Some(&key.id), key.description.as_ref()]
        .into_iter()
        .flatten()
        .any(|text| text.to_lowercase().contains(&needle))
}

/// Sorts by the requested field, ties broken by id so pages are stable.
fn sort_keys(keys: &mut [ApiKey], sort: SortField, descending: bool) {
    keys.sort_by(|a, b| {
        let by_field = match sort {
            SortField::Created => a.created_at.cmp(&b.created_at),
            SortField::Expires => cmp_never_last(a.expires_at, b.expires_at),
            SortField::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortField::LastUsed => a.last_used_at.cmp(&b.last_used_at),
            // TODO(issue 5, listing): real owner/status ordering.
            SortField::Owner | SortField::Status => Ordering::Equal,
        };
        let ordering = by_field.then_with(|| a.id.cmp(&b.id));
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
}

/// For server-paged listings: pages keep the server's order (newest first) unless another order is
/// asked for, which then sorts the page only; ordering across pages is the server's to give.
pub(crate) fn sort_page(items: &mut [ApiKey], query: &ListQuery) {
    if (query.sort, query.descending) != (SortField::Created, true) {
        sort_keys(items, query.sort, query.descending);
    }
}

/// `None` (never expires) sorts after every date.
fn cmp_never_last(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// Filters, sorts and pages a complete listing on the client, for APIs without those features.
pub(crate) fn page_locally(mut keys: Vec<ApiKey>, query: &ListQuery) -> Page<ApiKey> {
    keys.retain(|key| {
        matches_status(key, query.status) && matches_search(key, query.search.as_deref())
    });
    sort_keys(&mut keys, query.sort, query.descending);
    let total = keys.len() as u64;
    let offset = query.offset().min(total) as usize;
    let items: Vec<ApiKey> = keys
        .into_iter()
        .skip(offset)
        .take(query.limit as usize)
        .collect();
    Page {
        has_more: (offset + items.len()) < total as usize,
        items,
        page: query.page,
        limit: query.limit,
        total: Some(total),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
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

    #[test]
    fn local_paging_filters_sorts_and_counts() {
        let mut keys: Vec<ApiKey> = (1..=25)
            .map(|i| key(&format!("k{i:02}"), &format!("Key {i}"), i))
            .collect();
        keys[3].status = KeyStatus::Revoked;
        keys[4].description = Some("nightly CI".into());
        let query = ListQuery {
            limit: 10,
            page: 1,
            ..Default::default()
        };
        let page = page_locally(keys.clone(), &query);
        assert_eq!(page.total, Some(25));
        assert!(page.has_more);
        assert_eq!(page.items[0].id, "k15", "newest first by default");
        let revoked = page_locally(
            keys.clone(),
            &ListQuery {
                status: StatusFilter::Revoked,
                ..Default::default()
            },
        );
        assert_eq!(revoked.items.len(), 1);
        assert_eq!(revoked.total, Some(1));
        let found = page_locally(
            keys.clone(),
            &ListQuery {
                search: Some("ci".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            found
                .items
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>(),
            ["k05"]
        );
        let by_name = page_locally(
            keys,
            &ListQuery {
                sort: SortField::Name,
                descending: false,
                limit: 3,
                ..Default::default()
            },
        );
        let names: Vec<_> = by_name.items.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Key 1", "Key 10", "Key 11"]);
    }

    #[test]
    fn never_expiring_keys_sort_last() {
        let mut keys = vec![key("a", "a", 1), key("b", "b", 1)];
        keys[1].expires_at = Some(Utc::now());
        sort_keys(&mut keys, SortField::Expires, false);
        assert_eq!(keys[0].id, "b");
    }

    /// A backend over a fixed list, paged by `page_locally`, counting list calls.
    struct Fixed {
        keys: Vec<ApiKey>,
        report_total: bool,
        calls: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl KeyBackend for Fixed {
        fn kind(&self) -> &'static str {
            "fixed"
        }
        fn capabilities(&self) -> keyward_core::Capabilities {
            unimplemented!("not needed by list_all")
        }
        async fn create(&self, _: keyward_core::NewKey) -> Result<keyward_core::CreatedKey> {
            unimplemented!()
        }
        async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
            self.calls.fetch_add(1, AtomicOrdering::SeqCst);
            let mut page = page_locally(self.keys.clone(), query);
            if !self.report_total {
                page.total = None;
            }
            Ok(page)
        }
        async fn get(&self, _: &str) -> Result<ApiKey> {
            unimplemented!()
        }
        async fn revoke(&self, _: &str, _: Option<&str>) -> Result<ApiKey> {
            unimplemented!()
        }
        async fn verify(&self, _: &secrecy::SecretString) -> Result<keyward_core::Verification> {
            unimplemented!()
        }
    }

    #[test]
    fn list_all_can_run_on_a_spawned_task() {
        fn assert_send<T: Send>(_: T) {}
        let backend = Fixed {
            keys: Vec::new(),
            report_total: true,
            calls: AtomicUsize::new(0),
        };
        assert_send(list_all(&backend, &ListQuery::default(), 4));
    }

    #[tokio::test]
    async fn list_all_fans_out_with_a_total_and_walks_without() {
        let keys: Vec<ApiKey> = (0..95)
            .map(|i| key(&format!("k{i:03}"), "n", 1 + i % 28))
            .collect();
        let query = ListQuery {
            limit: 10,
            page: 3,
            ..Default::default()
        };
        for report_total in [true, false] {
            let backend = Fixed {
                keys: keys.clone(),
                report_total,
                calls: AtomicUsize::new(0),
            };
            let all = list_all(&backend, &query, 3).await.unwrap();
            assert_eq!(all.len(), 95);
            assert_eq!(backend.calls.load(AtomicOrdering::SeqCst), 10);
        }
    }
}
