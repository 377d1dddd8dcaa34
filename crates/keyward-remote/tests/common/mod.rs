//! Helpers shared by the contract tests: emulators, fast HTTP options, and secret scans.
#![allow(dead_code)] // Each test file uses a different subset.

use keyward_core::Subject;
use keyward_emulators::{Emulator, Flavor};
use keyward_remote::{
    HttpOptions, PropelAuthApi, PropelAuthBackend, PropelAuthConfig, RetryPolicy,
};
use secrecy::SecretString;
use serde::Serialize;
use std::time::Duration;

/// Short waits so retry tests finish quickly; the policy is otherwise the production one.
pub fn fast_http() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_rate_limit_wait: Duration::from_secs(5),
        },
    }
}

pub async fn emulator(flavor: Flavor) -> Emulator {
    Emulator::start(flavor).await.expect("the emulator starts")
}

/// Fails if `needle` appears anywhere in the JSON form of `value`.
pub fn assert_not_in_json(value: &impl Serialize, needle: &str) {
    let json = serde_json::to_string(value).expect("serializes");
    assert!(!json.contains(needle), "a secret leaked into {json}");
}

/// A base URL on which nothing listens: a port the OS gave us, then closed.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// PropelAuth's backend API on `emulator`, acting for the seeded user, with the emulator's
/// integration key or `key` instead.
pub fn propelauth_backend_api(emulator: &Emulator, key: Option<&str>) -> PropelAuthBackend {
    let credentials = emulator.credentials().propelauth().unwrap();
    PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Backend {
            integration_key: SecretString::from(key.unwrap_or(&credentials.integration_key)),
            auth_url: None,
        },
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: fast_http(),
    })
    .unwrap()
}
