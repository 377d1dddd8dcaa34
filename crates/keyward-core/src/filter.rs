//! Filtering, sorting and paging keys in memory, for backends whose servers cannot do it, and
//! [`list_all`], which reads every page of a listing.
//!
//! These are the reference semantics of [`ListQuery`]: the local store implements the same rules
//! in SQL, and the remote adapters apply them to a snapshot of a backend's keys.

use crate::backend::KeyBackend;
use crate::error::{Error, Result};
use crate::model::{ApiKey, KeyStatus, ListQuery, Page, SortField, StatusFilter};
use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::cmp::Ordering;
use std::collections::HashSet;

/// A key's status at `now`: an active key whose expiry has passed since it was read is expired.
/// Revocation wins over expiry, as in [`KeyStatus::derive`].
pub fn status_at(key: &ApiKey, now: DateTime<Utc>) -> KeyStatus {
    match key.status {
        KeyStatus::Active if key.expires_at.is_some_and(|at| at <= now) => KeyStatus::Expired,
        status => status,
    }
}

impl ListQuery {
    /// Whether `key` passes every filter of this query at `now`: status, search (a
    /// case-insensitive substring of the name or the id), owner, `expires_within_days` (active
    /// keys whose expiry is after `now` and at most N days later; never-expiring, expired and
    /// revoked keys never match), `never_used`, and `unused_for_days` (never used, or last used
    /// more than N days before `now`).
    pub fn matches(&self, key: &ApiKey, now: DateTime<Utc>) -> bool {
        let status = status_at(key, now);
        let status_ok = match self.status {
            StatusFilter::All => true,
            StatusFilter::Active => status == KeyStatus::Active,
            StatusFilter::Expired => status == KeyStatus::Expired,
            StatusFilter::Revoked => status == KeyStatus::Revoked,
        };
        status_ok
            && self.search.as_deref().is_none_or(|search| {
                let needle = search.to_lowercase();
                key.name.to_lowercase().contains(&needle) || key.id.to_lowercase().contains(&needle)
            })
            && self
                .owner
                .as_ref()
                .is_none_or(|owner| key.owner.as_ref() == Some(owner))
            && self.expires_within_days.is_none_or(|days| {
                status == KeyStatus::Active
                    && key
                        .expires_at
                        .is_some_and(|at| at > now && at <= days_after(now, days))
            })
            && (!self.never_used || key.last_used_at.is_none())
            && self.unused_for_days.is_none_or(|days| {
                key.last_used_at
                    .is_none_or(|used| used < days_before(now, days))
            })
    }

    /// Whether the query uses a filter beyond status, search and owner (expiring within N days,
    /// never used, not used in N days): what most servers cannot filter on.
    pub fn has_usage_or_expiry_filter(&self) -> bool {
        self.expires_within_days.is_some() || self.never_used || self.unused_for_days.is_some()
    }
}

/// `now` plus `days` days, saturating: unvalidated day counts never panic.
fn days_after(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now.checked_add_signed(Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn days_before(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now.checked_sub_signed(Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Sorts keys by `sort`, ties broken by id so that pages are stable; `descending` reverses the
/// whole order (ties included).
///
/// - `Created`, `Name` (case-insensitive): as named.
/// - `Expires`: never-expiring keys after every date (last ascending, first descending).
/// - `LastUsed`: never-used keys as the oldest (first ascending).
/// - `Owner`: by the owner as written (`org:…` before `user:…`, then by id); keys without an owner
///   after every owner.
/// - `Status`: active, expired, revoked (the keys' `status` as it is).
pub fn sort_keys(keys: &mut [ApiKey], sort: SortField, descending: bool) {
    let by_field = |a: &ApiKey, b: &ApiKey| -> Ordering {
        match sort {
            SortField::Created => a.created_at.cmp(&b.created_at),
            SortField::Expires => none_last(a.expires_at.as_ref(), b.expires_at.as_ref()),
            SortField::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            // `None < Some`: never used is the oldest use.
            SortField::LastUsed => a.last_used_at.cmp(&b.last_used_at),
            SortField::Owner => none_last(
                a.owner.as_ref().map(|o| (o.kind(), o.id())).as_ref(),
                b.owner.as_ref().map(|o| (o.kind(), o.id())).as_ref(),
            ),
            SortField::Status => status_rank(a.status).cmp(&status_rank(b.status)),
        }
    };
    if matches!(sort, SortField::Name) {
        // Lower-case each name once rather than at every comparison.
        let mut decorated: Vec<(String, ApiKey)> = keys
            .iter()
            .map(|key| (key.name.to_lowercase(), key.clone()))
            .collect();
        decorated.sort_by(|(an, a), (bn, b)| {
            let ordering = an.cmp(bn).then_with(|| a.id.cmp(&b.id));
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        for (slot, (_, key)) in keys.iter_mut().zip(decorated) {
            *slot = key;
        }
        return;
    }
    keys.sort_by(|a, b| {
        let ordering = by_field(a, b).then_with(|| a.id.cmp(&b.id));
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
}

fn status_rank(status: KeyStatus) -> u8 {
    match status {
        KeyStatus::Active => 0,
        KeyStatus::Expired => 1,
        KeyStatus::Revoked => 2,
    }
}

/// `None` after every value.
fn none_last<T: Ord>(a: Option<&T>, b: Option<&T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// Filters ([`ListQuery::matches`]), sorts ([`sort_keys`]) and pages a complete listing. Each
/// key's status is brought up to date at `now` first (a key read while active may have expired
/// since). `total` is the number of matching keys.
pub fn page_locally(mut keys: Vec<ApiKey>, query: &ListQuery, now: DateTime<Utc>) -> Page<ApiKey> {
    keys.retain_mut(|key| {
        key.status = status_at(key, now);
        query.matches(key, now)
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
        has_more: ((offset + items.len()) as u64) < total,
        items,
        page: query.page,
        limit: query.limit,
        total: Some(total),
    }
}

/// Every key matching `query` (its `page` is ignored), fetched page by page with at most
/// `concurrency` requests in flight, within the default [`WalkLimits`].
///
/// When the backend reports a total, the first page tells how many pages there are and the rest
/// are fetched together; otherwise pages are walked one after another until `has_more` is false.
/// Keys created or revoked during the walk can shift later pages: duplicates are dropped, but a
/// key can be missed, as with any paged listing.
pub async fn list_all<B: KeyBackend + ?Sized>(
    backend: &B,
    query: &ListQuery,
    concurrency: usize,
) -> Result<Vec<ApiKey>> {
    list_all_within(backend, query, concurrency, WalkLimits::default()).await
}

/// [`list_all`] within `limits`: a server that claims more keys than the cap, keeps sending pages,
/// sends an earlier page again, or takes too long ends the walk with an error naming the limit.
pub async fn list_all_within<B: KeyBackend + ?Sized>(
    backend: &B,
    query: &ListQuery,
    concurrency: usize,
    limits: WalkLimits,
) -> Result<Vec<ApiKey>> {
    let page_query = |page: u32| ListQuery {
        page,
        ..query.clone()
    };
    let walk = Walk::new(limits);
    walk.within(async {
        let first = backend.list(&page_query(0)).await?;
        let has_more = first.has_more;
        walk.add(0, first.items)?;
        match first.total {
            Some(total) if has_more => {
                walk.claimed(total)?;
                // At most MAX_WALK_KEYS pages, after the check above.
                let page_count = total.div_ceil(u64::from(query.limit.max(1))) as u32;
                stream::iter(1..page_count)
                    .map(|page| {
                        let query = page_query(page);
                        async move { backend.list(&query).await.map(|p| (page, p.items)) }
                    })
                    .buffered(concurrency.max(1))
                    .try_for_each(|(page, items)| std::future::ready(walk.add(page.into(), items)))
                    .await
            }
            _ => {
                let mut has_more = has_more;
                let mut page = 1;
                while has_more {
                    let next = backend.list(&page_query(page)).await?;
                    has_more = next.has_more && !next.items.is_empty();
                    walk.add(page.into(), next.items)?;
                    page += 1;
                }
                Ok(())
            }
        }
    })
    .await?;
    Ok(walk.into_items())
}

/// The bounds of one walk over every page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLimits {
    pub max_keys: usize,
    pub max_time: std::time::Duration,
}

impl Default for WalkLimits {
    /// [`ListQuery::MAX_WALK_KEYS`] and [`ListQuery::MAX_WALK_TIME`].
    fn default() -> Self {
        WalkLimits {
            max_keys: ListQuery::MAX_WALK_KEYS,
            max_time: ListQuery::MAX_WALK_TIME,
        }
    }
}

/// What a [`Walk`] reads: items told apart by an id (a repeat is dropped), named in its messages.
pub trait WalkItem {
    /// How a stopped walk's message calls the items ("keys").
    const NOUN: &'static str;
    /// What a stopped walk's message suggests besides trying again, if anything.
    const ADVICE: Option<&'static str>;
    fn walk_id(&self) -> &str;
}

impl WalkItem for ApiKey {
    const NOUN: &'static str = "keys";
    const ADVICE: Option<&'static str> = Some("narrow the search or the owner");
    fn walk_id(&self) -> &str {
        &self.id
    }
}

/// One walk over every page of a listing, in progress: it keeps the distinct items (keys, by
/// default) read so far and ends the walk, with an error that names the limit, when the server
/// would make it run away. The one owner of those rules, for [`list_all`], the remote adapters'
/// snapshots and their other paged listings alike.
#[derive(Debug)]
pub struct Walk<T = ApiKey> {
    limits: WalkLimits,
    state: std::sync::Mutex<WalkState<T>>,
}

#[derive(Debug)]
struct WalkState<T> {
    items: Vec<T>,
    seen: HashSet<String>,
    /// Items received, repeats included: what the server made us read.
    received: usize,
}

impl<T: WalkItem> Walk<T> {
    pub fn new(limits: WalkLimits) -> Self {
        Walk {
            limits,
            state: std::sync::Mutex::new(WalkState {
                items: Vec::new(),
                seen: HashSet::new(),
                received: 0,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WalkState<T>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses a walk whose server claims more items than the cap, before any further page.
    pub fn claimed(&self, total: u64) -> Result<()> {
        if total > self.limits.max_keys as u64 {
            return Err(Error::Backend(format!(
                "stopped reading the listing: the server claims {} {}, more than the {} \
                 Keyward reads in one listing{}",
                grouped(total),
                T::NOUN,
                grouped(self.limits.max_keys as u64),
                advice::<T>("; ", "")
            )));
        }
        Ok(())
    }

    /// Takes one page's items (`page` counts from 0). Past the cap nothing more is kept; a page
    /// with items but none new (a server ignoring the page asked for) ends the walk rather than
    /// looping.
    pub fn add(&self, page: u64, items: Vec<T>) -> Result<()> {
        let mut state = self.state();
        if state.received.saturating_add(items.len()) > self.limits.max_keys {
            return Err(Error::Backend(format!(
                "stopped after {} {}: the server keeps sending more than the {} Keyward reads \
                 in one listing{}",
                grouped(state.received as u64),
                T::NOUN,
                grouped(self.limits.max_keys as u64),
                advice::<T>("; ", "")
            )));
        }
        state.received += items.len();
        let before = state.items.len();
        let had_items = !items.is_empty();
        for item in items {
            if state.seen.insert(item.walk_id().to_owned()) {
                state.items.push(item);
            }
        }
        if had_items && page > 0 && state.items.len() == before {
            return Err(Error::Backend(format!(
                "stopped at page {}: the server sent the same {} again (it may be ignoring \
                 the page asked for); try again{}",
                page + 1,
                T::NOUN,
                advice::<T>(", or ", "")
            )));
        }
        Ok(())
    }

    /// Runs `walk` (which feeds this [`Walk`]) within the time limit.
    pub async fn within<R>(&self, walk: impl std::future::Future<Output = Result<R>>) -> Result<R> {
        match tokio::time::timeout(self.limits.max_time, walk).await {
            Ok(done) => done,
            Err(_) => Err(Error::Backend(format!(
                "stopped after {} and {} {}: reading the listing takes longer than Keyward \
                 allows; {}try again later",
                duration_text(self.limits.max_time),
                grouped(self.state().received as u64),
                T::NOUN,
                advice::<T>("", ", or ")
            ))),
        }
    }

    /// The distinct items read, in the order they came.
    pub fn into_items(self) -> Vec<T> {
        self.state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .items
    }
}

/// `T`'s advice between `before` and `after`, or nothing.
fn advice<T: WalkItem>(before: &str, after: &str) -> String {
    T::ADVICE
        .map(|advice| format!("{before}{advice}{after}"))
        .unwrap_or_default()
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Whole minutes as minutes, anything else in seconds.
fn duration_text(duration: std::time::Duration) -> String {
    match duration.as_secs() {
        60 => "1 minute".into(),
        secs if secs >= 60 && secs.is_multiple_of(60) && duration.subsec_nanos() == 0 => {
            format!("{} minutes", secs / 60)
        }
        _ => crate::bulk::seconds_text(duration),
    }
}

/// The keys a revoke "by filter" acts on: every key matching `query` (all its pages, `query.limit`
/// per request; its `page` is ignored) that is not revoked yet, in the query's order. The rules
/// are applied again here, so a backend that ignores a filter cannot widen a revoke. Shared by
/// the CLI's `keys revoke --yes` and the app's "select all matching".
pub async fn revocable_matching<B: KeyBackend + ?Sized>(
    backend: &B,
    query: &ListQuery,
    concurrency: usize,
) -> Result<Vec<ApiKey>> {
    let query = ListQuery {
        page: 0,
        ..query.clone()
    };
    let mut keys = list_all(backend, &query, concurrency).await?;
    let now = Utc::now();
    keys.retain(|key| query.matches(key, now) && status_at(key, now) != KeyStatus::Revoked);
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Subject;
    use chrono::TimeZone;
    use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap()
    }

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: format!("name of {id}"),
            owner: None,
            created_at: now() - Duration::days(100),
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

    fn with(id: &str, edit: impl FnOnce(&mut ApiKey)) -> ApiKey {
        let mut key = key(id);
        edit(&mut key);
        key
    }

    fn ids(keys: &[ApiKey]) -> Vec<&str> {
        keys.iter().map(|k| k.id.as_str()).collect()
    }

    fn matching<'a>(keys: &'a [ApiKey], query: &ListQuery) -> Vec<&'a str> {
        keys.iter()
            .filter(|k| query.matches(k, now()))
            .map(|k| k.id.as_str())
            .collect()
    }

    fn query() -> ListQuery {
        ListQuery::default()
    }

    #[test]
    fn status_filter_uses_the_status_at_now() {
        let keys = [
            key("active"),
            with("expired", |k| {
                k.expires_at = Some(now() - Duration::days(1));
                k.status = KeyStatus::Expired;
            }),
            // Read while active; its expiry has passed since.
            with("lapsed", |k| {
                k.expires_at = Some(now() - Duration::seconds(1))
            }),
            with("revoked", |k| {
                k.status = KeyStatus::Revoked;
                k.expires_at = Some(now() - Duration::days(1));
            }),
        ];
        let status = |status| ListQuery { status, ..query() };
        assert_eq!(matching(&keys, &status(StatusFilter::All)).len(), 4);
        assert_eq!(matching(&keys, &status(StatusFilter::Active)), ["active"]);
        assert_eq!(
            matching(&keys, &status(StatusFilter::Expired)),
            ["expired", "lapsed"]
        );
        assert_eq!(matching(&keys, &status(StatusFilter::Revoked)), ["revoked"]);
        assert_eq!(status_at(&keys[2], now()), KeyStatus::Expired);
        assert_eq!(
            status_at(&keys[2], now() - Duration::days(1)),
            KeyStatus::Active
        );
    }

    #[test]
    fn search_is_a_case_insensitive_substring_of_name_or_id() {
        let keys = [
            with("ak_ABC123", |k| k.name = "Deploy bot".into()),
            with("ak_def456", |k| {
                k.name = "laptop".into();
                k.description = Some("deploy".into());
            }),
        ];
        let search = |text: &str| ListQuery {
            search: Some(text.into()),
            ..query()
        };
        assert_eq!(matching(&keys, &search("DEPLOY")), ["ak_ABC123"]);
        assert_eq!(matching(&keys, &search("abc1")), ["ak_ABC123"]);
        assert_eq!(matching(&keys, &search("F45")), ["ak_def456"]);
        assert_eq!(matching(&keys, &search("ak_")).len(), 2);
        assert!(matching(&keys, &search("zzz")).is_empty());
    }

    #[test]
    fn owner_filter_is_exact() {
        let keys = [
            with("u", |k| k.owner = Some(Subject::User("acme".into()))),
            with("o", |k| k.owner = Some(Subject::Org("acme".into()))),
            key("none"),
        ];
        let owner = |owner| ListQuery {
            owner: Some(owner),
            ..query()
        };
        assert_eq!(matching(&keys, &owner(Subject::Org("acme".into()))), ["o"]);
        assert_eq!(matching(&keys, &owner(Subject::User("acme".into()))), ["u"]);
        assert!(matching(&keys, &owner(Subject::User("acm".into()))).is_empty());
    }

    #[test]
    fn expiring_within_days_counts_whole_days_from_now_and_only_active_keys() {
        let expiring = |id: &str, after: Duration| with(id, |k| k.expires_at = Some(now() + after));
        let keys = [
            expiring("in-1h", Duration::hours(1)),
            expiring("in-7d-exactly", Duration::days(7)),
            expiring("in-7d-and-1s", Duration::days(7) + Duration::seconds(1)),
            expiring("in-30d", Duration::days(30)),
            expiring("now", Duration::zero()),
            expiring("expired", -Duration::days(1)),
            key("never"),
            with("revoked-soon", |k| {
                k.expires_at = Some(now() + Duration::days(2));
                k.status = KeyStatus::Revoked;
            }),
        ];
        let within = |days| ListQuery {
            expires_within_days: Some(days),
            ..query()
        };
        assert_eq!(matching(&keys, &within(7)), ["in-1h", "in-7d-exactly"]);
        assert_eq!(
            matching(&keys, &within(30)),
            ["in-1h", "in-7d-exactly", "in-7d-and-1s", "in-30d"]
        );
        assert_eq!(matching(&keys, &within(1)), ["in-1h"]);
        assert_eq!(matching(&keys, &within(u32::MAX)).len(), 4, "no overflow");
        // Combined with a status filter, both apply.
        let revoked = ListQuery {
            status: StatusFilter::Revoked,
            ..within(30)
        };
        assert!(
            matching(&keys, &revoked).is_empty(),
            "revoked keys never expire"
        );
        let expired = ListQuery {
            status: StatusFilter::Expired,
            ..within(3650)
        };
        assert!(
            matching(&keys, &expired).is_empty(),
            "expired keys never expire"
        );
    }

    #[test]
    fn usage_filters() {
        let used = |id: &str, ago: Duration| with(id, |k| k.last_used_at = Some(now() - ago));
        let keys = [
            key("never"),
            used("today", Duration::hours(2)),
            used("30d-exactly", Duration::days(30)),
            used("30d-and-1s", Duration::days(30) + Duration::seconds(1)),
            used("a-year", Duration::days(365)),
        ];
        let never = ListQuery {
            never_used: true,
            ..query()
        };
        assert_eq!(matching(&keys, &never), ["never"]);
        let unused = |days| ListQuery {
            unused_for_days: Some(days),
            ..query()
        };
        assert_eq!(
            matching(&keys, &unused(30)),
            ["never", "30d-and-1s", "a-year"],
            "used exactly 30 days ago counts as used within 30 days"
        );
        assert_eq!(matching(&keys, &unused(400)), ["never"]);
        assert_eq!(matching(&keys, &unused(u32::MAX)), ["never"], "no overflow");
        assert_eq!(matching(&keys, &unused(1)).len(), 4);
        // Both usage filters together: never used wins.
        let both = ListQuery {
            never_used: true,
            ..unused(1)
        };
        assert_eq!(matching(&keys, &both), ["never"]);
        assert!(both.has_usage_or_expiry_filter());
        assert!(!query().has_usage_or_expiry_filter());
    }

    #[test]
    fn every_filter_at_once() {
        let acme = Subject::Org("acme".into());
        let candidate = |id: &str| {
            with(id, |k| {
                k.name = format!("ci {id}");
                k.owner = Some(acme.clone());
                k.expires_at = Some(now() + Duration::days(3));
                k.last_used_at = Some(now() - Duration::days(60));
            })
        };
        let keys = [
            candidate("match"),
            with("other-owner", |k| {
                *k = candidate("other-owner");
                k.owner = Some(Subject::Org("other".into()));
            }),
            with("recent", |k| {
                *k = candidate("recent");
                k.last_used_at = Some(now() - Duration::days(1));
            }),
            with("later", |k| {
                *k = candidate("later");
                k.expires_at = Some(now() + Duration::days(20));
            }),
            with("named", |k| {
                *k = candidate("named");
                k.name = "deploy".into();
            }),
        ];
        let query = ListQuery {
            search: Some("CI".into()),
            status: StatusFilter::Active,
            owner: Some(acme.clone()),
            expires_within_days: Some(7),
            unused_for_days: Some(30),
            ..query()
        };
        assert_eq!(matching(&keys, &query), ["match"]);
    }

    fn sorted(keys: &[ApiKey], sort: SortField, descending: bool) -> Vec<String> {
        let mut keys = keys.to_vec();
        sort_keys(&mut keys, sort, descending);
        keys.into_iter().map(|k| k.id).collect()
    }

    fn reversed(ids: &[&str]) -> Vec<String> {
        ids.iter().rev().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sort_by_created_and_name_with_ties_by_id() {
        let day = |n| now() - Duration::days(n);
        let keys = [
            with("b", |k| {
                k.created_at = day(1);
                k.name = "beta".into()
            }),
            with("a", |k| {
                k.created_at = day(1);
                k.name = "Alpha".into()
            }),
            with("c", |k| {
                k.created_at = day(5);
                k.name = "alpha".into()
            }),
        ];
        assert_eq!(sorted(&keys, SortField::Created, false), ["c", "a", "b"]);
        assert_eq!(
            sorted(&keys, SortField::Created, true),
            reversed(&["c", "a", "b"])
        );
        assert_eq!(sorted(&keys, SortField::Name, false), ["a", "c", "b"]);
        assert_eq!(
            sorted(&keys, SortField::Name, true),
            reversed(&["a", "c", "b"])
        );
    }

    #[test]
    fn sort_by_expiry_puts_never_last_ascending() {
        let keys = [
            key("never"),
            with("late", |k| k.expires_at = Some(now() + Duration::days(9))),
            with("soon", |k| k.expires_at = Some(now() + Duration::days(1))),
            key("also-never"),
        ];
        let ascending = ["soon", "late", "also-never", "never"];
        assert_eq!(sorted(&keys, SortField::Expires, false), ascending);
        assert_eq!(
            sorted(&keys, SortField::Expires, true),
            reversed(&ascending)
        );
    }

    #[test]
    fn sort_by_last_used_treats_never_as_oldest() {
        let keys = [
            with("recent", |k| k.last_used_at = Some(now())),
            key("never"),
            with("old", |k| k.last_used_at = Some(now() - Duration::days(90))),
        ];
        let ascending = ["never", "old", "recent"];
        assert_eq!(sorted(&keys, SortField::LastUsed, false), ascending);
        assert_eq!(
            sorted(&keys, SortField::LastUsed, true),
            reversed(&ascending)
        );
    }

    #[test]
    fn sort_by_owner_orgs_then_users_then_none() {
        let keys = [
            key("none"),
            with("user-b", |k| k.owner = Some(Subject::User("b".into()))),
            with("org-z", |k| k.owner = Some(Subject::Org("z".into()))),
            with("user-a", |k| k.owner = Some(Subject::User("a".into()))),
            with("org-a", |k| k.owner = Some(Subject::Org("a".into()))),
            with("org-a-2", |k| k.owner = Some(Subject::Org("a".into()))),
        ];
        let ascending = ["org-a", "org-a-2", "org-z", "user-a", "user-b", "none"];
        assert_eq!(sorted(&keys, SortField::Owner, false), ascending);
        assert_eq!(sorted(&keys, SortField::Owner, true), reversed(&ascending));
    }

    #[test]
    fn sort_by_status_active_expired_revoked() {
        let keys = [
            with("r", |k| k.status = KeyStatus::Revoked),
            with("e", |k| k.status = KeyStatus::Expired),
            key("a2"),
            key("a1"),
        ];
        let ascending = ["a1", "a2", "e", "r"];
        assert_eq!(sorted(&keys, SortField::Status, false), ascending);
        assert_eq!(sorted(&keys, SortField::Status, true), reversed(&ascending));
    }

    fn numbered(count: usize) -> Vec<ApiKey> {
        (0..count)
            .map(|i| {
                with(&format!("k{i:03}"), |k| {
                    k.created_at = now() - Duration::days(i as i64)
                })
            })
            .collect()
    }

    #[test]
    fn paging_edges() {
        let keys = numbered(25);
        let page = |page, limit| {
            page_locally(
                keys.clone(),
                &ListQuery {
                    page,
                    limit,
                    ..query()
                },
                now(),
            )
        };
        let first = page(0, 10);
        assert_eq!(ids(&first.items)[..2], ["k000", "k001"], "newest first");
        assert_eq!((first.total, first.has_more), (Some(25), true));
        let last = page(2, 10);
        assert_eq!(ids(&last.items), ["k020", "k021", "k022", "k023", "k024"]);
        assert!(!last.has_more);
        let past = page(3, 10);
        assert!(past.items.is_empty());
        assert_eq!((past.total, past.has_more), (Some(25), false));
        let exact = page(0, 25);
        assert_eq!((exact.items.len(), exact.has_more), (25, false));
        let one = page(24, 1);
        assert_eq!(ids(&one.items), ["k024"]);
        assert!(!one.has_more);
        let empty = page_locally(Vec::new(), &query(), now());
        assert_eq!((empty.total, empty.has_more), (Some(0), false));
    }

    #[test]
    fn local_paging_counts_matches_and_refreshes_statuses() {
        let mut keys = numbered(10);
        keys[3].expires_at = Some(now() - Duration::seconds(1));
        keys[5].status = KeyStatus::Revoked;
        let expired = page_locally(
            keys.clone(),
            &ListQuery {
                status: StatusFilter::Expired,
                ..query()
            },
            now(),
        );
        assert_eq!(ids(&expired.items), ["k003"]);
        assert_eq!(
            expired.items[0].status,
            KeyStatus::Expired,
            "brought up to date"
        );
        assert_eq!(expired.total, Some(1));
        let by_status = page_locally(
            keys,
            &ListQuery {
                sort: SortField::Status,
                descending: true,
                limit: 2,
                ..query()
            },
            now(),
        );
        assert_eq!(ids(&by_status.items), ["k005", "k003"]);
        assert_eq!(by_status.total, Some(10));
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
        fn capabilities(&self) -> crate::Capabilities {
            unimplemented!("not needed by list_all")
        }
        async fn create(&self, _: crate::NewKey) -> Result<crate::CreatedKey> {
            unimplemented!()
        }
        async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
            self.calls.fetch_add(1, AtomicOrdering::SeqCst);
            let mut page = page_locally(self.keys.clone(), query, now());
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
        async fn verify(&self, _: &secrecy::SecretString) -> Result<crate::Verification> {
            unimplemented!()
        }
    }

    fn fixed(keys: Vec<ApiKey>, report_total: bool) -> Fixed {
        Fixed {
            keys,
            report_total,
            calls: AtomicUsize::new(0),
        }
    }

    #[test]
    fn list_all_can_run_on_a_spawned_task() {
        fn assert_send<T: Send>(_: T) {}
        let backend = fixed(Vec::new(), true);
        assert_send(list_all(&backend, &ListQuery::default(), 4));
        let dynamic: &dyn KeyBackend = &backend;
        assert_send(list_all(dynamic, &ListQuery::default(), 4));
    }

    #[tokio::test]
    async fn list_all_fans_out_with_a_total_and_walks_without() {
        let query = ListQuery {
            limit: 10,
            page: 3,
            ..Default::default()
        };
        for report_total in [true, false] {
            let backend = fixed(numbered(95), report_total);
            let all = list_all(&backend, &query, 3).await.unwrap();
            assert_eq!(all.len(), 95);
            assert_eq!(backend.calls.load(AtomicOrdering::SeqCst), 10);
        }
    }

    #[tokio::test]
    async fn owners_are_distinct_and_sorted() {
        let mut keys = numbered(2500);
        for (i, key) in keys.iter_mut().enumerate() {
            key.owner = match i % 4 {
                0 => None,
                1 => Some(Subject::User(format!("u{}", i % 3))),
                2 => Some(Subject::Org("acme".into())),
                _ => Some(Subject::Org("beta".into())),
            };
        }
        let backend = fixed(keys, true);
        let owners: Vec<String> = backend
            .owners()
            .await
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            owners,
            ["org:acme", "org:beta", "user:u0", "user:u1", "user:u2"]
        );
        assert_eq!(
            backend.calls.load(AtomicOrdering::SeqCst),
            3,
            "pages of 1000"
        );
    }

    /// A server that lies about its listing: it claims `total` keys (or none, and always one
    /// page more), may ignore the page asked for, and may take `delay` per page.
    struct Lying {
        total: Option<u64>,
        ignores_page: bool,
        delay: std::time::Duration,
        calls: AtomicUsize,
    }

    fn lying(total: Option<u64>) -> Lying {
        Lying {
            total,
            ignores_page: false,
            delay: std::time::Duration::ZERO,
            calls: AtomicUsize::new(0),
        }
    }

    #[async_trait::async_trait]
    impl KeyBackend for Lying {
        fn kind(&self) -> &'static str {
            "lying"
        }
        fn capabilities(&self) -> crate::Capabilities {
            unimplemented!("not needed by list_all")
        }
        async fn create(&self, _: crate::NewKey) -> Result<crate::CreatedKey> {
            unimplemented!()
        }
        async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
            self.calls.fetch_add(1, AtomicOrdering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let page = if self.ignores_page { 0 } else { query.page };
            let start = u64::from(page) * u64::from(query.limit);
            Ok(Page {
                items: (start..start + u64::from(query.limit))
                    .map(|i| key(&format!("k{i}")))
                    .collect(),
                page: query.page,
                limit: query.limit,
                total: self.total,
                has_more: true,
            })
        }
        async fn get(&self, _: &str) -> Result<ApiKey> {
            unimplemented!()
        }
        async fn revoke(&self, _: &str, _: Option<&str>) -> Result<ApiKey> {
            unimplemented!()
        }
        async fn verify(&self, _: &secrecy::SecretString) -> Result<crate::Verification> {
            unimplemented!()
        }
    }

    fn pages_of(limit: u32) -> ListQuery {
        ListQuery {
            limit,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_claimed_total_over_the_cap_stops_after_the_first_page() {
        let server = lying(Some(1_000_000_000_000));
        let error = list_all(&server, &pages_of(1000), 4).await.unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::Backend);
        assert_eq!(
            error.to_string(),
            "stopped reading the listing: the server claims 1,000,000,000,000 keys, more than \
             the 100,000 Keyward reads in one listing; narrow the search or the owner"
        );
        assert_eq!(server.calls.load(AtomicOrdering::SeqCst), 1);
        // The same walk serves a revoke by filter and the owner picker.
        let error = revocable_matching(&server, &pages_of(1000), 4).await;
        assert!(error.unwrap_err().to_string().contains("1,000,000,000,000"));
        assert!(server
            .owners()
            .await
            .unwrap_err()
            .to_string()
            .contains("claims"));
    }

    #[tokio::test]
    async fn pages_that_never_end_stop_at_the_key_cap() {
        let server = lying(None);
        let error = list_all(&server, &pages_of(1000), 4).await.unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::Backend);
        assert!(
            error.to_string().starts_with(
                "stopped after 100,000 keys: the server keeps sending more than the 100,000"
            ),
            "{error}"
        );
        // 100 pages held (the cap), the 101st refused before it is kept.
        assert_eq!(server.calls.load(AtomicOrdering::SeqCst), 101);
        assert_eq!(ListQuery::MAX_WALK_KEYS, 100_000);

        let small = WalkLimits {
            max_keys: 250,
            ..WalkLimits::default()
        };
        let server = lying(Some(200));
        let error = list_all_within(&server, &pages_of(100), 2, small).await;
        assert_eq!(
            error.unwrap().len(),
            200,
            "a total under the cap is read whole"
        );
        let server = lying(None);
        let error = list_all_within(&server, &pages_of(100), 2, small)
            .await
            .unwrap_err();
        assert!(
            error.to_string().starts_with("stopped after 200 keys"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_server_ignoring_the_page_ends_the_walk() {
        for total in [None, Some(5000)] {
            let server = Lying {
                ignores_page: true,
                ..lying(total)
            };
            let error = list_all(&server, &pages_of(100), 1).await.unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::Backend);
            assert!(
                error.to_string().starts_with(
                    "stopped at page 2: the server sent the same keys again (it may be ignoring"
                ),
                "{error}"
            );
            assert_eq!(server.calls.load(AtomicOrdering::SeqCst), 2, "{total:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_endless_listing_stops_at_the_time_cap() {
        let server = Lying {
            delay: std::time::Duration::from_secs(1),
            ..lying(None)
        };
        let started = tokio::time::Instant::now();
        let error = list_all(&server, &pages_of(1), 4).await.unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::Backend);
        assert!(
            error
                .to_string()
                .starts_with("stopped after 2 minutes and 1"),
            "{error}"
        );
        assert!(error
            .to_string()
            .contains("takes longer than Keyward allows"));
        assert_eq!(started.elapsed(), ListQuery::MAX_WALK_TIME);
        let calls = server.calls.load(AtomicOrdering::SeqCst);
        assert!((120..=121).contains(&calls), "{calls}");
    }

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_000_000_000_000), "1,000,000,000,000");
        assert_eq!(
            duration_text(std::time::Duration::from_secs(120)),
            "2 minutes"
        );
        assert_eq!(
            duration_text(std::time::Duration::from_secs(60)),
            "1 minute"
        );
        assert_eq!(
            duration_text(std::time::Duration::from_millis(1500)),
            "1.5 s"
        );
    }
}
