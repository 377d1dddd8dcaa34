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

/// Removes `secrets` from every message (and field name) of `error`, in case a server echoed
/// what we sent: whole, and cut short by [`server_text`]'s bound (the secret's start before `…`).
pub(crate) fn scrub(error: Error, secrets: &[&str]) -> Error {
    let clean = |text: String| redact(&text, secrets);
    match error {
        Error::InvalidInput { field, message } => {
            let clean_field = clean(field.clone());
            Error::InvalidInput {
                // A field name is a key the front ends look up; one that held a secret is not.
                field: if clean_field == field {
                    field
                } else {
                    "request".into()
                },
                message: clean(message),
            }
        }
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

/// Secrets shorter than this are not looked for: they would match ordinary words.
const MIN_SECRET_CHARS: usize = 4;

/// `text` with every secret in it, and every start of a secret cut short by an ellipsis, replaced
/// by `[redacted]`.
fn redact(text: &str, secrets: &[&str]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut hidden = vec![false; chars.len()];
    for secret in secrets {
        let secret: Vec<char> = secret.chars().collect();
        if secret.len() < MIN_SECRET_CHARS {
            continue;
        }
        for (at, window) in chars.windows(secret.len()).enumerate() {
            if window == secret.as_slice() {
                hidden[at..at + secret.len()].fill(true);
            }
        }
        for cut in (0..chars.len()).filter(|&at| chars[at] == '…') {
            let longest = (MIN_SECRET_CHARS..secret.len().min(cut + 1))
                .rev()
                .find(|&len| chars[cut - len..cut] == secret[..len]);
            if let Some(len) = longest {
                hidden[cut - len..cut].fill(true);
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for (at, &c) in chars.iter().enumerate() {
        match (hidden[at], at > 0 && hidden[at - 1]) {
            (false, _) => out.push(c),
            (true, false) => out.push_str("[redacted]"),
            (true, true) => {}
        }
    }
    out
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

    #[test]
    fn scrub_hides_a_secret_cut_short() {
        let secret = "sk_test_4f9a1b2c3d4e5f60718293a4b5c6d7e8";
        // server_text's bound cuts the secret: the part before the cut is still hidden.
        let echoed = server_text(&format!("{} {secret}", "x".repeat(280)));
        assert!(echoed.ends_with(" sk_test_4f9a1b2c3d4…"), "{echoed}");
        let clean = scrub(Error::Backend(format!("refused ({echoed})")), &[secret]).to_string();
        assert!(clean.ends_with("x [redacted]…)"), "{clean}");
        // A field named by the secret is no field a front end knows.
        let error = Error::invalid(secret, format!("bad key {secret} here"));
        let clean = scrub(error, &[secret]);
        assert_eq!(clean.field(), Some("request"));
        assert_eq!(clean.message(), "bad key [redacted] here");
        // Ordinary text that shares a few characters with the secret stays.
        let clean = scrub(Error::Backend("use sk_test…".into()), &["sk_test_x"]);
        assert_eq!(
            clean.to_string(),
            "use [redacted]…",
            "a cut start is hidden"
        );
        let clean = scrub(Error::Backend("use sk_test_ keys".into()), &[secret]);
        assert_eq!(clean.to_string(), "use sk_test_ keys");
    }
}
