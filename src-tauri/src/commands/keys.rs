//! Key commands: list, owners, get, create (the one response that carries a secret), update, revoke
//! (preview, run with progress, cancel), verify, copy a key id. Each maps the webview's arguments
//! to a `keyward_ops` operation and its answer back; the rules are there.

use super::{argument, blocking, host, AppInfo};
use crate::host::AppHost;
use crate::state::{AppState, Session, NEW_SECRET_TTL};
use keyward_core::{
    ApiKey, BulkProgress, CreatedKey, Error, ErrorBody, KeyUpdate, ListQuery, Result,
    RevokeOutcome, Verification,
};
use keyward_ops::create::{self, CreateForm};
use keyward_ops::list::{MarkedKey, MarkedPage};
use keyward_ops::revoke::{self, KeyRevoked};
use keyward_ops::selection::{self, RevokePreview, Selection};
use secrecy::{ExposeSecret, SecretString};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use std::sync::Arc;
use tauri::{AppHandle, Emitter, Manager, State};
use zeroize::{Zeroize, Zeroizing};

/// The event that carries a bulk revoke's progress to the main window, once per key.
pub const REVOKE_PROGRESS_EVENT: &str = "revoke-progress";

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    let session = state.session().await?;
    Ok(AppInfo::new(&session, &state))
}

/// A page of keys, each with its saved-in-keychain mark (one call per page: the marks come from
/// the saved-secret index, joined in Rust).
#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>, query: serde_json::Value) -> Result<MarkedPage> {
    let query: ListQuery = argument("query", query)?;
    let session = state.session().await?;
    let host = host(&state, &session);
    keyward_ops::list::list(session.backend()?.as_ref(), &host, query).await
}

/// "Refresh": the next listing reads the server, even within a remote snapshot's 30 s (keys
/// created or revoked elsewhere show up at once).
#[tauri::command]
pub async fn refresh_keys(state: State<'_, AppState>) -> Result<()> {
    let session = state.session().await?;
    session.backend()?.forget_cached();
    Ok(())
}

/// The distinct owners of the active profile's keys (`org:acme`, `user:u_1`, …), for the owner
/// filter's suggestions.
#[tauri::command]
pub async fn list_owners(state: State<'_, AppState>) -> Result<Vec<String>> {
    let session = state.session().await?;
    let owners = session.backend()?.owners().await?;
    Ok(owners.iter().map(ToString::to_string).collect())
}

#[tauri::command]
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<MarkedKey> {
    let session = state.session().await?;
    let host = host(&state, &session);
    keyward_ops::list::get(session.backend()?.as_ref(), &host, &id).await
}

/// The create form as typed: `expires` is a preset name or custom text (`90d`, `12h`, a date);
/// `scopes` is one text of scopes separated by commas or spaces; blank optional fields mean
/// "not given".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    expires: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    level: Option<u8>,
    #[serde(default)]
    scopes: Option<String>,
}

impl CreateKeyRequest {
    /// The form as the create operation takes it (scopes split on commas and blanks).
    fn into_form(self) -> CreateForm {
        CreateForm {
            name: self.name,
            expires: Some(self.expires),
            owner: self.owner,
            description: self.description,
            level: self.level,
            scopes: self
                .scopes
                .unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// The create response, and the only IPC response that ever carries a secret. Serialized by hand
/// (the secret types have no `Serialize` on purpose); the secret is wiped when Tauri drops this
/// value after serializing it.
pub struct CreatedKeyResponse {
    key: ApiKey,
    secret: Zeroizing<String>,
    /// Whether the secret was saved to the keychain as asked; `keychain_error` says why not.
    saved_to_keychain: bool,
    keychain_error: Option<Error>,
}

impl CreatedKeyResponse {
    fn new(created: CreatedKey, keychain: Option<Result<()>>) -> Self {
        // The backend's SecretString is wiped as `created` drops at the end of this call.
        CreatedKeyResponse {
            secret: Zeroizing::new(created.secret.expose_secret().to_owned()),
            key: created.key,
            saved_to_keychain: matches!(keychain, Some(Ok(()))),
            keychain_error: keychain.and_then(Result::err),
        }
    }
}

impl Serialize for CreatedKeyResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut created = serializer.serialize_struct("CreatedKey", 4)?;
        created.serialize_field("key", &self.key)?;
        created.serialize_field("secret", self.secret.as_str())?;
        created.serialize_field("saved_to_keychain", &self.saved_to_keychain)?;
        created.serialize_field("keychain_error", &self.keychain_error)?;
        created.end()
    }
}

/// Creates a key (`keyward_ops::create`: the capability fit, and with `save_to_keychain` the
/// keychain asked first, so an unavailable one refuses before anything is made). Its secret is
/// returned once for display, and held in Rust for the show-once panel's "Copy" and "Save to
/// keychain" (see `NewSecret`).
#[tauri::command]
pub async fn create_key(
    app: AppHandle,
    state: State<'_, AppState>,
    request: serde_json::Value,
    save_to_keychain: Option<bool>,
) -> Result<CreatedKeyResponse> {
    let request: CreateKeyRequest = argument("request", request)?;
    let session = state.session().await?;
    let response =
        create_body(&state, &session, request, save_to_keychain.unwrap_or(false)).await?;
    forget_when_stale(app);
    Ok(response)
}

/// Empties the `NewSecret` slot once its time is up, if the panel has not closed it first.
fn forget_when_stale(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(NEW_SECRET_TTL).await;
        app.state::<AppState>().new_secret.forget_expired();
    });
}

/// `create_key` without the window: the operation, then the secret held for the panel.
async fn create_body(
    state: &AppState,
    session: &Session,
    request: CreateKeyRequest,
    save_to_keychain: bool,
) -> Result<CreatedKeyResponse> {
    let new_key = create::new_key(request.into_form())?;
    let backend = session.backend()?;
    let capabilities = session.capabilities()?;
    let created = create::create(
        backend.as_ref(),
        &capabilities,
        &host(state, session),
        new_key,
        save_to_keychain,
    )
    .await?;
    Ok(show_once(state, session, created))
}

/// A key just made (by a create or a rotation): its secret held for the show-once panel's
/// buttons, and the one response that carries it.
fn show_once(state: &AppState, session: &Session, created: create::Created) -> CreatedKeyResponse {
    if let Some(e) = &created.activity_error {
        eprintln!("keyward: the activity log did not record a create: {e}");
    }
    state.new_secret.hold(
        session.name(),
        &created.created.key.id,
        created.created.secret.clone(),
        NEW_SECRET_TTL,
    );
    CreatedKeyResponse::new(created.created, created.saved_to_keychain)
}

/// A rotation's answer: the replacement (shown once, through the same panel as a create) and
/// what became of the old key.
#[derive(Serialize)]
pub struct RotatedKeyResponse {
    created: CreatedKeyResponse,
    old_key_id: String,
    old_key_revoked: bool,
    revoke_scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the old key is neither revoked nor scheduled: it still works.
    old_key_error: Option<ErrorBody>,
}

/// Rotates a key (`keyward_ops::rotate`): a replacement like it, its secret shown once (and saved
/// in the keychain where the old one was), the old key revoked now (`grace` "now") or after
/// `grace` ("1h" … "30d"), kept pending in the data dir's `scheduled.db` until then.
#[tauri::command]
pub async fn rotate_key(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    grace: String,
) -> Result<RotatedKeyResponse> {
    let session = state.session().await?;
    let response = rotate_body(&state, &session, &id, &grace).await?;
    forget_when_stale(app);
    Ok(response)
}

async fn rotate_body(
    state: &AppState,
    session: &Session,
    id: &str,
    grace: &str,
) -> Result<RotatedKeyResponse> {
    let grace = keyward_ops::rotate::parse_grace(grace)?;
    let backend = session.backend()?;
    let capabilities = session.capabilities()?;
    let schedule = state.activity.scheduled_revokes().await?;
    let rotated = keyward_ops::rotate::rotate(
        backend.as_ref(),
        &capabilities,
        &host(state, session),
        &schedule,
        id,
        grace,
        false,
        chrono::Utc::now(),
    )
    .await?;
    Ok(RotatedKeyResponse {
        old_key_revoked: rotated.revoked.as_ref().is_some_and(|r| r.outcome.is_ok()),
        revoke_scheduled_at: rotated.scheduled.as_ref().map(|s| s.due_at),
        old_key_error: rotated.old_key_error,
        old_key_id: rotated.old_id,
        created: show_once(state, session, rotated.created),
    })
}

/// The active profile's pending revokes (after a rotation with a grace period), soonest first.
#[tauri::command]
pub async fn list_scheduled_revokes(
    state: State<'_, AppState>,
) -> Result<Vec<keyward_local::ScheduledRevoke>> {
    let session = state.session().await?;
    let schedule = state.activity.scheduled_revokes().await?;
    blocking(move || schedule.list(Some(session.name()))).await
}

/// Cancels the pending revoke of the active profile's key `id`: the old key keeps working.
#[tauri::command]
pub async fn cancel_scheduled_revoke(
    state: State<'_, AppState>,
    id: String,
) -> Result<keyward_local::ScheduledRevoke> {
    let session = state.session().await?;
    let schedule = state.activity.scheduled_revokes().await?;
    let activity = Arc::clone(&state.activity);
    let keychain = state.keychain.clone();
    // SQLite reads and writes: on a blocking thread, with a host of its own.
    blocking(move || {
        let host = AppHost::new(session.name(), &activity, &keychain);
        keyward_ops::rotate::cancel(&host, &schedule, &id)
    })
    .await
}

/// Changes a key (`keyward_ops::update`): `change` is a `KeyUpdate` as JSON (`{"expires":
/// "OneYear", "description": ""}`), strict, and a field the backend cannot change is refused by
/// name before anything is sent. Answers the key as it now is (its keychain mark is unchanged).
#[tauri::command]
pub async fn update_key(
    state: State<'_, AppState>,
    id: String,
    change: serde_json::Value,
) -> Result<ApiKey> {
    // A mistyped expiry is refused naming `expires` (KeyUpdate's expiry parser, read by
    // `argument`), for the dialog's field.
    let change: KeyUpdate = argument("change", change)?;
    let session = state.session().await?;
    let host = host(&state, &session);
    let updated =
        keyward_ops::update::update(session.backend()?.as_ref(), &host, &id, change).await?;
    if let Some(e) = &updated.activity_error {
        eprintln!("keyward: the activity log did not record an update: {e}");
    }
    Ok(updated.key)
}

/// What the revoke dialog shows before the user confirms: how many keys, the one key's name,
/// how many were used in the last 7 days, the first few names.
#[tauri::command]
pub async fn revoke_preview(
    state: State<'_, AppState>,
    selection: serde_json::Value,
) -> Result<RevokePreview> {
    let selection: Selection = argument("selection", selection)?;
    let session = state.session().await?;
    selection::preview(session.backend()?.as_ref(), selection, chrono::Utc::now()).await
}

#[derive(Serialize)]
pub struct RevokeResponse {
    /// One per selected key, in selection order (`already_revoked` where there was nothing to do).
    outcomes: Vec<KeyRevoked>,
    revoked: usize,
    failed: usize,
    /// Not revoked because the run was stopped first.
    untouched: usize,
    already_revoked: usize,
    /// Keys whose saved secret was deleted from the keychain.
    forgotten: Vec<String>,
    /// Why saved secrets could not all be deleted (the first such error; each key carries its own
    /// in `outcomes[].forget_error`). The revokes themselves still happened.
    keychain_error: Option<ErrorBody>,
    /// Why the activity log could not record the revokes (they still happened).
    activity_error: Option<ErrorBody>,
}

/// The `revoke-progress` event: after each key that ends revoked or failed.
#[derive(Clone, Serialize)]
struct RevokeProgress<'a> {
    job: u64,
    total: usize,
    done: usize,
    revoked: usize,
    failed: usize,
    last: &'a RevokeOutcome,
}

/// Revokes the selected keys (`{"ids": [..]}` or every key matching `{"query": ..}`), a few at
/// a time, emitting `revoke-progress` after each; `cancel_revoke(job)` stops it, leaving keys
/// not started untouched. `expected_count` is the count the dialog showed and the user confirmed:
/// a selection that no longer has it is refused with `conflict`, nothing revoked. The rules
/// (activity entries, rate limits, forgetting saved secrets) are `keyward_ops::revoke`'s.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn revoke_keys(
    app: AppHandle,
    state: State<'_, AppState>,
    selection: serde_json::Value,
    expected_count: Option<usize>,
    reason: Option<String>,
    forget_saved: Option<bool>,
    job: u64,
    names: Option<HashMap<String, String>>,
) -> Result<RevokeResponse> {
    let selection: Selection = argument("selection", selection)?;
    // Registered first, so Stop works while a query selection is still being listed.
    let running = state.revoke_jobs.start(job)?;
    let session = state.session().await?;
    let mut host = host(&state, &session);
    host.cancel = running.cancel_flag().clone();
    host.on_progress = Some(Box::new(
        move |last: &RevokeOutcome, progress: BulkProgress| {
            let _ = app.emit_to(
                "main",
                REVOKE_PROGRESS_EVENT,
                RevokeProgress {
                    job,
                    total: progress.total,
                    done: progress.done,
                    revoked: progress.revoked,
                    failed: progress.failed,
                    last,
                },
            );
        },
    ));
    revoke_body(
        &session,
        &host,
        selection,
        expected_count,
        reason,
        forget_saved.unwrap_or(false),
        names.unwrap_or_default(),
    )
    .await
}

/// `revoke_keys` without the window.
async fn revoke_body(
    session: &Session,
    host: &AppHost<'_>,
    selection: Selection,
    expected_count: Option<usize>,
    reason: Option<String>,
    forget_saved: bool,
    names: HashMap<String, String>,
) -> Result<RevokeResponse> {
    // The window always shows a count before a revoke by filter; a call without one (a page
    // script, an old UI) does not get to revoke whatever the filter matches by then.
    if matches!(selection, Selection::Query(_)) && expected_count.is_none() {
        return Err(Error::invalid(
            "expected_count",
            "a revoke by filter must carry the number of keys that was confirmed",
        ));
    }
    let backend = session.bulk_backend()?;
    let reason = revoke::checked_reason(backend.as_ref(), reason.as_deref())?;
    let resolved = selection::resolve(backend.as_ref(), selection, expected_count)
        .await?
        .with_shown_names(names);
    let options = revoke::bulk_options(
        &revoke::bulk_http(keyward_ops::settings::http_options()?),
        revoke::CONCURRENCY,
    );
    let report = revoke::revoke(
        backend.as_ref(),
        host,
        &resolved,
        reason.as_deref(),
        forget_saved,
        &options,
    )
    .await;
    // The window's backend keeps a snapshot of remote listings: the next one must show the
    // revokes made on the bulk backend.
    if let Ok(window) = session.backend() {
        window.forget_cached();
    }
    Ok(RevokeResponse {
        forgotten: report
            .outcomes
            .iter()
            .filter(|k| k.forgotten == Some(true))
            .map(|k| k.outcome.id.clone())
            .collect(),
        keychain_error: report.outcomes.iter().find_map(|k| k.forget_error.clone()),
        revoked: report.revoked,
        failed: report.failed,
        untouched: report.untouched,
        already_revoked: report.already_revoked,
        activity_error: report.activity_error,
        outcomes: report.outcomes,
    })
}

/// "Stop" during a bulk revoke: keys not started yet end untouched; calls already sent finish.
/// Stopping a job that already ended does nothing.
#[tauri::command]
pub async fn cancel_revoke(state: State<'_, AppState>, job: u64) -> Result<()> {
    state.revoke_jobs.cancel(job);
    Ok(())
}

/// Copies a key's id (not a secret: a plain copy, no countdown) with the app's clipboard handle.
#[tauri::command]
pub async fn copy_key_id(state: State<'_, AppState>, id: String) -> Result<()> {
    state
        .clipboard
        .copy_text(keyward_core::model::check_key_id(&id, "id")?)
}

#[tauri::command]
pub async fn verify_key(state: State<'_, AppState>, secret: String) -> Result<Verification> {
    // Move the typed secret into a SecretString at once and wipe the String IPC handed us.
    let mut typed = secret;
    let secret = SecretString::from(typed.trim());
    typed.zeroize();
    let session = state.session().await?;
    // A person checking a key they hold: not a use of it (last used stays as it was).
    keyward_ops::verify::verify(
        session.backend()?.as_ref(),
        &secret,
        keyward_ops::verify::Purpose::Check,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use keyward_core::{Expiration, ExpiryPreset, KeyStatus, NewKey, Subject};

    impl CreateKeyRequest {
        fn into_new_key(self) -> Result<NewKey> {
            create::new_key(self.into_form())
        }
    }

    fn request(name: &str, expires: &str, owner: Option<&str>) -> CreateKeyRequest {
        CreateKeyRequest {
            name: name.into(),
            expires: expires.into(),
            owner: owner.map(Into::into),
            description: Some("  ".into()),
            level: None,
            scopes: None,
        }
    }

    #[test]
    fn a_create_request_becomes_a_new_key() {
        let new = request(" laptop ", "ThreeMonths", Some("org:acme"))
            .into_new_key()
            .unwrap();
        assert_eq!(new.name, "laptop");
        assert_eq!(
            new.expiration,
            Expiration::Preset(ExpiryPreset::ThreeMonths)
        );
        assert_eq!(new.owner, Some(Subject::Org("acme".into())));
        assert_eq!(
            new.description, None,
            "a blank description is no description"
        );
        let custom = request("ci", "90d", Some("")).into_new_key().unwrap();
        assert_eq!(custom.expiration, Expiration::parse("90d").unwrap());
        assert_eq!(custom.owner, None);
    }

    /// `update_key` reads its `change` argument this way: a mistyped expiry is placed under the
    /// edit dialog's `expires` field, with the parser's message.
    #[test]
    fn a_mistyped_expiry_in_an_update_names_expires() {
        let error = argument::<KeyUpdate>("change", serde_json::json!({"expires": "next week"}))
            .unwrap_err();
        assert_eq!(error.field(), Some("expires"), "{error}");
        assert_eq!(
            error.message(),
            Expiration::parse("next week").unwrap_err().message()
        );
        let change =
            argument::<KeyUpdate>("change", serde_json::json!({"expires": "90d"})).unwrap();
        assert_eq!(change.expiration, Some(Expiration::parse("90d").unwrap()));
    }

    #[test]
    fn levels_and_scopes_reach_the_new_key() {
        let new = CreateKeyRequest {
            level: Some(3),
            scopes: Some(" read:keys, write:keys  admin,,".into()),
            ..request("ci", "OneMonth", None)
        }
        .into_new_key()
        .unwrap();
        assert_eq!(new.level, Some(3));
        assert_eq!(new.scopes, ["read:keys", "write:keys", "admin"]);
        assert!(request("ci", "OneMonth", None)
            .into_new_key()
            .unwrap()
            .scopes
            .is_empty());
    }

    #[test]
    fn create_errors_name_their_field_name_first() {
        let field = |r: CreateKeyRequest| r.into_new_key().unwrap_err().field().map(str::to_owned);
        assert_eq!(
            field(request("", "nonsense", None)).as_deref(),
            Some("name")
        );
        assert_eq!(
            field(request("ci", "nonsense", None)).as_deref(),
            Some("expires")
        );
        assert_eq!(
            field(request("ci", "OneMonth", Some("team:x"))).as_deref(),
            Some("owner")
        );
    }

    #[test]
    fn the_create_response_carries_key_and_secret() {
        let created = CreatedKey {
            key: ApiKey {
                id: "key_1".into(),
                name: "laptop".into(),
                owner: None,
                created_at: Utc::now(),
                expires_at: None,
                status: KeyStatus::Active,
                revoked_at: None,
                revocation_reason: None,
                last_used_at: None,
                level: None,
                scopes: Vec::new(),
                description: None,
                metadata: None,
                stub: Some("kw_…abcd".into()),
            },
            secret: SecretString::from("kw_secret"),
        };
        let json = serde_json::to_value(CreatedKeyResponse::new(
            created,
            Some(Err(Error::KeychainUnavailable("no keychain".into()))),
        ))
        .unwrap();
        assert_eq!(json["secret"], "kw_secret");
        assert_eq!(json["key"]["id"], "key_1");
        assert_eq!(json["saved_to_keychain"], false);
        assert_eq!(json["keychain_error"]["code"], "keychain_unavailable");
    }
}

/// The same scenarios as the CLI's tests (crates/keyward-cli/tests/bulk.rs), through the app's
/// command bodies: both front ends run `keyward_ops`, so they answer alike.
#[cfg(test)]
mod same_as_the_cli {
    use super::*;
    use crate::state::ActivityCell;
    use keyward_core::{Expiration, ExpiryPreset, NewKey};
    use keyward_emulators::{Emulator, Faults, Flavor, RateLimit, SeedOwner};
    use keyward_local::{ActivityQuery, LocalStore};
    use keyward_profiles::{Config, CredentialStore, Paths};
    use keyward_vault::Keychain;
    use secrecy::SecretString;
    use std::time::Duration;

    fn session_of(
        config_text: &str,
        dir: &std::path::Path,
        store: &dyn CredentialStore,
    ) -> Session {
        let config = Config::parse(config_text, &dir.join("config.toml")).unwrap();
        let paths = Paths {
            config_file: dir.join("config.toml"),
            data_dir: dir.to_path_buf(),
        };
        let profile = config.profile(None).unwrap();
        let summary = profile.summary(&paths, true);
        Session::of_profile(profile, summary, &paths, store)
    }

    fn actions(activity: &ActivityCell) -> Vec<(String, String)> {
        let runtime = tokio::runtime::Handle::current();
        let log = tokio::task::block_in_place(|| runtime.block_on(activity.get())).unwrap();
        log.list(&ActivityQuery {
            limit: 1000,
            ..ActivityQuery::default()
        })
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.action.as_str().to_owned(), e.key_id))
        .collect()
    }

    /// Like `revoking_an_already_revoked_key_writes_no_activity_entry` in the CLI's tests.
    #[tokio::test(flavor = "multi_thread")]
    async fn revoking_an_already_revoked_key_writes_no_activity_entry() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = LocalStore::open(&data).unwrap();
        let ids: Vec<String> = ["a", "b"]
            .iter()
            .map(|name| {
                store
                    .create_sync(NewKey::named(
                        *name,
                        Expiration::Preset(ExpiryPreset::OneMonth),
                    ))
                    .unwrap()
                    .key
                    .id
            })
            .collect();
        drop(store);
        let session = session_of(
            &format!("default_profile = \"mine\"\n[profiles.mine]\nbackend = \"local\"\ndata_dir = {data:?}\n"),
            dir.path(),
            &keyward_profiles::EnvOnly,
        );
        let activity = ActivityCell::in_dir(dir.path());
        let keychain = Keychain::new();
        let host = AppHost::new(session.name(), &activity, &keychain);
        let first = revoke_body(
            &session,
            &host,
            Selection::Ids(vec![ids[0].clone()]),
            None,
            Some("first".into()),
            false,
            HashMap::new(),
        )
        .await
        .unwrap();
        assert_eq!((first.revoked, first.already_revoked), (1, 0));
        let again = revoke_body(
            &session,
            &host,
            Selection::Ids(ids.clone()),
            None,
            Some("second".into()),
            false,
            HashMap::new(),
        )
        .await
        .unwrap();
        assert_eq!((again.revoked, again.already_revoked), (2, 1));
        assert!(again.outcomes[0].already_revoked);
        let mut recorded = actions(&activity);
        recorded.sort();
        let mut expected = vec![
            ("revoked".to_owned(), ids[0].clone()),
            ("revoked".to_owned(), ids[1].clone()),
        ];
        expected.sort();
        assert_eq!(
            recorded, expected,
            "one entry per key actually revoked: none for the second, empty revoke of key a"
        );
    }

    struct Fixed(String);

    impl CredentialStore for Fixed {
        fn credential(&self, _profile: &str) -> Result<Option<SecretString>> {
            Ok(Some(SecretString::from(self.0.clone())))
        }
    }

    /// Like `a_rate_limit_pauses_the_run_and_every_key_still_ends_revoked` in the CLI's tests:
    /// the app's bulk backend hands a 429 to the engine (which pauses every worker and counts a
    /// second attempt) instead of one request waiting on its own.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_rate_limit_pauses_the_run_and_every_key_still_ends_revoked() {
        let emu = Emulator::start(Flavor::Clerk).await.unwrap();
        let creds = emu.credentials().clerk().unwrap().clone();
        emu.seed(25, SeedOwner::User);
        let dir = tempfile::tempdir().unwrap();
        let session = session_of(
            &format!(
                "default_profile = \"clerk\"\n[profiles.clerk]\nbackend = \"clerk\"\nurl = \"{}\"\nsubject = \"user:{}\"\n",
                emu.base_url(),
                creds.user_id
            ),
            dir.path(),
            &Fixed(creds.secret_key.clone()),
        );
        emu.set_faults(Faults {
            rate_limit: Some(RateLimit {
                requests: 10,
                window: Duration::from_secs(2),
            }),
            ..Faults::default()
        });
        let activity = ActivityCell::in_dir(dir.path());
        let keychain = Keychain::new();
        let host = AppHost::new(session.name(), &activity, &keychain);
        let query = ListQuery {
            search: Some("seeded".into()),
            ..ListQuery::default()
        };
        let report = revoke_body(
            &session,
            &host,
            Selection::Query(query),
            Some(25),
            None,
            false,
            HashMap::new(),
        )
        .await
        .unwrap();
        emu.set_faults(Faults::default());
        assert_eq!((report.revoked, report.failed), (25, 0));
        let retried = report
            .outcomes
            .iter()
            .filter(|k| k.outcome.attempts > 1)
            .count();
        assert!(
            retried > 0,
            "some keys met the rate limit and the engine paused them"
        );
        assert_eq!(actions(&activity).len(), 25);
        emu.shutdown().await;
    }

    fn local_session(dir: &std::path::Path, names: &[&str]) -> (Session, Vec<String>) {
        let data = dir.join("data");
        let store = LocalStore::open(&data).unwrap();
        let ids = names
            .iter()
            .map(|name| {
                store
                    .create_sync(NewKey::named(
                        *name,
                        Expiration::Preset(ExpiryPreset::OneMonth),
                    ))
                    .unwrap()
                    .key
                    .id
            })
            .collect();
        drop(store);
        let session = session_of(
            &format!("default_profile = \"mine\"\n[profiles.mine]\nbackend = \"local\"\ndata_dir = {data:?}\n"),
            dir,
            &keyward_profiles::EnvOnly,
        );
        (session, ids)
    }

    fn active_count(session: &Session) -> usize {
        let runtime = tokio::runtime::Handle::current();
        let backend = session.backend().unwrap();
        let query = ListQuery {
            status: keyward_core::StatusFilter::Active,
            ..ListQuery::default()
        };
        tokio::task::block_in_place(|| runtime.block_on(backend.list(&query)))
            .unwrap()
            .items
            .len()
    }

    /// Like `a_misspelled_filter_is_refused_naming_it_and_nothing_is_revoked` in the operations'
    /// tests, with the selection as the page sends it (JSON through `argument`).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_misspelled_filter_is_refused_naming_it_and_nothing_is_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let (session, _ids) = local_session(dir.path(), &["laptop", "desk", "ci"]);
        let sent = serde_json::json!({"query": {"serch": "laptop"}});
        let error = argument::<Selection>("selection", sent).unwrap_err();
        assert_eq!(error.code(), keyward_core::ErrorCode::InvalidInput);
        assert_eq!(error.field(), Some("serch"));
        let list = argument::<ListQuery>("query", serde_json::json!({"serch": "laptop"}));
        assert_eq!(list.unwrap_err().field(), Some("serch"));
        assert_eq!(active_count(&session), 3, "nothing was revoked");
    }

    /// A query that matched 2 keys in the dialog's preview and 3 when the revoke runs: refused
    /// with `conflict`, nothing revoked, nothing recorded; without a count at all, refused too.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_revoke_by_filter_whose_count_changed_since_the_preview_revokes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (session, _ids) = local_session(dir.path(), &["ci-a", "ci-b", "laptop"]);
        let query = ListQuery {
            search: Some("ci".into()),
            ..ListQuery::default()
        };
        let backend = session.backend().unwrap();
        let shown = selection::preview(
            backend.as_ref(),
            Selection::Query(query.clone()),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(shown.count, 2);
        backend
            .create(NewKey::named(
                "ci-c",
                Expiration::Preset(ExpiryPreset::OneMonth),
            ))
            .await
            .unwrap();
        let activity = ActivityCell::in_dir(dir.path());
        let keychain = Keychain::new();
        let host = AppHost::new(session.name(), &activity, &keychain);
        let error = revoke_body(
            &session,
            &host,
            Selection::Query(query.clone()),
            Some(shown.count),
            None,
            false,
            HashMap::new(),
        )
        .await
        .err()
        .expect("refused");
        assert_eq!(error.code(), keyward_core::ErrorCode::Conflict, "{error}");
        assert!(error.to_string().contains("not the 2 confirmed"), "{error}");
        let unconfirmed = revoke_body(
            &session,
            &host,
            Selection::Query(query.clone()),
            None,
            None,
            false,
            HashMap::new(),
        )
        .await
        .err()
        .expect("refused");
        assert_eq!(unconfirmed.field(), Some("expected_count"));
        assert_eq!(active_count(&session), 4, "nothing was revoked");
        assert!(actions(&activity).is_empty(), "nothing was recorded");

        let confirmed = revoke_body(
            &session,
            &host,
            Selection::Query(query),
            Some(3),
            None,
            false,
            HashMap::new(),
        )
        .await
        .unwrap();
        assert_eq!(confirmed.revoked, 3);
        assert_eq!(active_count(&session), 1);
    }

    /// The app reads `KEYWARD_HTTP_TIMEOUT_MS` with the CLI's parser
    /// (`keyward_ops::settings::http_options`): a bad value is the session's backend error naming
    /// the variable; a short one makes a slow server's listing fail in time, as in the CLI's
    /// `remote.rs` test.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_http_timeout_comes_from_the_same_variable_as_the_cli() {
        use keyward_ops::settings::{http_options_env, HTTP_TIMEOUT_ENV};
        use std::ffi::OsStr;
        let emu = Emulator::start(Flavor::Clerk).await.unwrap();
        let creds = emu.credentials().clerk().unwrap().clone();
        emu.seed(3, SeedOwner::User);
        let dir = tempfile::tempdir().unwrap();
        let config_text = format!(
            "default_profile = \"clerk\"\n[profiles.clerk]\nbackend = \"clerk\"\nurl = \"{}\"\nsubject = \"user:{}\"\n",
            emu.base_url(),
            creds.user_id
        );
        let config = Config::parse(&config_text, &dir.path().join("config.toml")).unwrap();
        let paths = Paths {
            config_file: dir.path().join("config.toml"),
            data_dir: dir.path().to_path_buf(),
        };
        let profile = config.profile(None).unwrap();
        let open = |value: &str| {
            Session::of_profile_with(
                profile,
                profile.summary(&paths, true),
                &paths,
                &Fixed(creds.secret_key.clone()),
                http_options_env(Some(OsStr::new(value))),
            )
        };
        let bad = open("soon");
        assert_eq!(
            bad.backend_error().and_then(|e| e.field()),
            Some(HTTP_TIMEOUT_ENV)
        );
        assert!(bad.bulk_backend().is_err());

        emu.set_faults(Faults {
            latency: Duration::from_millis(1500),
            ..Faults::default()
        });
        let short = open("200");
        let activity = ActivityCell::in_dir(dir.path());
        let keychain = Keychain::new();
        let host = AppHost::new(short.name(), &activity, &keychain);
        let started = std::time::Instant::now();
        let Err(error) = keyward_ops::list::list(
            short.backend().unwrap().as_ref(),
            &host,
            ListQuery::default(),
        )
        .await
        else {
            panic!("a listing slower than the limit came back");
        };
        println!(
            "a 1.5 s server with a 200 ms limit failed after {:?}",
            started.elapsed()
        );
        assert_eq!(error.code(), keyward_core::ErrorCode::Network, "{error}");
        emu.set_faults(Faults::default());
        emu.shutdown().await;
    }

    /// Like `a_reason_holding_a_secret_is_refused_before_any_key_is_revoked` in the CLI's tests.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_reason_holding_a_secret_is_refused_before_any_key_is_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let (session, ids) = local_session(dir.path(), &["a", "b"]);
        let activity = ActivityCell::in_dir(dir.path());
        let keychain = Keychain::new();
        let host = AppHost::new(session.name(), &activity, &keychain);
        let secret = keyward_core::key_format::generate().unwrap();
        let reason = format!("old one: {}", secret.expose_secret());
        let Err(error) = revoke_body(
            &session,
            &host,
            Selection::Ids(ids),
            Some(2),
            Some(reason),
            false,
            HashMap::new(),
        )
        .await
        else {
            panic!("revoked with a secret in the reason");
        };
        assert_eq!(error.field(), Some("reason"), "{error}");
        assert!(!error.to_string().contains(secret.expose_secret()));
        assert_eq!(active_count(&session), 2, "nothing was revoked");
        assert!(actions(&activity).is_empty());
    }
}
