//! Small HTTP helpers shared by the flavors.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::Value;

pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A 429 with `Retry-After` in whole seconds, rounded up (a header of 0 would invite a hot loop).
pub(crate) fn too_many_requests(retry_in: Duration, body: Value) -> Response {
    let seconds = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
    let mut response = json(StatusCode::TOO_MANY_REQUESTS, body);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// The value after `<scheme> ` in `Authorization`; the scheme is case-insensitive.
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    authorization(headers, "Bearer").filter(|token| !token.is_empty())
}

/// `(user, password)` from HTTP Basic auth.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = authorization(headers, "Basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// URL-encoded pairs (a query string or a form body); the first occurrence of a name wins.
pub(crate) fn form_pairs(encoded: &[u8]) -> HashMap<String, String> {
    let mut pairs = HashMap::new();
    for (name, value) in form_urlencoded::parse(encoded) {
        pairs
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    pairs
}

pub(crate) fn query_pairs(raw: Option<&str>) -> HashMap<String, String> {
    form_pairs(raw.unwrap_or_default().as_bytes())
}

/// A request body as JSON: `Ok(None)` when empty (or only whitespace), `Err` when not JSON.
pub(crate) fn json_body(body: &[u8]) -> Result<Option<Value>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some)
}
