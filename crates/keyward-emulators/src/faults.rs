//! Fault switches: added latency, 500s, dropped connections and rate limiting, applied to every
//! backend route (never to the `/__emulator/` admin routes).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::Shared;
use crate::server::ConnectionKill;

/// Faults applied to backend requests. `Faults::default()` means none.
///
/// Per request, in this order: the request is counted in the stats, `latency` is slept, then the
/// connection is dropped with probability `drop_rate`, else a request over the rate limit is answered
/// 429, else the request fails with a 500 with probability `failure_rate`, else it is served.
/// Rates outside `0.0..=1.0` are clamped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added before each request is handled.
    pub latency: Duration,
    /// Fraction of requests answered 500 in the backend's error shape.
    pub failure_rate: f64,
    /// Fraction of requests whose connection is closed without any response.
    pub drop_rate: f64,
    /// At most `requests` requests per window; the rest get 429 with `Retry-After`.
    pub rate_limit: Option<RateLimit>,
}

/// A fixed-window rate limit: the window opens with its first request and lasts `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// What the fault layer does with one request.
enum Verdict {
    Serve,
    Drop,
    RateLimited { retry_in: Duration },
    Fail,
}

/// The current faults with the random and rate-limit state they need.
pub(crate) struct FaultSwitch {
    inner: Mutex<FaultState>,
}

struct FaultState {
    faults: Faults,
    rng: SplitMix64,
    /// When the current rate-limit window opened, and how many requests it has let through.
    window: Option<(Instant, u32)>,
}

impl FaultSwitch {
    pub(crate) fn new(faults: Faults, rng_seed: Option<u64>) -> Self {
        let seed = rng_seed.unwrap_or_else(|| {
            let bytes = crate::store::random_bytes(8);
            u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
        });
        let state = FaultState {
            faults: clamped(faults),
            rng: SplitMix64(seed),
            window: None,
        };
        Self {
            inner: Mutex::new(state),
        }
    }

    pub(crate) fn get(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Replaces the faults; a new rate limit starts with a fresh window.
    pub(crate) fn set(&self, faults: Faults) {
        let mut state = self.lock();
        state.faults = clamped(faults);
        state.window = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn verdict(&self) -> Verdict {
        let mut state = self.lock();
        // Two draws per request whatever the rates, so a seed gives the same pattern per request
        // index even when rates change at runtime.
        let drop_draw = state.rng.next_f64();
        let fail_draw = state.rng.next_f64();
        if drop_draw < state.faults.drop_rate {
            return Verdict::Drop;
        }
        if let Some(limit) = state.faults.rate_limit {
            let now = Instant::now();
            let (opened, served) = match state.window {
                Some((opened, served)) if now.duration_since(opened) < limit.window => {
                    (opened, served)
                }
                _ => (now, 0),
            };
            if served >= limit.requests {
                state.window = Some((opened, served));
                return Verdict::RateLimited {
                    retry_in: limit.window - now.duration_since(opened),
                };
            }
            state.window = Some((opened, served + 1));
        }
        if fail_draw < state.faults.failure_rate {
            return Verdict::Fail;
        }
        Verdict::Serve
    }
}

fn clamped(mut faults: Faults) -> Faults {
    let clamp = |rate: f64| {
        if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        }
    };
    faults.failure_rate = clamp(faults.failure_rate);
    faults.drop_rate = clamp(faults.drop_rate);
    faults
}

/// The route a request matched, as `METHOD /template`; used for stats and per-route error bodies.
pub(crate) fn route_key(request: &Request) -> String {
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    format!("{} {template}", request.method())
}

/// Middleware in front of every backend route.
pub(crate) async fn apply(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let route = route_key(&request);
    shared.stats.record(&route);
    let latency = shared.faults.get().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.verdict() {
        Verdict::Serve => next.run(request).await,
        Verdict::Drop => {
            request
                .extensions()
                .get::<ConnectionKill>()
                .expect("server::serve_connection inserts a ConnectionKill into every request")
                .kill();
            // The connection task drops the connection; this response is never sent.
            std::future::pending().await
        }
        Verdict::RateLimited { retry_in } => shared.backend.rate_limited(retry_in),
        Verdict::Fail => shared.backend.failure(&route),
    }
}

/// A small, fast, seedable PRNG (Steele et al.'s SplitMix64): fault patterns need to be
/// reproducible, not unpredictable.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(switch: &FaultSwitch, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| matches!(switch.verdict(), Verdict::Fail))
            .collect()
    }

    #[test]
    fn a_seed_reproduces_the_failure_pattern() {
        let faults = Faults {
            failure_rate: 0.5,
            ..Faults::default()
        };
        let a = FaultSwitch::new(faults.clone(), Some(7));
        let b = FaultSwitch::new(faults, Some(7));
        let first = pattern(&a, 64);
        assert_eq!(first, pattern(&b, 64));
        assert!(first.contains(&true) && first.contains(&false));
    }

    #[test]
    fn rate_limit_counts_within_a_window() {
        let limit = RateLimit {
            requests: 2,
            window: Duration::from_secs(60),
        };
        let switch = FaultSwitch::new(
            Faults {
                rate_limit: Some(limit),
                ..Faults::default()
            },
            None,
        );
        assert!(matches!(switch.verdict(), Verdict::Serve));
        assert!(matches!(switch.verdict(), Verdict::Serve));
        match switch.verdict() {
            Verdict::RateLimited { retry_in } => assert!(retry_in <= limit.window),
            _ => panic!("third request should be rate limited"),
        }
    }

    #[test]
    fn rates_are_clamped() {
        let switch = FaultSwitch::new(
            Faults {
                failure_rate: 3.0,
                drop_rate: f64::NAN,
                ..Faults::default()
            },
            None,
        );
        assert_eq!(switch.get().failure_rate, 1.0);
        assert_eq!(switch.get().drop_rate, 0.0);
    }
}
