//! Listings run entirely in SQL: search, status and owner filters, sort and paging.
//!
//! The SQL text is assembled only from the fixed fragments below; every user value is a bound
//! parameter. Where SQLite's planner, which has no statistics here, would pick a slow plan, the
//! fragments steer it: see [`build`]'s search and status filters.

use crate::row::key_columns;
use crate::sqlite::like_pattern;
use keyward_core::{ListQuery, SortField, StatusFilter};
use rusqlite::types::{ToSql, Value};
use rusqlite::vtab::array::Array;
use rusqlite::Connection;
use std::rc::Rc;

/// Searches this long or longer use the trigram index; shorter ones cannot (a trigram is three
/// characters) and scan the name index with `LIKE`.
const TRIGRAM_MIN_CHARS: usize = 3;

/// The keys whose name contains the search (or whose id is the search), found before the listing
/// runs: the count is then known, and it tells which plan fetches the page fastest.
pub(crate) struct NameMatches {
    /// Matching `keys.seq`, bound as `rarray(:matches)`.
    pub rows: Array,
    /// About how many keys there are.
    pub table_rows: u64,
    /// `%search%` for `LIKE`, when the search is too short for the trigram index.
    pub like_pattern: Option<String>,
}

impl NameMatches {
    pub(crate) fn find(conn: &Connection, search: &str) -> rusqlite::Result<NameMatches> {
        let like_pattern =
            (search.chars().count() < TRIGRAM_MIN_CHARS).then(|| like_pattern(search));
        let mut rows = match &like_pattern {
            // The name index holds every name: scanning it beats reading the table.
            Some(pattern) => collect_rows(
                conn,
                "SELECT seq FROM keys INDEXED BY keys_by_name WHERE name LIKE ?1 ESCAPE '\\'",
                pattern.clone(),
            )?,
            // One FTS5 phrase: no query syntax, only a substring of the name.
            None => collect_rows(
                conn,
                "SELECT rowid FROM keys_fts WHERE keys_fts MATCH ?1",
                format!("\"{}\"", search.replace('"', "\"\"")),
            )?,
        };
        if crate::store::is_key_id(search) {
            for row in collect_rows(
                conn,
                "SELECT seq FROM keys WHERE id = ?1",
                search.to_owned(),
            )? {
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        // Keys are never deleted, so the highest row number is the row count.
        let table_rows: Option<i64> = conn
            .prepare_cached("SELECT max(seq) FROM keys")?
            .query_row([], |r| r.get(0))?;
        Ok(NameMatches {
            rows: Rc::new(rows),
            table_rows: table_rows.unwrap_or(0) as u64,
            like_pattern,
        })
    }
}

/// How many active keys expire within the query's days, counted on the status index before the
/// listing runs: it tells whether walking the sort order or reading those keys is faster.
pub(crate) struct ExpiringCount {
    pub count: u64,
    pub table_rows: u64,
}

impl ExpiringCount {
    pub(crate) fn find(conn: &Connection, now_ms: i64, days: u32) -> rusqlite::Result<Self> {
        let count: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM keys WHERE revoked_at IS NULL \
                 AND ifnull(expires_at, 9223372036854775807) > ?1 \
                 AND ifnull(expires_at, 9223372036854775807) <= ?2",
            )?
            .query_row((now_ms, now_ms.saturating_add(days_ms(days))), |r| r.get(0))?;
        let table_rows: Option<i64> = conn
            .prepare_cached("SELECT max(seq) FROM keys")?
            .query_row([], |r| r.get(0))?;
        Ok(ExpiringCount {
            count: count as u64,
            table_rows: table_rows.unwrap_or(0) as u64,
        })
    }
}

fn collect_rows(conn: &Connection, sql: &str, param: String) -> rusqlite::Result<Vec<Value>> {
    conn.prepare_cached(sql)?
        .query_map([param], |r| r.get::<_, i64>(0).map(Value::Integer))?
        .collect()
}

pub(crate) enum Total {
    Known(u64),
    /// Run this `SELECT count(*)`.
    Count(String),
}

pub(crate) struct ListSql {
    /// The page's `SELECT`; it also takes `:limit` and `:offset`.
    pub page: String,
    pub total: Total,
    params: Vec<(&'static str, Box<dyn ToSql>)>,
}

impl ListSql {
    /// The parameters `sql` names (no parameter name is a prefix of another).
    pub(crate) fn params_for(&self, sql: &str) -> Vec<(&'static str, &dyn ToSql)> {
        self.params
            .iter()
            .filter(|(name, _)| sql.contains(name))
            .map(|(name, value)| (*name, value.as_ref()))
            .collect()
    }
}

/// `name_matches` must be given when the query has a search, `expiring` when it has
/// `expires_within_days` (else the plan is left to SQLite).
pub(crate) fn build(
    query: &ListQuery,
    now_ms: i64,
    name_matches: Option<NameMatches>,
    expiring: Option<ExpiringCount>,
) -> ListSql {
    // The page and the count filter the same rows but may need different plans, so each gets
    // its own text; each binds the parameters its text names.
    let mut page_conditions: Vec<&str> = Vec::new();
    let mut count_conditions: Vec<&str> = Vec::new();
    let mut params: Vec<(&'static str, Box<dyn ToSql>)> = Vec::new();
    let mut known_total = None;

    if let Some(matches) = name_matches {
        let count = matches.rows.len() as u64;
        // Walking the sort order meets a page's worth of matches after about
        // (offset + limit) * rows / matches keys; the other plan looks up every match and sorts
        // them. `+seq` keeps SQLite from the lookup plan.
        let wanted = query.offset() + u64::from(query.limit);
        let walk = wanted.saturating_mul(matches.table_rows) / count.max(1) < count;
        page_conditions.push(match (&matches.like_pattern, walk) {
            // Testing the walked names is cheaper than building a set of many matches.
            (Some(_), true) => "name LIKE :pattern ESCAPE '\\'",
            (_, true) => "+seq IN rarray(:matches)",
            (_, false) => "seq IN rarray(:matches)",
        });
        count_conditions.push("seq IN rarray(:matches)");
        params.push((":matches", Box::new(matches.rows)));
        if let Some(pattern) = matches.like_pattern {
            params.push((":pattern", Box::new(pattern)));
        }
        known_total = Some(count);
    }

    // The count uses the status index; a page of active keys (most of them) instead walks its
    // sort order, which `+` and `likely` tell the planner.
    let status = match query.status {
        StatusFilter::All => None,
        StatusFilter::Active => Some((
            "+revoked_at IS NULL AND likely(ifnull(expires_at, 9223372036854775807) > :now)",
            "revoked_at IS NULL AND ifnull(expires_at, 9223372036854775807) > :now",
        )),
        StatusFilter::Expired => Some((
            "revoked_at IS NULL AND ifnull(expires_at, 9223372036854775807) <= :now",
            "revoked_at IS NULL AND ifnull(expires_at, 9223372036854775807) <= :now",
        )),
        StatusFilter::Revoked => Some(("revoked_at IS NOT NULL", "revoked_at IS NOT NULL")),
    };
    if let Some((page, count)) = status {
        page_conditions.push(page);
        count_conditions.push(count);
        known_total = None;
    }

    // Expiring within N days: active keys whose expiry lies in (now, now + N days]. Bounding
    // the status index's expiry from both sides keeps this a range scan.
    if let Some(days) = query.expires_within_days {
        let indexed = "revoked_at IS NULL \
             AND ifnull(expires_at, 9223372036854775807) > :now \
             AND ifnull(expires_at, 9223372036854775807) <= :expires_before";
        // Many matches: walking the sort order meets a page of them soon, while reading every
        // match through the status index and sorting costs a row lookup each. `+` keeps SQLite
        // off the index. Sorted by expiry, the expiry index does both.
        let walk = expiring.as_ref().is_some_and(|e| {
            let wanted = query.offset() + u64::from(query.limit);
            wanted.saturating_mul(e.table_rows) / e.count.max(1) < e.count
        }) && query.sort != SortField::Expires;
        page_conditions.push(if walk {
            "+revoked_at IS NULL \
             AND +ifnull(expires_at, 9223372036854775807) > :now \
             AND +ifnull(expires_at, 9223372036854775807) <= :expires_before"
        } else {
            indexed
        });
        count_conditions.push(indexed);
        // Counted already when it is the only filter.
        known_total = expiring
            .as_ref()
            .filter(|_| count_conditions.len() == 1)
            .map(|e| e.count);
        params.push((
            ":expires_before",
            Box::new(now_ms.saturating_add(days_ms(days))),
        ));
    }
    // Last used is written behind; the store flushes pending times before listing.
    if query.never_used {
        page_conditions.push("last_used_at IS NULL");
        count_conditions.push("last_used_at IS NULL");
        known_total = None;
    }
    if let Some(days) = query.unused_for_days {
        let unused = "(last_used_at IS NULL OR last_used_at < :unused_before)";
        page_conditions.push(unused);
        count_conditions.push(unused);
        params.push((
            ":unused_before",
            Box::new(now_ms.saturating_sub(days_ms(days))),
        ));
        known_total = None;
    }
    if page_conditions
        .iter()
        .chain(&count_conditions)
        .any(|c| c.contains(":now"))
    {
        params.push((":now", Box::new(now_ms)));
    }

    if let Some(owner) = &query.owner {
        params.push((":owner_kind", Box::new(owner.kind())));
        params.push((":owner_id", Box::new(owner.id().to_owned())));
        let owner = "owner_kind = :owner_kind AND owner_id = :owner_id";
        page_conditions.push(owner);
        count_conditions.push(owner);
        known_total = None;
    }

    let direction = if query.descending { "DESC" } else { "ASC" };
    // One status only (a status filter, or "expiring", which is active keys): the status order
    // is the row order.
    let one_status = query.status != StatusFilter::All || query.expires_within_days.is_some();
    // Each expression matches an index (migrations 1 and 3) exactly, so SQLite walks the index.
    let columns: &[&str] = match query.sort {
        SortField::Created => &["created_at"],
        SortField::Expires => &["ifnull(expires_at, 9223372036854775807)"],
        SortField::Name => &["name COLLATE NOCASE"],
        SortField::LastUsed => &["last_used_at"],
        // Owners as written (`org:…` before `user:…`), keys without an owner after them all.
        SortField::Owner => &["owner_kind IS NULL", "owner_kind", "owner_id"],
        SortField::Status => &[],
    };
    let order: Vec<String> = columns
        .iter()
        .chain(&["seq"])
        .map(|column| format!("{column} {direction}"))
        .collect();
    let page = if query.sort == SortField::Status && !one_status {
        if !params.iter().any(|(name, _)| *name == ":now") {
            params.push((":now", Box::new(now_ms)));
        }
        status_ordered_page(&page_conditions, direction)
    } else {
        format!(
            concat!(
                "SELECT ",
                key_columns!(),
                " FROM keys {} ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
            where_clause(&page_conditions),
            order = order.join(", "),
        )
    };
    let total = match known_total {
        Some(count) => Total::Known(count),
        None => Total::Count(format!(
            "SELECT count(*) FROM keys {}",
            where_clause(&count_conditions)
        )),
    };
    ListSql {
        page,
        total,
        params,
    }
}

/// Active, then expired, then revoked keys (or the reverse), each group in row order. Status
/// depends on the time, so no index holds this order; instead each group gives its first
/// `offset + limit` rows the fast way (active keys, most of them, by walking the rows; the few
/// expired and revoked ones through the status index) and only those are merged.
fn status_ordered_page(conditions: &[&str], direction: &str) -> String {
    let groups = [
        "+revoked_at IS NULL AND likely(ifnull(expires_at, 9223372036854775807) > :now)",
        "revoked_at IS NULL AND ifnull(expires_at, 9223372036854775807) <= :now",
        "revoked_at IS NOT NULL",
    ];
    let parts: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(rank, group)| {
            let mut all: Vec<&str> = conditions.to_vec();
            all.push(group);
            format!(
                concat!(
                    "SELECT * FROM (SELECT ",
                    key_columns!(),
                    ", {rank} AS status_rank FROM keys {where_clause} \
                     ORDER BY seq {direction} LIMIT :limit + :offset)"
                ),
                rank = rank,
                where_clause = where_clause(&all),
                direction = direction,
            )
        })
        .collect();
    format!(
        concat!(
            "SELECT ",
            key_columns!(),
            " FROM ({}) ORDER BY status_rank {direction}, seq {direction} \
             LIMIT :limit OFFSET :offset"
        ),
        parts.join(" UNION ALL "),
        direction = direction,
    )
}

fn days_ms(days: u32) -> i64 {
    i64::from(days) * 86_400_000
}

fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}
