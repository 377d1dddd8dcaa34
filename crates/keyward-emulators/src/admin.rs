//! `/__emulator/*`: control routes for tests and demos. No auth (the server only listens on
//! loopback), no faults, not counted in the stats. Errors are `400 {"error": "..."}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::{Backend, Shared};
use crate::http::json as respond;
use crate::seed::{SeedOwner, SeedSpec};
use crate::{Faults, RateLimit};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__emulator/info", get(info))
        .route("/__emulator/faults", get(get_faults).put(put_faults))
        .route("/__emulator/seed", post(seed))
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/stats/reset", post(reset_stats))
        .route("/__emulator/clock", post(advance_clock))
        .route(
            "/__emulator/freesewing",
            get(get_freesewing).put(put_freesewing),
        )
        .with_state(shared)
}

fn bad_request(message: impl Into<String>) -> Response {
    respond(StatusCode::BAD_REQUEST, json!({ "error": message.into() }))
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid body: {e}")))
}

async fn info(State(shared): State<Arc<Shared>>) -> Response {
    let info = json!({
        "flavor": shared.backend.flavor(),
        "base_url": shared.base_url,
        "credentials": shared.backend.credentials(),
    });
    respond(StatusCode::OK, info)
}

/// The wire form of [`Faults`]; every field defaults to "no fault".
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct FaultsBody {
    latency_ms: u64,
    failure_rate: f64,
    drop_rate: f64,
    rate_limit: Option<RateLimitBody>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RateLimitBody {
    requests: u32,
    window_ms: u64,
}

impl FaultsBody {
    fn from_faults(faults: &Faults) -> Self {
        Self {
            latency_ms: u64::try_from(faults.latency.as_millis()).unwrap_or(u64::MAX),
            failure_rate: faults.failure_rate,
            drop_rate: faults.drop_rate,
            rate_limit: faults.rate_limit.map(|limit| RateLimitBody {
                requests: limit.requests,
                window_ms: u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    fn into_faults(self) -> Result<Faults, String> {
        for (name, rate) in [
            ("failure_rate", self.failure_rate),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if self
            .rate_limit
            .as_ref()
            .is_some_and(|limit| limit.window_ms == 0)
        {
            return Err("rate_limit.window_ms must be positive".to_owned());
        }
        Ok(Faults {
            latency: Duration::from_millis(self.latency_ms),
            failure_rate: self.failure_rate,
            drop_rate: self.drop_rate,
            rate_limit: self.rate_limit.map(|limit| RateLimit {
                requests: limit.requests,
                window: Duration::from_millis(limit.window_ms),
            }),
        })
    }
}

fn faults_json(faults: &Faults) -> serde_json::Value {
    serde_json::to_value(FaultsBody::from_faults(faults)).expect("plain data serializes")
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    respond(StatusCode::OK, faults_json(&shared.faults.get()))
}

/// Replaces all faults: omitted fields mean "no fault".
async fn put_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let faults = match parse::<FaultsBody>(&body).map(FaultsBody::into_faults) {
        Ok(Ok(faults)) => faults,
        Ok(Err(message)) => return bad_request(message),
        Err(response) => return response,
    };
    shared.faults.set(faults);
    respond(StatusCode::OK, faults_json(&shared.faults.get()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    count: usize,
    #[serde(default)]
    owner: SeedOwner,
    name_prefix: Option<String>,
    expiring_within_days: Option<u32>,
    #[serde(default)]
    owners: usize,
    #[serde(default)]
    usage_mix: bool,
}

/// Large enough for the UI's 100k-row tests, small enough to keep a typo from eating the memory.
const MAX_SEED: usize = 1_000_000;

async fn seed(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: SeedBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    if body.count > MAX_SEED {
        return bad_request(format!("count must be at most {MAX_SEED}"));
    }
    let mut spec = SeedSpec::new(body.count, body.owner);
    spec.expiring_within_days = body.expiring_within_days;
    spec.owners = body.owners;
    spec.usage_mix = body.usage_mix;
    if let Some(prefix) = body.name_prefix {
        spec.name_prefix = prefix;
    }
    let ids = shared.seed(&spec);
    respond(StatusCode::OK, json!({ "ids": ids }))
}

/// `crashes`: requests that would have crashed the real server (FreeSewing: Basic auth with an
/// unknown key id); always 0 for the other flavors.
async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    respond(
        StatusCode::OK,
        json!({
            "total": shared.stats.total(),
            "routes": shared.stats.snapshot(),
            "crashes": crashes(&shared),
        }),
    )
}

pub(crate) fn crashes(shared: &Shared) -> u64 {
    match &shared.backend {
        Backend::FreeSewing(fs) => fs.crashes(),
        _ => 0,
    }
}

async fn reset_stats(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.stats.reset();
    if let Backend::FreeSewing(fs) = &shared.backend {
        fs.reset_crashes();
    }
    StatusCode::NO_CONTENT
}

/// FreeSewing's behaviour switches (`FreeSewingSwitches`); 404 on the other flavors.
async fn get_freesewing(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.backend {
        Backend::FreeSewing(fs) => freesewing_json(fs),
        _ => not_freesewing(),
    }
}

/// Sets the switches given; omitted ones keep their value.
async fn put_freesewing(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SwitchesBody {
        crash_on_unknown_key: Option<bool>,
        seed_shaped_create: Option<bool>,
    }
    let Backend::FreeSewing(fs) = &shared.backend else {
        return not_freesewing();
    };
    let body: SwitchesBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut switches = fs.switches();
    if let Some(on) = body.crash_on_unknown_key {
        switches.crash_on_unknown_key = on;
    }
    if let Some(on) = body.seed_shaped_create {
        switches.seed_shaped_create = on;
    }
    fs.set_switches(switches);
    freesewing_json(fs)
}

fn freesewing_json(fs: &crate::freesewing::FreeSewing) -> Response {
    let mut body = serde_json::to_value(fs.switches()).expect("plain data serializes");
    body["crashes"] = json!(fs.crashes());
    respond(StatusCode::OK, body)
}

fn not_freesewing() -> Response {
    respond(
        StatusCode::NOT_FOUND,
        json!({ "error": "only the freesewing emulator has these switches" }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    advance_ms: u64,
}

async fn advance_clock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: ClockBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    shared.clock.advance(Duration::from_millis(body.advance_ms));
    respond(
        StatusCode::OK,
        json!({ "now": shared.clock.now().to_rfc3339() }),
    )
}
