//! The state one emulator shares between its routes, and the router that ties the flavor's routes,
//! the fault layer and the admin routes together.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use axum::Router;

use crate::clerk::Clerk;
use crate::clerk_frontend::ClerkFrontend;
use crate::faults::{FaultSwitch, Faults};
use crate::freesewing::FreeSewing;
use crate::propelauth::PropelAuth;
use crate::seed::{SeedAccount, SeedSpec};
use crate::stats::Stats;
use crate::store::Clock;
use crate::{admin, faults, Credentials, Flavor};

pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) clock: Arc<Clock>,
    pub(crate) faults: FaultSwitch,
    pub(crate) stats: Stats,
    pub(crate) backend: Backend,
    /// Clerk's Frontend API, served beside the Backend API by the Clerk flavor.
    pub(crate) clerk_frontend: Option<Arc<ClerkFrontend>>,
    /// Keys seeded so far, so every seeded key gets a distinct name.
    seeded: AtomicUsize,
}

/// The flavor-specific state, one variant per backend.
pub(crate) enum Backend {
    PropelAuth(Arc<PropelAuth>),
    Clerk(Arc<Clerk>),
    FreeSewing(Arc<FreeSewing>),
}

impl Shared {
    pub(crate) fn new(
        flavor: Flavor,
        base_url: String,
        faults: Faults,
        rng_seed: Option<u64>,
    ) -> Self {
        let clock = Arc::new(Clock::default());
        let backend = match flavor {
            Flavor::PropelAuth => {
                Backend::PropelAuth(Arc::new(PropelAuth::new(&base_url, clock.clone())))
            }
            Flavor::Clerk => Backend::Clerk(Arc::new(Clerk::new(clock.clone()))),
            Flavor::FreeSewing => {
                Backend::FreeSewing(Arc::new(FreeSewing::new(&base_url, clock.clone())))
            }
        };
        let clerk_frontend = match backend.credentials() {
            Credentials::Clerk(clerk) => Some(Arc::new(ClerkFrontend::new(
                &base_url,
                clock.clone(),
                &clerk.user_id,
                &clerk.org_id,
                &clerk.session_token,
            ))),
            _ => None,
        };
        Self {
            base_url,
            clock,
            clerk_frontend,
            faults: FaultSwitch::new(faults, rng_seed),
            stats: Stats::default(),
            backend,
            seeded: AtomicUsize::new(0),
        }
    }

    /// Creates keys straight in the store; returns their ids.
    pub(crate) fn seed(&self, spec: &SeedSpec) -> Vec<String> {
        let first = self.seeded.fetch_add(spec.count, Ordering::Relaxed);
        match &self.backend {
            Backend::PropelAuth(b) => b.seed(spec, first),
            Backend::Clerk(b) => b.seed(spec, first),
            Backend::FreeSewing(b) => b.seed(spec, first),
        }
    }
}

impl Backend {
    /// The accounts that can own seeded keys (`SeedSpec::owners`), in round-robin order.
    pub(crate) fn seed_accounts(&self) -> Vec<SeedAccount> {
        match self {
            Backend::PropelAuth(_) => crate::propelauth::accounts(),
            Backend::Clerk(_) => crate::clerk::accounts(),
            Backend::FreeSewing(b) => b.accounts(),
        }
    }

    pub(crate) fn flavor(&self) -> Flavor {
        match self {
            Backend::PropelAuth(_) => Flavor::PropelAuth,
            Backend::Clerk(_) => Flavor::Clerk,
            Backend::FreeSewing(_) => Flavor::FreeSewing,
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        match self {
            Backend::PropelAuth(b) => &b.credentials,
            Backend::Clerk(b) => &b.credentials,
            Backend::FreeSewing(b) => &b.credentials,
        }
    }

    /// The fault layer's 500, in this backend's error shape.
    pub(crate) fn failure(&self, route: &str) -> Response {
        match self {
            Backend::PropelAuth(_) => crate::propelauth::failure(),
            Backend::Clerk(_) => crate::clerk::failure(),
            Backend::FreeSewing(_) => crate::freesewing::failure(route),
        }
    }

    /// The fault layer's 429, in this backend's error shape.
    pub(crate) fn rate_limited(&self, retry_in: Duration) -> Response {
        match self {
            Backend::PropelAuth(_) => crate::propelauth::rate_limited(retry_in),
            Backend::Clerk(_) => crate::clerk::rate_limited(retry_in),
            Backend::FreeSewing(_) => crate::freesewing::rate_limited(retry_in),
        }
    }

    fn routes(&self) -> Router {
        match self {
            Backend::PropelAuth(b) => b.clone().router(),
            Backend::Clerk(b) => b.clone().router(),
            Backend::FreeSewing(b) => b.clone().router(),
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut routes = shared.backend.routes();
    if let Some(fapi) = &shared.clerk_frontend {
        routes = crate::clerk_frontend::wrap(routes, fapi.clone());
    }
    let backend = routes.layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        faults::apply,
    ));
    // Merged after the layer, so admin routes skip faults and stats.
    backend.merge(admin::router(shared))
}
