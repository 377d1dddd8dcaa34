//! The shared HTTP layer, seen through the adapters: unreachable backends, timeouts, dropped
//! connections, and error messages that never carry a credential or a query string.

mod common;

use common::{closed_port_url, emulator, fast_http};
use keyward_core::{
    Error, ErrorCode, Expiration, ExpiryPreset, KeyBackend, ListQuery, NewKey, Subject,
};
use keyward_emulators::{Emulator, Faults, Flavor, Options};
use keyward_remote::{
    ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend, FreeSewingConfig,
    HttpOptions, PropelAuthApi, PropelAuthBackend, PropelAuthConfig,
};
use secrecy::SecretString;
use std::time::Duration;

const SECRET_KEY: &str = "sk_test_thisMustNeverBeShown";
const SEARCH: &str = "private-search-text";

fn clerk_at(base_url: &str, secret_key: &str, http: HttpOptions) -> ClerkBackend {
    ClerkBackend::new(ClerkConfig {
        base_url: base_url.to_owned(),
        secret_key: SecretString::from(secret_key),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(format!("user_{}", "a".repeat(27)))),
        http,
    })
    .unwrap()
}

fn searching() -> ListQuery {
    ListQuery {
        search: Some(SEARCH.into()),
        ..Default::default()
    }
}

/// A network error that names the server but carries neither the credential nor the query.
fn assert_clean_network_error(error: &Error, credential: &str) {
    assert_eq!(error.code(), ErrorCode::Network, "{error}");
    let text = format!(
        "{error} {error:?} {}",
        serde_json::to_string(error).unwrap()
    );
    for leak in [credential, SEARCH, "query=", "subject=", "?"] {
        assert!(!text.contains(leak), "{leak:?} leaked into {text}");
    }
}

#[tokio::test]
async fn a_backend_that_is_down_is_a_clean_network_error() {
    let base_url = closed_port_url();
    let clerk = clerk_at(&base_url, SECRET_KEY, fast_http());
    let error = clerk.list(&searching()).await.unwrap_err();
    assert_clean_network_error(&error, SECRET_KEY);
    assert_eq!(
        error.to_string(),
        format!("cannot reach {base_url}: connection refused")
    );
    assert_eq!(clerk.requests_sent(), 3, "reads are retried");

    let created = clerk
        .create(NewKey::named("never sent", Expiration::default()))
        .await
        .unwrap_err();
    assert_clean_network_error(&created, SECRET_KEY);
    assert!(
        !created.to_string().contains("may or may not"),
        "a refused connection means nothing was created: {created}"
    );

    for backend in [
        Box::new(
            PropelAuthBackend::new(PropelAuthConfig {
                base_url: base_url.clone(),
                api: PropelAuthApi::Backend {
                    integration_key: SecretString::from(SECRET_KEY),
                    auth_url: None,
                },
                default_subject: None,
                http: fast_http(),
            })
            .unwrap(),
        ) as Box<dyn KeyBackend>,
        Box::new(
            FreeSewingBackend::new(FreeSewingConfig {
                base_url: base_url.clone(),
                auth: FreeSewingAuth::Key {
                    key: "508e97f2-4a06-4937-a294-6360217103f3".into(),
                    secret: SecretString::from(SECRET_KEY),
                },
                http: fast_http(),
            })
            .unwrap(),
        ),
    ] {
        let error = backend.list(&searching()).await.unwrap_err();
        assert_clean_network_error(&error, SECRET_KEY);
    }
}

async fn clerk_emulator(faults: Faults, seed: Option<u64>) -> Emulator {
    let options = Options {
        faults,
        rng_seed: seed,
        ..Options::default()
    };
    Emulator::start_with(Flavor::Clerk, options).await.unwrap()
}

fn clerk_of(emulator: &Emulator, http: HttpOptions) -> ClerkBackend {
    let credentials = emulator.credentials().clerk().unwrap();
    ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http,
    })
    .unwrap()
}

#[tokio::test]
async fn a_slow_backend_times_out() {
    let emulator = clerk_emulator(
        Faults {
            latency: Duration::from_millis(1500),
            ..Faults::default()
        },
        None,
    )
    .await;
    let mut http = fast_http();
    http.request_timeout = Duration::from_millis(300);
    http.retry.attempts = 2;
    let clerk = clerk_of(&emulator, http);
    let error = clerk.list(&searching()).await.unwrap_err();
    let secret_key = &emulator.credentials().clerk().unwrap().secret_key;
    assert_clean_network_error(&error, secret_key);
    assert_eq!(
        error.to_string(),
        format!(
            "{}/api_keys did not answer within 0.3 s",
            emulator.base_url()
        )
    );
    assert_eq!(emulator.request_count(), 2);
}

#[tokio::test]
async fn dropped_connections_are_retried_then_reported() {
    let emulator = clerk_emulator(
        Faults {
            drop_rate: 1.0,
            ..Faults::default()
        },
        None,
    )
    .await;
    let clerk = clerk_of(&emulator, fast_http());
    let secret_key = emulator.credentials().clerk().unwrap().secret_key.clone();
    let error = clerk.list(&searching()).await.unwrap_err();
    assert_clean_network_error(&error, &secret_key);
    assert!(
        error.to_string().contains("broke before the answer"),
        "{error}"
    );
    assert_eq!(emulator.request_count(), 3);

    emulator.reset_stats();
    let error = clerk
        .create(NewKey::named(
            "dropped",
            Expiration::Preset(ExpiryPreset::TwoWeeks),
        ))
        .await
        .unwrap_err();
    assert_clean_network_error(&error, &secret_key);
    assert!(
        error
            .to_string()
            .contains("the key may or may not have been created: check the list"),
        "{error}"
    );
    assert_eq!(emulator.request_count(), 1, "a create is never resent");
}

#[tokio::test]
async fn listings_survive_some_dropped_connections() {
    // A fixed seed makes the drop pattern, and so this test, deterministic.
    let emulator = clerk_emulator(
        Faults {
            drop_rate: 0.3,
            ..Faults::default()
        },
        Some(7),
    )
    .await;
    emulator.seed(20, keyward_emulators::SeedOwner::User);
    let mut http = fast_http();
    http.retry.attempts = 6;
    let clerk = clerk_of(&emulator, http);
    for page in 0..10 {
        let query = ListQuery {
            page: page % 2,
            limit: 10,
            ..Default::default()
        };
        assert_eq!(clerk.list(&query).await.unwrap().items.len(), 10);
    }
    assert!(
        emulator.request_count() > 10,
        "some requests were dropped and retried ({})",
        emulator.request_count()
    );
}

#[tokio::test]
async fn only_https_or_loopback_base_urls_are_accepted() {
    let error = ClerkBackend::new(ClerkConfig {
        base_url: "http://api.clerk.com".into(),
        secret_key: SecretString::from(SECRET_KEY),
        path: ClerkPath::Root,
        default_subject: None,
        http: HttpOptions::default(),
    })
    .unwrap_err();
    assert_eq!(error.field(), Some("url"));
    let emulator = emulator(Flavor::Clerk).await;
    let localhost = emulator.base_url().replace("127.0.0.1", "localhost");
    let clerk = clerk_at(&localhost, SECRET_KEY, fast_http());
    let error = clerk.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(
        error.code(),
        ErrorCode::Unauthorized,
        "reached over http://localhost"
    );
}

#[tokio::test]
async fn credentials_never_show_in_debug_output() {
    let clerk_config = || ClerkConfig {
        base_url: "https://api.clerk.com".into(),
        secret_key: SecretString::from(SECRET_KEY),
        path: ClerkPath::V1,
        default_subject: None,
        http: HttpOptions::default(),
    };
    let propelauth_config = || PropelAuthConfig {
        base_url: "https://auth.example.com".into(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(SECRET_KEY),
        },
        default_subject: None,
        http: HttpOptions::default(),
    };
    let freesewing_config = || FreeSewingConfig {
        base_url: "https://backend.freesewing.org".into(),
        auth: FreeSewingAuth::Jwt {
            token: SecretString::from(SECRET_KEY),
        },
        http: HttpOptions::default(),
    };
    let printed = [
        format!("{:?}", clerk_config()),
        format!("{:?}", ClerkBackend::new(clerk_config()).unwrap()),
        format!("{:?}", propelauth_config()),
        format!("{:?}", PropelAuthBackend::new(propelauth_config()).unwrap()),
        format!("{:?}", freesewing_config()),
        format!("{:?}", FreeSewingBackend::new(freesewing_config()).unwrap()),
    ];
    for text in printed {
        assert!(!text.contains(SECRET_KEY), "{text}");
    }
}
