//! Free text a user types (a key's name and description, a revoke reason) is checked against the
//! backend's declared limits, and for anything that looks like a secret or is the profile's own
//! credential, BEFORE any request reaches the server (issue 12, item 6; keyward_core::free_text).
//! Each adapter is asked against its emulator, whose request count must stay 0.

mod common;

use common::{emulator, fast_http, propelauth_backend_api};
use keyward_core::{
    Error, ErrorCode, Expiration, ExpiryPreset, KeyBackend, NewKey, Subject, TextLimits,
};
use keyward_emulators::{Emulator, Flavor, SeedOwner};
use keyward_remote::{
    ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend, FreeSewingConfig,
    PropelAuthApi, PropelAuthBackend, PropelAuthConfig,
};
use secrecy::{ExposeSecret, SecretString};

/// A Clerk secret key, as a user might paste it by mistake.
const CLERK_SECRET_KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh";

struct Case {
    emulator: Emulator,
    backend: Box<dyn KeyBackend>,
    /// The profile's own credential, as the adapter was given it.
    credential: String,
    /// FreeSewing keys need a level.
    level: Option<u8>,
    descriptions: bool,
}

impl Case {
    fn new_key(&self, name: &str) -> NewKey {
        let mut new = NewKey::named(name, Expiration::Preset(ExpiryPreset::OneMonth));
        new.level = self.level;
        new
    }

    fn limits(&self) -> TextLimits {
        self.backend.capabilities().text_limits
    }
}

async fn clerk() -> Case {
    let emulator = emulator(Flavor::Clerk).await;
    let credentials = emulator.credentials().clerk().unwrap().clone();
    let backend = ClerkBackend::new(ClerkConfig {
        base_url: emulator.base_url(),
        secret_key: SecretString::from(credentials.secret_key.as_str()),
        path: ClerkPath::Root,
        default_subject: Some(Subject::User(credentials.user_id.clone())),
        http: fast_http(),
    })
    .unwrap();
    Case {
        emulator,
        backend: Box::new(backend),
        credential: credentials.secret_key,
        level: None,
        descriptions: true,
    }
}

async fn propelauth_backend() -> Case {
    let emulator = emulator(Flavor::PropelAuth).await;
    let credentials = emulator.credentials().propelauth().unwrap().clone();
    let backend = propelauth_backend_api(&emulator, None);
    Case {
        emulator,
        backend: Box::new(backend),
        credential: credentials.integration_key,
        level: None,
        descriptions: true,
    }
}

async fn propelauth_frontend() -> Case {
    let emulator = emulator(Flavor::PropelAuth).await;
    let cookie = emulator.propelauth_session().unwrap();
    let backend = PropelAuthBackend::new(PropelAuthConfig {
        base_url: emulator.base_url(),
        api: PropelAuthApi::Frontend {
            session_cookie: SecretString::from(cookie.as_str()),
        },
        default_subject: None,
        http: fast_http(),
    })
    .unwrap();
    Case {
        emulator,
        backend: Box::new(backend),
        credential: cookie,
        level: None,
        descriptions: false,
    }
}

async fn freesewing() -> Case {
    let emulator = emulator(Flavor::FreeSewing).await;
    let credentials = emulator.credentials().freesewing().unwrap().clone();
    let backend = FreeSewingBackend::new(FreeSewingConfig {
        base_url: emulator.base_url(),
        auth: FreeSewingAuth::Key {
            key: credentials.api_key.clone(),
            secret: SecretString::from(credentials.api_secret.as_str()),
        },
        http: fast_http(),
    })
    .unwrap();
    Case {
        emulator,
        backend: Box::new(backend),
        credential: credentials.api_secret,
        level: Some(1),
        descriptions: false,
    }
}

/// An `invalid_input` naming `field` that does not quote `value`.
fn assert_refused(result: Result<impl std::fmt::Debug, Error>, field: &str, value: &str) {
    let error = result.expect_err("refused");
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert_eq!(error.field(), Some(field), "{error}");
    let everything = format!(
        "{error} {error:?} {}",
        serde_json::to_string(&error).unwrap()
    );
    let piece: String = value.chars().take(16).collect();
    assert!(
        !everything.contains(&piece),
        "the value is echoed: {everything}"
    );
}

/// Every refusal below happens before a request is sent.
async fn free_text_is_checked_before_anything_is_sent(case: Case) {
    let ids = case.emulator.seed(1, SeedOwner::User);
    case.emulator.reset_stats();
    let limits = case.limits();
    let kw_key = keyward_core::key_format::generate().unwrap();
    let kw_key = kw_key.expose_secret();

    // Names: too long (counted in characters), a pasted secret, the profile's credential.
    let long_name = "é".repeat(limits.name + 1);
    for (name, value) in [
        (long_name.clone(), long_name.as_str()),
        (format!("ci {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
        (format!("ci {kw_key}"), kw_key),
        (format!("ci {}", case.credential), case.credential.as_str()),
    ] {
        assert_refused(
            case.backend.create(case.new_key(&name)).await,
            "name",
            value,
        );
    }

    if case.descriptions {
        let long = "d".repeat(limits.description + 1);
        for (description, value) in [
            (long.clone(), long.as_str()),
            (format!("old: {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
            (
                format!("cred {}", case.credential),
                case.credential.as_str(),
            ),
        ] {
            let mut new = case.new_key("a fine name");
            new.description = Some(description);
            assert_refused(case.backend.create(new).await, "description", value);
        }
    }

    // Reasons: a 10,000-character one, a pasted secret, the profile's credential, an escape.
    let long_reason = "r".repeat(10_000);
    for (reason, value) in [
        (long_reason.clone(), long_reason.as_str()),
        (format!("leaked {CLERK_SECRET_KEY}"), CLERK_SECRET_KEY),
        (format!("leaked {kw_key}"), kw_key),
        (
            format!("leaked {}", case.credential),
            case.credential.as_str(),
        ),
        ("clear\u{1b}[2J".to_owned(), "clear\u{1b}[2J"),
    ] {
        assert_refused(
            case.backend.revoke(&ids[0], Some(&reason)).await,
            "reason",
            value,
        );
    }
    assert_eq!(
        case.emulator.request_count(),
        0,
        "a refused value reached the server: {:?}",
        case.emulator.stats()
    );

    // Ordinary text still goes through.
    let created = case
        .backend
        .create(case.new_key("nightly CI"))
        .await
        .unwrap();
    assert_eq!(created.key.name, "nightly CI");
    case.backend
        .revoke(
            &created.key.id,
            Some("rotated after the sk_live_ migration"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn clerk_checks_free_text_before_sending() {
    let case = clerk().await;
    assert_eq!(case.limits().description, 255, "the bapi spec's maxLength");
    free_text_is_checked_before_anything_is_sent(case).await;
}

#[tokio::test]
async fn propelauth_backend_api_checks_free_text_before_sending() {
    free_text_is_checked_before_anything_is_sent(propelauth_backend().await).await;
}

#[tokio::test]
async fn propelauth_frontend_api_checks_free_text_before_sending() {
    free_text_is_checked_before_anything_is_sent(propelauth_frontend().await).await;
}

#[tokio::test]
async fn freesewing_checks_free_text_before_sending() {
    free_text_is_checked_before_anything_is_sent(freesewing().await).await;
}

/// Clerk keeps the reason: a long one at the limit is sent trimmed, as typed.
#[tokio::test]
async fn clerk_sends_a_reason_within_the_limit() {
    let case = clerk().await;
    let created = case
        .backend
        .create(case.new_key("to revoke"))
        .await
        .unwrap();
    let reason = "x".repeat(case.limits().reason);
    let revoked = case
        .backend
        .revoke(&created.key.id, Some(&format!("  {reason} ")))
        .await
        .unwrap();
    assert_eq!(revoked.revocation_reason.as_deref(), Some(reason.as_str()));
}
