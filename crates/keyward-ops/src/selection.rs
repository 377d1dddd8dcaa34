//! What a revoke acts on: the keys the user ticked (`{"ids": [..]}`) or every key matching the
//! current filter (`{"query": ListQuery}`), resolved to ids, and the confirmation dialog's
//! preview of them. Both front ends resolve their selections here: the app's ticked rows and
//! "select all matching", the CLI's ids and filter flags.

use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt};
use keyward_core::{ApiKey, Error, KeyBackend, ListQuery, Result};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Ids in one selection, at most.
pub const MAX_IDS: usize = 100_000;
/// An id's length, at most.
pub const ID_MAX_CHARS: usize = keyward_core::model::KEY_ID_MAX_CHARS;
/// "Recently used": used within this many days; the dialog warns about those.
pub const RECENTLY_USED_DAYS: i64 = 7;
/// Names the preview lists.
pub const PREVIEW_NAMES: usize = 5;
/// Up to this many ticked keys are fetched one by one for the preview; more are looked up in
/// one listing of all keys, which costs far fewer requests on a remote backend.
const FETCH_ONE_BY_ONE: usize = 50;
/// Requests in flight while fetching keys.
const FETCH_CONCURRENCY: usize = 8;

/// The JSON the UI sends: `{"ids": ["key_1", ..]}` or `{"query": {..ListQuery..}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    Ids(Vec<String>),
    Query(ListQuery),
}

/// A selection turned into the ids to revoke, in order, each once.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub ids: Vec<String>,
    /// The keys as listed, where the selection was a query (so failures can be named).
    pub keys: HashMap<String, ApiKey>,
    /// Names the table showed for ticked ids (the UI sends them), so a key whose revoke failed is
    /// named in the audit log without asking a failing backend again.
    pub shown_names: HashMap<String, String>,
}

impl Resolved {
    /// Ticked or typed ids, checked and each once (errors name `field`).
    pub fn of_ids(ids: Vec<String>, field: &str) -> Result<Resolved> {
        Ok(Resolved {
            ids: clean_ids_named(ids, field)?,
            keys: HashMap::new(),
            shown_names: HashMap::new(),
        })
    }

    /// Keys listed for a filter, in their order.
    pub fn of_keys(keys: Vec<ApiKey>) -> Resolved {
        Resolved {
            ids: keys.iter().map(|k| k.id.clone()).collect(),
            keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
            shown_names: HashMap::new(),
        }
    }

    /// This selection, if it still has the `expected` count the user confirmed; else `conflict`
    /// and nothing may be revoked (keys began or stopped matching since the preview). `None`:
    /// no count was confirmed (a script's `keys revoke <filters> --yes` without `--expect`).
    pub fn expecting(self, expected: Option<usize>) -> Result<Resolved> {
        match expected {
            Some(expected) if expected != self.ids.len() => Err(Error::Conflict(format!(
                "the selection now holds {} {}, not the {expected} confirmed: nothing was revoked; \
                 look at the keys again before revoking",
                self.ids.len(),
                if self.ids.len() == 1 { "key" } else { "keys" },
            ))),
            _ => Ok(self),
        }
    }

    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.keys
            .get(id)
            .map(|k| k.name.as_str())
            .or_else(|| self.shown_names.get(id).map(String::as_str))
    }

    /// Keeps the names shown for ids of this selection (at most one per id, printable and no
    /// longer than a key name may be; anything else is ignored: they only label log entries).
    pub fn with_shown_names(mut self, names: HashMap<String, String>) -> Self {
        let wanted: std::collections::HashSet<&String> = self.ids.iter().collect();
        self.shown_names = names
            .into_iter()
            .filter(|(id, name)| {
                wanted.contains(id)
                    && !name.trim().is_empty()
                    && name.chars().count() <= keyward_core::NewKey::NAME_MAX_CHARS
                    && !name.chars().any(char::is_control)
            })
            .collect();
        self
    }
}

/// What the confirmation dialog shows before a revoke.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevokePreview {
    /// How many keys would be revoked (the number the user types to confirm many).
    pub count: usize,
    /// The key's name when exactly one is selected (typed to confirm one).
    pub single_name: Option<String>,
    /// How many were used in the last [`RECENTLY_USED_DAYS`] days.
    pub recently_used: usize,
    /// The first [`PREVIEW_NAMES`] names, in selection order.
    pub names: Vec<String>,
}

/// Checks ids (non-blank, not too long, no control characters) and drops repeats, keeping the
/// first occurrence's place.
pub fn clean_ids(ids: Vec<String>) -> Result<Vec<String>> {
    clean_ids_named(ids, "ids")
}

/// [`clean_ids`] with errors naming `field` (the CLI's positional `id`).
pub fn clean_ids_named(ids: Vec<String>, field: &str) -> Result<Vec<String>> {
    if ids.len() > MAX_IDS {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_IDS} keys can be revoked at once"),
        ));
    }
    let mut seen = HashSet::new();
    let mut clean = Vec::with_capacity(ids.len());
    for id in ids {
        let id = check_id(&id, field)?;
        if seen.insert(id.to_owned()) {
            clean.push(id.to_owned());
        }
    }
    Ok(clean)
}

/// `id` trimmed, if it is a key id (see `keyward_core::model::check_key_id`); else an error
/// naming `field`.
pub fn check_id<'a>(id: &'a str, field: &str) -> Result<&'a str> {
    keyward_core::model::check_key_id(id, field)
}

/// The listing query of a "select all matching" selection: the filter as given, every page.
fn all_pages(query: ListQuery) -> Result<ListQuery> {
    Ok(ListQuery {
        page: 0,
        limit: ListQuery::MAX_LIMIT,
        ..query.validated()?
    })
}

/// The ids a selection stands for. A query stands for the keys matching it that are not
/// revoked yet (revoking those again would change nothing), in the query's order. With
/// `expected_count` (the count the user confirmed), a selection that no longer has that count is
/// refused with `conflict` (see [`Resolved::expecting`]).
pub async fn resolve(
    backend: &dyn KeyBackend,
    selection: Selection,
    expected_count: Option<usize>,
) -> Result<Resolved> {
    resolve_any(backend, selection)
        .await?
        .expecting(expected_count)
}

async fn resolve_any(backend: &dyn KeyBackend, selection: Selection) -> Result<Resolved> {
    match selection {
        Selection::Ids(ids) => Ok(Resolved {
            ids: clean_ids(ids)?,
            keys: HashMap::new(),
            shown_names: HashMap::new(),
        }),
        Selection::Query(query) => {
            let keys = revocable(backend, query).await?;
            Ok(Resolved {
                ids: keys.iter().map(|k| k.id.clone()).collect(),
                keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
                shown_names: HashMap::new(),
            })
        }
    }
}

/// The preview of a selection: its count, and what can be learned of its keys.
pub async fn preview(
    backend: &dyn KeyBackend,
    selection: Selection,
    now: DateTime<Utc>,
) -> Result<RevokePreview> {
    match selection {
        Selection::Ids(ids) => {
            let ids = clean_ids(ids)?;
            let keys = fetch_keys(backend, &ids).await?;
            Ok(summarize(ids.len(), &keys, now))
        }
        Selection::Query(query) => {
            let keys = revocable(backend, query).await?;
            Ok(summarize(keys.len(), &keys, now))
        }
    }
}

/// The preview of `count` selected keys of which `known` could be looked up (in selection
/// order): a ticked key that could not be fetched still counts, it just has no name.
pub fn summarize(count: usize, known: &[ApiKey], now: DateTime<Utc>) -> RevokePreview {
    let since = now - Duration::days(RECENTLY_USED_DAYS);
    RevokePreview {
        count,
        single_name: match known {
            [only] if count == 1 => Some(only.name.clone()),
            _ => None,
        },
        recently_used: known
            .iter()
            .filter(|k| k.last_used_at.is_some_and(|used| used >= since))
            .count(),
        names: known
            .iter()
            .take(PREVIEW_NAMES)
            .map(|k| k.name.clone())
            .collect(),
    }
}

/// The keys a query selection stands for (see `keyward_core::revocable_matching`).
pub async fn revocable(backend: &dyn KeyBackend, query: ListQuery) -> Result<Vec<ApiKey>> {
    keyward_core::revocable_matching(backend, &all_pages(query)?, FETCH_CONCURRENCY).await
}

async fn list_matching(backend: &dyn KeyBackend, query: ListQuery) -> Result<Vec<ApiKey>> {
    keyward_core::list_all(backend, &all_pages(query)?, FETCH_CONCURRENCY).await
}

/// The keys of `ids` that exist, in the order of `ids`.
async fn fetch_keys(backend: &dyn KeyBackend, ids: &[String]) -> Result<Vec<ApiKey>> {
    if ids.len() > FETCH_ONE_BY_ONE {
        let mut all: HashMap<String, ApiKey> = list_matching(backend, ListQuery::default())
            .await?
            .into_iter()
            .map(|k| (k.id.clone(), k))
            .collect();
        return Ok(ids.iter().filter_map(|id| all.remove(id)).collect());
    }
    // Owned ids: see keyward_core::bulk on why futures over `&String` items are not `Send`.
    let fetched: Vec<Result<ApiKey>> = stream::iter(ids.to_vec())
        .map(|id| async move { backend.get(&id).await })
        .buffered(FETCH_CONCURRENCY)
        .collect()
        .await;
    let mut keys = Vec::with_capacity(fetched.len());
    for key in fetched {
        match key {
            Ok(key) => keys.push(key),
            // Gone meanwhile: still counted, revoking it will say so.
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::key;
    use keyward_core::{Expiration, ExpiryPreset, NewKey, StatusFilter};
    use keyward_local::LocalStore;

    fn store_with(names: &[&str]) -> (tempfile::TempDir, LocalStore, Vec<ApiKey>) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let keys = names
            .iter()
            .map(|name| {
                store
                    .create_sync(NewKey::named(
                        *name,
                        Expiration::Preset(ExpiryPreset::OneMonth),
                    ))
                    .unwrap()
                    .key
            })
            .collect();
        (dir, store, keys)
    }

    #[test]
    fn selections_parse_from_the_ui_json() {
        let ids: Selection = serde_json::from_str(r#"{"ids": ["key_1", "key_2"]}"#).unwrap();
        assert_eq!(ids, Selection::Ids(vec!["key_1".into(), "key_2".into()]));
        let query: Selection =
            serde_json::from_str(r#"{"query": {"search": "ci", "status": "active"}}"#).unwrap();
        let Selection::Query(query) = query else {
            panic!("not a query")
        };
        assert_eq!(query.search.as_deref(), Some("ci"));
        assert_eq!(query.status, StatusFilter::Active);
        assert!(serde_json::from_str::<Selection>(r#"{"everything": true}"#).is_err());
    }

    #[test]
    fn ids_are_checked_and_deduplicated_in_order() {
        let ids = clean_ids(vec![" b ".into(), "a".into(), "b".into(), "c".into()]).unwrap();
        assert_eq!(ids, ["b", "a", "c"]);
        for bad in ["", "   ", "a\u{0}b", &"x".repeat(ID_MAX_CHARS + 1)] {
            let error = clean_ids(vec!["ok".into(), bad.into()]).unwrap_err();
            assert_eq!(error.field(), Some("ids"), "{bad:?}");
        }
        assert!(clean_ids(Vec::new()).unwrap().is_empty());
        assert_eq!(check_id(" key_1\n", "id").unwrap(), "key_1");
        assert_eq!(check_id("a\tb", "id").unwrap_err().field(), Some("id"));
    }

    #[tokio::test]
    async fn a_query_selection_is_every_matching_unrevoked_key_across_pages() {
        let names: Vec<String> = (0..1205).map(|i| format!("ci-{i:04}")).collect();
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.extend(["laptop", "desk"]);
        let (_dir, store, keys) = store_with(&all);
        store.revoke_sync(&keys[3].id, None).unwrap();

        let query = ListQuery {
            search: Some("ci-".into()),
            sort: keyward_core::SortField::Name,
            descending: false,
            limit: 10,
            page: 7,
            ..ListQuery::default()
        };
        let resolved = resolve(&store, Selection::Query(query), None)
            .await
            .unwrap();
        assert_eq!(
            resolved.ids.len(),
            1204,
            "every page, the revoked key left out"
        );
        assert_eq!(resolved.ids[0], keys[0].id, "in the query's order");
        assert!(!resolved.ids.contains(&keys[3].id));
        assert!(
            !resolved.ids.contains(&keys[1205].id),
            "laptop does not match"
        );
        assert_eq!(resolved.name_of(&keys[4].id), Some("ci-0004"));
    }

    #[tokio::test]
    async fn an_id_selection_is_its_ids() {
        let (_dir, store, keys) = store_with(&["a", "b"]);
        let selection = Selection::Ids(vec![
            keys[1].id.clone(),
            keys[0].id.clone(),
            keys[1].id.clone(),
        ]);
        let resolved = resolve(&store, selection, None).await.unwrap();
        assert_eq!(resolved.ids, [keys[1].id.clone(), keys[0].id.clone()]);
        let bad = resolve(
            &store,
            Selection::Query(ListQuery {
                limit: 0,
                ..ListQuery::default()
            }),
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(bad.field(), Some("limit"));
    }

    #[tokio::test]
    async fn previews_of_ticked_keys_count_names_and_missing_ones() {
        let (_dir, store, keys) = store_with(&["one", "two", "three", "four", "five", "six"]);
        let now = Utc::now();
        let single = preview(&store, Selection::Ids(vec![keys[2].id.clone()]), now)
            .await
            .unwrap();
        assert_eq!(single.count, 1);
        assert_eq!(single.single_name.as_deref(), Some("three"));
        assert_eq!(single.names, ["three"]);
        assert_eq!(single.recently_used, 0, "new keys were never used");

        let mut ids: Vec<String> = keys.iter().rev().map(|k| k.id.clone()).collect();
        ids.push("key_gone".into());
        let many = preview(&store, Selection::Ids(ids), now).await.unwrap();
        assert_eq!(many.count, 7, "a key that cannot be found still counts");
        assert_eq!(many.single_name, None);
        assert_eq!(many.names, ["six", "five", "four", "three", "two"]);

        let missing = preview(&store, Selection::Ids(vec!["key_gone".into()]), now)
            .await
            .unwrap();
        assert_eq!((missing.count, missing.single_name), (1, None));
    }

    #[tokio::test]
    async fn previews_of_many_ticked_keys_use_one_listing() {
        let names: Vec<String> = (0..FETCH_ONE_BY_ONE + 10)
            .map(|i| format!("k{i}"))
            .collect();
        let (_dir, store, keys) = store_with(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
        let many = preview(&store, Selection::Ids(ids), Utc::now())
            .await
            .unwrap();
        assert_eq!(many.count, keys.len());
        assert_eq!(
            many.names,
            ["k0", "k1", "k2", "k3", "k4"],
            "selection order"
        );
    }

    #[tokio::test]
    async fn previews_of_a_query_leave_revoked_keys_out() {
        let (_dir, store, keys) = store_with(&["ci-a", "ci-b", "laptop"]);
        store.revoke_sync(&keys[0].id, None).unwrap();
        let query = ListQuery {
            search: Some("ci".into()),
            ..ListQuery::default()
        };
        let preview = preview(&store, Selection::Query(query), Utc::now())
            .await
            .unwrap();
        assert_eq!(preview.count, 1);
        assert_eq!(preview.single_name.as_deref(), Some("ci-b"));
    }

    #[test]
    fn recently_used_means_within_seven_days() {
        let now = Utc::now();
        let keys = [
            key("today", Some(now - Duration::hours(1))),
            key("edge", Some(now - Duration::days(RECENTLY_USED_DAYS))),
            key(
                "old",
                Some(now - Duration::days(RECENTLY_USED_DAYS) - Duration::minutes(1)),
            ),
            key("never", None),
        ];
        let preview = summarize(keys.len(), &keys, now);
        assert_eq!(preview.recently_used, 2);
        assert_eq!(preview.count, 4);
        assert_eq!(preview.names, ["today", "edge", "old", "never"]);
        assert_eq!(
            serde_json::to_value(&preview).unwrap(),
            serde_json::json!({"count": 4, "single_name": null, "recently_used": 2,
                               "names": ["today", "edge", "old", "never"]})
        );
    }
}
