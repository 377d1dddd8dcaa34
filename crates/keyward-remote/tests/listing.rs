//! Every adapter honours every listing filter and sort against its emulator, and the snapshot
//! that answers what a server cannot is read once per TTL, dropped on create and patched on
//! revoke.

mod common;

use chrono::{Duration, Utc};
use common::{emulator, fast_http};
use keyward_core::{
    sort_keys, ApiKey, Expiration, ExpiryPreset, KeyBackend, KeyStatus, ListQuery, NewKey,
    SortField, StatusFilter, Subject,
};
use keyward_emulators::{Emulator, Flavor, SeedOwner, SeedSpec};
use keyward_remote::{
    list_all, ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend,
    FreeSewingConfig, PropelAuthApi, PropelAuthBackend, PropelAuthConfig,
};
use secrecy::SecretString;

/// The four adapters, each on its own emulator.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Adapter {
    Clerk,
    FreeSewing,
    PropelAuthBackend,
    PropelAuthFrontend,
}

const ADAPTERS: [Adapter; 4] = [
    Adapter::Clerk,
    Adapter::FreeSewing,
    Adapter::PropelAuthBackend,
    Adapter::PropelAuthFrontend,
];

struct Case {
    adapter: Adapter,
    emulator: Emulator,
    backend: Box<dyn KeyBackend>,
}

impl Case {
    async fn start(adapter: Adapter) -> Case {
        let flavor = match adapter {
            Adapter::Clerk => Flavor::Clerk,
            Adapter::FreeSewing => Flavor::FreeSewing,
            Adapter::PropelAuthBackend | Adapter::PropelAuthFrontend => Flavor::PropelAuth,
        };
        let emulator = emulator(flavor).await;
        let base_url = emulator.base_url();
        let backend: Box<dyn KeyBackend> = match adapter {
            Adapter::Clerk => {
                let credentials = emulator.credentials().clerk().unwrap().clone();
                Box::new(
                    ClerkBackend::new(ClerkConfig {
                        base_url,
                        secret_key: SecretString::from(credentials.secret_key),
                        path: ClerkPath::Root,
                        default_subject: Some(Subject::User(credentials.user_id)),
                        http: fast_http(),
                    })
                    .unwrap(),
                )
            }
            Adapter::FreeSewing => {
                let credentials = emulator.credentials().freesewing().unwrap().clone();
                Box::new(
                    FreeSewingBackend::new(FreeSewingConfig {
                        base_url,
                        auth: FreeSewingAuth::Jwt {
                            token: SecretString::from(credentials.jwt),
                        },
                        http: fast_http(),
                    })
                    .unwrap(),
                )
            }
            Adapter::PropelAuthBackend => {
                let credentials = emulator.credentials().propelauth().unwrap().clone();
                Box::new(
                    PropelAuthBackend::new(PropelAuthConfig {
                        base_url,
                        api: PropelAuthApi::Backend {
                            integration_key: SecretString::from(credentials.integration_key),
                            auth_url: None,
                        },
                        default_subject: Some(Subject::User(credentials.user_id)),
                        http: fast_http(),
                    })
                    .unwrap(),
                )
            }
            Adapter::PropelAuthFrontend => Box::new(
                PropelAuthBackend::new(PropelAuthConfig {
                    base_url,
                    api: PropelAuthApi::Frontend {
                        session_cookie: SecretString::from(emulator.propelauth_session().unwrap()),
                    },
                    default_subject: None,
                    http: fast_http(),
                })
                .unwrap(),
            ),
        };
        // 40 of the user's keys: every 4th never expires (FreeSewing: in 365 days), the next has
        // expired up to 30 days ago, the other two expire within the next 30 days.
        emulator.seed_with(&SeedSpec {
            expiring_within_days: Some(30),
            ..SeedSpec::new(40, SeedOwner::User)
        });
        Case {
            adapter,
            emulator,
            backend,
        }
    }

    /// Whether revoked keys stay listed (Clerk's flag, PropelAuth's archive).
    fn keeps_revoked(&self) -> bool {
        matches!(self.adapter, Adapter::Clerk | Adapter::PropelAuthBackend)
    }

    async fn list(&self, query: ListQuery) -> keyward_core::Page<ApiKey> {
        self.backend
            .list(&query)
            .await
            .unwrap_or_else(|e| panic!("{:?} {query:?}: {e}", self.adapter))
    }

    /// Every key the server lists, read page by page in the server's own order.
    async fn truth(&self) -> Vec<ApiKey> {
        list_all(
            self.backend.as_ref(),
            &ListQuery {
                limit: 100,
                ..ListQuery::default()
            },
            4,
        )
        .await
        .unwrap()
    }

    fn list_requests(&self) -> u64 {
        self.emulator
            .stats()
            .iter()
            .filter(|(route, _)| route.starts_with("GET "))
            .map(|(_, count)| count)
            .sum()
    }
}

fn all(query: ListQuery) -> ListQuery {
    ListQuery {
        limit: 1000,
        ..query
    }
}

fn sorted_ids(keys: &[ApiKey]) -> Vec<String> {
    let mut ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    ids.sort();
    ids
}

/// The value a sort orders by, to compare orders where ties may fall either way.
fn sort_value(key: &ApiKey, sort: SortField) -> String {
    match sort {
        SortField::Created => key.created_at.timestamp_millis().to_string(),
        SortField::Expires => format!("{:?}", key.expires_at),
        SortField::Name => key.name.to_lowercase(),
        SortField::LastUsed => format!("{:?}", key.last_used_at),
        SortField::Owner => format!("{:?}", key.owner),
        SortField::Status => key.status.as_str().to_owned(),
    }
}

#[tokio::test]
async fn every_filter_works_on_every_backend() {
    for adapter in ADAPTERS {
        let case = Case::start(adapter).await;
        let truth = case.truth().await;
        assert!(truth.len() >= 30, "{adapter:?}: {}", truth.len());
        let now = Utc::now();
        let expected = |query: &ListQuery| -> Vec<String> {
            let kept: Vec<ApiKey> = truth
                .iter()
                .filter(|k| query.matches(k, now))
                .cloned()
                .collect();
            sorted_ids(&kept)
        };

        // Expiring within 30 days: the seeded 20 (and nothing that never expires or expired).
        let expiring = all(ListQuery {
            expires_within_days: Some(30),
            ..ListQuery::default()
        });
        let page = case.list(expiring.clone()).await;
        assert_eq!(sorted_ids(&page.items), expected(&expiring), "{adapter:?}");
        assert_eq!(page.total, Some(page.items.len() as u64), "{adapter:?}");
        assert!(page.items.len() >= 20, "{adapter:?}: {}", page.items.len());
        for key in &page.items {
            assert_eq!(key.status, KeyStatus::Active, "{adapter:?}");
            let at = key.expires_at.expect("expiring keys expire");
            assert!(
                at > now && at <= now + Duration::days(30),
                "{adapter:?} {at}"
            );
        }
        // Within 7 days: fewer, and a subset.
        let soon = all(ListQuery {
            expires_within_days: Some(7),
            ..ListQuery::default()
        });
        let within_7 = case.list(soon.clone()).await;
        assert_eq!(sorted_ids(&within_7.items), expected(&soon), "{adapter:?}");
        assert!(
            !within_7.items.is_empty() && within_7.items.len() < page.items.len(),
            "{adapter:?}"
        );

        // Usage: the emulators' seeded keys were never used.
        let never = all(ListQuery {
            never_used: true,
            ..ListQuery::default()
        });
        let never_used = case.list(never.clone()).await;
        assert_eq!(
            sorted_ids(&never_used.items),
            expected(&never),
            "{adapter:?}"
        );
        // (The frontend API lists active keys only: not the 10 expired ones.)
        assert!(never_used.items.len() >= 30, "{adapter:?}");
        let unused = all(ListQuery {
            unused_for_days: Some(30),
            ..ListQuery::default()
        });
        assert_eq!(
            sorted_ids(&case.list(unused.clone()).await.items),
            expected(&unused),
            "{adapter:?}"
        );

        // Statuses, alone and with a filter; a search with a sort the server lacks.
        let mut statuses = vec![StatusFilter::All, StatusFilter::Active];
        if adapter != Adapter::PropelAuthFrontend {
            statuses.extend([StatusFilter::Expired]);
        }
        for status in statuses {
            for expires_within_days in [None, Some(30)] {
                let query = all(ListQuery {
                    status,
                    expires_within_days,
                    search: Some("KEY-1".into()),
                    sort: SortField::Name,
                    ..ListQuery::default()
                });
                let page = case.list(query.clone()).await;
                assert_eq!(
                    sorted_ids(&page.items),
                    expected(&query),
                    "{adapter:?} {query:?}"
                );
                assert_eq!(page.total, Some(page.items.len() as u64));
            }
        }
        if adapter != Adapter::PropelAuthFrontend {
            let expired = case
                .list(all(ListQuery {
                    status: StatusFilter::Expired,
                    ..ListQuery::default()
                }))
                .await;
            assert!(expired.items.len() >= 10, "{adapter:?}");
            assert!(expired.items.iter().all(|k| k.status == KeyStatus::Expired));
        }
    }
}

#[tokio::test]
async fn every_sort_works_both_ways_on_every_backend() {
    for adapter in ADAPTERS {
        let case = Case::start(adapter).await;
        let truth = case.truth().await;
        for sort in SortField::ALL {
            for descending in [false, true] {
                let query = all(ListQuery {
                    sort,
                    descending,
                    ..ListQuery::default()
                });
                let page = case.list(query).await;
                let mut want = truth.clone();
                sort_keys(&mut want, sort, descending);
                let got_order: Vec<String> =
                    page.items.iter().map(|k| sort_value(k, sort)).collect();
                let want_order: Vec<String> = want.iter().map(|k| sort_value(k, sort)).collect();
                assert_eq!(
                    got_order, want_order,
                    "{adapter:?} {sort:?} desc={descending}"
                );
                assert_eq!(sorted_ids(&page.items), sorted_ids(&truth), "{adapter:?}");
            }
        }
        // Expiry ascending: soonest first, never-expiring keys last (FreeSewing has none).
        let by_expiry = case
            .list(ListQuery {
                sort: SortField::Expires,
                descending: false,
                status: StatusFilter::Active,
                limit: 1000,
                ..ListQuery::default()
            })
            .await;
        let first = by_expiry.items.first().and_then(|k| k.expires_at).unwrap();
        assert!(first > Utc::now() && first <= Utc::now() + Duration::days(30));
        if adapter != Adapter::FreeSewing {
            assert_eq!(
                by_expiry.items.last().unwrap().expires_at,
                None,
                "{adapter:?}"
            );
        }
        // Paging a snapshot: pages of 7 by name cover everything once, with exact totals.
        let mut paged = Vec::new();
        for page in 0.. {
            let result = case
                .list(ListQuery {
                    sort: SortField::Name,
                    descending: false,
                    page,
                    limit: 7,
                    ..ListQuery::default()
                })
                .await;
            assert_eq!(result.total, Some(truth.len() as u64), "{adapter:?}");
            paged.extend(result.items);
            if !result.has_more {
                break;
            }
        }
        assert_eq!(sorted_ids(&paged), sorted_ids(&truth), "{adapter:?}");
        assert_eq!(
            case.backend.capabilities().sorts,
            SortField::ALL,
            "{adapter:?}"
        );
    }
}

#[tokio::test]
async fn queries_within_the_ttl_cost_no_list_request() {
    for adapter in ADAPTERS {
        let case = Case::start(adapter).await;
        let before = case.list_requests();
        case.list(ListQuery {
            sort: SortField::Name,
            ..ListQuery::default()
        })
        .await;
        let reads = case.list_requests() - before;
        // One page of 100 per listing: 41 keys need one request per listing read.
        let most = match adapter {
            Adapter::PropelAuthBackend => 2, // the active listing and the archive
            _ => 1,
        };
        assert!((1..=most).contains(&reads), "{adapter:?}: {reads}");

        case.emulator.reset_stats();
        for query in [
            ListQuery {
                sort: SortField::Owner,
                ..ListQuery::default()
            },
            ListQuery {
                sort: SortField::Status,
                descending: false,
                page: 2,
                limit: 5,
                ..ListQuery::default()
            },
            ListQuery {
                expires_within_days: Some(7),
                ..ListQuery::default()
            },
            ListQuery {
                never_used: true,
                sort: SortField::Expires,
                ..ListQuery::default()
            },
            ListQuery {
                unused_for_days: Some(90),
                search: Some("seeded".into()),
                sort: SortField::LastUsed,
                ..ListQuery::default()
            },
        ] {
            case.list(query).await;
        }
        case.backend.owners().await.unwrap();
        assert_eq!(case.emulator.request_count(), 0, "{adapter:?}");
    }
}

#[tokio::test]
async fn a_revoke_shows_in_the_next_listing_and_a_create_is_read_again() {
    for adapter in ADAPTERS {
        let case = Case::start(adapter).await;
        let by_name = ListQuery {
            sort: SortField::Name,
            descending: false,
            limit: 1000,
            ..ListQuery::default()
        };
        let before = case.list(by_name.clone()).await;
        let victim = before
            .items
            .iter()
            .find(|k| k.status == KeyStatus::Active && k.expires_at.is_some())
            .unwrap()
            .clone();
        case.backend.revoke(&victim.id, None).await.unwrap();

        case.emulator.reset_stats();
        let after = case.list(by_name.clone()).await;
        assert_eq!(
            case.list_requests(),
            0,
            "{adapter:?}: patched, not read again"
        );
        let listed = after.items.iter().find(|k| k.id == victim.id);
        if case.keeps_revoked() {
            assert_eq!(listed.unwrap().status, KeyStatus::Revoked, "{adapter:?}");
            assert_eq!(after.total, before.total);
        } else {
            assert!(listed.is_none(), "{adapter:?}");
            assert_eq!(after.total, before.total.map(|t| t - 1));
        }
        // The server agrees once the snapshot is gone (a new backend has none).
        let expiring = case
            .list(all(ListQuery {
                expires_within_days: Some(3650),
                ..ListQuery::default()
            }))
            .await;
        assert!(
            expiring.items.iter().all(|k| k.id != victim.id),
            "{adapter:?}"
        );
        let active = case
            .list(all(ListQuery {
                status: StatusFilter::Active,
                ..ListQuery::default()
            }))
            .await;
        assert!(
            active.items.iter().all(|k| k.id != victim.id),
            "{adapter:?}"
        );

        // A key made through the adapter drops the snapshots: the next listing reads again.
        let mut new = NewKey::named("zz fresh key", Expiration::Preset(ExpiryPreset::TwoWeeks));
        if adapter == Adapter::FreeSewing {
            new.level = Some(2);
        }
        let created = case.backend.create(new).await.unwrap().key;
        case.emulator.reset_stats();
        let again = case.list(by_name.clone()).await;
        assert!(case.list_requests() > 0, "{adapter:?}");
        assert_eq!(
            again.items.last().map(|k| &k.id),
            Some(&created.id),
            "{adapter:?}"
        );
        let soon = case
            .list(all(ListQuery {
                expires_within_days: Some(15),
                never_used: true,
                ..ListQuery::default()
            }))
            .await;
        assert!(soon.items.iter().any(|k| k.id == created.id), "{adapter:?}");
    }
}

#[tokio::test]
async fn a_zero_ttl_reads_every_time_and_owners_come_from_the_keys() {
    let case = Case::start(Adapter::Clerk).await;
    let credentials = case.emulator.credentials().clerk().unwrap().clone();
    let clerk = ClerkBackend::new(ClerkConfig {
        base_url: case.emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: fast_http(),
    })
    .unwrap()
    .with_snapshot_ttl(std::time::Duration::ZERO);
    let by_name = ListQuery {
        sort: SortField::Name,
        ..ListQuery::default()
    };
    case.emulator.reset_stats();
    clerk.list(&by_name).await.unwrap();
    clerk.list(&by_name).await.unwrap();
    assert_eq!(case.emulator.request_count(), 2);
    assert_eq!(
        clerk.owners().await.unwrap(),
        [Subject::User(credentials.user_id)]
    );

    // Clerk's usage times: a verified key is used, so neither "never used" nor "unused".
    let created = clerk
        .create(NewKey::named("used key", Expiration::default()))
        .await
        .unwrap();
    assert!(clerk.verify(&created.secret).await.unwrap().is_valid());
    for query in [
        ListQuery {
            never_used: true,
            ..all(ListQuery::default())
        },
        ListQuery {
            unused_for_days: Some(1),
            ..all(ListQuery::default())
        },
    ] {
        let page = clerk.list(&query).await.unwrap();
        assert!(page.items.iter().all(|k| k.id != created.key.id));
        assert_eq!(page.total, Some(40), "the seeded keys");
    }
    let by_use = clerk
        .list(&ListQuery {
            sort: SortField::LastUsed,
            descending: true,
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_use.items[0].id, created.key.id);
    assert!(by_use.items[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_refresh_reads_keys_changed_elsewhere_within_the_ttl() {
    for adapter in ADAPTERS {
        let case = Case::start(adapter).await;
        let by_name = ListQuery {
            sort: SortField::Name,
            ..ListQuery::default()
        };
        let before = case.list(by_name.clone()).await.total;
        // Keys made by someone else, straight on the server: the snapshot cannot know.
        case.emulator.seed_with(&SeedSpec {
            name_prefix: "elsewhere-".into(),
            ..SeedSpec::new(3, SeedOwner::User)
        });
        assert_eq!(
            case.list(by_name.clone()).await.total,
            before,
            "{adapter:?}"
        );
        case.backend.forget_cached();
        let after = case.list(by_name).await.total;
        assert_eq!(
            after.zip(before).map(|(a, b)| a - b),
            Some(3),
            "{adapter:?}: a refresh reads the server again"
        );
    }
}
