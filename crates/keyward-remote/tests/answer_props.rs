//! Property tests of how each adapter reads the answers of its server: Clerk, PropelAuth (backend
//! and frontend API) and FreeSewing, for list, get, create and verify.
//!
//! A small HTTP server on loopback answers every request of a case with that case's status and
//! body, and the real adapter, built through its public config, asks it. The bodies are random
//! JSON, the adapter's own answer shapes with fields deleted, retyped or set to huge numbers,
//! truncated bodies, bodies cut short on the wire, HTML and bytes. Whatever comes back, no adapter
//! panics, and a failure is a clean `keyward_core::Error`: a printable, bounded message that
//! carries neither the profile's credential nor a secret from the answer. A create answer that
//! carries a secret always yields that secret, however wrong the rest of it is.

use keyward_core::{Error, ErrorCode, Expiration, KeyBackend, ListQuery, NewKey, Subject};
use keyward_remote::{
    ClerkBackend, ClerkConfig, ClerkPath, FreeSewingAuth, FreeSewingBackend, FreeSewingConfig,
    HttpOptions, PropelAuthApi, PropelAuthBackend, PropelAuthConfig, RetryPolicy,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The profile's credential (Clerk secret key, PropelAuth integration key or session cookie,
/// FreeSewing key secret): never in a message.
const CREDENTIAL: &str = "sk_test_propsCredentialNeverShown0042";
/// The secret a create answer carries: yielded when it can be, never in a message.
const NEW_SECRET: &str = "newSecretFromTheAnswer7f3a9c0d5e1b";
/// Stands for a number too large for `u64`/`f64`, written into the body as raw text.
const HUGE: &str = "__huge_number__";
/// Requests a case may make before the server stops answering (drops the connection): a runaway
/// loop ends as a network error instead of hanging the test.
const MAX_REQUESTS_PER_CASE: usize = 40;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        // Each case is a few loopback requests; shrinking a failure stays bounded.
        max_shrink_iters: 2000,
        ..Config::default()
    }
}

/// Retries as in production, with tiny waits, and no waiting on a rate limit.
fn quick_http() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_rate_limit_wait: Duration::from_millis(1),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    /// The body is shorter than its `content-length`: the connection closes mid-answer.
    cut_short: bool,
}

impl Answer {
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A loopback HTTP/1.1 server that answers every request with the current [`Answer`].
struct Server {
    url: String,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            body: b"{}".to_vec(),
            cut_short: false,
        }));
        let requests = Arc::new(AtomicUsize::new(0));
        let (current, count) = (answer.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if Arc::strong_count(&current) == 1 {
                    return; // The Server is gone: this was its wake-up call.
                }
                let (current, count) = (current.clone(), count.clone());
                std::thread::spawn(move || serve(stream, &current, &count));
            }
        });
        Server {
            url,
            answer,
            requests,
        }
    }

    /// Answers `answer` from now on, and counts requests afresh.
    fn set(&self, answer: &Answer) {
        *self.answer.lock().unwrap() = answer.clone();
        self.requests.store(0, Ordering::SeqCst);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    /// Ends the accept loop: one connection after the last handle is gone.
    fn drop(&mut self) {
        let address = self.url.trim_start_matches("http://").to_owned();
        let answer = std::mem::replace(
            &mut self.answer,
            Arc::new(Mutex::new(Answer {
                status: 200,
                body: Vec::new(),
                cut_short: false,
            })),
        );
        drop(answer);
        let _ = TcpStream::connect(address);
    }
}

fn serve(mut stream: TcpStream, current: &Mutex<Answer>, count: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
        if request.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    if count.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS_PER_CASE {
        return;
    }
    let answer = current.lock().unwrap().clone();
    let declared = answer.body.len() + if answer.cut_short { 17 } else { 0 };
    let head = format!(
        "HTTP/1.1 {} Answer\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n",
        answer.status
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&answer.body);
    let _ = stream.flush();
}

// ---------------------------------------------------------------------------------------------
// The adapters and what is asked of them
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adapter {
    Clerk,
    PropelAuthBackend,
    PropelAuthFrontend,
    FreeSewing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Get,
    Create,
    Verify,
}

const OPS: [Op; 4] = [Op::List, Op::Get, Op::Create, Op::Verify];
const FREESEWING_ID: &str = "508e97f2-4a06-4937-a294-6360217103f3";

fn backend(adapter: Adapter, url: &str) -> Box<dyn KeyBackend> {
    let credential = || SecretString::from(CREDENTIAL);
    match adapter {
        Adapter::Clerk => Box::new(
            ClerkBackend::new(ClerkConfig {
                base_url: url.to_owned(),
                secret_key: credential(),
                path: ClerkPath::Root,
                default_subject: Some(Subject::User("user_2xhFjEI5X2qWRvtV13BzSj8H6Dk".into())),
                http: quick_http(),
            })
            .unwrap(),
        ),
        Adapter::PropelAuthBackend | Adapter::PropelAuthFrontend => Box::new(
            PropelAuthBackend::new(PropelAuthConfig {
                base_url: url.to_owned(),
                api: if adapter == Adapter::PropelAuthBackend {
                    PropelAuthApi::Backend {
                        integration_key: credential(),
                        auth_url: None,
                    }
                } else {
                    PropelAuthApi::Frontend {
                        session_cookie: SecretString::from(format!("session={CREDENTIAL}")),
                    }
                },
                default_subject: None,
                http: quick_http(),
            })
            .unwrap(),
        ),
        Adapter::FreeSewing => Box::new(
            FreeSewingBackend::new(FreeSewingConfig {
                base_url: url.to_owned(),
                auth: FreeSewingAuth::Key {
                    key: FREESEWING_ID.into(),
                    secret: credential(),
                },
                http: quick_http(),
            })
            .unwrap(),
        ),
    }
}

/// What one operation came to: `Ok` with what matters of the value, or the error.
#[derive(Debug)]
enum Outcome {
    Listed(usize),
    Key,
    Created(String),
    Verified,
    Failed(Error),
    /// Refused before any request (PropelAuth's frontend API cannot verify).
    NotAsked,
}

async fn run(backend: &dyn KeyBackend, adapter: Adapter, op: Op) -> Outcome {
    backend.forget_cached();
    let failed = Outcome::Failed;
    match op {
        Op::List => match backend.list(&ListQuery::default()).await {
            Ok(page) => {
                assert!(page.items.len() <= ListQuery::default().limit as usize);
                Outcome::Listed(page.items.len())
            }
            Err(e) => failed(e),
        },
        Op::Get => {
            let id = match adapter {
                Adapter::Clerk => "ak_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
                Adapter::FreeSewing => FREESEWING_ID,
                _ => "9a7f1cbd2e564b0c8e1f3a5d7b9c0e2f",
            };
            backend.get(id).await.map_or_else(failed, |_| Outcome::Key)
        }
        Op::Create => {
            let mut new = NewKey::named("property key", Expiration::default());
            if adapter == Adapter::FreeSewing {
                // FreeSewing keys need a level; 1 is within every account's role.
                new.level = Some(1);
            }
            match backend.create(new).await {
                Ok(created) => Outcome::Created(created.secret.expose_secret().to_owned()),
                Err(e) => failed(e),
            }
        }
        Op::Verify => {
            let secret = match adapter {
                Adapter::FreeSewing => format!("{FREESEWING_ID}:{}", "ab12".repeat(16)),
                _ => "ak_0123456789abcdef0123456789abcdef".to_owned(),
            };
            match backend.verify(&SecretString::from(secret)).await {
                Ok(_) => Outcome::Verified,
                Err(e) if adapter == Adapter::PropelAuthFrontend => {
                    assert_eq!(e.field(), Some("secret"), "{e}");
                    Outcome::NotAsked
                }
                Err(e) => failed(e),
            }
        }
    }
}

/// A failure a person can read and a log can keep: printable, bounded, no secret.
fn assert_clean(error: &Error, answer: &Answer) {
    let message = error.to_string();
    let everything = format!(
        "{message} {error:?} {}",
        serde_json::to_string(error).unwrap()
    );
    assert!(!message.trim().is_empty(), "an empty message: {error:?}");
    assert!(
        message.chars().count() <= 1500,
        "an unbounded message ({} chars)",
        message.len()
    );
    assert!(
        !message.chars().any(char::is_control),
        "control characters in {message:?}"
    );
    for secret in [CREDENTIAL, NEW_SECRET] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into {everything}\nanswer {}: {}",
            answer.status,
            answer.body_text()
        );
    }
    if let Some(field) = error.field() {
        assert!(!field.is_empty(), "{error:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// Each adapter's own answer shape for each operation, as its server sends it. Listings hold
/// two keys with different ids.
fn template(adapter: Adapter, op: Op) -> Value {
    let mut value = one_template(adapter, op);
    let second = value
        .as_object_mut()
        .and_then(|o| o.values_mut().find_map(Value::as_array_mut))
        .and_then(|items| items.get_mut(1))
        .and_then(Value::as_object_mut);
    if let Some(second) = second {
        for id in ["id", "api_key_id", "key"] {
            if let Some(Value::String(text)) = second.get_mut(id) {
                text.replace_range(..1, "f");
            }
        }
    }
    value
}

fn one_template(adapter: Adapter, op: Op) -> Value {
    match adapter {
        Adapter::Clerk => {
            let key = || {
                json!({
                    "object": "api_key", "id": "ak_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "type": "api_key",
                    "name": "CI", "subject": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
                    "description": "deploys", "claims": {"team": "ops"}, "scopes": ["read"],
                    "revoked": false, "revocation_reason": null, "expired": false,
                    "expiration": 1_893_456_000_000i64, "created_by": null,
                    "last_used_at": 1_767_225_600_000i64, "created_at": 1_767_225_600_000i64,
                    "updated_at": 1_767_225_600_000i64
                })
            };
            match op {
                Op::List => json!({"data": [key(), key()], "total_count": 2}),
                Op::Create => {
                    let mut key = key();
                    key["secret"] = json!(NEW_SECRET);
                    key
                }
                Op::Get | Op::Verify => key(),
            }
        }
        Adapter::PropelAuthBackend | Adapter::PropelAuthFrontend => {
            let key = || {
                json!({
                    "api_key_id": "9a7f1cbd2e564b0c8e1f3a5d7b9c0e2f", "created_at": 1_767_225_600,
                    "expires_at_seconds": 1_893_456_000, "metadata": {"description": "deploys"},
                    "user_id": "31c41c16-c281-44ae-9602-8a047e3bf33d", "org_id": null,
                    "display_name": "CI"
                })
            };
            match op {
                Op::List => json!({
                    "api_keys": [key(), key()], "total_api_keys": 2,
                    "current_page": 0, "page_size": 10, "has_more_results": false
                }),
                Op::Create => json!({
                    "api_key_id": "9a7f1cbd2e564b0c8e1f3a5d7b9c0e2f", "api_key_token": NEW_SECRET
                }),
                // The frontend API has no single-key read: a get searches a page.
                Op::Get if adapter == Adapter::PropelAuthFrontend => json!({
                    "api_keys": [key()], "total_api_keys": 1,
                    "current_page": 0, "page_size": 10, "has_more_results": false
                }),
                Op::Get => key(),
                Op::Verify => json!({
                    "metadata": {"description": "deploys"},
                    "user": {"user_id": "31c41c16-c281-44ae-9602-8a047e3bf33d", "email": "a@b.c"},
                    "org": null
                }),
            }
        }
        Adapter::FreeSewing => {
            let key = || {
                json!({
                    "key": FREESEWING_ID, "name": "CI", "level": 3,
                    "createdAt": "2026-01-01T00:00:00.000Z", "expiresAt": "2030-01-01T00:00:00.000Z",
                    "lastSeen": null, "calls": 7, "userId": 42
                })
            };
            match op {
                Op::List => json!({"result": "success", "apikeys": [key(), key()]}),
                Op::Create => {
                    let mut key = key();
                    key["secret"] = json!(NEW_SECRET);
                    json!({"result": "created", "apikey": key})
                }
                Op::Get | Op::Verify => json!({"result": "success", "apikey": key()}),
            }
        }
    }
}

/// A value of any JSON type, weighted towards the troublesome: huge and negative numbers,
/// floats where integers belong, empty and odd strings, nested containers.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(HUGE)),
        "\\PC{0,12}".prop_map(Value::from),
        Just(json!("")),
        Just(json!("   ")),
        Just(json!("2026-13-45T99:99:99Z")),
        Just(json!("\u{1b}[2J\n\u{0}")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, "a", null, {"b": []}])),
        Just(json!({"user_id": 5, "org_id": [], "key": {}})),
    ]
}

/// Field names any of the adapters reads, and a few others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "id",
            "name",
            "subject",
            "secret",
            "data",
            "total_count",
            "revoked",
            "expired",
            "expiration",
            "created_at",
            "last_used_at",
            "scopes",
            "claims",
            "api_key_id",
            "api_key_token",
            "api_keys",
            "total_api_keys",
            "expires_at_seconds",
            "user_id",
            "org_id",
            "display_name",
            "metadata",
            "user",
            "org",
            "result",
            "apikey",
            "apikeys",
            "key",
            "level",
            "expiresAt",
            "createdAt",
            "userId",
            "error",
            "errors",
            "message",
            "wait_seconds",
            "error_code",
            "field_to_errors",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ]
}

/// Random JSON of any shape.
fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(field_name(), inner, 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// One change per field or element, chosen by `plan` in visiting order: keep (and go deeper),
/// delete, or replace with a random value. `extra` fields are added to the outermost object.
fn mutate(value: &Value, plan: &[(u8, Value)], at: &mut usize) -> Option<Value> {
    let (choice, replacement) = &plan[*at % plan.len()];
    *at += 1;
    match choice % 10 {
        0..=5 => Some(match value {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), mutate(v, plan, at)?)))
                    .collect::<Map<_, _>>(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().filter_map(|v| mutate(v, plan, at)).collect())
            }
            other => other.clone(),
        }),
        6 => None,
        _ => Some(replacement.clone()),
    }
}

/// The adapter's own shape with random changes, random extra fields, maybe truncated.
fn shaped(adapter: Adapter, op: Op) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<u8>(), leaf()), 1..24),
        proptest::collection::btree_map(field_name(), leaf(), 0..3),
        proptest::option::weighted(0.2, any::<proptest::sample::Index>()),
    )
        .prop_map(move |(plan, extra, cut)| {
            let template = template(adapter, op);
            // The outer object is always kept: its fields are what change.
            let mut plan = plan;
            plan[0].0 = 0;
            let mut value = mutate(&template, &plan, &mut 0).unwrap_or(template);
            if let Value::Object(fields) = &mut value {
                for (k, v) in extra {
                    fields.entry(k).or_insert(v);
                }
            }
            let body = to_body(&value);
            match cut {
                Some(index) => body[..index.index(body.len().max(1))].to_vec(),
                None => body,
            }
        })
}

/// Numbers past what `u64`, `i64` and `f64` hold; all are valid JSON (RFC 8259 sets no range).
const HUGE_NUMBERS: [&str; 5] = [
    "18446744073709551616000",
    "-9223372036854775809",
    "0.00000000000000000000000000000000000001",
    "1e400",
    "-1e400",
];

/// JSON text, with [`HUGE`] written as numbers no `u64`, `i64` or `f64` holds.
fn to_body(value: &Value) -> Vec<u8> {
    with_huge_numbers(value, &HUGE_NUMBERS)
}

fn with_huge_numbers(value: &Value, huge: &[&str]) -> Vec<u8> {
    let text = serde_json::to_string(value).unwrap();
    let mut out = String::new();
    for (i, part) in text.split(&format!("\"{HUGE}\"")).enumerate() {
        if i > 0 {
            out.push_str(huge[i % huge.len()]);
        }
        out.push_str(part);
    }
    out.into_bytes()
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => Just(200u16),
        2 => Just(201u16),
        3 => proptest::sample::select(vec![
            204u16, 301, 400, 401, 403, 404, 409, 410, 418, 422, 429, 500, 502, 503,
        ]),
    ]
}

/// Any answer to `op`: the adapter's shape changed, random JSON, other bytes; any status;
/// sometimes cut short on the wire.
fn answer(adapter: Adapter, op: Op) -> impl Strategy<Value = Answer> {
    let body = prop_oneof![
        5 => shaped(adapter, op),
        3 => any_json().prop_map(|v| to_body(&v)),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>".to_vec()),
        1 => Just(Vec::new()),
    ];
    (status(), body, proptest::bool::weighted(0.05)).prop_map(|(status, body, cut_short)| Answer {
        status,
        body,
        cut_short,
    })
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

struct Rig {
    server: Server,
    backend: Box<dyn KeyBackend>,
    runtime: tokio::runtime::Runtime,
    adapter: Adapter,
}

impl Rig {
    fn new(adapter: Adapter) -> Rig {
        let server = Server::start();
        let backend = backend(adapter, &server.url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Rig {
            server,
            backend,
            runtime,
            adapter,
        }
    }

    fn ask(&self, op: Op, answer: &Answer) -> Outcome {
        self.server.set(answer);
        let outcome = self.runtime.block_on(run(&*self.backend, self.adapter, op));
        if !matches!(outcome, Outcome::NotAsked) {
            assert!(
                self.server.requests() > 0,
                "{op:?} was refused before asking: {outcome:?}"
            );
        }
        outcome
    }
}

/// Any answer to any operation: no panic, and a failure is clean. A readable 200 to a read is
/// either read or refused as the backend's fault (`backend`), not as ours.
fn any_answer_is_read_or_refused_cleanly(rig: &Rig, op: Op, answer: &Answer) {
    match rig.ask(op, answer) {
        Outcome::Failed(error) => {
            assert_clean(&error, answer);
            if answer.status == 200 && !answer.cut_short && op != Op::Create {
                // A page without the key is "not found" for PropelAuth's frontend get.
                let not_found = op == Op::Get && error.code() == ErrorCode::NotFound;
                assert!(
                    not_found || matches!(error.code(), ErrorCode::Backend | ErrorCode::Network),
                    "{op:?} answered 200 gave {:?}: {error}\nbody: {}",
                    error.code(),
                    answer.body_text()
                );
            }
        }
        Outcome::Created(secret) => {
            // A secret can only have come from the answer: it is one of its strings (read from
            // the JSON, or from what there is of a broken body).
            assert!(!secret.is_empty());
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(body) => assert!(strings_in(&body).contains(&secret.as_str()), "{secret:?}"),
                Err(_) => {
                    let escaped = serde_json::to_string(&secret).unwrap();
                    let text = answer.body_text();
                    assert!(
                        text.contains(&secret) || text.contains(escaped.trim_matches('"')),
                        "{secret:?} is not in {text:?}"
                    );
                }
            }
        }
        Outcome::Listed(_) | Outcome::Key | Outcome::Verified | Outcome::NotAsked => {}
    }
}

fn strings_in(value: &Value) -> Vec<&str> {
    match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().flat_map(strings_in).collect(),
        Value::Object(fields) => fields.values().flat_map(strings_in).collect(),
        _ => Vec::new(),
    }
}

/// A create answer with the secret where the adapter's server puts it, and anything else wrong
/// (fields deleted, retyped, huge, extra): the secret always comes back.
fn a_secret_is_never_lost(rig: &Rig, answer: &Answer) {
    match rig.ask(Op::Create, answer) {
        Outcome::Created(secret) => assert_eq!(secret, NEW_SECRET),
        other => panic!(
            "the secret was lost: {other:?}\nanswer {}: {}",
            answer.status,
            answer.body_text()
        ),
    }
}

/// A create answer of the adapter's shape in which only the secret is sure to be intact.
fn secret_carrying(adapter: Adapter) -> impl Strategy<Value = Answer> {
    (
        proptest::sample::select(vec![200u16, 201]),
        proptest::collection::vec((any::<u8>(), leaf()), 1..24),
        proptest::collection::btree_map(field_name(), leaf(), 0..3),
    )
        .prop_map(move |(status, plan, extra)| {
            let template = template(adapter, Op::Create);
            let mut plan = plan;
            plan[0].0 = 0;
            let mut value = mutate(&template, &plan, &mut 0).unwrap_or(template);
            let Value::Object(outer) = &mut value else {
                unreachable!()
            };
            for (k, v) in extra {
                outer.entry(k).or_insert(v);
            }
            // Put the secret (and the object holding it) back where it belongs.
            match adapter {
                Adapter::Clerk => {
                    outer.insert("secret".into(), json!(NEW_SECRET));
                }
                Adapter::PropelAuthBackend | Adapter::PropelAuthFrontend => {
                    outer.insert("api_key_token".into(), json!(NEW_SECRET));
                }
                Adapter::FreeSewing => {
                    let apikey = outer.entry("apikey").or_insert_with(|| json!({}));
                    if !apikey.is_object() {
                        *apikey = json!({});
                    }
                    apikey["secret"] = json!(NEW_SECRET);
                }
            }
            Answer {
                status,
                body: to_body(&value),
                cut_short: false,
            }
        })
}

/// One case: an operation and an answer to it.
fn case(adapter: Adapter) -> impl Strategy<Value = (Op, Answer)> {
    proptest::sample::select(OPS.to_vec()).prop_flat_map(move |op| (Just(op), answer(adapter, op)))
}

macro_rules! adapter_properties {
    ($adapter:expr, $any_answer:ident, $secret_kept:ident) => {
        proptest! {
            #![proptest_config(config(96))]

            #[test]
            fn $any_answer(cases in proptest::collection::vec(case($adapter), 4)) {
                let rig = Rig::new($adapter);
                for (op, answer) in &cases {
                    any_answer_is_read_or_refused_cleanly(&rig, *op, answer);
                }
            }
        }

        proptest! {
            #![proptest_config(config(64))]

            #[test]
            fn $secret_kept(answer in secret_carrying($adapter)) {
                a_secret_is_never_lost(&Rig::new($adapter), &answer);
            }
        }
    };
}

adapter_properties!(
    Adapter::Clerk,
    clerk_reads_any_answer_or_refuses_it_cleanly,
    clerk_never_loses_a_created_secret
);
adapter_properties!(
    Adapter::PropelAuthBackend,
    propelauth_backend_reads_any_answer_or_refuses_it_cleanly,
    propelauth_backend_never_loses_a_created_secret
);
adapter_properties!(
    Adapter::PropelAuthFrontend,
    propelauth_frontend_reads_any_answer_or_refuses_it_cleanly,
    propelauth_frontend_never_loses_a_created_secret
);
adapter_properties!(
    Adapter::FreeSewing,
    freesewing_reads_any_answer_or_refuses_it_cleanly,
    freesewing_never_loses_a_created_secret
);

/// The unchanged shapes are read: the tests above exercise the decoding, not a refusal before it.
#[test]
fn every_adapter_reads_its_own_answers() {
    for adapter in [
        Adapter::Clerk,
        Adapter::PropelAuthBackend,
        Adapter::PropelAuthFrontend,
        Adapter::FreeSewing,
    ] {
        let rig = Rig::new(adapter);
        for op in OPS {
            let answer = Answer {
                status: if op == Op::Create { 201 } else { 200 },
                body: to_body(&template(adapter, op)),
                cut_short: false,
            };
            let outcome = rig.ask(op, &answer);
            match (op, &outcome) {
                // PropelAuth's backend API lists the active and the archived keys: two
                // requests, both answered with the same two keys here.
                (Op::List, Outcome::Listed(n)) => assert_eq!(
                    *n,
                    if adapter == Adapter::PropelAuthBackend {
                        4
                    } else {
                        2
                    },
                    "{adapter:?}"
                ),
                (Op::Get, Outcome::Key) | (Op::Verify, Outcome::Verified | Outcome::NotAsked) => {}
                (Op::Create, Outcome::Created(secret)) => assert_eq!(secret, NEW_SECRET),
                _ => panic!("{adapter:?} {op:?}: {outcome:?}"),
            }
        }
    }
}
