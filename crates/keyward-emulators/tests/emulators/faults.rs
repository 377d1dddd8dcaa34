//! Fault switches: latency, failures, dropped connections and rate limits, in each flavor's shape.

use std::time::{Duration, Instant};

use keyward_emulators::{Faults, Flavor, Options, RateLimit};
use reqwest::RequestBuilder;
use serde_json::{json, Value};

use crate::common::{client, send, Harness, Reply};

/// An authenticated, harmless read for each flavor.
fn read(h: &Harness) -> RequestBuilder {
    let creds = h.emulator.credentials();
    match h.emulator.flavor() {
        Flavor::PropelAuth => h
            .http
            .get(h.url("/api/backend/v1/end_user_api_keys"))
            .bearer_auth(&creds.propelauth().unwrap().integration_key),
        Flavor::Clerk => {
            let clerk = creds.clerk().unwrap();
            h.http
                .get(h.url(&format!("/api_keys?subject={}", clerk.user_id)))
                .bearer_auth(&clerk.secret_key)
        }
        Flavor::FreeSewing => h
            .http
            .get(h.url("/apikeys/jwt"))
            .bearer_auth(&creds.freesewing().unwrap().jwt),
    }
}

fn with_faults(faults: Faults) -> Options {
    Options {
        faults,
        ..Options::default()
    }
}

#[tokio::test]
async fn latency_delays_backend_requests() {
    let latency = Duration::from_millis(150);
    let h = Harness::start_with(
        Flavor::Clerk,
        with_faults(Faults {
            latency,
            ..Faults::default()
        }),
    )
    .await;
    let started = Instant::now();
    assert_eq!(send(read(&h)).await.status, 200);
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn failure_rate_is_close_to_the_setting() {
    let options = Options {
        rng_seed: Some(42),
        ..with_faults(Faults {
            failure_rate: 0.3,
            ..Faults::default()
        })
    };
    let h = Harness::start_with(Flavor::PropelAuth, options).await;
    let mut failures = 0;
    for _ in 0..200 {
        match send(read(&h)).await.status {
            500 => failures += 1,
            status => assert_eq!(status, 200),
        }
    }
    // 60 expected; ±3 standard deviations.
    assert!((40..=80).contains(&failures), "{failures} failures in 200");
}

#[tokio::test]
async fn a_seed_reproduces_the_fault_pattern() {
    let options = || Options {
        rng_seed: Some(7),
        ..with_faults(Faults {
            failure_rate: 0.5,
            ..Faults::default()
        })
    };
    let mut patterns = Vec::new();
    for _ in 0..2 {
        let h = Harness::start_with(Flavor::Clerk, options()).await;
        let mut pattern = Vec::new();
        for _ in 0..40 {
            pattern.push(send(read(&h)).await.status);
        }
        patterns.push(pattern);
    }
    assert_eq!(patterns[0], patterns[1]);
    assert!(patterns[0].contains(&500) && patterns[0].contains(&200));
}

#[tokio::test]
async fn failures_use_each_backends_error_shape() {
    let always = with_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    let expected = [
        (
            Flavor::PropelAuth,
            json!({ "error_code": "unexpected_error", "user_facing_error": "An unexpected error has occurred" }),
        ),
        (
            Flavor::FreeSewing,
            json!({ "result": "error", "error": "internalError" }),
        ),
    ];
    for (flavor, body) in expected {
        let h = Harness::start_with(flavor, always.clone()).await;
        let reply = send(read(&h)).await;
        assert_eq!((reply.status, reply.json()), (500, body));
    }
    let clerk = Harness::start_with(Flavor::Clerk, always.clone()).await;
    let reply = send(read(&clerk)).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["errors"][0]["code"], "internal_clerk_error");

    let fs = Harness::start_with(Flavor::FreeSewing, always).await;
    let create = send(
        fs.http
            .post(fs.url("/apikeys/jwt"))
            .bearer_auth(&fs.emulator.credentials().freesewing().unwrap().jwt)
            .json(&json!({})),
    )
    .await;
    assert_eq!(
        (create.status, create.json()),
        (
            500,
            json!({ "result": "error", "error": "createApikeyFailed" })
        )
    );
}

#[tokio::test]
async fn dropped_connections_reach_the_client_as_errors() {
    let h = Harness::start_with(
        Flavor::FreeSewing,
        with_faults(Faults {
            drop_rate: 1.0,
            ..Faults::default()
        }),
    )
    .await;
    let error = read(&h)
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(!error.is_timeout(), "{error}");
    h.emulator.set_faults(Faults::default());
    // A fresh client: the dropped connection must not be reused.
    let reply = send(
        client()
            .get(h.url("/apikeys/jwt"))
            .bearer_auth(&h.emulator.credentials().freesewing().unwrap().jwt),
    )
    .await;
    assert_eq!(reply.status, 200);
}

/// Short, but with room for a busy machine: four local requests must fit in one window.
const WINDOW: Duration = Duration::from_millis(500);

/// Three requests pass, the fourth gets 429 with `Retry-After`, and after the window all is well.
async fn rate_limited_reply(flavor: Flavor) -> Reply {
    let limit = RateLimit {
        requests: 3,
        window: WINDOW,
    };
    let h = Harness::start_with(
        flavor,
        with_faults(Faults {
            rate_limit: Some(limit),
            ..Faults::default()
        }),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(send(read(&h)).await.status, 200);
    }
    let limited = send(read(&h)).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.header("retry-after"), Some("1"));
    // Admin routes are exempt.
    assert_eq!(
        send(h.http.get(h.url("/__emulator/info"))).await.status,
        200
    );
    tokio::time::sleep(limit.window + Duration::from_millis(50)).await;
    assert_eq!(send(read(&h)).await.status, 200);
    limited
}

#[tokio::test]
async fn clerk_rate_limits_answer_429_with_errors() {
    let body = rate_limited_reply(Flavor::Clerk).await.json();
    assert_eq!(body["errors"][0]["code"], "too_many_requests");
}

#[tokio::test]
async fn propelauth_rate_limits_answer_429_with_wait_seconds() {
    let body = rate_limited_reply(Flavor::PropelAuth).await.json();
    assert_eq!(body["error_code"], "rate_limit_exceeded");
    assert!(body["user_facing_error"].is_string());
    let wait = body["wait_seconds"].as_f64().unwrap();
    assert!(wait > 0.0 && wait <= WINDOW.as_secs_f64(), "{wait}");
}

#[tokio::test]
async fn freesewing_rate_limits_answer_429_too_many_requests() {
    let body = rate_limited_reply(Flavor::FreeSewing).await.json();
    assert_eq!(
        body,
        json!({ "result": "error", "error": "tooManyRequests" })
    );
}

#[tokio::test]
async fn admin_routes_are_exempt_from_faults() {
    let everything = Faults {
        failure_rate: 1.0,
        drop_rate: 1.0,
        ..Faults::default()
    };
    let h = Harness::start_with(Flavor::Clerk, with_faults(everything)).await;
    assert_eq!(
        send(h.http.get(h.url("/__emulator/info"))).await.status,
        200
    );
    assert_eq!(
        send(h.http.get(h.url("/__emulator/stats"))).await.status,
        200
    );
}

#[tokio::test]
async fn faults_can_be_set_over_http() {
    let h = Harness::start(Flavor::Clerk).await;
    let put = |body: Value| send(h.http.put(h.url("/__emulator/faults")).json(&body));
    let set = put(json!({ "latency_ms": 5, "failure_rate": 1.0, "rate_limit": { "requests": 100, "window_ms": 1000 } })).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        set.json(),
        json!({ "latency_ms": 5, "failure_rate": 1.0, "drop_rate": 0.0, "rate_limit": { "requests": 100, "window_ms": 1000 } })
    );
    assert_eq!(h.emulator.faults().failure_rate, 1.0);
    assert_eq!(send(read(&h)).await.status, 500);

    for bad in [
        json!({ "failure_rate": 2 }),
        json!({ "drop_rate": -0.1 }),
        json!({ "bogus": 1 }),
        json!({ "rate_limit": { "requests": 1, "window_ms": 0 } }),
    ] {
        let reply = put(bad.clone()).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["error"].is_string());
    }
    assert_eq!(put(json!({})).await.status, 200);
    assert_eq!(h.emulator.faults(), Faults::default());
    assert_eq!(send(read(&h)).await.status, 200);
}
