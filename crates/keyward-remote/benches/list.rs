//! Listing 10,000 keys from the Clerk and PropelAuth emulators with 20 ms added per request, at
//! several concurrencies, and the requests each user action costs on every adapter.
//!
//! `cargo bench -p keyward-remote --bench list` prints the figures (no assertions: timing is
//! for reading, not for failing builds).

use keyward_core::{KeyBackend, ListQuery, SortField, StatusFilter, Subject};
use keyward_emulators::{Emulator, Faults, Flavor, SeedOwner, SeedSpec};
use keyward_remote::{
    list_all, ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend,
    FreeSewingConfig, HttpOptions, PropelAuthApi, PropelAuthBackend, PropelAuthConfig,
};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const KEYS: usize = 10_000;
const LATENCY: Duration = Duration::from_millis(20);
const PAGE: u32 = 100;

#[tokio::main]
async fn main() {
    println!(
        "## Remote backends: {KEYS} keys, {} ms added per request",
        LATENCY.as_millis()
    );
    println!();
    println!("list_all, pages of {PAGE}:");
    println!();
    println!("| backend | concurrency | time | requests |");
    println!("| --- | ---: | ---: | ---: |");
    for concurrency in [1, 4, 8, 16] {
        let (emulator, clerk) = clerk().await;
        emulator.seed(KEYS, SeedOwner::User);
        measure("Clerk (limit/offset)", &emulator, &clerk, concurrency).await;
    }
    for concurrency in [1, 4, 8, 16] {
        let (emulator, propelauth) = propelauth_backend_api().await;
        emulator.seed(KEYS, SeedOwner::User);
        measure(
            "PropelAuth backend API (page_number)",
            &emulator,
            &propelauth,
            concurrency,
        )
        .await;
    }
    println!();
    println!("Requests per user action (first page of 50, a search, revoking one key):");
    println!();
    println!("| backend | open profile | search | revoke one | time for the three |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let (emulator, clerk) = clerk().await;
    actions("Clerk", &emulator, &clerk).await;
    let (emulator, propelauth) = propelauth_backend_api().await;
    actions("PropelAuth backend API", &emulator, &propelauth).await;
    let (emulator, propelauth) = propelauth_frontend_api().await;
    actions("PropelAuth frontend API", &emulator, &propelauth).await;
    let (emulator, freesewing) = freesewing().await;
    actions("FreeSewing", &emulator, &freesewing).await;

    println!();
    println!(
        "Queries the server cannot answer, from the snapshot (sort by expiry; then expiring within \
         7 days, page 3; then by owner after revoking one key):"
    );
    println!();
    println!("| backend | first query | next query | after a revoke |");
    println!("| --- | ---: | ---: | ---: |");
    let (emulator, backend) = self::clerk().await;
    snapshot("Clerk", &emulator, &backend).await;
    let (emulator, propelauth) = propelauth_backend_api().await;
    snapshot("PropelAuth backend API", &emulator, &propelauth).await;
    let (emulator, propelauth) = propelauth_frontend_api().await;
    snapshot("PropelAuth frontend API", &emulator, &propelauth).await;
    let (emulator, backend) = self::freesewing().await;
    snapshot("FreeSewing", &emulator, &backend).await;
}

/// Requests and time of three queries answered from the snapshot.
async fn snapshot(name: &str, emulator: &Emulator, backend: &dyn KeyBackend) {
    let ids = emulator.seed_with(&SeedSpec {
        expiring_within_days: Some(30),
        ..SeedSpec::new(KEYS, SeedOwner::User)
    });
    emulator.set_faults(Faults {
        latency: LATENCY,
        ..Faults::default()
    });
    let mut cells = Vec::new();
    for (step, query) in [
        ListQuery {
            sort: SortField::Expires,
            descending: false,
            limit: 200,
            ..Default::default()
        },
        ListQuery {
            expires_within_days: Some(7),
            page: 2,
            limit: 200,
            ..Default::default()
        },
        ListQuery {
            sort: SortField::Owner,
            limit: 200,
            ..Default::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        if step == 2 {
            backend.revoke(&ids[KEYS / 3 + 2], None).await.unwrap();
        }
        emulator.reset_stats();
        let started = Instant::now();
        backend.list(&query).await.unwrap();
        cells.push(format!(
            "{} requests, {} ms",
            emulator.request_count(),
            started.elapsed().as_millis()
        ));
    }
    println!("| {name} | {} | {} | {} |", cells[0], cells[1], cells[2]);
}

async fn measure(name: &str, emulator: &Emulator, backend: &dyn KeyBackend, concurrency: usize) {
    emulator.set_faults(Faults {
        latency: LATENCY,
        ..Faults::default()
    });
    emulator.reset_stats();
    let query = ListQuery {
        status: StatusFilter::Active,
        limit: PAGE,
        ..Default::default()
    };
    let started = Instant::now();
    let keys = list_all(backend, &query, concurrency).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(keys.len(), KEYS);
    println!(
        "| {name} | {concurrency} | {} ms | {} |",
        elapsed.as_millis(),
        emulator.request_count()
    );
}

async fn actions(name: &str, emulator: &Emulator, backend: &dyn KeyBackend) {
    let ids = emulator.seed(KEYS, SeedOwner::User);
    emulator.set_faults(Faults {
        latency: LATENCY,
        ..Faults::default()
    });
    let started = Instant::now();
    let mut costs = Vec::new();
    for query in [
        ListQuery::default(),
        ListQuery {
            search: Some("seeded-key-4242".into()),
            ..Default::default()
        },
    ] {
        emulator.reset_stats();
        backend.list(&query).await.unwrap();
        costs.push(emulator.request_count());
    }
    emulator.reset_stats();
    backend.revoke(&ids[KEYS / 2], None).await.unwrap();
    costs.push(emulator.request_count());
    println!(
        "| {name} | {} | {} | {} | {} ms |",
        costs[0],
        costs[1],
        costs[2],
        started.elapsed().as_millis()
    );
}

fn http() -> HttpOptions {
    HttpOptions::default()
}

async fn start(flavor: Flavor) -> Emulator {
    Emulator::start(flavor).await.unwrap()
}

async fn clerk() -> (Emulator, ClerkBackend) {
    let emulator = start(Flavor::Clerk).await;
    let credentials = emulator.credentials().clerk().unwrap();
    let backend = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: http(),
    })
    .unwrap();
    (emulator, backend)
}

async fn propelauth_backend_api() -> (Emulator, PropelAuthBackend) {
    let emulator = start(Flavor::PropelAuth).await;
    let credentials = emulator.credentials().propelauth().unwrap();
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Backend {
            integration_key: SecretString::from(credentials.integration_key.as_str()),
            auth_url: None,
        },
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: http(),
    })
    .unwrap();
    (emulator, backend)
}

async fn propelauth_frontend_api() -> (Emulator, PropelAuthBackend) {
    let emulator = start(Flavor::PropelAuth).await;
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(emulator.propelauth_session().unwrap()),
        },
        default_subject: None,
        http: http(),
    })
    .unwrap();
    (emulator, backend)
}

async fn freesewing() -> (Emulator, FreeSewingBackend) {
    let emulator = start(Flavor::FreeSewing).await;
    let credentials = emulator.credentials().freesewing().unwrap();
    let backend = FreeSewingBackend::new(FreeSewingConfig {
        base_url: emulator.base_url(),
        auth: FreeSewingAuth::Jwt {
            token: SecretString::from(credentials.jwt.as_str()),
        },
        http: http(),
    })
    .unwrap();
    (emulator, backend)
}
