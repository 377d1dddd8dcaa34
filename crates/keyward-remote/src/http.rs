//! The HTTP layer shared by every adapter: timeouts, retries with full-jitter backoff, 429
//! handling, a request counter, and network errors that name only scheme, host and path. What a
//! hostile server may try stops here: redirects are refused (the credential goes to the
//! profile's address only), answers over [`MAX_BODY_BYTES`] are refused unread, and every error
//! has the credential scrubbed out, in any form the request carried it.

use crate::endpoint::{origin, origin_and_path, Endpoint};
use crate::errors::scrub;
use keyward_core::{Error, Result};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use url::Url;
use zeroize::Zeroize;

/// Timeouts and retry behaviour of one backend's client.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOptions {
    /// How long to wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// How long one attempt may take in total, from connecting to the last byte of the answer.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }
}

/// When and how long to wait before sending an idempotent request again. Creates are never resent.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub attempts: u32,
    /// Backoff before the second attempt; doubles after each further failure.
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` we wait out ourselves; a longer one is handed to the user as
    /// `rate_limited` with its `retry_after`.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_rate_limit_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniformly random wait in `[0, min(max_delay, base_delay * 2^retry))`, so
    /// clients that failed together do not come back together. `unit` is a random number in
    /// `[0, 1)`; `retry` counts from 0.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Whether a request may be sent more than once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Retry {
    /// Reads, updates, deletes, revokes, verifications: sending twice does no harm.
    Safe,
    /// Creates. If the connection breaks after the request left, we cannot know whether the
    /// server acted, so we say so with this hint instead of risking a duplicate.
    Never { if_unsure: &'static str },
    /// Checks that must not be repeated: a server may die on one (FreeSewing does on an unknown
    /// key id), and a second try would only meet it dead. A connection the server closes without
    /// answering is reported as exactly that, with this hint.
    Once { if_closed: &'static str },
}

pub(crate) struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<serde_json::Value>,
    retry: Retry,
    /// Secrets this request carries beyond the client's credentials (a secret being verified).
    redact: Option<SecretString>,
}

impl Request {
    fn new(method: Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            retry: Retry::Safe,
            redact: None,
        }
    }

    pub(crate) fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    pub(crate) fn delete(url: Url) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// A POST that is safe to repeat (revoke, verify).
    pub(crate) fn post(url: Url, body: &impl Serialize) -> Self {
        Self::new(Method::POST, url).json(body)
    }

    /// A PATCH of a key's fields to given values (an expiry is sent as an instant, not "from
    /// now"), so sending it twice does no harm.
    pub(crate) fn patch(url: Url, body: &impl Serialize) -> Self {
        Self::new(Method::PATCH, url).json(body)
    }

    /// A POST that creates something, and so is sent at most once.
    pub(crate) fn create(url: Url, body: &impl Serialize) -> Self {
        let mut request = Self::post(url, body);
        request.retry = Retry::Never {
            if_unsure:
                "the key may or may not have been created: check the list before trying again",
        };
        request
    }

    /// Sent at most once; see [`Retry::Once`].
    pub(crate) fn once(mut self, if_closed: &'static str) -> Self {
        self.retry = Retry::Once { if_closed };
        self
    }

    pub(crate) fn query(mut self, pairs: &[(&str, String)]) -> Self {
        if !pairs.is_empty() {
            self.url.query_pairs_mut().extend_pairs(pairs);
        }
        self
    }

    pub(crate) fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers.extend(headers);
        self
    }

    /// Keeps `secret` out of any error this request ends in.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        self.redact = Some(SecretString::from(secret));
        self
    }

    fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).expect("request bodies are plain data"));
        self
    }
}

/// A whole answer, read into memory. Backends map it onto their domain or an [`Error`].
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The wait the server asked for: a `Retry-After` header (seconds or an HTTP date), else a
    /// `wait_seconds` number in a JSON body (PropelAuth's rate-limit answer).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
            .or_else(|| {
                let body: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
                seconds(body.get("wait_seconds")?.as_f64()?)
            })
    }

    /// Overwrites the body, after a secret has been taken out of it.
    pub(crate) fn wipe(&mut self) {
        self.body.zeroize();
    }
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn seconds(secs: f64) -> Option<Duration> {
    // Bounded so a silly value cannot overflow `Duration`.
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The biggest answer we read; key listings are far smaller. A bigger one is refused as soon as
/// its `Content-Length` says so, or as its running total passes the cap, never held whole.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Why one attempt got no answer to hand on.
enum Failure {
    Transport(reqwest::Error),
    /// The body is bigger than [`MAX_BODY_BYTES`]; sending again would meet the same answer.
    TooLarge,
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        Failure::Transport(error)
    }
}

/// One backend's HTTP client: its base URL, its credential headers, and the secrets that must
/// never appear in an error it returns.
pub(crate) struct Client {
    inner: reqwest::Client,
    endpoint: Endpoint,
    auth: HeaderMap,
    credentials: Vec<SecretString>,
    options: HttpOptions,
    requests: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.endpoint.host())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `auth` headers go on every request that does not set its own; `credentials` are scrubbed
    /// from every error message.
    pub(crate) fn new(
        base_url: &str,
        options: HttpOptions,
        auth: HeaderMap,
        credentials: Vec<SecretString>,
    ) -> Result<Self> {
        let endpoint = Endpoint::new(base_url)?;
        let inner = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            // A redirect could carry our Authorization header to a host the user never chose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| Error::Unexpected("could not set up the HTTP client (TLS)".into()))?;
        let credentials = with_header_forms(credentials, &auth);
        Ok(Client {
            inner,
            endpoint,
            auth,
            credentials,
            options,
            requests: AtomicU64::new(0),
        })
    }

    /// `base URL` + the segments, each percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        self.endpoint.url(segments)
    }

    /// The profile's credential, in each form it is sent: free text must not hold any of them
    /// (`keyward_core::free_text`).
    pub(crate) fn credentials(&self) -> Vec<&SecretString> {
        self.credentials.iter().collect()
    }

    /// HTTP requests sent so far, retries included.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends `request` and hands the answer to `handle`. Every error, whether from the network
    /// or from `handle`'s reading of an error body, has the credentials scrubbed out.
    pub(crate) async fn call<T>(
        &self,
        request: Request,
        handle: impl FnOnce(Response) -> Result<T>,
    ) -> Result<T> {
        let result = match self.send(&request).await {
            Ok(response) if response.status.is_redirection() => {
                Err(redirected(&request, &response))
            }
            Ok(response) => handle(response),
            Err(error) => Err(error),
        };
        result.map_err(|error| {
            let secrets: Vec<&str> = self
                .credentials
                .iter()
                .chain(&request.redact)
                .map(|s| s.expose_secret())
                .collect();
            scrub(error, &secrets)
        })
    }

    /// Sends with retries where safe. Any HTTP status comes back as a [`Response`] (a 429 or 5xx
    /// once retries are used up); only transport failures are errors.
    async fn send(&self, request: &Request) -> Result<Response> {
        let policy = &self.options.retry;
        let attempts = match request.retry {
            Retry::Safe => policy.attempts.max(1),
            Retry::Never { .. } | Retry::Once { .. } => 1,
        };
        let mut attempt = 1;
        loop {
            let last = attempt >= attempts;
            let backoff = policy.backoff(attempt - 1, random_unit());
            self.requests.fetch_add(1, Ordering::Relaxed);
            let wait = match self.send_once(request).await {
                Ok(response) if response.status == StatusCode::TOO_MANY_REQUESTS => {
                    match response.retry_after() {
                        _ if last => return Ok(response),
                        Some(wait) if wait > policy.max_rate_limit_wait => return Ok(response),
                        Some(wait) => wait,
                        None => backoff,
                    }
                }
                Ok(response) if is_transient(response.status) && !last => backoff,
                Ok(response) => return Ok(response),
                Err(Failure::TooLarge) => return Err(too_large(request)),
                Err(Failure::Transport(failure)) if last => {
                    return Err(self.network_error(request, failure))
                }
                Err(Failure::Transport(_)) => backoff,
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn send_once(&self, request: &Request) -> Result<Response, Failure> {
        let mut headers = request.headers.clone();
        for (name, value) in &self.auth {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        let mut builder = self
            .inner
            .request(request.method.clone(), request.url.clone())
            .headers(headers);
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let mut response = builder.send().await?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BODY_BYTES as u64)
        {
            return Err(Failure::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                // What was read may hold a secret; the rest is left unread.
                body.zeroize();
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Built from fixed phrases and the URL's scheme, host and path: reqwest's own messages
    /// include the full URL, query string and all, so they are never shown.
    fn network_error(&self, request: &Request, failure: reqwest::Error) -> Error {
        let message = if failure.is_connect() {
            // Nothing reached the server, so even a create is known not to have happened.
            return Error::Network(format!(
                "cannot reach {}: {}",
                origin(&request.url),
                connect_reason(&failure)
            ));
        } else if failure.is_timeout() {
            format!(
                "{} did not answer within {}",
                origin_and_path(&request.url),
                seconds_text(self.options.request_timeout)
            )
        } else if let Retry::Once { if_closed } = request.retry {
            return Error::Network(format!(
                "the server closed the connection to {} without answering; {if_closed}",
                origin_and_path(&request.url)
            ));
        } else {
            format!(
                "the connection to {} broke before the answer was complete",
                origin_and_path(&request.url)
            )
        };
        match request.retry {
            Retry::Never { if_unsure } => Error::Network(format!("{message}; {if_unsure}")),
            Retry::Safe | Retry::Once { .. } => Error::Network(message),
        }
    }
}

/// A 3xx: never followed, since the request carries the credential. Names only the origin the
/// server pointed to (its path and query may carry anything).
fn redirected(request: &Request, response: &Response) -> Error {
    let target = response
        .headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| request.url.join(location).ok())
        .map(|target| format!(" to {}", origin(&target)))
        .unwrap_or_default();
    let message = format!(
        "{} answered with a redirect (HTTP {}){target}; Keyward does not follow redirects, so the \
         credential goes only to the profile's address: if the service has moved, change the \
         profile's URL",
        origin_and_path(&request.url),
        response.status.as_u16()
    );
    match request.retry {
        Retry::Never { if_unsure } => Error::Backend(format!("{message}; {if_unsure}")),
        Retry::Safe | Retry::Once { .. } => Error::Backend(message),
    }
}

/// An answer over [`MAX_BODY_BYTES`], refused unread.
fn too_large(request: &Request) -> Error {
    let message = format!(
        "the answer from {} is larger than {} MiB, more than Keyward reads; it stopped reading",
        origin_and_path(&request.url),
        MAX_BODY_BYTES / (1024 * 1024)
    );
    match request.retry {
        Retry::Never { if_unsure } => Error::Backend(format!("{message}; {if_unsure}")),
        Retry::Safe | Retry::Once { .. } => Error::Backend(message),
    }
}

/// The credentials, plus the forms in which the `Authorization` and `Cookie` headers carry them
/// (a `Basic` header's base64, a bearer token, each cookie's value), so that a server echoing
/// any of them has it scrubbed from the error. Parts shorter than 8 characters are no secret.
fn with_header_forms(mut credentials: Vec<SecretString>, auth: &HeaderMap) -> Vec<SecretString> {
    let mut forms = Vec::new();
    for name in [AUTHORIZATION, COOKIE] {
        let Some(value) = auth.get(&name).and_then(|value| value.to_str().ok()) else {
            continue;
        };
        forms.push(value);
        if name == AUTHORIZATION {
            forms.extend(value.split_once(' ').map(|(_scheme, token)| token));
        } else {
            forms.extend(
                value
                    .split(';')
                    .filter_map(|pair| Some(pair.split_once('=')?.1)),
            );
        }
    }
    credentials.extend(
        forms
            .into_iter()
            .map(str::trim)
            .filter(|form| form.len() >= 8)
            .map(SecretString::from),
    );
    credentials
}

/// Answers that usually mean "try again shortly". 500 is included: we only ever resend requests
/// that are safe to repeat.
fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// Why a connection could not be made, in a fixed phrase (never the error's own text).
fn connect_reason(failure: &reqwest::Error) -> &'static str {
    use std::error::Error as _;
    use std::io::ErrorKind;
    let mut source = failure.source();
    let mut text = String::new();
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return "connection refused",
                ErrorKind::ConnectionReset => return "connection reset",
                ErrorKind::TimedOut => return "timed out while connecting",
                ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable => {
                    return "network unreachable"
                }
                _ => {}
            }
        }
        text.push_str(&error.to_string().to_ascii_lowercase());
        source = error.source();
    }
    if text.contains("dns") || text.contains("lookup") || text.contains("resolve") {
        "the host name could not be resolved"
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        "the TLS handshake failed (is the certificate valid for this host?)"
    } else {
        "could not connect"
    }
}

pub(crate) use keyward_core::bulk::seconds_text;

/// A uniform number in `[0, 1)` from the OS, for jitter. If the OS has no randomness to give,
/// the full backoff is used.
fn random_unit() -> f64 {
    getrandom::u64().map_or(1.0, |bits| (bits >> 11) as f64 / (1u64 << 53) as f64)
}

/// Wraps a credential as a header value that reqwest and `http` keep out of `Debug` output.
pub(crate) fn sensitive_header(value: &str) -> Result<HeaderValue> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid(
            "credential",
            "contains characters that cannot be sent in an HTTP header",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_doubles_and_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.backoff(0, 0.999_999),
            Duration::from_millis(200).mul_f64(0.999_999)
        );
        assert_eq!(policy.backoff(1, 0.5), Duration::from_millis(200));
        assert_eq!(policy.backoff(3, 0.5), Duration::from_millis(800));
        assert_eq!(policy.backoff(10, 0.5), Duration::from_millis(2500));
        assert_eq!(policy.backoff(40, 1.0), Duration::from_secs(5));
        assert_eq!(policy.backoff(2, 0.0), Duration::ZERO);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let unit = random_unit();
            assert!((0.0..1.0).contains(&unit), "{unit}");
        }
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn retry_after_comes_from_the_header_or_wait_seconds() {
        let header = response(429, &[("retry-after", "3")], "");
        assert_eq!(header.retry_after(), Some(Duration::from_secs(3)));
        let fractional = response(429, &[("Retry-After", "1.5")], "");
        assert_eq!(fractional.retry_after(), Some(Duration::from_millis(1500)));
        let body = response(
            429,
            &[],
            r#"{"wait_seconds": 2.25, "error_code": "rate_limit_exceeded"}"#,
        );
        assert_eq!(body.retry_after(), Some(Duration::from_millis(2250)));
        let past_date = response(429, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], "");
        assert_eq!(past_date.retry_after(), Some(Duration::ZERO));
        let future = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc2822();
        let date = response(429, &[("retry-after", &future)], "");
        let wait = date.retry_after().unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        for junk in ["soon", "-1", "NaN"] {
            assert_eq!(
                response(429, &[("retry-after", junk)], "Too many").retry_after(),
                None
            );
        }
        assert_eq!(response(429, &[], "Too many requests").retry_after(), None);
    }

    #[test]
    fn transient_statuses() {
        for status in [500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(status).unwrap()));
        }
        for status in [200, 400, 401, 404, 409, 429, 501] {
            assert!(!is_transient(StatusCode::from_u16(status).unwrap()));
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(seconds_text(Duration::from_secs(20)), "20 s");
        assert_eq!(seconds_text(Duration::from_millis(300)), "0.3 s");
    }

    #[test]
    fn credential_headers_are_hidden_from_debug() {
        let header = sensitive_header("Bearer sk_test_hunter2").unwrap();
        assert!(!format!("{header:?}").contains("hunter2"));
        assert_eq!(
            sensitive_header("bad\nvalue").unwrap_err().field(),
            Some("credential")
        );
    }
}
