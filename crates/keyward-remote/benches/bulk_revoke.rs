//! Bulk revoke through the Clerk adapter against its emulator: 1,000 keys with 50 ms added per
//! request at several concurrencies, then 1,000 keys under a rate limit of 100 requests per 10 s,
//! once with the HTTP layer waiting out each 429 itself and once handing every 429 to the bulk
//! engine (which pauses all workers), as the CLI does.
//!
//! `cargo bench -p keyward-remote --bench bulk_revoke` prints the figures (no assertions: timing is
//! for reading, not for failing builds). The rate-limited runs take about 100 s each;
//! `BULK_BENCH_QUICK=1` uses 200 keys there instead.

use keyward_core::{revoke_bulk, BulkOptions, CancelFlag, KeyBackend, RevokeStatus, Subject};
use keyward_emulators::{Emulator, Faults, Flavor, RateLimit, SeedOwner, SeedSpec};
use keyward_remote::{ClerkBackend, ClerkConfig, ClerkPath, HttpOptions};
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KEYS: usize = 1_000;
const LATENCY: Duration = Duration::from_millis(50);

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("BULK_BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty());

    println!(
        "## Bulk revoke, Clerk emulator: {KEYS} keys, {} ms added per request",
        LATENCY.as_millis()
    );
    println!();
    println!("| concurrency | wall time | keys/s | revoked | failed | requests |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for concurrency in [8, 16, 32] {
        let (emulator, backend) = clerk(HttpOptions::default()).await;
        let ids = seeded(&emulator, KEYS);
        emulator.set_faults(Faults {
            latency: LATENCY,
            ..Faults::default()
        });
        emulator.reset_stats();
        let run = revoke(&backend, &ids, concurrency).await;
        println!(
            "| {concurrency} | {:.2} s | {:.0} | {} | {} | {} |",
            run.elapsed.as_secs_f64(),
            ids.len() as f64 / run.elapsed.as_secs_f64(),
            run.revoked,
            run.failed,
            emulator.request_count()
        );
        emulator.shutdown().await;
    }

    let keys = if quick { 200 } else { KEYS };
    let limit = RateLimit {
        requests: 100,
        window: Duration::from_secs(10),
    };
    println!();
    println!(
        "## Under a rate limit of {} requests per {} s: {keys} keys, concurrency 8",
        limit.requests,
        limit.window.as_secs()
    );
    println!();
    println!(
        "Fastest possible: about {} s ({} full windows after the first).",
        (keys.div_ceil(limit.requests as usize) - 1) as u64 * limit.window.as_secs(),
        keys.div_ceil(limit.requests as usize) - 1
    );
    println!();
    println!("| 429 handling | wall time | revoked | failed | untouched | requests (429s included) | keys retried by the engine | progress callbacks |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, http) in [
        (
            "HTTP layer waits out Retry-After (≤ 30 s, 3 attempts), then the engine",
            HttpOptions::default(),
        ),
        ("every 429 straight to the engine (as the CLI does)", {
            let mut http = HttpOptions::default();
            http.retry.max_rate_limit_wait = Duration::ZERO;
            http
        }),
    ] {
        let (emulator, backend) = clerk(http).await;
        let ids = seeded(&emulator, keys);
        emulator.set_faults(Faults {
            rate_limit: Some(limit),
            ..Faults::default()
        });
        emulator.reset_stats();
        let run = revoke(&backend, &ids, 8).await;
        println!(
            "| {label} | {:.1} s | {} | {} | {} | {} | {} | {} |",
            run.elapsed.as_secs_f64(),
            run.revoked,
            run.failed,
            run.untouched,
            emulator.request_count(),
            run.retried,
            run.callbacks
        );
        if let Some(error) = run.first_error {
            println!("|  first failure: {error} | | | | | | | |");
        }
        emulator.shutdown().await;
    }
}

struct Figures {
    elapsed: Duration,
    revoked: usize,
    failed: usize,
    untouched: usize,
    retried: usize,
    callbacks: usize,
    first_error: Option<String>,
}

async fn revoke(backend: &dyn KeyBackend, ids: &[String], concurrency: usize) -> Figures {
    let options = BulkOptions {
        concurrency,
        // As the CLI: room for the HTTP layer's own attempts before the engine gives up on a key.
        per_key_timeout: Duration::from_secs(75),
        ..BulkOptions::default()
    };
    let callbacks = AtomicUsize::new(0);
    let started = Instant::now();
    let outcomes = revoke_bulk(
        backend,
        ids,
        Some("bench"),
        &options,
        &CancelFlag::new(),
        &|_, _| {
            callbacks.fetch_add(1, Ordering::Relaxed);
        },
    )
    .await;
    let elapsed = started.elapsed();
    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    Figures {
        elapsed,
        revoked: count(RevokeStatus::Revoked),
        failed: count(RevokeStatus::Failed),
        untouched: count(RevokeStatus::Untouched),
        retried: outcomes.iter().filter(|o| o.attempts > 1).count(),
        callbacks: callbacks.load(Ordering::Relaxed),
        first_error: outcomes
            .iter()
            .find_map(|o| o.error.as_ref())
            .map(|e| format!("{}: {}", e.code, e.message)),
    }
}

fn seeded(emulator: &Emulator, count: usize) -> Vec<String> {
    emulator.seed_with(&SeedSpec::new(count, SeedOwner::User))
}

async fn clerk(http: HttpOptions) -> (Emulator, ClerkBackend) {
    let emulator = Emulator::start(Flavor::Clerk).await.unwrap();
    let credentials = emulator.credentials().clerk().unwrap();
    let backend = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http,
    })
    .unwrap();
    (emulator, backend)
}
