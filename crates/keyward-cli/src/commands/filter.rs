//! The filter flags shared by `keys list` and `keys revoke`, as a [`ListQuery`].

use crate::cli::FilterArgs;
use keyward_core::{Error, ListQuery, Result, StatusFilter, Subject};

/// `--status expiring` without `--expiring-within`: a week.
pub const DEFAULT_EXPIRING_DAYS: u32 = 7;

/// The query the flags describe (first page, default sort), checked; errors name the flag.
pub fn query(filter: &FilterArgs) -> Result<ListQuery> {
    let mut expires_within_days = filter
        .expiring_within
        .as_deref()
        .map(|text| days("expiring-within", text))
        .transpose()?;
    let status = match filter.status.as_deref() {
        None => StatusFilter::All,
        Some(text) if text.trim().eq_ignore_ascii_case("expiring") => {
            expires_within_days.get_or_insert(DEFAULT_EXPIRING_DAYS);
            StatusFilter::Active
        }
        Some(text) => StatusFilter::parse(text).map_err(|_| {
            Error::invalid(
                "status",
                format!(
                    "'{}' is not a status: use active, expiring, expired, revoked or all",
                    crate::output::clean(text)
                ),
            )
        })?,
    };
    ListQuery {
        search: filter.search.clone(),
        status,
        owner: filter.owner.as_deref().map(Subject::parse).transpose()?,
        expires_within_days,
        never_used: filter.never_used,
        unused_for_days: filter
            .unused_for
            .as_deref()
            .map(|text| days("unused-for", text))
            .transpose()?,
        ..ListQuery::default()
    }
    .validated()
}

/// A day count, 1 to 3650 (`ListQuery::parse_days`, the one day-count rule).
fn days(field: &str, text: &str) -> Result<u32> {
    ListQuery::parse_days(field, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_a_query() {
        let q = query(&FilterArgs::default()).unwrap();
        assert_eq!(q, ListQuery::default());
        let q = query(&FilterArgs {
            search: Some(" deploy ".into()),
            status: Some("Expiring".into()),
            owner: Some("org:acme".into()),
            never_used: true,
            unused_for: Some("90".into()),
            ..FilterArgs::default()
        })
        .unwrap();
        assert_eq!(q.search.as_deref(), Some("deploy"));
        assert_eq!(q.status, StatusFilter::Active);
        assert_eq!(q.expires_within_days, Some(7));
        assert_eq!(q.owner, Some(Subject::Org("acme".into())));
        assert!(q.never_used);
        assert_eq!(q.unused_for_days, Some(90));
        let q = query(&FilterArgs {
            status: Some("expiring".into()),
            expiring_within: Some("30".into()),
            ..FilterArgs::default()
        })
        .unwrap();
        assert_eq!(q.expires_within_days, Some(30));
    }

    #[test]
    fn bad_flags_name_themselves() {
        for (filter, field) in [
            (
                FilterArgs {
                    expiring_within: Some("0".into()),
                    ..FilterArgs::default()
                },
                "expiring-within",
            ),
            (
                FilterArgs {
                    unused_for: Some("3651".into()),
                    ..FilterArgs::default()
                },
                "unused-for",
            ),
            (
                FilterArgs {
                    unused_for: Some("soon".into()),
                    ..FilterArgs::default()
                },
                "unused-for",
            ),
            (
                FilterArgs {
                    status: Some("gone".into()),
                    ..FilterArgs::default()
                },
                "status",
            ),
            (
                FilterArgs {
                    owner: Some("acme".into()),
                    ..FilterArgs::default()
                },
                "owner",
            ),
        ] {
            assert_eq!(query(&filter).unwrap_err().field(), Some(field));
        }
    }
}
