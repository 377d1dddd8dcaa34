//! Listings run entirely in SQL: search, status and owner filters, sort and paging.
//!
//! The SQL text is assembled only from the fixed fragments below; every user value is a bound
//! parameter. Where SQLite's planner, which has no statistics here, would pick a slow plan, the
//! fragments steer it: see [`build`]'s search and status filters.

use crate::row::key_columns;
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

/// `name_matches` must be given when the query has a search.
pub(crate) fn build(query: &ListQuery, now_ms: i64, name_matches: Option<NameMatches>) -> ListSql {
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
        let expiring = "revoked_at IS NULL \
             AND ifnull(expires_at, 9223372036854775807) > :now \
             AND ifnull(expires_at, 9223372036854775807) <= :expires_before";
        page_conditions.push(expiring);
        count_conditions.push(expiring);
        params.push((
            ":expires_before",
            Box::new(now_ms.saturating_add(days_ms(days))),
        ));
        known_total = None;
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
    // Each expression matches an index (migrations 1 and 3) exactly, so SQLite walks the index.
    let columns: &[&str] = match query.sort {
        SortField::Created => &["created_at"],
        SortField::Expires => &["ifnull(expires_at, 9223372036854775807)"],
        SortField::Name => &["name COLLATE NOCASE"],
        SortField::LastUsed => &["last_used_at"],
        // Owners as written (`org:…` before `user:…`), keys without an owner after them all.
        SortField::Owner => &["owner_kind IS NULL", "owner_kind", "owner_id"],
        // Active, expired, revoked: depends on the time, so no index can hold it; SQLite keeps
        // the best `offset + limit` rows while it scans.
        SortField::Status => &[
            "revoked_at IS NOT NULL",
            "(revoked_at IS NULL AND ifnull(expires_at, 9223372036854775807) <= :now)",
        ],
    };
    if query.sort == SortField::Status && !params.iter().any(|(name, _)| *name == ":now") {
        params.push((":now", Box::new(now_ms)));
    }
    let order: Vec<String> = columns
        .iter()
        .chain(&["seq"])
        .map(|column| format!("{column} {direction}"))
        .collect();
    let page = format!(
        concat!(
            "SELECT ",
            key_columns!(),
            " FROM keys {} ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        where_clause(&page_conditions),
        order = order.join(", "),
    );
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

/// `%search%` with `LIKE`'s own wildcards escaped.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
