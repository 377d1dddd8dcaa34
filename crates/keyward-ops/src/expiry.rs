//! Keys expiring soon, on one profile or across every profile: the app's "Expiring" view and
//! background notifier, and `keyward keys expiring`.
//!
//! Each profile is opened as the app opens a session (its credential from the environment, else
//! the keychain), one after another so that a locked keychain asks at most once: after one
//! keychain failure the other profiles of the same scan are not asked again. The listings then run
//! concurrently. A profile that cannot be opened or listed gives its error entry; it never fails
//! the whole scan.

use crate::ask_once::AskOnce;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::join_all;
use keyward_core::{
    ApiKey, Error, ErrorBody, KeyBackend, ListQuery, Result, SortField, StatusFilter,
};
use keyward_local::ActivityLog;
use keyward_profiles::{Config, CredentialStore, Paths, Profile};
use keyward_remote::HttpOptions;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Pages in flight per profile while listing.
const LIST_CONCURRENCY: usize = 4;

/// The "Expiring" view's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ExpiringSoon {
    pub days: u32,
    pub profiles: Vec<ProfileExpiring>,
}

/// One profile's keys expiring soon, soonest first, or why they could not be listed.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileExpiring {
    pub profile: String,
    /// The backend kind, e.g. `local`, `clerk`.
    pub backend: &'static str,
    pub keys: Vec<ApiKey>,
    pub error: Option<ErrorBody>,
}

/// A profile to scan: its name and kind, and its backend or why it could not be opened.
pub struct ProfileBackend {
    pub profile: String,
    pub backend_kind: &'static str,
    pub backend: Result<Arc<dyn KeyBackend>>,
}

/// The window when none is given, in days (the "Expiring" view's and the CLI's default).
pub const DEFAULT_DAYS: u32 = 14;

/// Checks the day count the user typed (the one day-count rule, `ListQuery::check_days`).
pub fn check_days(days: u32) -> Result<u32> {
    ListQuery::check_days("days", days)
}

/// Active keys expiring within `days` days, soonest first.
pub fn expiring_query(days: u32) -> ListQuery {
    ListQuery {
        status: StatusFilter::Active,
        expires_within_days: Some(days),
        sort: SortField::Expires,
        descending: false,
        page: 0,
        limit: ListQuery::MAX_LIMIT,
        ..ListQuery::default()
    }
}

/// Whether `key` is active and expires after `now` and within `days` days: the listing rule
/// itself (`ListQuery::matches`), applied again so a backend that filters loosely cannot widen
/// the answer.
pub fn expires_within(key: &ApiKey, days: u32, now: DateTime<Utc>) -> bool {
    expiring_query(days).matches(key, now)
}

/// Opens every profile of `config`, one after another, taking `reuse`'s backend for a profile
/// when it offers one (the active session's, say) instead of opening it again; others get the
/// HTTP options of `KEYWARD_HTTP_TIMEOUT_MS` ([`crate::settings::http_options`]), and a bad value
/// is each such profile's error. Blocking.
pub fn open_profiles(
    config: &Config,
    paths: &Paths,
    store: &dyn CredentialStore,
    reuse: &dyn Fn(&Profile) -> Option<Arc<dyn KeyBackend>>,
) -> Vec<ProfileBackend> {
    open_each(config, paths, store, crate::settings::http_options(), reuse)
}

/// [`open_profiles`] with these HTTP options for remote profiles (the CLI's
/// `KEYWARD_HTTP_TIMEOUT_MS`).
pub fn open_profiles_with(
    config: &Config,
    paths: &Paths,
    store: &dyn CredentialStore,
    http: HttpOptions,
    reuse: &dyn Fn(&Profile) -> Option<Arc<dyn KeyBackend>>,
) -> Vec<ProfileBackend> {
    open_each(config, paths, store, Ok(http), reuse)
}

fn open_each(
    config: &Config,
    paths: &Paths,
    store: &dyn CredentialStore,
    http: Result<HttpOptions>,
    reuse: &dyn Fn(&Profile) -> Option<Arc<dyn KeyBackend>>,
) -> Vec<ProfileBackend> {
    config
        .profiles
        .values()
        .map(|profile| ProfileBackend {
            profile: profile.name.clone(),
            backend_kind: profile.kind().as_str(),
            backend: match reuse(profile) {
                Some(backend) => Ok(backend),
                None => http
                    .clone()
                    .and_then(|http| profile.open_backend_with(paths, store, http)),
            },
        })
        .collect()
}

/// Lists the keys expiring within `days` of every profile, all profiles at once. The answer
/// keeps the profiles' order.
pub async fn scan(profiles: Vec<ProfileBackend>, days: u32, now: DateTime<Utc>) -> ExpiringSoon {
    let query = expiring_query(days);
    let scans = profiles.into_iter().map(|p| {
        let query = query.clone();
        async move {
            let listed = match p.backend {
                Ok(backend) => {
                    keyward_core::list_all(backend.as_ref(), &query, LIST_CONCURRENCY).await
                }
                Err(e) => Err(e),
            };
            match listed {
                Ok(keys) => ProfileExpiring {
                    profile: p.profile,
                    backend: p.backend_kind,
                    keys: keys
                        .into_iter()
                        .filter(|k| expires_within(k, days, now))
                        .collect(),
                    error: None,
                },
                Err(e) => ProfileExpiring {
                    profile: p.profile,
                    backend: p.backend_kind,
                    keys: Vec::new(),
                    error: Some(e.to_body()),
                },
            }
        }
    });
    ExpiringSoon {
        days,
        profiles: join_all(scans).await,
    }
}

/// The backends the notifier keeps between its scans, so that a profile is opened (and its
/// credential read from the keychain) once, not every hour; and whether the keychain failed, so
/// that a locked keychain is not asked again for the rest of the run.
#[derive(Default)]
pub struct KeptBackends {
    opened: HashMap<String, (Profile, Arc<dyn KeyBackend>)>,
    keychain_failure: Option<Error>,
}

impl KeptBackends {
    /// Every profile of `config`: kept (when its settings did not change), the active session's
    /// (`active`: its name and backend), or opened now; the keychain is not asked again after it
    /// failed once. Blocking.
    pub fn open_all(
        &mut self,
        config: &Config,
        paths: &Paths,
        keychain: &dyn CredentialStore,
        active: Option<(&str, Arc<dyn KeyBackend>)>,
    ) -> Vec<ProfileBackend> {
        let store = match self.keychain_failure.clone() {
            Some(failure) => AskOnce::failed(keychain, failure),
            None => AskOnce::new(keychain),
        };
        let reuse = |profile: &Profile| match self.opened.get(&profile.name) {
            Some((kept, backend)) if kept == profile => Some(Arc::clone(backend)),
            _ => active
                .as_ref()
                .filter(|(name, _)| *name == profile.name)
                .map(|(_, backend)| Arc::clone(backend)),
        };
        let profiles = open_profiles(config, paths, &store, &reuse);
        self.keychain_failure = store.failure();
        self.opened = profiles
            .iter()
            .filter_map(|p| {
                let backend = p.backend.as_ref().ok()?;
                let profile = config.profiles.get(&p.profile)?;
                Some((p.profile.clone(), (profile.clone(), Arc::clone(backend))))
            })
            .collect();
        profiles
    }

    /// Drops the backends whose listing failed (a credential revoked since, say), so the next
    /// scan opens them afresh.
    pub fn forget_failed(&mut self, scan: &ExpiringSoon) {
        for failed in scan.profiles.iter().filter(|p| p.error.is_some()) {
            self.opened.remove(&failed.profile);
        }
    }
}

/// The window of the background notifier, in days.
pub const NOTIFY_WITHIN_DAYS: u32 = 7;
/// Up to this many keys get a notification each; more get one notification together.
pub const MAX_SEPARATE_NOTIFICATIONS: usize = 3;

/// A key to tell the user about.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub profile: String,
    pub key_id: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
}

/// The keys of `scan` not notified yet on `day`, each now marked as notified in `log` (at most
/// once per key per day, also across app restarts), soonest first. Stops at the first log error:
/// a key is never notified without its mark.
pub fn claim_notices(
    log: &ActivityLog,
    scan: &ExpiringSoon,
    day: NaiveDate,
) -> Result<Vec<Notice>> {
    let mut notices = Vec::new();
    for profile in &scan.profiles {
        for key in &profile.keys {
            let Some(expires_at) = key.expires_at else {
                continue;
            };
            if log.claim_expiry_notification(&profile.profile, &key.id, day)? {
                notices.push(Notice {
                    profile: profile.profile.clone(),
                    key_id: key.id.clone(),
                    name: key.name.clone(),
                    expires_at,
                });
            }
        }
    }
    notices.sort_by(|a, b| {
        a.expires_at
            .cmp(&b.expires_at)
            .then_with(|| a.key_id.cmp(&b.key_id))
    });
    Ok(notices)
}

/// A desktop notification: title and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub title: String,
    pub body: String,
}

/// The notifications for `notices`: one per key, or one for all of them when there are more
/// than [`MAX_SEPARATE_NOTIFICATIONS`].
pub fn notification_texts(notices: &[Notice], now: DateTime<Utc>) -> Vec<NotificationText> {
    if notices.len() <= MAX_SEPARATE_NOTIFICATIONS {
        return notices
            .iter()
            .map(|n| NotificationText {
                title: format!("API key \"{}\" expires {}", n.name, when(n.expires_at, now)),
                body: format!(
                    "Profile {}: key {} expires on {}. Replace it before then.",
                    n.profile,
                    n.key_id,
                    n.expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
            })
            .collect();
    }
    let named: Vec<String> = notices
        .iter()
        .take(MAX_SEPARATE_NOTIFICATIONS)
        .map(|n| {
            format!(
                "\"{}\" ({}, {})",
                n.name,
                n.profile,
                when(n.expires_at, now)
            )
        })
        .collect();
    vec![NotificationText {
        title: format!(
            "{} API keys expire within {NOTIFY_WITHIN_DAYS} days",
            notices.len()
        ),
        body: format!(
            "{} and {} more. See \"Expiring\" in Keyward.",
            named.join(", "),
            notices.len() - named.len()
        ),
    }]
}

/// "within a day", "in 1 day", "in 3 days".
fn when(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (expires_at - now).num_days() {
        ..=0 => "within a day".to_owned(),
        1 => "in 1 day".to_owned(),
        days => format!("in {days} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use keyward_core::ErrorCode;
    use keyward_core::{Expiration, NewKey};
    use keyward_local::LocalStore;
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn local_with(dir: &std::path::Path, keys: &[(&str, Expiration)]) -> (LocalStore, Vec<ApiKey>) {
        let store = LocalStore::open(dir).unwrap();
        let made = keys
            .iter()
            .map(|(name, expires)| {
                store
                    .create_sync(NewKey::named(*name, *expires))
                    .unwrap()
                    .key
            })
            .collect();
        (store, made)
    }

    #[test]
    fn days_are_checked() {
        assert_eq!(check_days(DEFAULT_DAYS).unwrap(), 14);
        assert_eq!(check_days(0).unwrap_err().field(), Some("days"));
        assert_eq!(check_days(3651).unwrap_err().field(), Some("days"));
    }

    #[test]
    fn only_active_keys_expiring_in_the_window_count() {
        let now = Utc::now();
        let mut key = crate::test_support::key("k", None);
        let at = |d: i64| Some(now + Duration::days(d));
        key.expires_at = at(3);
        assert!(expires_within(&key, 7, now));
        assert!(!expires_within(&key, 2, now));
        key.expires_at = None;
        assert!(!expires_within(&key, 7, now), "never expires");
        key.expires_at = Some(now - Duration::minutes(1));
        assert!(!expires_within(&key, 7, now), "already expired");
        key.expires_at = at(3);
        key.status = keyward_core::KeyStatus::Revoked;
        assert!(!expires_within(&key, 7, now));
    }

    #[tokio::test]
    async fn a_scan_lists_each_profile_and_reports_failures_per_profile() {
        let dir = tempfile::tempdir().unwrap();
        let soon = Expiration::parse("3d").unwrap();
        let later = Expiration::parse("30d").unwrap();
        let (store, keys) = local_with(
            dir.path(),
            &[
                ("soon", soon),
                ("later", later),
                (
                    "never",
                    Expiration::Preset(keyward_core::ExpiryPreset::Never),
                ),
            ],
        );
        let profiles = vec![
            ProfileBackend {
                profile: "work".into(),
                backend_kind: "local",
                backend: Ok(Arc::new(store) as Arc<dyn KeyBackend>),
            },
            ProfileBackend {
                profile: "broken".into(),
                backend_kind: "clerk",
                backend: Err(Error::KeychainUnavailable("locked".into())),
            },
        ];
        let answer = scan(profiles, 7, Utc::now()).await;
        assert_eq!(answer.days, 7);
        assert_eq!(answer.profiles.len(), 2);
        let work = &answer.profiles[0];
        assert_eq!((work.profile.as_str(), work.backend), ("work", "local"));
        assert!(work.error.is_none());
        assert_eq!(
            work.keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
            [keys[0].id.clone()]
        );
        let broken = &answer.profiles[1];
        assert!(broken.keys.is_empty());
        assert_eq!(
            broken.error.as_ref().unwrap().code,
            ErrorCode::KeychainUnavailable
        );
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["profiles"][1]["error"]["code"], "keychain_unavailable");
        assert_eq!(json["profiles"][0]["error"], serde_json::Value::Null);
    }

    struct Counting {
        asked: AtomicUsize,
        answer: Result<Option<SecretString>>,
    }

    impl CredentialStore for Counting {
        fn credential(&self, _profile: &str) -> Result<Option<SecretString>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            self.answer.clone()
        }
    }

    fn config_of(dir: &std::path::Path) -> (Config, Paths) {
        let text = format!(
            "default_profile = \"mine\"\n\
             [profiles.mine]\nbackend = \"local\"\ndata_dir = {:?}\n\
             [profiles.team]\nbackend = \"clerk\"\nurl = \"https://api.clerk.com\"\n\
             [profiles.other]\nbackend = \"local\"\ndata_dir = {:?}\n",
            dir.join("mine"),
            dir.join("other"),
        );
        let config = Config::parse(&text, &dir.join("config.toml")).unwrap();
        let paths = Paths {
            config_file: dir.join("config.toml"),
            data_dir: dir.to_path_buf(),
        };
        (config, paths)
    }

    fn locked_keychain() -> Counting {
        Counting {
            asked: AtomicUsize::new(0),
            answer: Err(Error::KeychainUnavailable("locked".into())),
        }
    }

    #[test]
    fn profiles_open_one_by_one_reusing_what_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let (config, paths) = config_of(dir.path());
        let locked = locked_keychain();
        let (kept, _) = local_with(&dir.path().join("kept"), &[]);
        let kept: Arc<dyn KeyBackend> = Arc::new(kept);
        let reuse = |p: &Profile| (p.name == "mine").then(|| Arc::clone(&kept));
        let opened = open_profiles(&config, &paths, &AskOnce::new(&locked), &reuse);
        let names: Vec<&str> = opened.iter().map(|p| p.profile.as_str()).collect();
        assert_eq!(names, ["mine", "other", "team"]);
        assert!(Arc::ptr_eq(opened[0].backend.as_ref().unwrap(), &kept));
        assert!(
            opened[1].backend.is_ok(),
            "a local store needs no credential"
        );
        assert_eq!(opened[2].backend_kind, "clerk");
        assert_eq!(
            opened[2].backend.as_ref().err().map(Error::code),
            Some(ErrorCode::KeychainUnavailable)
        );
    }

    #[test]
    fn the_notifier_keeps_backends_and_never_asks_a_failed_keychain_again() {
        let dir = tempfile::tempdir().unwrap();
        let (config, paths) = config_of(dir.path());
        let locked = locked_keychain();
        let (active, _) = local_with(&dir.path().join("active"), &[]);
        let active: Arc<dyn KeyBackend> = Arc::new(active);
        let mut kept = KeptBackends::default();

        let first = kept.open_all(
            &config,
            &paths,
            &locked,
            Some(("mine", Arc::clone(&active))),
        );
        assert!(Arc::ptr_eq(first[0].backend.as_ref().unwrap(), &active));
        assert!(first[2].backend.is_err());
        assert_eq!(locked.asked.load(Ordering::SeqCst), 1);

        // The next hour: no active session any more, the keychain is not asked again, and the
        // backends opened before are the same ones.
        let second = kept.open_all(&config, &paths, &locked, None);
        assert_eq!(locked.asked.load(Ordering::SeqCst), 1, "not asked again");
        assert!(Arc::ptr_eq(second[0].backend.as_ref().unwrap(), &active));
        assert!(Arc::ptr_eq(
            second[1].backend.as_ref().unwrap(),
            first[1].backend.as_ref().unwrap()
        ));
        assert_eq!(
            second[2].backend.as_ref().err().map(Error::code),
            Some(ErrorCode::KeychainUnavailable)
        );

        // A failed listing drops its backend; a changed profile is opened afresh.
        kept.forget_failed(&ExpiringSoon {
            days: 7,
            profiles: vec![ProfileExpiring {
                profile: "other".into(),
                backend: "local",
                keys: Vec::new(),
                error: Some(Error::Store("gone".into()).to_body()),
            }],
        });
        let mut changed = config.clone();
        if let Some(mine) = changed.profiles.get_mut("mine") {
            mine.settings = keyward_profiles::BackendSettings::Local {
                data_dir: Some(dir.path().join("moved")),
            };
        }
        let third = kept.open_all(&changed, &paths, &locked, None);
        assert!(!Arc::ptr_eq(third[0].backend.as_ref().unwrap(), &active));
        assert!(!Arc::ptr_eq(
            third[1].backend.as_ref().unwrap(),
            first[1].backend.as_ref().unwrap()
        ));
    }

    fn scanned(profile: &str, keys: Vec<ApiKey>) -> ProfileExpiring {
        ProfileExpiring {
            profile: profile.into(),
            backend: "local",
            keys,
            error: None,
        }
    }

    fn expiring(name: &str, in_hours: i64, now: DateTime<Utc>) -> ApiKey {
        let mut key = crate::test_support::key(name, None);
        key.expires_at = Some(now + Duration::hours(in_hours));
        key
    }

    #[test]
    fn each_key_is_notified_once_per_day() {
        let dir = tempfile::tempdir().unwrap();
        let log = ActivityLog::open(&dir.path().join(ActivityLog::FILE_NAME)).unwrap();
        let now = Utc::now();
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let scan = ExpiringSoon {
            days: NOTIFY_WITHIN_DAYS,
            profiles: vec![
                scanned(
                    "work",
                    vec![expiring("later", 100, now), expiring("soon", 5, now)],
                ),
                scanned("home", vec![expiring("soon", 50, now)]),
            ],
        };
        let first = claim_notices(&log, &scan, today).unwrap();
        let order: Vec<(&str, &str)> = first
            .iter()
            .map(|n| (n.profile.as_str(), n.name.as_str()))
            .collect();
        assert_eq!(
            order,
            [("work", "soon"), ("home", "soon"), ("work", "later")]
        );

        assert!(
            claim_notices(&log, &scan, today).unwrap().is_empty(),
            "same day: nothing again"
        );
        // Also after a restart (the claims are in the file).
        drop(log);
        let log = ActivityLog::open(&dir.path().join(ActivityLog::FILE_NAME)).unwrap();
        assert!(claim_notices(&log, &scan, today).unwrap().is_empty());
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            claim_notices(&log, &scan, tomorrow).unwrap().len(),
            3,
            "a new day"
        );
    }

    #[test]
    fn few_keys_get_a_notification_each_many_get_one() {
        let now = Utc::now();
        let notice = |name: &str, hours: i64| Notice {
            profile: "work".into(),
            key_id: format!("key_{name}"),
            name: name.into(),
            expires_at: now + Duration::hours(hours),
        };
        let few = notification_texts(
            &[
                notice("ci", 2),
                notice("laptop", 30),
                notice("vm", 24 * 5 + 1),
            ],
            now,
        );
        assert_eq!(few.len(), 3);
        assert_eq!(few[0].title, "API key \"ci\" expires within a day");
        assert_eq!(few[1].title, "API key \"laptop\" expires in 1 day");
        assert_eq!(few[2].title, "API key \"vm\" expires in 5 days");
        assert!(few[0].body.contains("Profile work") && few[0].body.contains("key_ci"));

        let many: Vec<Notice> = (0..5).map(|i| notice(&format!("k{i}"), 30 + i)).collect();
        let one = notification_texts(&many, now);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].title, "5 API keys expire within 7 days");
        assert!(
            one[0].body.starts_with("\"k0\" (work, in 1 day), \"k1\""),
            "{}",
            one[0].body
        );
        assert!(one[0].body.contains("and 2 more"));
        assert!(notification_texts(&[], now).is_empty());
    }
}
