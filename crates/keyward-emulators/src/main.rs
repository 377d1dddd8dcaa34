//! `keyward-emulator`: serves one backend's API-key contract on 127.0.0.1 until Ctrl-C.

use std::time::Duration;

use clap::Parser;
use keyward_emulators::{
    Emulator, Faults, Flavor, FreeSewingSwitches, Options, RateLimit, SeedOwner, SeedSpec,
};

/// Run a local emulator of PropelAuth, Clerk or FreeSewing API keys (loopback only, in memory).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Which backend to emulate: propelauth, clerk or freesewing.
    #[arg(long)]
    backend: Flavor,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Latency added to every backend request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests answered 500 (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = rate)]
    failure_rate: f64,
    /// Fraction of connections closed without a response (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = rate)]
    drop_rate: f64,
    /// Allow N requests per window, e.g. 100/10s, 5/300ms or 60/1m; the rest get 429.
    #[arg(long, value_parser = rate_limit)]
    rate_limit: Option<RateLimit>,
    /// Create N keys for the seeded user at start, with a mix of expiries over 90 days.
    #[arg(long, default_value_t = 0)]
    seed: usize,
    /// Seed for the fault RNG, for reproducible drops and failures.
    #[arg(long)]
    rng_seed: Option<u64>,
    /// FreeSewing: answer Basic auth with an unknown key id with a clean 401, instead of dropping
    /// the connection as the real server does when it crashes there.
    #[arg(long)]
    no_crash_on_unknown_key: bool,
    /// Clerk: how long the Frontend API's session tokens live, in seconds (Clerk's is 60).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    session_token_lifetime_secs: u64,
    /// FreeSewing: answer create as the seed document shows (200 "success", no createdAt).
    #[arg(long)]
    seed_shaped_create: bool,
}

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err("expected a number from 0 to 1".to_owned()),
    }
}

fn rate_limit(text: &str) -> Result<RateLimit, String> {
    let usage =
        || format!("'{text}' is not a rate limit: use N/<window>, e.g. 100/10s, 5/300ms or 60/1m");
    let (requests, window) = text.split_once('/').ok_or_else(usage)?;
    let requests = requests.trim().parse().map_err(|_| usage())?;
    let window = window.trim();
    let digits = window
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(window.len());
    let amount: u64 = window[..digits].parse().map_err(|_| usage())?;
    let window = match &window[digits..] {
        "ms" => Duration::from_millis(amount),
        "s" | "" => Duration::from_secs(amount),
        "m" => Duration::from_secs(amount * 60),
        _ => return Err(usage()),
    };
    if window.is_zero() {
        return Err(usage());
    }
    Ok(RateLimit { requests, window })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        failure_rate: args.failure_rate,
        drop_rate: args.drop_rate,
        rate_limit: args.rate_limit,
    };
    let options = Options {
        port: args.port,
        faults,
        rng_seed: args.rng_seed,
    };
    let emulator = Emulator::start_with(args.backend, options).await?;
    emulator.set_freesewing_switches(FreeSewingSwitches {
        crash_on_unknown_key: !args.no_crash_on_unknown_key,
        seed_shaped_create: args.seed_shaped_create,
    });
    emulator.set_clerk_token_lifetime(Duration::from_secs(args.session_token_lifetime_secs));
    if args.seed > 0 {
        let spec = SeedSpec {
            expiring_within_days: Some(90),
            ..SeedSpec::new(args.seed, SeedOwner::User)
        };
        emulator.seed_with(&spec);
    }

    let base = emulator.base_url();
    println!("Keyward {} emulator on {base}", emulator.flavor());
    println!("Credentials:\n{}", emulator.credentials());
    if let Some(propelauth) = emulator.credentials().propelauth() {
        println!("Sign in at {}", propelauth.login_url);
    }
    if let Some(clerk) = emulator.clerk_sign_in() {
        println!(
            "Clerk user mode (Frontend API on this origin): sign in at {} as {} / {} (user {}, member of {}); session tokens live {} s",
            clerk.url,
            clerk.email,
            clerk.password,
            clerk.user_id,
            clerk.org_id,
            args.session_token_lifetime_secs
        );
    }
    if args.seed > 0 {
        println!("Seeded {} keys.", args.seed);
    }
    match emulator.faults() {
        faults if faults == Faults::default() => println!("Faults: none"),
        faults => println!("Faults: {faults:?}"),
    }
    if let Some(switches) = emulator.freesewing_switches() {
        println!("FreeSewing: {switches:?}");
    }
    println!("Admin: {base}/__emulator/info (also faults, seed, stats, clock)");
    println!("Press Ctrl-C to stop.");

    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse() {
        let parsed = rate_limit("100/10s").unwrap();
        assert_eq!(
            (parsed.requests, parsed.window),
            (100, Duration::from_secs(10))
        );
        assert_eq!(
            rate_limit("5/300ms").unwrap().window,
            Duration::from_millis(300)
        );
        assert_eq!(rate_limit("60/1m").unwrap().window, Duration::from_secs(60));
        for bad in ["100", "x/10s", "100/10h", "100/0s", "100/"] {
            assert!(rate_limit(bad).is_err(), "{bad}");
        }
    }
}
