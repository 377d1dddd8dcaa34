//! Figures for the local store on a real SQLite file. Prints numbers; asserts nothing on time.
//!
//!     cargo bench -p keyward-local --bench store
//!
//! `KEYWARD_BENCH_KEYS` sets how many keys to create (default 100000).

use chrono::Duration as ChronoDuration;
use keyward_core::{Expiration, ExpiryPreset, ListQuery, NewKey, SortField, StatusFilter, Subject};
use keyward_local::LocalStore;
use rusqlite::Connection;
use secrecy::SecretString;
use std::time::{Duration, Instant};

const SERVICES: [&str; 20] = [
    "ci-deploy",
    "billing",
    "stripe-webhook",
    "github-actions",
    "grafana",
    "backup",
    "terraform",
    "analytics",
    "search-indexer",
    "mobile-app",
    "payments",
    "mailer",
    "metrics",
    "auth-proxy",
    "data-export",
    "slack-bot",
    "nightly-build",
    "k8s-operator",
    "feature-flags",
    "webhook-relay",
];
const ENVIRONMENTS: [&str; 8] = [
    "prod", "staging", "dev", "qa", "sandbox", "eu-west", "us-east", "test",
];
const MACHINES: [&str; 10] = [
    "laptop",
    "desktop",
    "runner",
    "server",
    "cron",
    "lambda",
    "container",
    "raspberry-pi",
    "workstation",
    "Zürich office",
];

/// A small deterministic generator (xorshift64*), so every run benches the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn key_name(rng: &mut Rng) -> String {
    let service = rng.pick(&SERVICES);
    let env = rng.pick(&ENVIRONMENTS);
    let machine = rng.pick(&MACHINES);
    let number = rng.below(100_000);
    match rng.below(4) {
        0 => format!("{service}-{number:05} {machine}"),
        1 => format!("{service} {env} {machine}"),
        2 => format!("{service} ({env}) #{number}"),
        _ => format!(
            "{}'s {machine} {service}",
            rng.pick(&["ana", "Bob", "chen", "Dita"])
        ),
    }
}

/// A new key, and whether it expires at once.
fn new_key(rng: &mut Rng) -> (NewKey, bool) {
    // A few keys expire within a millisecond so that "expired" listings have rows.
    let expiration = match rng.below(50) {
        0 => Expiration::After(ChronoDuration::milliseconds(1)),
        1..=9 => Expiration::Preset(ExpiryPreset::Never),
        n => Expiration::Preset(ExpiryPreset::ALL[n % 5]),
    };
    let expiring = matches!(expiration, Expiration::After(_));
    let mut new = NewKey::named(key_name(rng), expiration);
    new.owner = match rng.below(4) {
        0 => None,
        1 => Some(Subject::Org("acme".into())),
        n => Some(Subject::User(format!("user-{n}{}", rng.below(50)))),
    };
    (new, expiring)
}

struct Timings(Vec<Duration>);

impl Timings {
    fn percentile(&mut self, p: f64) -> Duration {
        self.0.sort_unstable();
        let rank = ((self.0.len() as f64 * p).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }

    fn summary(&mut self) -> String {
        format!(
            "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} runs)",
            ms(self.percentile(0.50)),
            ms(self.percentile(0.95)),
            ms(self.percentile(1.0)),
            self.0.len()
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn time_lists(store: &LocalStore, queries: &[ListQuery]) -> (Timings, u64) {
    let mut timings = Timings(Vec::with_capacity(queries.len()));
    let mut matched = 0;
    for query in queries {
        let start = Instant::now();
        let page = store.list_sync(query).expect("list");
        timings.0.push(start.elapsed());

        matched += page.total.unwrap_or(0);
    }
    (timings, matched / queries.len().max(1) as u64)
}

fn search_queries(rng: &mut Rng, ids: &[String]) -> Vec<String> {
    let mut queries: Vec<String> = Vec::new();
    for service in SERVICES {
        queries.push(service.to_owned());
        queries.push(service[..3].to_uppercase());
        queries.push(service[1..service.len() - 1].to_owned());
    }
    for env in ENVIRONMENTS {
        queries.push(format!("({env})"));
        queries.push(env[..2].to_owned());
    }
    for machine in MACHINES {
        queries.push(machine.to_owned());
    }
    for _ in 0..60 {
        queries.push(format!("{:03}", rng.below(1000)));
        queries.push(format!("-{:05}", rng.below(100_000)));
    }
    for _ in 0..10 {
        queries.push(ids[rng.below(ids.len())].clone());
        queries.push(format!(
            "{} {}",
            rng.pick(&SERVICES),
            rng.pick(&ENVIRONMENTS)
        ));
    }
    queries.extend(
        [
            "ci",
            "Q",
            "%",
            "_",
            "'s",
            "\"quoted\"",
            "zzzq",
            "ürich",
            "#4",
        ]
        .map(str::to_owned),
    );
    queries
}

fn main() {
    let total: usize = std::env::var("KEYWARD_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(dir.path()).expect("open");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    println!(
        "keyward-local bench: {total} keys in {} ({} CPUs)",
        store.db_path().display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Create: each key is its own committed transaction (with its trail row).
    let (news, expiring): (Vec<NewKey>, Vec<bool>) = (0..total).map(|_| new_key(&mut rng)).unzip();
    let mut secrets: Vec<SecretString> = Vec::with_capacity(total);
    let mut ids: Vec<String> = Vec::with_capacity(total);
    let start = Instant::now();
    for new in news {
        let created = store.create_sync(new).expect("create");
        secrets.push(created.secret);
        ids.push(created.key.id);
    }
    let elapsed = start.elapsed();
    println!(
        "create: {total} keys in {:.2} s = {:.0} keys/s (one transaction each)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    // Revoke 2% so that status filters have something to find.
    let revoked: Vec<usize> = (0..total / 50).map(|_| rng.below(total)).collect();
    let start = Instant::now();
    for &i in &revoked {
        store.revoke_sync(&ids[i], Some("rotated")).expect("revoke");
    }
    let elapsed = start.elapsed();
    println!(
        "revoke: {} keys in {:.2} s = {:.0} keys/s",
        revoked.len(),
        elapsed.as_secs_f64(),
        revoked.len() as f64 / elapsed.as_secs_f64()
    );

    // Verify, one thread, on active keys only (a failed verify writes a trail row).
    let mut pool: Vec<usize> = (0..total).collect();
    for &i in &revoked {
        pool[i] = usize::MAX;
    }
    pool.retain(|&i| i != usize::MAX && !expiring[i]);
    // First use of every key: each verify records a last-used time (written behind, in batches).
    let start = Instant::now();
    for &i in &pool {
        let outcome = store.verify_sync(&secrets[i]).expect("verify");
        assert!(outcome.is_valid(), "bench keys are active");
    }
    let elapsed = start.elapsed();
    println!(
        "verify, first use of each key: {} in {:.2} s = {:.0}/s (every verify records a last-used time)",
        pool.len(),
        elapsed.as_secs_f64(),
        pool.len() as f64 / elapsed.as_secs_f64()
    );
    // Steady state: random keys, each already recorded within the minute.
    let rounds = 300_000;
    let picks: Vec<usize> = (0..rounds).map(|_| pool[rng.below(pool.len())]).collect();
    let start = Instant::now();
    for &i in &picks {
        std::hint::black_box(store.verify_sync(&secrets[i]).expect("verify"));
    }
    let verify_elapsed = start.elapsed();
    let verify_rate = rounds as f64 / verify_elapsed.as_secs_f64();
    println!(
        "verify, steady state: {rounds} random keys in {:.2} s = {verify_rate:.0}/s",
        verify_elapsed.as_secs_f64()
    );

    // The floor: a bare prepared SELECT of the same columns by unique id, same file, same run.
    let conn = Connection::open(store.db_path()).expect("open bare connection");
    let mut select = conn
        .prepare_cached(
            "SELECT seq, id, name, owner_kind, owner_id, description, created_at, expires_at,
                    revoked_at, revocation_reason, last_used_at, stub FROM keys WHERE id = ?1",
        )
        .expect("prepare");
    let start = Instant::now();
    for &i in &picks {
        let row: (i64, String, String, Option<String>, Option<String>) = select
            .query_row([&ids[i]], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(11)?))
            })
            .expect("select");
        std::hint::black_box(row);
    }
    let select_elapsed = start.elapsed();
    let select_rate = rounds as f64 / select_elapsed.as_secs_f64();
    println!(
        "bare SELECT by id: {rounds} in {:.2} s = {select_rate:.0}/s; verify costs {:.2}x a bare SELECT",
        select_elapsed.as_secs_f64(),
        select_rate / verify_rate
    );
    drop(select);
    drop(conn);

    // Name search, first page of 50, newest first.
    let queries: Vec<ListQuery> = search_queries(&mut rng, &ids)
        .into_iter()
        .map(|search| ListQuery {
            search: Some(search),
            ..ListQuery::default()
        })
        .collect();
    let (mut timings, matched) = time_lists(&store, &queries);
    println!(
        "search, first page: {} (mean {matched} matches)",
        timings.summary()
    );

    for sort in SortField::ALL {
        for descending in [true, false] {
            let query = ListQuery {
                sort,
                descending,
                ..ListQuery::default()
            };
            let (mut timings, _) = time_lists(&store, &vec![query; 200]);
            println!(
                "list first page, sort {sort:?} {}: {}",
                if descending { "desc" } else { "asc" },
                timings.summary()
            );
        }
    }
    for status in [
        StatusFilter::Active,
        StatusFilter::Expired,
        StatusFilter::Revoked,
    ] {
        let query = ListQuery {
            status,
            ..ListQuery::default()
        };
        let (mut timings, matched) = time_lists(&store, &vec![query; 200]);
        println!(
            "list first page, status {status:?}: {} ({matched} matches)",
            timings.summary()
        );
    }
    // The org admin's filters: expiring soon, never used, not used in N days, and the lot.
    let filters: [(&str, ListQuery); 5] = [
        (
            "expiring within 30 days",
            ListQuery {
                expires_within_days: Some(30),
                ..ListQuery::default()
            },
        ),
        (
            "expiring within 30 days, by expiry",
            ListQuery {
                expires_within_days: Some(30),
                sort: SortField::Expires,
                descending: false,
                ..ListQuery::default()
            },
        ),
        (
            "never used",
            ListQuery {
                never_used: true,
                ..ListQuery::default()
            },
        ),
        (
            "not used in 30 days",
            ListQuery {
                unused_for_days: Some(30),
                ..ListQuery::default()
            },
        ),
        (
            "org:acme, expiring within 90 days, not used in 30 days, by owner",
            ListQuery {
                owner: Some(Subject::Org("acme".into())),
                expires_within_days: Some(90),
                unused_for_days: Some(30),
                sort: SortField::Owner,
                ..ListQuery::default()
            },
        ),
    ];
    for (label, query) in filters {
        let (mut timings, matched) = time_lists(&store, &vec![query; 200]);
        println!(
            "list first page, {label}: {} ({matched} matches)",
            timings.summary()
        );
    }
    let start = Instant::now();
    let owners = store.owners_sync().expect("owners");
    println!(
        "owners (SELECT DISTINCT): {} owners in {:.2} ms",
        owners.len(),
        ms(start.elapsed())
    );
    let owner = ListQuery {
        owner: Some(Subject::Org("acme".into())),
        ..ListQuery::default()
    };
    let (mut timings, matched) = time_lists(&store, &vec![owner; 200]);
    println!(
        "list first page, owner org:acme: {} ({matched} matches)",
        timings.summary()
    );
    let deep = ListQuery {
        page: (total / 50 / 2) as u32,
        ..ListQuery::default()
    };
    let (mut timings, _) = time_lists(&store, &vec![deep; 50]);
    println!(
        "list middle page (offset {}): {}",
        total / 2,
        timings.summary()
    );
}
