//! `keyward keys list`

use super::{block_on, Session};
use crate::cli::ListArgs;
use crate::output::{self, Exit};
use keyward_core::{Error, ListQuery, Page, Result, SortField};
use keyward_ops::list::MarkedKey;
use serde::Serialize;

/// The `--json` shape: like [`Page`], but with the 1-based page number people typed, and each key
/// marked with whether its secret is saved in the keychain.
#[derive(Serialize)]
struct ListJson<'a> {
    items: &'a [MarkedKey],
    page: u32,
    limit: u32,
    total: Option<u64>,
    has_more: bool,
}

pub fn run(session: &Session, args: ListArgs, json: bool) -> Result<Exit> {
    let query = query(args)?;
    let backend = session.open()?;
    let host = session.host();
    let listed = block_on(keyward_ops::list::list(backend.as_ref(), &host, query))?;
    let page = &listed.page;
    if json {
        output::print_json(&ListJson {
            items: &page.items,
            // Pages count from 1 on the command line.
            page: page.page + 1,
            limit: page.limit,
            total: page.total,
            has_more: page.has_more,
        })?;
    } else {
        output::print(&render(page))?;
        if let Some(error) = &listed.marks_error {
            output::note(&format!(
                "note: the KEYCHAIN column is empty: {}",
                output::clean(&error.to_string())
            ));
        }
    }
    Ok(Exit::Ok)
}

fn query(args: ListArgs) -> Result<ListQuery> {
    let page = args
        .page
        .checked_sub(1)
        .ok_or_else(|| Error::invalid("page", "starts at 1"))?;
    ListQuery {
        sort: SortField::parse(&args.sort)?,
        descending: !args.asc,
        page,
        limit: args.limit,
        ..super::filter::query(&args.filter)?
    }
    .validated()
}

const NAME_WIDTH: usize = 40;

fn render(page: &Page<MarkedKey>) -> String {
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|marked| {
            let (key, saved) = (&marked.key, marked.saved_in_keychain);
            vec![
                output::clean(&key.id),
                output::cell(&key.name, NAME_WIDTH),
                key.owner
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |o| output::clean(&o.to_string())),
                match marked.revoke_scheduled_at {
                    Some(_) => format!("{} (revoke scheduled)", key.status.as_str()),
                    None => key.status.as_str().to_owned(),
                },
                output::time(key.created_at),
                output::expiry(key.expires_at),
                key.last_used_at
                    .map_or_else(|| "-".to_owned(), output::time),
                key.stub
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), output::clean),
                if saved { "saved" } else { "-" }.to_owned(),
            ]
        })
        .collect();
    let mut text = if rows.is_empty() {
        "No keys match.\n".to_owned()
    } else {
        output::table(
            &[
                "ID",
                "NAME",
                "OWNER",
                "STATUS",
                "CREATED",
                "EXPIRES",
                "LAST USED",
                "STUB",
                "KEYCHAIN",
            ],
            &rows,
        )
    };
    text.push_str(&footer(page));
    text
}

fn footer<T>(page: &Page<T>) -> String {
    let number = page.page + 1;
    match page.total {
        Some(total) => {
            let pages = total.div_ceil(u64::from(page.limit.max(1))).max(1);
            let noun = if total == 1 { "key" } else { "keys" };
            format!("page {number} of {pages} · {total} {noun}\n")
        }
        None if page.has_more => format!("page {number} · more on page {}\n", number + 1),
        None => format!("page {number}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: Option<u64>, page_index: u32, has_more: bool) -> Page<MarkedKey> {
        Page {
            items: vec![],
            page: page_index,
            limit: 50,
            total,
            has_more,
        }
    }

    #[test]
    fn footer_counts_pages_from_one() {
        assert_eq!(footer(&page(Some(0), 0, false)), "page 1 of 1 · 0 keys\n");
        assert_eq!(footer(&page(Some(1), 0, false)), "page 1 of 1 · 1 key\n");
        assert_eq!(
            footer(&page(Some(101), 1, true)),
            "page 2 of 3 · 101 keys\n"
        );
        assert_eq!(footer(&page(None, 0, true)), "page 1 · more on page 2\n");
    }

    #[test]
    fn page_zero_is_refused() {
        let args = ListArgs {
            filter: crate::cli::FilterArgs::default(),
            sort: "created".into(),
            asc: false,
            limit: 50,
            page: 0,
        };
        assert_eq!(query(args).unwrap_err().field(), Some("page"));
    }
}
