//! Error helpers shared by the adapters. Each adapter maps its own error bodies; these build the
//! messages every adapter words the same way, and keep server text and secrets out of them.

use crate::http::{seconds_text, Response};
use keyward_core::Error;
use serde::de::DeserializeOwned;

/// 429: wait for `Retry-After` / `wait_seconds` when the server said how long.
pub(crate) fn rate_limited(service: &str, response: &Response) -> Error {
    let retry_after = response.retry_after();
    let message = match retry_after {
        Some(wait) => format!(
            "{service} is rate limiting requests; try again in {}",
            seconds_text(wait)
        ),
        None => format!("{service} is rate limiting requests; try again shortly"),
    };
    Error::RateLimited {
        message,
        retry_after,
    }
}

/// 5xx: the server failed, not the user.
pub(crate) fn server_failed(service: &str, response: &Response) -> Error {
    Error::Backend(format!(
        "{service} had an internal problem (HTTP {}); try again later",
        response.status.as_u16()
    ))
}

/// A status the contract does not describe for this call.
pub(crate) fn unexpected_status(service: &str, response: &Response) -> Error {
    Error::Unexpected(format!(
        "{service} answered with unexpected HTTP status {}",
        response.status.as_u16()
    ))
}

/// Reads a success body; a body that does not match the contract is the backend's fault.
pub(crate) fn parse<T: DeserializeOwned>(service: &str, response: &Response) -> Result<T, Error> {
    serde_json::from_slice(&response.body).map_err(|e| {
        Error::Backend(format!(
            "{service} sent an answer Keyward cannot read (HTTP {}, {})",
            response.status.as_u16(),
            json_problem(&e)
        ))
    })
}

/// What was wrong with a body, without serde's message: that can quote the offending value.
fn json_problem(error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Data => format!(
            "unexpected shape at line {} column {}",
            error.line(),
            error.column()
        ),
        serde_json::error::Category::Eof => "the answer was cut short".into(),
        _ => "the answer is not JSON".into(),
    }
}

/// Server-provided text shown to a user: printable, one line, bounded.
pub(crate) fn server_text(text: &str) -> String {
    const MAX_CHARS: usize = 300;
    let mut out: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect();
    if text.trim().chars().count() > MAX_CHARS {
        out.push('…');
    }
    out
}

/// Removes `secrets` from every message of `error`, in case a server echoed what we sent.
pub(crate) fn scrub(error: Error, secrets: &[&str]) -> Error {
    let clean = |text: String| {
        secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .fold(text, |text, secret| text.replace(secret, "[redacted]"))
    };
    match error {
        Error::InvalidInput { field, message } => Error::InvalidInput {
            field,
            message: clean(message),
        },
        Error::RateLimited {
            message,
            retry_after,
        } => Error::RateLimited {
            message: clean(message),
            retry_after,
        },
        Error::Unauthorized(m) => Error::Unauthorized(clean(m)),
        Error::PermissionDenied(m) => Error::PermissionDenied(clean(m)),
        Error::NotFound(m) => Error::NotFound(clean(m)),
        Error::Conflict(m) => Error::Conflict(clean(m)),
        Error::Network(m) => Error::Network(clean(m)),
        Error::Backend(m) => Error::Backend(clean(m)),
        Error::KeychainUnavailable(m) => Error::KeychainUnavailable(clean(m)),
        Error::Store(m) => Error::Store(clean(m)),
        Error::Unexpected(m) => Error::Unexpected(clean(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use reqwest::StatusCode;
    use std::time::Duration;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let mut limited = response(429, "");
        limited
            .headers
            .insert("retry-after", HeaderValue::from_static("7"));
        let error = rate_limited("Clerk", &limited);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        assert!(error.to_string().contains("try again in 7 s"), "{error}");
        assert_eq!(
            rate_limited("Clerk", &response(429, "slow")).retry_after(),
            None
        );
    }

    #[test]
    fn unreadable_bodies_are_backend_errors_without_their_content() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Shape {
            id: u32,
        }
        let error = parse::<Shape>("Clerk", &response(200, r#"{"id": "hunter2"}"#)).unwrap_err();
        assert_eq!(error.code(), keyward_core::ErrorCode::Backend);
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = parse::<Shape>("Clerk", &response(200, "<html>")).unwrap_err();
        assert!(error.to_string().contains("not JSON"), "{error}");
    }

    #[test]
    fn server_text_is_one_bounded_line() {
        assert_eq!(server_text(" a\nb\u{1b}c "), "a b c");
        assert_eq!(server_text(&"x".repeat(400)).chars().count(), 301);
    }

    #[test]
    fn scrub_removes_secrets_everywhere() {
        let error = Error::invalid("secret", "token sk_live_abcdef is not valid");
        let clean = scrub(error, &["sk_live_abcdef"]);
        assert_eq!(clean.field(), Some("secret"));
        assert_eq!(clean.to_string(), "secret: token [redacted] is not valid");
        let clean = scrub(
            Error::Backend("x sk_live_abcdef".into()),
            &["sk_live_abcdef", ""],
        );
        assert_eq!(clean.to_string(), "x [redacted]");
    }
}
