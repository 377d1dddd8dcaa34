//! Hostile servers (issue 12, items 4 and 11): a redirect, an answer over the size cap, an HTML
//! page where JSON was expected, a listing that lies about its size or ignores the page asked for,
//! and a credential echoed back in an error body. Each adapter meets a small local server that
//! answers every request the same hostile way and records what it was sent.

mod common;

use common::fast_http;
use keyward_core::{Error, ErrorCode, KeyBackend, ListQuery, SortField, Subject};
use keyward_remote::{
    ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend, FreeSewingConfig,
    PropelAuthApi, PropelAuthBackend, PropelAuthConfig,
};
use secrecy::SecretString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Long enough that any 10-character piece of it is recognisable in an error.
const CREDENTIAL: &str = "sk_test_Zq8vW3nR5tY1uI9oP2aS4dF6gH7jK0lX";
const FREESEWING_KEY_ID: &str = "508e97f2-4a06-4937-a294-6360217103f3";
const SESSION_COOKIE: &str = "__pa_at=Zq8vW3nR5tY1uI9oP2aS4dF6gH7jK0lXc0ok1e";
const CLERK_USER: &str = "user_aaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// What the server saw.
#[derive(Default)]
struct Seen {
    /// Each request's head: request line and headers.
    requests: Mutex<Vec<String>>,
    /// Body bytes the server managed to write (it stops when the client hangs up).
    written: AtomicU64,
}

impl Seen {
    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// An HTTP/1.1 server on a loopback port; `answer` writes the whole answer to each request (its
/// head is given) and the connection is closed after it.
fn serve<F>(answer: F) -> (String, Arc<Seen>)
where
    F: Fn(&str, &mut TcpStream, &Seen) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let answer = Arc::new(answer);
    let server_seen = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (answer, seen) = (answer.clone(), server_seen.clone());
            std::thread::spawn(move || {
                let Some(head) = read_request(&mut stream) else {
                    return;
                };
                seen.requests.lock().unwrap().push(head.clone());
                answer(&head, &mut stream, &seen);
            });
        }
    });
    (base_url, seen)
}

/// The request's head; its body, if any, is read and dropped.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(head)
}

fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn json(stream: &mut TcpStream, status: &str, body: &serde_json::Value) {
    respond(
        stream,
        status,
        "Content-Type: application/json\r\n",
        &body.to_string(),
    );
}

// The four adapters, each at `base_url`.

fn clerk(base_url: &str) -> Box<dyn KeyBackend> {
    Box::new(
        ClerkBackend::new(ClerkConfig {
            base_url: base_url.to_owned(),
            secret_key: SecretString::from(CREDENTIAL),
            path: ClerkPath::Root,
            default_subject: Some(Subject::User(CLERK_USER.into())),
            http: fast_http(),
        })
        .unwrap(),
    )
}

fn propelauth_backend(base_url: &str) -> Box<dyn KeyBackend> {
    Box::new(
        PropelAuthBackend::new(PropelAuthConfig {
            base_url: base_url.to_owned(),
            api: PropelAuthApi::Backend {
                integration_key: SecretString::from(CREDENTIAL),
                auth_url: None,
            },
            default_subject: None,
            http: fast_http(),
        })
        .unwrap(),
    )
}

fn propelauth_frontend(base_url: &str) -> Box<dyn KeyBackend> {
    Box::new(
        PropelAuthBackend::new(PropelAuthConfig {
            base_url: base_url.to_owned(),
            api: PropelAuthApi::Frontend {
                session_cookie: SecretString::from(SESSION_COOKIE),
            },
            default_subject: None,
            http: fast_http(),
        })
        .unwrap(),
    )
}

fn freesewing(base_url: &str) -> Box<dyn KeyBackend> {
    Box::new(
        FreeSewingBackend::new(FreeSewingConfig {
            base_url: base_url.to_owned(),
            auth: FreeSewingAuth::Key {
                key: FREESEWING_KEY_ID.into(),
                secret: SecretString::from(CREDENTIAL),
            },
            http: fast_http(),
        })
        .unwrap(),
    )
}

type Adapter = fn(&str) -> Box<dyn KeyBackend>;

const ADAPTERS: [(&str, Adapter); 4] = [
    ("Clerk", clerk),
    ("PropelAuth backend", propelauth_backend),
    ("PropelAuth frontend", propelauth_frontend),
    ("FreeSewing", freesewing),
];

/// Everything a user or a log could see of an error.
fn shown(error: &Error) -> String {
    format!(
        "{error} | {error:?} | {}",
        serde_json::to_string(error).unwrap()
    )
}

/// Fails if any 10-character piece of `secret` is in `text`.
fn assert_no_piece_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for piece in chars.windows(10) {
        let piece: String = piece.iter().collect();
        assert!(
            !text.contains(&piece),
            "{piece:?} of a secret leaked: {text}"
        );
    }
}

// Redirects.

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_credential_stays_with_the_profile_host() {
    let (elsewhere, elsewhere_seen) = serve(|_, stream, _| json(stream, "200 OK", &"{}".into()));
    let target = format!("{elsewhere}/collect?stolen=1");
    let (base_url, seen) = serve(move |_, stream, _| {
        respond(stream, "302 Found", &format!("Location: {target}\r\n"), "")
    });
    for (name, adapter) in ADAPTERS {
        let error = adapter(&base_url)
            .list(&ListQuery::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Backend, "{name}: {error}");
        let text = error.to_string();
        assert!(
            text.contains(&format!(
                "answered with a redirect (HTTP 302) to {elsewhere}; Keyward does not follow \
                 redirects"
            )),
            "{name}: {text}"
        );
        assert!(text.contains("change the profile's URL"), "{name}: {text}");
        assert!(
            !text.contains("collect") && !text.contains("stolen"),
            "{text}"
        );
    }
    assert!(seen.count() >= 4, "each adapter asked the profile's host");
    assert_eq!(
        elsewhere_seen.count(),
        0,
        "nothing, and so no credential, went to the redirect target"
    );
}

// Answers over the size cap.

/// A 200 whose body never ends: zeros, chunk after chunk, until the client hangs up (or 256 MiB,
/// so that a client reading everything cannot keep the test running forever). With
/// `claimed_length`, the head says how long the body will be.
fn endless(stream: &mut TcpStream, seen: &Seen, claimed_length: Option<u64>) {
    let framing = match claimed_length {
        Some(length) => format!("Content-Length: {length}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".into(),
    };
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    while seen.written.load(Ordering::SeqCst) < 256 * 1024 * 1024 {
        let sent = match claimed_length {
            Some(_) => stream.write_all(&chunk),
            None => write!(stream, "{:x}\r\n", chunk.len())
                .and_then(|()| stream.write_all(&chunk))
                .and_then(|()| stream.write_all(b"\r\n")),
        };
        if sent.is_err() {
            return;
        }
        seen.written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_refused_without_reading_it_whole() {
    const MIB: u64 = 1024 * 1024;
    // A body that says up front it is 1 TiB: refused on its head, before its body is read.
    let (base_url, seen) = serve(|_, stream, seen| endless(stream, seen, Some(1024 * 1024 * MIB)));
    let error = freesewing(&base_url)
        .list(&ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend, "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "the answer from {base_url}/apikeys/key is larger than 16 MiB, more than Keyward \
             reads; it stopped reading"
        )
    );
    assert_eq!(
        seen.count(),
        1,
        "an answer too large is not asked for again"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = seen.written.load(Ordering::SeqCst);
    assert!(
        written < 16 * MIB,
        "the client hung up after the head, having let {written} bytes through"
    );
    println!("1 TiB announced: the server wrote {written} bytes before the client hung up");

    // A body of no announced length: read with a running total, refused once past the cap.
    let (base_url, seen) = serve(|_, stream, seen| endless(stream, seen, None));
    let error = clerk(&base_url)
        .list(&ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Backend, "{error}");
    assert!(
        error.to_string().contains("is larger than 16 MiB"),
        "{error}"
    );
    assert_eq!(seen.count(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = seen.written.load(Ordering::SeqCst);
    assert!(written < 64 * MIB, "{written} bytes were sent");
    println!("an endless body: the server wrote {written} bytes before the client hung up");
}

// HTML where JSON was expected.

#[tokio::test]
async fn an_html_page_where_json_was_expected_is_a_clean_error() {
    const MARKER: &str = "proxy-page-text";
    for status in [
        "200 OK",
        "400 Bad Request",
        "403 Forbidden",
        "404 Not Found",
        "502 Bad Gateway",
    ] {
        let (base_url, _seen) = serve(move |_, stream, _| {
            respond(
                stream,
                status,
                "Content-Type: text/html\r\n",
                &format!(
                    "<!DOCTYPE html><html><head><title>{MARKER}</title></head>\
                     <body><h1>{MARKER}</h1><script>alert(1)</script></body></html>"
                ),
            )
        });
        for (name, adapter) in ADAPTERS {
            let error = adapter(&base_url)
                .list(&ListQuery::default())
                .await
                .unwrap_err();
            let text = shown(&error);
            assert!(
                !text.contains('<') && !text.contains(MARKER) && !text.contains("alert"),
                "{name}, {status}: the page leaked into {text}"
            );
            if status == "200 OK" {
                assert_eq!(error.code(), ErrorCode::Backend, "{name}: {error}");
                assert!(
                    error.to_string().contains("the answer is not JSON"),
                    "{error}"
                );
            }
        }
    }
}

// Listings that lie.

/// One listing page as each adapter reads it: `ids` keys, and the claimed `total`.
fn listing_page(head: &str, ids: std::ops::Range<u64>, total: u64) -> serde_json::Value {
    if head.contains("/api_keys") {
        let data: Vec<_> = ids
            .map(|i| {
                serde_json::json!({
                    "id": format!("ak_{i:027}"), "name": format!("key {i}"),
                    "subject": CLERK_USER, "revoked": false, "expired": false,
                    "created_at": 1_767_225_600_000_i64, "scopes": [],
                })
            })
            .collect();
        serde_json::json!({ "data": data, "total_count": total })
    } else {
        let keys: Vec<_> = ids
            .map(|i| {
                serde_json::json!({
                    "api_key_id": format!("{i:032x}"), "created_at": 1_767_225_600_i64,
                    "expires_at_seconds": null,
                })
            })
            .collect();
        serde_json::json!({ "api_keys": keys, "total_api_keys": total })
    }
}

/// The page and page size a request asked for (Clerk's offset turned into a page).
fn asked_page(head: &str) -> (u64, u64) {
    let query = head.split_whitespace().nth(1).unwrap_or("");
    let param = |name: &str| {
        query
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix(&format!("{name}="))?.parse::<u64>().ok())
    };
    let size = param("limit").or(param("page_size")).unwrap_or(10).max(1);
    let page = param("page_number").unwrap_or_else(|| param("offset").unwrap_or(0) / size);
    (page, size)
}

/// The paged adapters, and a query each answers from a snapshot of every page.
const PAGED: [(&str, Adapter); 3] = [
    ("Clerk", clerk),
    ("PropelAuth backend", propelauth_backend),
    ("PropelAuth frontend", propelauth_frontend),
];

fn by_name() -> ListQuery {
    ListQuery {
        sort: SortField::Name,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_listing_claiming_a_trillion_keys_stops_after_its_first_page() {
    let (base_url, seen) = serve(|head, stream, _| {
        let (page, size) = asked_page(head);
        let page = listing_page(head, page * size..(page + 1) * size, 1_000_000_000_000);
        json(stream, "200 OK", &page)
    });
    for (name, adapter) in PAGED {
        let before = seen.count();
        let backend = adapter(&base_url);
        let listed = tokio::time::timeout(Duration::from_secs(30), backend.list(&by_name()))
            .await
            .expect("the listing ends");
        let error = listed.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Backend, "{name}: {error}");
        assert_eq!(
            error.to_string(),
            "stopped reading the listing: the server claims 1,000,000,000,000 keys, more than \
             the 100,000 Keyward reads in one listing; narrow the search or the owner",
            "{name}"
        );
        // One first page per listing read (PropelAuth's backend reads active and archived).
        let asked = seen.count() - before;
        assert!((1..=2).contains(&asked), "{name}: {asked} requests");
        // The owner picker walks the same snapshot.
        let owners = tokio::time::timeout(Duration::from_secs(30), backend.owners())
            .await
            .expect("the owner list ends");
        if let Err(error) = owners {
            assert!(
                error.to_string().contains("claims 1,000,000,000,000"),
                "{error}"
            );
        }
    }
}

#[tokio::test]
async fn a_listing_that_ignores_the_page_asked_for_ends() {
    let (base_url, seen) = serve(|head, stream, _| {
        let (_, size) = asked_page(head);
        json(stream, "200 OK", &listing_page(head, 0..size, 5000))
    });
    for (name, adapter) in PAGED {
        let before = seen.count();
        let listed =
            tokio::time::timeout(Duration::from_secs(30), adapter(&base_url).list(&by_name()))
                .await
                .expect("the listing ends");
        let error = listed.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Backend, "{name}: {error}");
        assert!(
            error
                .to_string()
                .starts_with("stopped at page 2: the server sent the same keys again"),
            "{name}: {error}"
        );
        let asked = seen.count() - before;
        // Far from the 50 pages (per listing) the claimed total would take: the walk ended at
        // page 2, with the pages already in flight (8 per listing; a dropped request of the
        // adapter before may still arrive).
        assert!(asked < 40, "{name}: {asked} requests");
    }
}

// Credentials echoed back.

/// An error body for each adapter that echoes `echo` in every place the adapter reads text from:
/// whole, and again where a 300-character bound would cut it.
fn echoing_error(head: &str, echo: &str) -> serde_json::Value {
    let padded = format!("{echo} was refused {} {echo}", "x".repeat(280));
    if head.contains("/api_keys") {
        serde_json::json!({ "errors": [{
            "message": padded, "long_message": padded, "meta": { "param_name": echo },
        }]})
    } else if head.contains("/apikeys") {
        serde_json::json!({ "result": "error", "error": padded })
    } else if head.contains("/end_user_api_keys") {
        // The backend API's 400 is a map of field to message(s).
        serde_json::json!({ echo: [padded] })
    } else {
        serde_json::json!({
            "error_code": "invalid_request_fields",
            "user_facing_error": padded,
            "field_errors": { echo: padded },
        })
    }
}

/// The credential as the request carried it: the `Authorization` or `Cookie` header's value.
fn credential_header(head: &str) -> String {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            ["authorization", "cookie"]
                .contains(&name.to_ascii_lowercase().as_str())
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The forms in which a server could echo the credential header it received: whole, its token
/// (after `Bearer ` / `Basic `, or a cookie's value), and a `Basic` header decoded.
fn echo_of(header: &str, form: usize) -> String {
    use base64::Engine as _;
    let token = header
        .split_once(' ')
        .or_else(|| header.split_once('='))
        .map_or(header, |(_, token)| token);
    match form {
        0 => header.to_owned(),
        1 => token.to_owned(),
        _ => base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .unwrap_or_else(|| token.to_owned()),
    }
}

#[tokio::test]
async fn a_credential_echoed_in_an_error_body_is_never_shown() {
    // Each adapter's own secret: the cookie's value for PropelAuth's frontend API.
    let secrets = [CREDENTIAL, CREDENTIAL, &SESSION_COOKIE[8..], CREDENTIAL];
    for form in 0..3 {
        let (base_url, seen) = serve(move |head, stream, _| {
            let echo = echo_of(&credential_header(head), form);
            json(stream, "400 Bad Request", &echoing_error(head, &echo))
        });
        for ((name, adapter), secret) in ADAPTERS.into_iter().zip(secrets) {
            let error = adapter(&base_url)
                .list(&ListQuery::default())
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidInput, "{name}: {error}");
            let text = shown(&error);
            assert_no_piece_of(secret, &text);
            let head = seen.requests.lock().unwrap().last().cloned().unwrap();
            assert_no_piece_of(&echo_of(&credential_header(&head), 1), &text);
            assert!(text.contains("[redacted]"), "{name}, form {form}: {text}");
            println!("{name}, form {form}: {error}");
        }
    }
}
