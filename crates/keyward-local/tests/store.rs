//! The local store's behaviour on real SQLite files: create, list, search, sort, page, filter,
//! revoke, verify, the trail, and that bad input writes nothing.

mod common;

use chrono::{Duration, Utc};
use common::{named, row_counts, temp_store};
use keyward_core::key_format;
use keyward_core::{
    ApiKey, Error, ErrorCode, Expiration, ExpiryPreset, KeyStatus, ListQuery, NewKey, SortField,
    StatusFilter, Subject, Verification,
};
use keyward_local::{LocalStore, TrailAction};
use secrecy::{ExposeSecret, SecretString};

fn list(store: &LocalStore, query: ListQuery) -> Vec<ApiKey> {
    store.list_sync(&query).expect("list").items
}

fn search(store: &LocalStore, text: &str) -> Vec<String> {
    let mut names: Vec<String> = list(
        store,
        ListQuery {
            search: Some(text.to_owned()),
            ..ListQuery::default()
        },
    )
    .into_iter()
    .map(|k| k.name)
    .collect();
    names.sort();
    names
}

fn ids(keys: &[ApiKey]) -> Vec<String> {
    keys.iter().map(|k| k.id.clone()).collect()
}

#[test]
fn create_returns_the_secret_once_and_reads_back_the_same_key() {
    let (_dir, store) = temp_store();
    let mut new = named("  laptop  ");
    new.owner = Some(Subject::User("u_1".into()));
    new.description = Some("for the train".into());
    let created = store.create_sync(new).unwrap();

    let secret = created.secret.expose_secret();
    key_format::check(secret).unwrap();
    let key = &created.key;
    assert!(
        key.id.starts_with("key_") && key.id.len() == 20,
        "{}",
        key.id
    );
    assert_eq!(key.name, "laptop", "the name is stored trimmed");
    assert_eq!(key.status, KeyStatus::Active);
    assert_eq!(
        key.stub.as_deref(),
        Some(key_format::stub(&created.secret).as_str())
    );
    assert!(key.expires_at.unwrap() > key.created_at);
    assert_eq!(store.get_sync(&key.id).unwrap(), *key);

    let trail = store.trail_sync(10).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, TrailAction::Create);
    assert_eq!(trail[0].key_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(trail[0].detail.as_deref(), Some("laptop"));
}

#[test]
fn list_is_newest_first_with_a_total() {
    let (_dir, store) = temp_store();
    let created: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| store.create_sync(named(n)).unwrap().key.id)
        .collect();
    let page = store.list_sync(&ListQuery::default()).unwrap();
    assert_eq!(page.total, Some(3));
    assert!(!page.has_more);
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(ids(&page.items), newest_first);
}

#[test]
fn search_matches_substrings_of_names_regardless_of_case() {
    let (_dir, store) = temp_store();
    let names = [
        "CI-Deploy laptop",
        "ci-deploy desktop",
        "billing prod",
        "100% sure",
        "under_score",
        "say \"hi\" twice",
        "it's mine",
        "Zürich office",
    ];
    for name in names {
        store.create_sync(named(name)).unwrap();
    }
    // Trigram index (3+ characters).
    assert_eq!(
        search(&store, "deploy"),
        ["CI-Deploy laptop", "ci-deploy desktop"]
    );
    assert_eq!(search(&store, "DEPLOY LAP"), ["CI-Deploy laptop"]);
    assert_eq!(search(&store, "\"hi\""), ["say \"hi\" twice"]);
    assert_eq!(search(&store, "t's"), ["it's mine"]);
    assert_eq!(search(&store, "0% s"), ["100% sure"]);
    assert_eq!(search(&store, "ZÜRICH"), ["Zürich office"]);
    assert!(search(&store, "nothing like it").is_empty());
    // LIKE (1-2 characters), with its wildcards taken literally.
    assert_eq!(
        search(&store, "Ci"),
        ["CI-Deploy laptop", "ci-deploy desktop"]
    );
    assert_eq!(search(&store, "%"), ["100% sure"]);
    assert_eq!(search(&store, "_"), ["under_score"]);
    assert_eq!(search(&store, "'s"), ["it's mine"]);
    assert_eq!(search(&store, "\""), ["say \"hi\" twice"]);
    assert!(search(&store, "zq").is_empty());
}

#[test]
fn search_finds_an_exact_key_id_and_counts_matches() {
    let (_dir, store) = temp_store();
    let target = store.create_sync(named("alpha")).unwrap().key;
    for i in 0..4 {
        store.create_sync(named(&format!("beta {i}"))).unwrap();
    }
    let page = store
        .list_sync(&ListQuery {
            search: Some(target.id.clone()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&page.items), vec![target.id.clone()]);
    assert_eq!(page.total, Some(1));
    let page = store
        .list_sync(&ListQuery {
            search: Some("beta".into()),
            limit: 3,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.has_more),
        (3, Some(4), true)
    );
}

/// Keys whose every sort field differs, created in a known order.
fn sortable_store() -> (tempfile::TempDir, LocalStore, Vec<ApiKey>) {
    let (dir, store) = temp_store();
    let specs = [
        ("charlie", Expiration::After(Duration::days(3))),
        ("Alpha", Expiration::Preset(ExpiryPreset::Never)),
        ("bravo", Expiration::After(Duration::days(1))),
        ("delta", Expiration::After(Duration::days(2))),
        ("Echo", Expiration::Preset(ExpiryPreset::Never)),
    ];
    let mut keys = Vec::new();
    let mut secrets = Vec::new();
    for (name, expiration) in specs {
        let created = store.create_sync(NewKey::named(name, expiration)).unwrap();
        keys.push(created.key);
        secrets.push(created.secret);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // delta used first, then alpha; the others never.
    for i in [3, 1] {
        assert!(store.verify_sync(&secrets[i]).unwrap().is_valid());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let keys = keys
        .iter()
        .map(|k| store.get_sync(&k.id).unwrap())
        .collect();
    (dir, store, keys)
}

#[test]
fn every_sort_works_in_both_directions() {
    let (_dir, store, keys) = sortable_store();
    let names =
        |order: &[usize]| -> Vec<String> { order.iter().map(|&i| keys[i].name.clone()).collect() };
    let cases: [(SortField, [usize; 5]); 4] = [
        // ascending orders; descending is the exact reverse
        (SortField::Created, [0, 1, 2, 3, 4]),
        (SortField::Name, [1, 2, 0, 3, 4]),
        // "never" is the latest expiry; ties fall back to creation order
        (SortField::Expires, [2, 3, 0, 1, 4]),
        // never used first (oldest), then by time of use
        (SortField::LastUsed, [0, 2, 4, 3, 1]),
    ];
    for (sort, ascending) in cases {
        for descending in [false, true] {
            let got: Vec<String> = list(
                &store,
                ListQuery {
                    sort,
                    descending,
                    ..ListQuery::default()
                },
            )
            .into_iter()
            .map(|k| k.name)
            .collect();
            let mut want = names(&ascending);
            if descending {
                want.reverse();
            }
            assert_eq!(got, want, "{sort:?} descending={descending}");
        }
    }
}

#[test]
fn pages_are_stable_and_complete() {
    let (_dir, store) = temp_store();
    for i in 0..23 {
        // Equal names force the row-number tie-break.
        store
            .create_sync(named(if i % 2 == 0 { "same" } else { "other same" }))
            .unwrap();
    }
    for (sort, search) in [
        (SortField::Created, None),
        (SortField::Name, None),
        (SortField::Name, Some("same")),
        (SortField::Expires, Some("me")),
    ] {
        let everything = ids(&list(
            &store,
            ListQuery {
                sort,
                search: search.map(str::to_owned),
                limit: 100,
                ..ListQuery::default()
            },
        ));
        assert_eq!(everything.len(), 23);
        let mut paged = Vec::new();
        for page in 0..5 {
            let result = store
                .list_sync(&ListQuery {
                    sort,
                    search: search.map(str::to_owned),
                    page,
                    limit: 5,
                    ..ListQuery::default()
                })
                .unwrap();
            assert_eq!(result.total, Some(23), "page {page}");
            assert_eq!(result.has_more, page < 4, "page {page}");
            paged.extend(ids(&result.items));
        }
        assert_eq!(paged, everything, "{sort:?} {search:?}");
        let past_the_end = store
            .list_sync(&ListQuery {
                sort,
                search: search.map(str::to_owned),
                page: 9,
                limit: 5,
                ..ListQuery::default()
            })
            .unwrap();
        assert!(past_the_end.items.is_empty());
        assert_eq!(
            (past_the_end.total, past_the_end.has_more),
            (Some(23), false)
        );
    }
}

#[test]
fn owner_filter_matches_kind_and_id() {
    let (_dir, store) = temp_store();
    let owners = [
        Some(Subject::User("ana".into())),
        Some(Subject::Org("ana".into())),
        Some(Subject::User("bob".into())),
        None,
        Some(Subject::User("ana".into())),
    ];
    for (i, owner) in owners.iter().enumerate() {
        let mut new = named(&format!("k{i}"));
        new.owner = owner.clone();
        store.create_sync(new).unwrap();
    }
    let by = |owner: Subject| {
        let page = store
            .list_sync(&ListQuery {
                owner: Some(owner),
                search: Some("k".into()),
                ..ListQuery::default()
            })
            .unwrap();
        let mut names: Vec<String> = page.items.into_iter().map(|k| k.name).collect();
        names.sort();
        (names, page.total)
    };
    assert_eq!(
        by(Subject::User("ana".into())),
        (vec!["k0".to_owned(), "k4".to_owned()], Some(2))
    );
    assert_eq!(
        by(Subject::Org("ana".into())),
        (vec!["k1".to_owned()], Some(1))
    );
    assert_eq!(by(Subject::Org("nobody".into())), (vec![], Some(0)));
}

#[test]
fn status_filters_and_expiry() {
    let (_dir, store) = temp_store();
    let active = store.create_sync(named("active")).unwrap();
    let revoked = store.create_sync(named("revoked")).unwrap();
    store.revoke_sync(&revoked.key.id, None).unwrap();
    let expiring = store
        .create_sync(NewKey::named(
            "expiring",
            Expiration::At(Utc::now() + Duration::milliseconds(300)),
        ))
        .unwrap();
    assert_eq!(
        store.get_sync(&expiring.key.id).unwrap().status,
        KeyStatus::Active
    );
    std::thread::sleep(std::time::Duration::from_millis(400));

    let by = |status| {
        let page = store
            .list_sync(&ListQuery {
                status,
                ..ListQuery::default()
            })
            .unwrap();
        (
            page.items.into_iter().map(|k| k.name).collect::<Vec<_>>(),
            page.total,
        )
    };
    assert_eq!(
        by(StatusFilter::Active),
        (vec!["active".to_owned()], Some(1))
    );
    assert_eq!(
        by(StatusFilter::Revoked),
        (vec!["revoked".to_owned()], Some(1))
    );
    assert_eq!(
        by(StatusFilter::Expired),
        (vec!["expiring".to_owned()], Some(1))
    );
    assert_eq!(by(StatusFilter::All).1, Some(3));
    assert_eq!(
        store.get_sync(&expiring.key.id).unwrap().status,
        KeyStatus::Expired
    );
    assert_eq!(
        store.get_sync(&active.key.id).unwrap().status,
        KeyStatus::Active
    );
}

#[test]
fn revoke_keeps_the_row_and_is_idempotent() {
    let (_dir, store) = temp_store();
    let key = store.create_sync(named("old laptop")).unwrap().key;
    let revoked = store
        .revoke_sync(&key.id, Some("  laptop stolen "))
        .unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(revoked.revocation_reason.as_deref(), Some("laptop stolen"));
    let first_revoked_at = revoked.revoked_at.expect("revoked_at");
    assert_eq!(store.get_sync(&key.id).unwrap(), revoked);
    let trail_after_first = row_counts(&store).1;

    std::thread::sleep(std::time::Duration::from_millis(5));
    let again = store.revoke_sync(&key.id, Some("another reason")).unwrap();
    assert_eq!(again.revoked_at, Some(first_revoked_at));
    assert_eq!(again.revocation_reason.as_deref(), Some("laptop stolen"));
    assert_eq!(
        row_counts(&store),
        (1, trail_after_first),
        "a repeat changes nothing"
    );

    let trail = store.trail_sync(1).unwrap();
    assert_eq!(trail[0].action, TrailAction::Revoke);
    assert_eq!(trail[0].key_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(trail[0].detail.as_deref(), Some("laptop stolen"));
}

#[test]
fn verify_answers_valid_revoked_expired_and_unknown() {
    let (_dir, store) = temp_store();
    let valid = store.create_sync(named("valid")).unwrap();
    let revoked = store.create_sync(named("revoked")).unwrap();
    store.revoke_sync(&revoked.key.id, None).unwrap();
    let expired = store
        .create_sync(NewKey::named(
            "expired",
            Expiration::After(Duration::milliseconds(200)),
        ))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));

    match store.verify_sync(&valid.secret).unwrap() {
        Verification::Valid(key) => {
            assert_eq!(key.id, valid.key.id);
            assert!(key.last_used_at.is_some());
        }
        other => panic!("expected valid, got {other:?}"),
    }
    assert!(matches!(
        store.verify_sync(&revoked.secret).unwrap(),
        Verification::Revoked(key) if key.id == revoked.key.id
    ));
    assert!(matches!(
        store.verify_sync(&expired.secret).unwrap(),
        Verification::Expired(key) if key.id == expired.key.id
    ));
    let stranger = key_format::generate().unwrap();
    assert_eq!(store.verify_sync(&stranger).unwrap(), Verification::Unknown);

    let failed: Vec<(Option<String>, Option<String>)> = store
        .trail_sync(3)
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.action, TrailAction::VerifyFailed);
            (e.key_id, e.detail)
        })
        .collect();
    assert_eq!(
        failed,
        [
            (None, Some("unknown secret".to_owned())),
            (Some(expired.key.id.clone()), Some("expired".to_owned())),
            (Some(revoked.key.id.clone()), Some("revoked".to_owned())),
        ]
    );
}

#[test]
fn malformed_secrets_are_refused_without_echo_or_writes() {
    let (_dir, store) = temp_store();
    let created = store.create_sync(named("k")).unwrap();
    let before = row_counts(&store);
    let real = created.secret.expose_secret().to_owned();
    let mut typo = real.clone().into_bytes();
    typo[8] = if typo[8] == b'a' { b'b' } else { b'a' };
    for bad in [
        String::new(),
        "sk_live_123".to_owned(),
        real[..20].to_owned(),
        String::from_utf8(typo).unwrap(),
    ] {
        let err = store
            .verify_sync(&SecretString::from(bad.as_str()))
            .unwrap_err();
        assert_eq!(err.field(), Some("secret"), "{bad}");
        if bad.len() > 4 {
            assert!(!err.to_string().contains(&bad[3..]), "echoed: {err}");
        }
    }
    assert_eq!(row_counts(&store), before);
}

#[test]
fn last_used_is_written_behind_and_visible_to_reads() {
    let (_dir, store) = temp_store();
    let created = store.create_sync(named("ci")).unwrap();
    assert_eq!(store.get_sync(&created.key.id).unwrap().last_used_at, None);
    let Verification::Valid(verified) = store.verify_sync(&created.secret).unwrap() else {
        panic!("valid");
    };
    let used_at = verified.last_used_at.expect("last used");
    let listed = list(&store, ListQuery::default());
    assert_eq!(listed[0].last_used_at, Some(used_at));
    assert_eq!(
        store.get_sync(&created.key.id).unwrap().last_used_at,
        Some(used_at)
    );

    // A use within the minute keeps the recorded time (kept to the minute).
    let Verification::Valid(again) = store.verify_sync(&created.secret).unwrap() else {
        panic!("valid");
    };
    assert_eq!(again.last_used_at, Some(used_at));
}

#[test]
fn pending_last_used_times_are_written_when_the_store_is_dropped() {
    let opened = std::time::Instant::now();
    let (dir, store) = temp_store();
    let created = store.create_sync(named("ci")).unwrap();
    assert!(store.verify_sync(&created.secret).unwrap().is_valid());
    let on_disk = |store: &LocalStore| -> Option<i64> {
        common::peek(store)
            .query_row("SELECT last_used_at FROM keys", [], |r| r.get(0))
            .unwrap()
    };
    let clone = store.clone();
    drop(store);
    // Unless the machine was so slow that the one-second flush already ran:
    if opened.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(on_disk(&clone), None, "buffered while a clone is alive");
    }
    drop(clone);
    let reopened = LocalStore::open(dir.path()).unwrap();
    assert!(on_disk(&reopened).is_some());
}

#[test]
fn the_trail_never_holds_a_secret_or_its_hash() {
    let (_dir, store) = temp_store();
    let created = store.create_sync(named("k")).unwrap();
    store.verify_sync(&created.secret).unwrap();
    store.revoke_sync(&created.key.id, Some("done")).unwrap();
    store.verify_sync(&created.secret).unwrap();
    let secret = created.secret.expose_secret();
    let hash_hex: String = key_format::hash(&created.secret)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let entries = store.trail_sync(100).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.action).collect::<Vec<_>>(),
        [
            TrailAction::VerifyFailed,
            TrailAction::Revoke,
            TrailAction::Create
        ]
    );
    let json = serde_json::to_string(&entries).unwrap();
    assert!(json.contains("\"verify_failed\""));
    for needle in [secret, &secret[3..], &hash_hex, &hash_hex.to_uppercase()] {
        assert!(!json.contains(needle), "the trail holds {needle}");
    }
}

#[test]
fn unknown_and_misplaced_ids() {
    let (_dir, store) = temp_store();
    let created = store.create_sync(named("k")).unwrap();
    let missing = "key_00000000000000ff";
    let err = store.get_sync(missing).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(
        err.to_string(),
        "no key with id key_00000000000000ff in the local store"
    );
    let secret = created.secret.expose_secret();
    for err in [
        store.get_sync(secret).unwrap_err(),
        store.revoke_sync(secret, None).unwrap_err(),
    ] {
        assert_eq!(err.field(), Some("id"));
        assert_eq!(err.message(), "that looks like a secret, not a key id");
    }
    let err = store.get_sync("sk_live_notours").unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(!err.to_string().contains("notours"), "{err}");
}

/// Every bad input is refused before anything is written: no key row, no trail row.
#[test]
fn bad_input_writes_nothing() {
    let (_dir, store) = temp_store();
    let existing = store.create_sync(named("existing")).unwrap();
    let id = existing.key.id.clone();
    let secret = existing.secret.expose_secret().to_owned();
    let before = row_counts(&store);

    let with = |change: &dyn Fn(&mut NewKey)| {
        let mut new = named("fine");
        change(&mut new);
        store.create_sync(new).map(|_| ())
    };
    let cases: Vec<(&str, Result<(), Error>, &str)> = vec![
        ("empty name", with(&|n| n.name = "   ".into()), "name"),
        ("long name", with(&|n| n.name = "x".repeat(101)), "name"),
        (
            "control name",
            with(&|n| n.name = "a\u{1b}[2Jb".into()),
            "name",
        ),
        (
            "secret in name",
            with(&|n| n.name = format!("my key {secret}")),
            "name",
        ),
        (
            "past expiry",
            with(&|n| n.expiration = Expiration::At(Utc::now() - Duration::hours(1))),
            "expires",
        ),
        (
            "zero duration",
            with(&|n| n.expiration = Expiration::After(Duration::zero())),
            "expires",
        ),
        ("level", with(&|n| n.level = Some(3)), "level"),
        (
            "scopes",
            with(&|n| n.scopes = vec!["read".into()]),
            "scopes",
        ),
        (
            "long description",
            with(&|n| n.description = Some("d".repeat(256))),
            "description",
        ),
        (
            "secret as id",
            store.revoke_sync(&secret, Some("x")).map(|_| ()),
            "id",
        ),
        (
            "long reason",
            store.revoke_sync(&id, Some(&"r".repeat(501))).map(|_| ()),
            "reason",
        ),
        (
            "control reason",
            store.revoke_sync(&id, Some("line\nbreak")).map(|_| ()),
            "reason",
        ),
    ];
    for (label, result, field) in cases {
        let err = result.expect_err(label);
        assert_eq!(err.field(), Some(field), "{label}: {err}");
        assert!(
            !err.to_string().contains(&secret[3..]),
            "{label} echoed the secret"
        );
    }
    let unknown = store
        .revoke_sync("key_0123456789abcdef", Some("x"))
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    assert_eq!(row_counts(&store), before);
    assert_eq!(store.get_sync(&id).unwrap().status, KeyStatus::Active);
}

/// Sets a key's last use straight in the file (the store only records uses as they happen).
fn set_last_used(store: &LocalStore, id: &str, at: Option<chrono::DateTime<Utc>>) {
    common::peek(store)
        .execute(
            "UPDATE keys SET last_used_at = ?2 WHERE id = ?1",
            (id, at.map(|at| at.timestamp_millis())),
        )
        .unwrap();
}

fn names_of(page: &keyward_core::Page<ApiKey>) -> Vec<String> {
    page.items.iter().map(|k| k.name.clone()).collect()
}

#[test]
fn owner_and_status_sorts_work_in_both_directions() {
    let (_dir, store) = temp_store();
    let specs: [(&str, Option<Subject>); 6] = [
        ("no-owner", None),
        ("user-b", Some(Subject::User("b".into()))),
        ("org-z", Some(Subject::Org("z".into()))),
        ("user-a", Some(Subject::User("a".into()))),
        ("org-a", Some(Subject::Org("a".into()))),
        ("org-a-again", Some(Subject::Org("a".into()))),
    ];
    let mut ids = Vec::new();
    for (name, owner) in specs {
        let mut new = named(name);
        new.owner = owner;
        ids.push(store.create_sync(new).unwrap().key.id);
    }
    let sorted = |sort, descending| {
        names_of(
            &store
                .list_sync(&ListQuery {
                    sort,
                    descending,
                    ..ListQuery::default()
                })
                .unwrap(),
        )
    };
    // Ties (org:a twice) in creation order, like every other sort.
    let ascending = [
        "org-a",
        "org-a-again",
        "org-z",
        "user-a",
        "user-b",
        "no-owner",
    ];
    assert_eq!(sorted(SortField::Owner, false), ascending);
    let mut descending: Vec<_> = ascending.to_vec();
    descending.reverse();
    assert_eq!(sorted(SortField::Owner, true), descending);

    // Status: revoke two, expire one (by its date, straight in the file).
    store.revoke_sync(&ids[1], None).unwrap();
    store.revoke_sync(&ids[4], None).unwrap();
    common::peek(&store)
        .execute(
            "UPDATE keys SET expires_at = ?2 WHERE id = ?1",
            (
                &ids[3],
                (Utc::now() - Duration::hours(1)).timestamp_millis(),
            ),
        )
        .unwrap();
    let ascending = [
        "no-owner",
        "org-z",
        "org-a-again",
        "user-a",
        "user-b",
        "org-a",
    ];
    assert_eq!(sorted(SortField::Status, false), ascending);
    let mut descending: Vec<_> = ascending.to_vec();
    descending.reverse();
    assert_eq!(sorted(SortField::Status, true), descending);
    let page = store
        .list_sync(&ListQuery {
            sort: SortField::Status,
            descending: false,
            page: 1,
            limit: 4,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(names_of(&page), ["user-b", "org-a"]);
    assert_eq!((page.total, page.has_more), (Some(6), false));
}

#[test]
fn expiring_within_days_takes_active_keys_up_to_exactly_n_days() {
    let (_dir, store) = temp_store();
    let now = Utc::now();
    let create = |name: &str, expiration| {
        store
            .create_sync(NewKey::named(name, expiration))
            .unwrap()
            .key
            .id
    };
    create("in-1h", Expiration::After(Duration::hours(1)));
    // Created a moment before the listing: "now + 7 days" is still after its expiry then.
    create("in-7d", Expiration::At(now + Duration::days(7)));
    create(
        "in-7d-1min",
        Expiration::At(now + Duration::days(7) + Duration::minutes(1)),
    );
    create("in-30d", Expiration::After(Duration::days(30)));
    create("never", Expiration::Preset(ExpiryPreset::Never));
    let revoked = create("revoked-soon", Expiration::After(Duration::days(2)));
    store.revoke_sync(&revoked, None).unwrap();
    let expired = create("expired", Expiration::After(Duration::days(3)));
    common::peek(&store)
        .execute(
            "UPDATE keys SET expires_at = ?2 WHERE id = ?1",
            (&expired, (now - Duration::days(1)).timestamp_millis()),
        )
        .unwrap();
    let within = |days, status| {
        store
            .list_sync(&ListQuery {
                expires_within_days: Some(days),
                status,
                sort: SortField::Expires,
                descending: false,
                ..ListQuery::default()
            })
            .unwrap()
    };
    let page = within(7, StatusFilter::All);
    assert_eq!(names_of(&page), ["in-1h", "in-7d"]);
    assert_eq!(page.total, Some(2));
    assert_eq!(
        names_of(&within(30, StatusFilter::All)),
        ["in-1h", "in-7d", "in-7d-1min", "in-30d"]
    );
    assert_eq!(names_of(&within(1, StatusFilter::Active)), ["in-1h"]);
    assert!(within(3650, StatusFilter::Revoked).items.is_empty());
    assert!(within(3650, StatusFilter::Expired).items.is_empty());
    let error = store
        .list_sync(&ListQuery {
            expires_within_days: Some(0),
            ..ListQuery::default()
        })
        .unwrap_err();
    assert_eq!(error.field(), Some("expires_within_days"));
}

#[test]
fn never_used_and_unused_for_days_see_pending_uses() {
    let (_dir, store) = temp_store();
    let now = Utc::now();
    let make = |name: &str| store.create_sync(named(name)).unwrap();
    let never = make("never");
    let fresh = make("used-now");
    let old = make("used-60d-ago");
    let edge = make("used-30d-ago-plus-1h");
    set_last_used(&store, &old.key.id, Some(now - Duration::days(60)));
    set_last_used(
        &store,
        &edge.key.id,
        Some(now - Duration::days(29) - Duration::hours(23)),
    );
    // A use still in the write-behind buffer counts: the listing flushes it first.
    assert!(store.verify_sync(&fresh.secret).unwrap().is_valid());
    let query = |never_used, unused_for_days| {
        let page = store
            .list_sync(&ListQuery {
                never_used,
                unused_for_days,
                sort: SortField::Name,
                descending: false,
                ..ListQuery::default()
            })
            .unwrap();
        (names_of(&page), page.total)
    };
    assert_eq!(query(true, None), (vec!["never".to_owned()], Some(1)));
    assert_eq!(
        query(false, Some(30)),
        (vec!["never".to_owned(), "used-60d-ago".to_owned()], Some(2))
    );
    assert_eq!(query(false, Some(90)), (vec!["never".to_owned()], Some(1)));
    assert_eq!(query(false, Some(1)).1, Some(3));
    assert_eq!(query(true, Some(1)).1, Some(1));
    // Using the never-used key takes it out of both lists, at once.
    assert!(store.verify_sync(&never.secret).unwrap().is_valid());
    assert_eq!(query(true, None), (vec![], Some(0)));
    assert_eq!(query(false, Some(30)).0, ["used-60d-ago"]);
}

/// One projection per sort field, to compare orders where ties may fall differently.
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

#[test]
fn sql_listings_agree_with_the_core_filter_rules() {
    let (_dir, store) = temp_store();
    let now = Utc::now();
    let owners = [
        None,
        Some(Subject::Org("acme".into())),
        Some(Subject::User("ana".into())),
        Some(Subject::User("bob".into())),
    ];
    for i in 0..48i64 {
        let expiration = match i % 6 {
            0 => Expiration::Preset(ExpiryPreset::Never),
            n => Expiration::After(Duration::days(n * 5) + Duration::hours(i)),
        };
        let mut new = NewKey::named(
            format!("Key {i} {}", ["ci", "DEPLOY", "x"][i as usize % 3]),
            expiration,
        );
        new.owner = owners[i as usize % 4].clone();
        let id = store.create_sync(new).unwrap().key.id;
        match i % 5 {
            0 => {}
            n => set_last_used(
                &store,
                &id,
                Some(now - Duration::days(n * n * 7) - Duration::hours(i)),
            ),
        }
        if i % 7 == 3 {
            store.revoke_sync(&id, None).unwrap();
        }
        if i % 11 == 4 {
            common::peek(&store)
                .execute(
                    "UPDATE keys SET expires_at = ?2 WHERE id = ?1",
                    (&id, (now - Duration::days(i)).timestamp_millis()),
                )
                .unwrap();
        }
    }
    let everything = list(
        &store,
        ListQuery {
            limit: 1000,
            ..ListQuery::default()
        },
    );
    assert_eq!(everything.len(), 48);
    let mut checked = 0;
    for status in [
        StatusFilter::All,
        StatusFilter::Active,
        StatusFilter::Expired,
        StatusFilter::Revoked,
    ] {
        for (expires_within_days, never_used, unused_for_days) in [
            (None, false, None),
            (Some(12), false, None),
            (Some(40), false, Some(30)),
            (None, true, None),
            (None, false, Some(7)),
            (Some(3650), true, Some(400)),
        ] {
            for (search, owner) in [
                (None, None),
                (Some("ci"), None),
                (None, Some(Subject::User("ana".into()))),
                (Some("deploy"), Some(Subject::Org("acme".into()))),
            ] {
                for sort in SortField::ALL {
                    for descending in [false, true] {
                        let query = ListQuery {
                            status,
                            search: search.map(str::to_owned),
                            owner: owner.clone(),
                            sort,
                            descending,
                            limit: 1000,
                            expires_within_days,
                            never_used,
                            unused_for_days,
                            ..ListQuery::default()
                        };
                        let sql = store.list_sync(&query).unwrap();
                        let core =
                            keyward_core::page_locally(everything.clone(), &query, Utc::now());
                        let mut sql_ids = ids(&sql.items);
                        let mut core_ids = ids(&core.items);
                        let sql_order: Vec<String> =
                            sql.items.iter().map(|k| sort_value(k, sort)).collect();
                        let core_order: Vec<String> =
                            core.items.iter().map(|k| sort_value(k, sort)).collect();
                        assert_eq!(sql_order, core_order, "{query:?}");
                        sql_ids.sort();
                        core_ids.sort();
                        assert_eq!(sql_ids, core_ids, "{query:?}");
                        assert_eq!(sql.total, core.total, "{query:?}");
                        checked += usize::from(!sql.items.is_empty());
                    }
                }
            }
        }
    }
    assert!(checked > 300, "most combinations find keys: {checked}");
}

#[test]
fn owners_are_distinct_and_sorted() {
    let (_dir, store) = temp_store();
    for owner in [
        Some(Subject::User("bob".into())),
        None,
        Some(Subject::Org("acme".into())),
        Some(Subject::User("ana".into())),
        Some(Subject::User("bob".into())),
        Some(Subject::Org("acme".into())),
    ] {
        let mut new = named("k");
        new.owner = owner;
        let id = store.create_sync(new).unwrap().key.id;
        store.revoke_sync(&id, None).unwrap();
    }
    let owners: Vec<String> = store
        .owners_sync()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        owners,
        ["org:acme", "user:ana", "user:bob"],
        "revoked keys' owners too"
    );
}
