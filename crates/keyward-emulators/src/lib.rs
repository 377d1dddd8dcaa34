//! Local HTTP emulators of the API-key contracts of PropelAuth, Clerk and FreeSewing, as described
//! in `docs/backends/` (each behaviour traced to the vendor's repository and file): same paths, auth schemes, validation order, error bodies, paging and
//! secret-once behaviour, plus switchable faults (latency, 500s, dropped connections, 429s).
//!
//! They serve on loopback only and keep everything in memory. Contract tests start one in-process:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use keyward_emulators::{Emulator, Flavor};
//! let emulator = Emulator::start(Flavor::Clerk).await?;
//! let clerk = emulator.credentials().clerk().unwrap();
//! // GET {base_url}/api_keys?subject={clerk.user_id} with `Authorization: Bearer {clerk.secret_key}`
//! println!("{} {}", emulator.base_url(), clerk.secret_key);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Every emulator also serves admin routes under `/__emulator/` (no auth, exempt from faults):
//! `GET info`, `GET|PUT faults`, `POST seed`, `GET stats`, `POST stats/reset`, `POST clock`, and
//! FreeSewing's behaviour switches `GET|PUT freesewing`. The Clerk flavor also serves Clerk's
//! Frontend API (sign-in page, session tokens, the user's keys: docs/backends/clerk-frontend.md),
//! with its session-token lifetime at `GET|PUT clerk-frontend`.
//! See the crate's README for their bodies and for every deliberate deviation from the contracts.

// Handlers bail out early with a finished HTTP response (`Result<_, Response>` and `?`); the
// response is large, but it is built once per failed request, so boxing would only add noise.
#![allow(clippy::result_large_err)]

mod admin;
mod app;
mod clerk;
mod clerk_frontend;
mod faults;
mod freesewing;
mod http;
mod propelauth;
mod seed;
mod server;
mod signin_page;
mod stats;
mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use clerk::ClerkCredentials;
pub use clerk_frontend::ClerkSignIn;
pub use faults::{Faults, RateLimit};
pub use freesewing::{FreeSewingCredentials, FreeSewingSwitches};
pub use propelauth::PropelAuthCredentials;
pub use seed::{SeedAccount, SeedOwner, SeedSpec};

/// Which backend an emulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    PropelAuth,
    Clerk,
    FreeSewing,
}

impl Flavor {
    pub const ALL: [Flavor; 3] = [Flavor::PropelAuth, Flavor::Clerk, Flavor::FreeSewing];

    /// The lowercase name used on the command line and in `/__emulator/info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::PropelAuth => "propelauth",
            Flavor::Clerk => "clerk",
            Flavor::FreeSewing => "freesewing",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Flavor::ALL
            .into_iter()
            .find(|flavor| flavor.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown backend '{text}': use propelauth, clerk or freesewing"))
    }
}

/// How to start an emulator. `Options::default()`: a free port, no faults, a random fault seed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub faults: Faults,
    /// Seeds the fault RNG, so the same requests meet the same drops and failures.
    pub rng_seed: Option<u64>,
}

/// The seeded accounts and credentials of a running emulator; one variant per flavor. They are
/// fixed across runs except where noted on the fields (FreeSewing JWTs, which embed the base URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Credentials {
    PropelAuth(PropelAuthCredentials),
    Clerk(ClerkCredentials),
    FreeSewing(FreeSewingCredentials),
}

impl Credentials {
    pub fn propelauth(&self) -> Option<&PropelAuthCredentials> {
        match self {
            Credentials::PropelAuth(c) => Some(c),
            _ => None,
        }
    }

    pub fn clerk(&self) -> Option<&ClerkCredentials> {
        match self {
            Credentials::Clerk(c) => Some(c),
            _ => None,
        }
    }

    pub fn freesewing(&self) -> Option<&FreeSewingCredentials> {
        match self {
            Credentials::FreeSewing(c) => Some(c),
            _ => None,
        }
    }
}

/// Human-readable, one `label: value` per line, for the binary's banner.
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        for (label, value) in value.as_object().into_iter().flatten() {
            match value {
                serde_json::Value::String(text) => writeln!(f, "  {label}: {text}")?,
                other => writeln!(f, "  {label}: {other}")?,
            }
        }
        Ok(())
    }
}

/// A running emulator on 127.0.0.1. Dropping it stops the server too; `shutdown` also waits for it.
pub struct Emulator {
    shared: Arc<app::Shared>,
    server: server::Server,
}

impl Emulator {
    /// Starts `flavor` on a free port with no faults.
    pub async fn start(flavor: Flavor) -> std::io::Result<Emulator> {
        Self::start_with(flavor, Options::default()).await
    }

    pub async fn start_with(flavor: Flavor, options: Options) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(app::Shared::new(
            flavor,
            base_url,
            options.faults,
            options.rng_seed,
        ));
        let server = server::Server::spawn(listener, app::router(shared.clone()));
        Ok(Emulator { shared, server })
    }

    pub fn flavor(&self) -> Flavor {
        self.shared.backend.flavor()
    }

    /// E.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn credentials(&self) -> &Credentials {
        self.shared.backend.credentials()
    }

    /// A fresh `Cookie` header value (`name=value`) that signs the seeded PropelAuth user in to
    /// the frontend API, as the login page would. `None` for other flavors.
    pub fn propelauth_session(&self) -> Option<String> {
        match &self.shared.backend {
            app::Backend::PropelAuth(backend) => Some(backend.new_session_cookie()),
            _ => None,
        }
    }

    /// How to sign the seeded user in to the Clerk flavor's Frontend API (user mode). `None` for
    /// other flavors.
    pub fn clerk_sign_in(&self) -> Option<ClerkSignIn> {
        self.shared
            .clerk_frontend
            .as_ref()
            .map(|fapi| fapi.sign_in_details())
    }

    /// A fresh `__client` token of the seeded Clerk user, signed in as the sign-in page would
    /// (the value a user-mode profile takes as its credential). `None` for other flavors.
    pub fn clerk_client_token(&self) -> Option<String> {
        self.shared
            .clerk_frontend
            .as_ref()
            .map(|fapi| fapi.new_client_token())
    }

    /// Sets how long the Clerk Frontend API's session tokens live (default 60 s, at least 1 s);
    /// does nothing on other flavors.
    pub fn set_clerk_token_lifetime(&self, lifetime: Duration) {
        if let Some(fapi) = &self.shared.clerk_frontend {
            fapi.set_token_lifetime(lifetime);
        }
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.get()
    }

    /// Replaces the faults for the following requests; a rate limit starts a fresh window.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// Creates `count` keys owned by the seeded user or org (never expiring); returns their ids.
    pub fn seed(&self, count: usize, owner: SeedOwner) -> Vec<String> {
        self.seed_with(&SeedSpec::new(count, owner))
    }

    pub fn seed_with(&self, spec: &SeedSpec) -> Vec<String> {
        self.shared.seed(spec)
    }

    /// The accounts seeded keys can belong to, in the order [`SeedSpec::owners`] spreads keys
    /// over them (after `owner`'s own account): PropelAuth and Clerk have two users and two orgs
    /// (the seeded user is a member of the first org only); FreeSewing has its one user.
    pub fn seed_accounts(&self) -> Vec<SeedAccount> {
        self.shared.backend.seed_accounts()
    }

    /// Moves the emulator's clock forward (key expiry, JWT lifetimes), so tests need not sleep.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Backend requests received since start or the last reset, admin routes excluded.
    pub fn request_count(&self) -> u64 {
        self.shared.stats.total()
    }

    /// Backend requests per `METHOD /route/template`, e.g. `"POST /api_keys/{id}/revoke"`.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.shared.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.shared.stats.reset();
        if let app::Backend::FreeSewing(fs) = &self.shared.backend {
            fs.reset_crashes();
        }
    }

    /// Requests since start (or the last stats reset) that would have crashed the real server:
    /// on FreeSewing, Basic auth with a key id that does not exist. Always 0 on other flavors.
    pub fn crashes(&self) -> u64 {
        admin::crashes(&self.shared)
    }

    /// FreeSewing's behaviour switches; `None` on other flavors.
    pub fn freesewing_switches(&self) -> Option<FreeSewingSwitches> {
        match &self.shared.backend {
            app::Backend::FreeSewing(fs) => Some(fs.switches()),
            _ => None,
        }
    }

    /// Sets FreeSewing's behaviour switches; does nothing on other flavors.
    pub fn set_freesewing_switches(&self, switches: FreeSewingSwitches) {
        if let app::Backend::FreeSewing(fs) = &self.shared.backend {
            fs.set_switches(switches);
        }
    }

    /// Stops accepting, closes every connection and waits for the server task to end.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}
