//! Revoking many keys at once: bounded concurrency, a shared pause on rate limits, a time limit per
//! key, cancellation, progress, and exactly one result per requested id.

use crate::backend::KeyBackend;
use crate::error::{Error, ErrorBody, ErrorCode};
use crate::model::ApiKey;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How one key of a bulk revoke ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeStatus {
    /// The backend revoked (archived, deleted) the key, or it already was.
    Revoked,
    /// The backend refused or could not be reached; `error` says why.
    Failed,
    /// Not revoked because the run was cancelled first. Nothing was changed for this key.
    Untouched,
}

/// How one key of a bulk revoke ended. Every requested id gets exactly one outcome.
///
/// JSON: `{id, status, key?, error?, attempts}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevokeOutcome {
    pub id: String,
    pub status: RevokeStatus,
    /// The key as the backend returned it, for revoked keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ApiKey>,
    /// Why, for failed keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// Revoke calls made for this key (retries after a rate limit included; 0 if untouched).
    pub attempts: u32,
}

impl RevokeOutcome {
    /// Whether the key ended revoked.
    pub fn is_ok(&self) -> bool {
        self.status == RevokeStatus::Revoked
    }

    fn revoked(id: String, key: ApiKey, attempts: u32) -> Self {
        RevokeOutcome {
            id,
            status: RevokeStatus::Revoked,
            key: Some(key),
            error: None,
            attempts,
        }
    }

    fn failed(id: String, error: &Error, attempts: u32) -> Self {
        RevokeOutcome {
            id,
            status: RevokeStatus::Failed,
            key: None,
            error: Some(error.to_body()),
            attempts,
        }
    }

    fn untouched(id: String, attempts: u32) -> Self {
        RevokeOutcome {
            id,
            status: RevokeStatus::Untouched,
            key: None,
            error: None,
            attempts,
        }
    }
}

/// Where a bulk revoke stands, after each key that ends revoked or failed. `total` counts distinct
/// ids; keys left untouched by a cancel are not reported one by one (they are in the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BulkProgress {
    pub total: usize,
    pub done: usize,
    pub revoked: usize,
    pub failed: usize,
}

/// How a bulk revoke runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOptions {
    /// Revoke calls in flight at once (at least 1).
    pub concurrency: usize,
    /// How long one revoke call may take before the key ends failed (`network`, "timed out").
    pub per_key_timeout: Duration,
    /// How long one key may wait in total for rate limits to pass before it ends failed
    /// (`rate_limited`).
    pub max_rate_limit_wait: Duration,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            // 1,000 keys at 50 ms a request: 6.6 s with 8 in flight, 3.6 s with 16
            // (docs/PERFORMANCE.md); a server that objects answers 429 and every worker pauses.
            concurrency: 16,
            per_key_timeout: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(5 * 60),
        }
    }
}

/// Stops a bulk revoke: keys not started yet end [`RevokeStatus::Untouched`]; calls already sent
/// finish. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    cancelled: AtomicBool,
    notify: Notify,
}

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once [`cancel`](Self::cancel) has been called.
    async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a cancel between the two is not missed.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The wait after a 429 without `Retry-After`.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// State shared by the workers of one run. Locks are never held across an await.
struct Run<'a> {
    backend: &'a dyn KeyBackend,
    reason: Option<&'a str>,
    options: &'a BulkOptions,
    cancel: &'a CancelFlag,
    on_progress: &'a (dyn Fn(&RevokeOutcome, BulkProgress) + Send + Sync),
    /// Distinct ids, in order of first appearance.
    unique: Vec<String>,
    next: AtomicUsize,
    /// Every worker waits until this instant before sending (a rate limit pauses them all).
    paused_until: Mutex<Option<Instant>>,
    results: Mutex<Results>,
}

struct Results {
    outcomes: Vec<Option<RevokeOutcome>>,
    progress: BulkProgress,
}

/// Revokes `ids` with at most `options.concurrency` calls in flight, and returns one outcome per
/// id, in the order of `ids` (a repeated id is revoked once and its outcome repeated).
///
/// - A failure of one key never stops the others; its error is kept in its outcome.
/// - A rate limit (`rate_limited`) pauses every worker until its `Retry-After` (1 s if none) and
///   then retries that key; it is not a failure unless the key has waited more than
///   `max_rate_limit_wait` in total.
/// - A call that takes longer than `per_key_timeout` ends its key failed (`network`).
/// - Once `cancel` is set, keys not started end untouched.
///
/// `on_progress` is called after each key that ends revoked or failed.
pub async fn revoke_bulk(
    backend: &dyn KeyBackend,
    ids: &[String],
    reason: Option<&str>,
    options: &BulkOptions,
    cancel: &CancelFlag,
    on_progress: &(dyn Fn(&RevokeOutcome, BulkProgress) + Send + Sync),
) -> Vec<RevokeOutcome> {
    let mut position: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
    let mut unique = Vec::with_capacity(ids.len());
    let slots: Vec<usize> = ids
        .iter()
        .map(|id| {
            *position.entry(id.as_str()).or_insert_with(|| {
                unique.push(id.clone());
                unique.len() - 1
            })
        })
        .collect();
    let total = unique.len();
    let run = Run {
        backend,
        reason,
        options,
        cancel,
        on_progress,
        unique,
        next: AtomicUsize::new(0),
        paused_until: Mutex::new(None),
        results: Mutex::new(Results {
            outcomes: vec![None; total],
            progress: BulkProgress {
                total,
                ..BulkProgress::default()
            },
        }),
    };
    let workers = options.concurrency.max(1).min(total.max(1));
    futures::future::join_all((0..workers).map(|_| run.work())).await;

    let Run {
        unique, results, ..
    } = run;
    let outcomes: Vec<RevokeOutcome> = results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .outcomes
        .into_iter()
        .zip(unique)
        .map(|(outcome, id)| outcome.unwrap_or_else(|| RevokeOutcome::untouched(id, 0)))
        .collect();
    slots.into_iter().map(|i| outcomes[i].clone()).collect()
}

impl Run<'_> {
    /// One worker: takes the next key until none are left or the run is cancelled.
    async fn work(&self) {
        loop {
            if self.cancel.is_cancelled() {
                return;
            }
            let index = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(id) = self.unique.get(index) else {
                return;
            };
            let outcome = self.revoke_one(id).await;
            let mut results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
            let progress = &mut results.progress;
            match outcome.status {
                RevokeStatus::Revoked => progress.revoked += 1,
                RevokeStatus::Failed => progress.failed += 1,
                RevokeStatus::Untouched => {}
            }
            if outcome.status != RevokeStatus::Untouched {
                progress.done += 1;
                let progress = *progress;
                (self.on_progress)(&outcome, progress);
            }
            results.outcomes[index] = Some(outcome);
        }
    }

    async fn revoke_one(&self, id: &str) -> RevokeOutcome {
        let mut attempts = 0;
        let mut waited = Duration::ZERO;
        loop {
            if !self.wait_while_paused().await {
                // Cancelled during a rate-limit pause: this key was not revoked.
                return RevokeOutcome::untouched(id.to_owned(), attempts);
            }
            attempts += 1;
            let timeout = self.options.per_key_timeout;
            let error = match tokio::time::timeout(timeout, self.backend.revoke(id, self.reason))
                .await
            {
                Ok(Ok(key)) => return RevokeOutcome::revoked(id.to_owned(), key, attempts),
                Ok(Err(error)) => error,
                Err(_) => Error::Network(format!(
                    "revoking {id} timed out after {}; it may or may not have been revoked, and trying again is safe",
                    seconds_text(timeout)
                )),
            };
            if error.code() != ErrorCode::RateLimited {
                return RevokeOutcome::failed(id.to_owned(), &error, attempts);
            }
            let wait = error.retry_after().unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
            waited += wait;
            if waited > self.options.max_rate_limit_wait {
                return RevokeOutcome::failed(id.to_owned(), &error, attempts);
            }
            self.pause_for(wait);
        }
    }

    /// Pauses every worker for at least `wait` from now.
    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|at| at < until) {
            *paused = Some(until);
        }
    }

    /// Waits out the current pause (which other workers may extend meanwhile). False if the run
    /// was cancelled before it ended.
    async fn wait_while_paused(&self) -> bool {
        loop {
            if self.cancel.is_cancelled() {
                return false;
            }
            let until = *self
                .paused_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match until {
                Some(at) if at > Instant::now() => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = self.cancel.cancelled() => return false,
                    }
                }
                _ => return true,
            }
        }
    }
}

/// A duration as people read it in a message: `20 s`, `0.3 s`, `1.5 s`. The one rule for every
/// crate's messages (the HTTP layer's timeouts and waits use it too).
pub fn seconds_text(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs >= 1.0 && secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Revokes `ids` with at most `concurrency` calls in flight and the other [`BulkOptions`]
/// defaults, without progress or cancel; results come back in the order of `ids`.
pub async fn revoke_many(
    backend: &dyn KeyBackend,
    ids: &[String],
    reason: Option<&str>,
    concurrency: usize,
) -> Vec<RevokeOutcome> {
    let options = BulkOptions {
        concurrency,
        ..BulkOptions::default()
    };
    revoke_bulk(
        backend,
        ids,
        reason,
        &options,
        &CancelFlag::default(),
        &|_, _| {},
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Capabilities, RevokeKind};
    use crate::error::Result;
    use crate::model::{CreatedKey, KeyStatus, ListQuery, NewKey, Page, Verification};
    use async_trait::async_trait;
    use chrono::Utc;
    use secrecy::SecretString;
    use std::collections::HashSet;

    /// Front ends await bulk revokes inside futures that must be `Send` (Tauri commands,
    /// `tokio::spawn`); this only has to compile.
    #[test]
    fn revoke_many_can_be_awaited_in_a_send_future() {
        fn require_send<F: std::future::Future + Send>(future: F) -> F {
            future
        }
        let _ = |backend: Arc<dyn KeyBackend>, ids: Vec<String>| {
            require_send(async move { revoke_many(backend.as_ref(), &ids, None, 8).await })
        };
        type OnProgress = Arc<dyn Fn(&RevokeOutcome, BulkProgress) + Send + Sync>;
        let _ = |backend: Arc<dyn KeyBackend>,
                 ids: Vec<String>,
                 cancel: CancelFlag,
                 progress: OnProgress| {
            require_send(async move {
                revoke_bulk(
                    backend.as_ref(),
                    &ids,
                    Some("r"),
                    &BulkOptions::default(),
                    &cancel,
                    progress.as_ref(),
                )
                .await
            })
        };
    }

    /// What the fake backend does on one revoke call of a key.
    #[derive(Clone)]
    enum Step {
        Ok,
        Fail(Error),
        /// Answers 429 until the given instant (then behaves as `Ok`).
        RateLimitedUntil(Instant, Option<Duration>),
        Hang,
        /// Takes this long, then succeeds.
        Slow(Duration),
    }

    /// A scripted backend: each id has a step (default `Ok`); it records calls, revoked ids and
    /// the most calls in flight at once.
    #[derive(Default)]
    struct Fake {
        script: Mutex<HashMap<String, Step>>,
        default_delay: Duration,
        calls: Mutex<Vec<(String, Instant)>>,
        revoked: Mutex<HashSet<String>>,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        /// Every call fails with 429 until then.
        global_limit_until: Mutex<Option<(Instant, Option<Duration>)>>,
    }

    impl Fake {
        fn with_delay(delay: Duration) -> Self {
            Fake {
                default_delay: delay,
                ..Fake::default()
            }
        }

        fn script(&self, id: &str, step: Step) {
            self.script.lock().unwrap().insert(id.to_owned(), step);
        }

        fn calls_of(&self, id: &str) -> usize {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|(i, _)| i == id)
                .count()
        }

        fn revoked(&self) -> HashSet<String> {
            self.revoked.lock().unwrap().clone()
        }

        async fn answer(&self, id: &str) -> Result<ApiKey> {
            if let Some((until, retry_after)) = *self.global_limit_until.lock().unwrap() {
                if Instant::now() < until {
                    return Err(Error::RateLimited {
                        message: "too many requests".into(),
                        retry_after,
                    });
                }
            }
            let step = self
                .script
                .lock()
                .unwrap()
                .get(id)
                .cloned()
                .unwrap_or(Step::Ok);
            match step {
                Step::Ok => tokio::time::sleep(self.default_delay).await,
                Step::Fail(error) => {
                    tokio::time::sleep(self.default_delay).await;
                    return Err(error);
                }
                Step::RateLimitedUntil(until, retry_after) => {
                    if Instant::now() < until {
                        return Err(Error::RateLimited {
                            message: "slow down".into(),
                            retry_after,
                        });
                    }
                }
                Step::Hang => std::future::pending::<()>().await,
                Step::Slow(d) => tokio::time::sleep(d).await,
            }
            self.revoked.lock().unwrap().insert(id.to_owned());
            Ok(key(id))
        }
    }

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.to_owned(),
            name: format!("name of {id}"),
            owner: None,
            created_at: Utc::now(),
            expires_at: None,
            status: KeyStatus::Revoked,
            revoked_at: Some(Utc::now()),
            revocation_reason: None,
            last_used_at: None,
            level: None,
            scopes: vec![],
            description: None,
            metadata: None,
            stub: None,
        }
    }

    #[async_trait]
    impl KeyBackend for Fake {
        fn kind(&self) -> &'static str {
            "fake"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                server_search: false,
                server_paging: false,
                sorts: vec![],
                user_keys: true,
                org_keys: false,
                owner_is_label: false,
                levels: None,
                scopes: false,
                descriptions: false,
                revoke_reason: true,
                revoke_kind: RevokeKind::Revoke,
                last_used: false,
                verify: false,
                verify_counts_as_use: false,
                expiry_presets: vec![],
                custom_expiry: false,
                never_expires: true,
                names_kept_locally: false,
                text_limits: crate::free_text::TextLimits::GENERIC,
                updates: crate::UpdateFields::NONE,
            }
        }
        async fn create(&self, _: NewKey) -> Result<CreatedKey> {
            unimplemented!()
        }
        async fn list(&self, _: &ListQuery) -> Result<Page<ApiKey>> {
            unimplemented!()
        }
        async fn get(&self, _: &str) -> Result<ApiKey> {
            unimplemented!()
        }
        async fn revoke(&self, id: &str, _reason: Option<&str>) -> Result<ApiKey> {
            self.calls
                .lock()
                .unwrap()
                .push((id.to_owned(), Instant::now()));
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let result = self.answer(id).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            result
        }
        async fn verify(&self, _: &SecretString) -> Result<Verification> {
            unimplemented!()
        }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("key_{i:03}")).collect()
    }

    fn statuses(outcomes: &[RevokeOutcome]) -> Vec<RevokeStatus> {
        outcomes.iter().map(|o| o.status).collect()
    }

    fn options(concurrency: usize) -> BulkOptions {
        BulkOptions {
            concurrency,
            ..BulkOptions::default()
        }
    }

    async fn run(fake: &Fake, ids: &[String], options: &BulkOptions) -> Vec<RevokeOutcome> {
        revoke_bulk(
            fake,
            ids,
            Some("rotated"),
            options,
            &CancelFlag::new(),
            &|_, _| {},
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn all_succeed_in_input_order_with_progress() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        // Reverse order, so that input order is not the order in which calls finish.
        let mut ids = ids(50);
        ids.reverse();
        let seen = Mutex::new(Vec::new());
        let outcomes = revoke_bulk(
            &fake,
            &ids,
            None,
            &options(8),
            &CancelFlag::new(),
            &|outcome, progress| seen.lock().unwrap().push((outcome.id.clone(), progress)),
        )
        .await;
        assert_eq!(outcomes.len(), 50);
        for (outcome, id) in outcomes.iter().zip(&ids) {
            assert_eq!(&outcome.id, id);
            assert_eq!(outcome.status, RevokeStatus::Revoked);
            assert_eq!(
                outcome.key.as_ref().map(|k| k.id.as_str()),
                Some(id.as_str())
            );
            assert_eq!(outcome.error, None);
            assert_eq!(outcome.attempts, 1);
        }
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 50);
        assert_eq!(
            seen.iter().map(|(_, p)| p.done).collect::<Vec<_>>(),
            (1..=50).collect::<Vec<_>>()
        );
        assert_eq!(
            seen.last().unwrap().1,
            BulkProgress {
                total: 50,
                done: 50,
                revoked: 50,
                failed: 0
            }
        );
        assert_eq!(fake.revoked().len(), 50);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_keep_their_reason_and_do_not_stop_the_others() {
        let fake = Fake::with_delay(Duration::from_millis(5));
        let ids = ids(10);
        fake.script(
            &ids[2],
            Step::Fail(Error::NotFound("no key key_002".into())),
        );
        fake.script(
            &ids[7],
            Step::Fail(Error::PermissionDenied("not yours".into())),
        );
        let outcomes = run(&fake, &ids, &options(4)).await;
        let failed: Vec<_> = outcomes
            .iter()
            .filter(|o| o.status == RevokeStatus::Failed)
            .map(|o| (o.id.as_str(), o.error.clone().unwrap()))
            .collect();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].0, "key_002");
        assert_eq!(failed[0].1.code, ErrorCode::NotFound);
        assert_eq!(failed[0].1.message, "no key key_002");
        assert_eq!(failed[1].0, "key_007");
        assert_eq!(failed[1].1.code, ErrorCode::PermissionDenied);
        assert!(outcomes
            .iter()
            .filter(|o| o.status == RevokeStatus::Failed)
            .all(|o| o.key.is_none() && o.attempts == 1));
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            8,
            "the other keys are revoked"
        );
        // The JSON shape.
        let json = serde_json::to_value(&outcomes[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "key_002", "status": "failed", "attempts": 1,
                "error": {"code": "not_found", "message": "no key key_002"}})
        );
        let json = serde_json::to_value(&outcomes[0]).unwrap();
        assert_eq!(json["status"], "revoked");
        assert_eq!(json["key"]["id"], "key_000");
        assert!(json.get("error").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_that_hangs_fails_after_the_timeout_and_the_rest_go_on() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        let ids = ids(6);
        fake.script(&ids[1], Step::Hang);
        let options = BulkOptions {
            concurrency: 2,
            per_key_timeout: Duration::from_secs(3),
            ..BulkOptions::default()
        };
        let started = Instant::now();
        let outcomes = run(&fake, &ids, &options).await;
        let elapsed = started.elapsed();
        assert_eq!(outcomes[1].status, RevokeStatus::Failed);
        let error = outcomes[1].error.as_ref().unwrap();
        assert_eq!(error.code, ErrorCode::Network);
        assert!(
            error.message.contains("timed out after 3 s"),
            "{}",
            error.message
        );
        assert!(outcomes
            .iter()
            .enumerate()
            .all(|(i, o)| i == 1 || o.status == RevokeStatus::Revoked));
        // The other worker carried on meanwhile: the run took the timeout, not the timeout plus
        // the other keys one after another.
        assert!(elapsed >= Duration::from_secs(3));
        assert!(elapsed < Duration::from_millis(3100), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_pauses_every_worker_then_all_end_revoked() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        let ids = ids(40);
        let start = Instant::now();
        // Key 10 meets a 429 asking for 5 s; from then on nobody may call for 5 s.
        let limit_until = start + Duration::from_secs(2);
        fake.script(
            &ids[10],
            Step::RateLimitedUntil(limit_until, Some(Duration::from_secs(5))),
        );
        let outcomes = run(&fake, &ids, &options(4)).await;
        assert!(outcomes.iter().all(RevokeOutcome::is_ok), "{outcomes:?}");
        assert_eq!(outcomes[10].attempts, 2);
        assert!(outcomes
            .iter()
            .filter(|o| o.id != ids[10])
            .all(|o| o.attempts == 1));
        assert_eq!(fake.calls_of(&ids[10]), 2);
        assert_eq!(fake.revoked().len(), 40);

        // The pause: between the 429 and 5 s later, no call at all was made (by any worker).
        let calls = fake.calls.lock().unwrap().clone();
        let first_429 = calls.iter().find(|(id, _)| id == &ids[10]).unwrap().1;
        let resume = first_429 + Duration::from_secs(5);
        let during: Vec<_> = calls
            .iter()
            .filter(|(_, at)| *at > first_429 && *at < resume)
            .collect();
        assert!(during.is_empty(), "calls during the pause: {during:?}");
        let retry = calls
            .iter()
            .filter(|(id, _)| id == &ids[10])
            .nth(1)
            .unwrap()
            .1;
        assert!(retry >= resume);
        // Some keys were still left when the pause began, so they waited for it.
        assert!(calls.iter().any(|(_, at)| *at >= resume && *at > first_429));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limits_without_retry_after_wait_a_second_and_give_up_past_the_budget() {
        let fake = Fake::with_delay(Duration::from_millis(1));
        let ids = ids(2);
        let far = Instant::now() + Duration::from_secs(3600);
        fake.script(&ids[0], Step::RateLimitedUntil(far, None));
        let options = BulkOptions {
            concurrency: 1,
            max_rate_limit_wait: Duration::from_secs(10),
            ..BulkOptions::default()
        };
        let started = Instant::now();
        let outcomes = run(&fake, &ids, &options).await;
        assert_eq!(outcomes[0].status, RevokeStatus::Failed);
        assert_eq!(
            outcomes[0].error.as_ref().unwrap().code,
            ErrorCode::RateLimited
        );
        // 1 s each time: waits of 1..=10 s fit the budget, the 11th would not.
        assert_eq!(outcomes[0].attempts, 11);
        assert!(started.elapsed() >= Duration::from_secs(10));
        assert_eq!(outcomes[1].status, RevokeStatus::Revoked);
    }

    #[tokio::test(start_paused = true)]
    async fn a_backend_wide_rate_limit_is_waited_out() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        *fake.global_limit_until.lock().unwrap() = Some((
            Instant::now() + Duration::from_secs(30),
            Some(Duration::from_secs(7)),
        ));
        let ids = ids(20);
        let outcomes = run(&fake, &ids, &options(8)).await;
        assert!(outcomes.iter().all(RevokeOutcome::is_ok));
        assert_eq!(fake.revoked().len(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_mid_way_leaves_the_rest_untouched() {
        let fake = Fake::with_delay(Duration::from_millis(100));
        let ids = ids(30);
        let cancel = CancelFlag::new();
        let outcomes = revoke_bulk(&fake, &ids, None, &options(3), &cancel, &|_, progress| {
            if progress.done == 6 {
                cancel.cancel();
            }
        })
        .await;
        assert_eq!(outcomes.len(), 30);
        let revoked: HashSet<String> = outcomes
            .iter()
            .filter(|o| o.status == RevokeStatus::Revoked)
            .map(|o| o.id.clone())
            .collect();
        let untouched = outcomes
            .iter()
            .filter(|o| o.status == RevokeStatus::Untouched)
            .count();
        // Calls already sent finish (at most concurrency - 1 beyond the sixth), nothing new starts.
        assert!((6..=8).contains(&revoked.len()), "{}", revoked.len());
        assert_eq!(revoked.len() + untouched, 30);
        assert_eq!(revoked, fake.revoked(), "untouched keys were never sent");
        assert!(outcomes
            .iter()
            .filter(|o| o.status == RevokeStatus::Untouched)
            .all(|o| o.attempts == 0 && o.error.is_none() && o.key.is_none()));
        assert_eq!(fake.calls.lock().unwrap().len(), revoked.len());
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_during_a_rate_limit_pause_ends_it_at_once() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        let ids = ids(5);
        *fake.global_limit_until.lock().unwrap() = Some((
            Instant::now() + Duration::from_secs(600),
            Some(Duration::from_secs(60)),
        ));
        let cancel = CancelFlag::new();
        let canceller = cancel.clone();
        let started = Instant::now();
        let (outcomes, ()) = tokio::join!(run_with(&fake, &ids, &cancel), async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            canceller.cancel();
        });
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(outcomes.iter().all(|o| o.status == RevokeStatus::Untouched));
        assert!(fake.revoked().is_empty());
    }

    async fn run_with(fake: &Fake, ids: &[String], cancel: &CancelFlag) -> Vec<RevokeOutcome> {
        revoke_bulk(fake, ids, None, &options(2), cancel, &|_, _| {}).await
    }

    #[tokio::test(start_paused = true)]
    async fn retrying_only_the_failed_ids_finishes_the_job() {
        let fake = Fake::with_delay(Duration::from_millis(10));
        let ids = ids(20);
        for i in [3, 4, 15] {
            fake.script(
                &ids[i],
                Step::Fail(Error::Backend("server error 500".into())),
            );
        }
        let first = run(&fake, &ids, &options(8)).await;
        let failed: Vec<String> = first
            .iter()
            .filter(|o| o.status == RevokeStatus::Failed)
            .map(|o| o.id.clone())
            .collect();
        assert_eq!(failed, [ids[3].clone(), ids[4].clone(), ids[15].clone()]);
        // The backend recovers; only the failed ids are sent again.
        fake.script.lock().unwrap().clear();
        let calls_before = fake.calls.lock().unwrap().len();
        let second = run(&fake, &failed, &options(8)).await;
        assert!(second.iter().all(RevokeOutcome::is_ok));
        assert_eq!(fake.calls.lock().unwrap().len(), calls_before + 3);
        assert_eq!(fake.revoked().len(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_never_exceeds_the_bound() {
        for bound in [1, 3, 16] {
            let fake = Fake::with_delay(Duration::from_millis(20));
            for (i, id) in ids(100).iter().enumerate() {
                // Varied durations so that workers finish out of step.
                fake.script(
                    id,
                    Step::Slow(Duration::from_millis(5 + (i as u64 * 7) % 40)),
                );
            }
            let outcomes = run(&fake, &ids(100), &options(bound)).await;
            assert!(outcomes.iter().all(RevokeOutcome::is_ok));
            assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), bound);
        }
        // Zero means one.
        let fake = Fake::with_delay(Duration::from_millis(5));
        run(&fake, &ids(5), &options(0)).await;
        assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn duplicates_are_revoked_once_and_every_id_gets_an_outcome() {
        let fake = Fake::with_delay(Duration::from_millis(5));
        let ids: Vec<String> = ["a", "b", "a", "c", "b", "a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let progress = Mutex::new(Vec::new());
        let outcomes = revoke_bulk(
            &fake,
            &ids,
            None,
            &options(4),
            &CancelFlag::new(),
            &|_, p| progress.lock().unwrap().push(p),
        )
        .await;
        assert_eq!(
            outcomes.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "a", "c", "b", "a"]
        );
        assert_eq!(statuses(&outcomes), vec![RevokeStatus::Revoked; 6]);
        assert_eq!(fake.calls_of("a"), 1);
        assert_eq!(fake.calls_of("b"), 1);
        assert_eq!(progress.lock().unwrap().last().unwrap().total, 3);
        // Nothing to do is fine too.
        assert!(run(&fake, &[], &options(8)).await.is_empty());
    }

    #[tokio::test]
    async fn revoke_many_keeps_its_shape() {
        let fake = Fake::default();
        fake.script("k2", Step::Fail(Error::NotFound("gone".into())));
        let ids = vec!["k1".to_owned(), "k2".to_owned()];
        let outcomes = revoke_many(&fake, &ids, Some("why"), 8).await;
        assert!(outcomes[0].is_ok());
        assert!(outcomes[0].key.is_some());
        assert!(!outcomes[1].is_ok());
        assert_eq!(
            outcomes[1].error.as_ref().unwrap().code,
            ErrorCode::NotFound
        );
    }
}
