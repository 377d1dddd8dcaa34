//! Key commands: list, owners, get, create (the one response that carries a secret), revoke
//! (preview, run with progress, cancel), verify, copy a key id.

use super::{blocking, non_blank, AppInfo};
use crate::records;
use crate::selection::{self, RevokePreview, Selection};
use crate::state::{AppState, NEW_SECRET_TTL};
use keyward_core::model::validate_name;
use keyward_core::{
    revoke_bulk, ApiKey, BulkOptions, BulkProgress, CreatedKey, Error, Expiration, ListQuery,
    NewKey, Page, Result, RevokeOutcome, RevokeStatus, Subject, Verification,
};
use secrecy::{ExposeSecret, SecretString};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use tauri::{AppHandle, Emitter, Manager, State};
use zeroize::{Zeroize, Zeroizing};

/// The event that carries a bulk revoke's progress to the main window, once per key.
pub const REVOKE_PROGRESS_EVENT: &str = "revoke-progress";

/// How long one key of a bulk revoke may take before it ends failed ("timed out"). The session's
/// HTTP layer retries a revoke up to 3 times (20 s each, backoff up to 5 s) and waits out a
/// `Retry-After` of up to 30 s itself, so the limit leaves room for all of that.
const REVOKE_KEY_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    let session = state.session().await?;
    Ok(AppInfo::new(&session, state.clear_after()))
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>, query: ListQuery) -> Result<Page<ApiKey>> {
    let session = state.session().await?;
    session.backend()?.list(&query.validated()?).await
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
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<ApiKey> {
    let session = state.session().await?;
    session.backend()?.get(&id).await
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
    /// Each parse error names its field. The name is checked first so that an empty form points
    /// at the first field the user sees.
    fn into_new_key(self) -> Result<NewKey> {
        let name = validate_name(&self.name)?;
        let expiration = Expiration::parse(&self.expires)?;
        let owner = non_blank(self.owner)
            .map(|owner| Subject::parse(&owner))
            .transpose()?;
        let scopes = self
            .scopes
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(NewKey {
            owner,
            description: non_blank(self.description),
            level: self.level,
            scopes,
            ..NewKey::named(name, expiration)
        })
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

/// Creates a key. Its secret is returned once for display, and held in Rust for the show-once
/// panel's "Copy" and "Save to keychain" (see `NewSecret`); with `save_to_keychain` it is saved
/// right away, and a keychain failure is reported without failing the create.
#[tauri::command]
pub async fn create_key(
    app: AppHandle,
    state: State<'_, AppState>,
    request: CreateKeyRequest,
    save_to_keychain: Option<bool>,
) -> Result<CreatedKeyResponse> {
    let new_key = request.into_new_key()?;
    let session = state.session().await?;
    let backend = session.backend()?;
    let created = backend.create(new_key).await?;
    let (profile, id) = (session.name(), created.key.id.clone());
    // The key exists either way: a log that cannot be written is reported, not the create's failure.
    let entry = records::created(profile, backend.kind(), &created.key);
    if let Err(e) = record(&state, vec![entry]).await {
        eprintln!("keyward: the activity log did not record a create: {e}");
    }
    state
        .new_secret
        .hold(profile, &id, created.secret.clone(), NEW_SECRET_TTL);
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(NEW_SECRET_TTL).await;
        app.state::<AppState>().new_secret.forget_expired();
    });
    let saved = match save_to_keychain.unwrap_or(false) {
        true => Some(
            state
                .keychain
                .save_key_secret(profile, &id, &created.secret)
                .await,
        ),
        false => None,
    };
    Ok(CreatedKeyResponse::new(created, saved))
}

/// Writes `entries` to the activity log on a blocking thread.
async fn record(
    state: &AppState,
    entries: Vec<keyward_local::activity::NewActivity>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let log = state.activity().await?;
    blocking(move || log.record(&entries)).await
}

/// What the revoke dialog shows before the user confirms: how many keys, the one key's name,
/// how many were used in the last 7 days, the first few names.
#[tauri::command]
pub async fn revoke_preview(
    state: State<'_, AppState>,
    selection: Selection,
) -> Result<RevokePreview> {
    let session = state.session().await?;
    selection::preview(session.backend()?.as_ref(), selection, chrono::Utc::now()).await
}

#[derive(Serialize)]
pub struct RevokeResponse {
    /// One per selected key, in selection order.
    outcomes: Vec<RevokeOutcome>,
    revoked: usize,
    failed: usize,
    /// Not revoked because the run was stopped first.
    untouched: usize,
    /// Keys whose saved secret was deleted from the keychain.
    forgotten: Vec<String>,
    /// Why saved secrets could not be deleted (the revokes themselves still happened).
    keychain_error: Option<Error>,
    /// Why the activity log could not record the revokes (they still happened).
    activity_error: Option<Error>,
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
/// not started untouched. Each revoked or failed key is recorded in the activity log. With
/// `forget_saved`, also deletes the saved secret of each revoked key that has one.
#[tauri::command]
pub async fn revoke_keys(
    app: AppHandle,
    state: State<'_, AppState>,
    selection: Selection,
    reason: Option<String>,
    forget_saved: Option<bool>,
    job: u64,
    names: Option<HashMap<String, String>>,
) -> Result<RevokeResponse> {
    // Registered first, so Stop works while a query selection is still being listed.
    let running = state.revoke_jobs.start(job)?;
    let session = state.session().await?;
    let backend = session.backend()?;
    let reason = non_blank(reason);
    let resolved = selection::resolve(backend.as_ref(), selection)
        .await?
        .with_shown_names(names.unwrap_or_default());
    let on_progress = |last: &RevokeOutcome, progress: BulkProgress| {
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
    };
    let outcomes = revoke_bulk(
        backend.as_ref(),
        &resolved.ids,
        reason.as_deref(),
        &BulkOptions {
            per_key_timeout: REVOKE_KEY_TIME_LIMIT,
            ..BulkOptions::default()
        },
        running.cancel_flag(),
        &on_progress,
    )
    .await;
    drop(running);
    let entries = records::revoked(
        session.name(),
        backend.kind(),
        reason.as_deref(),
        &outcomes,
        &resolved,
    );
    let activity_error = record(&state, entries).await.err();
    let mut forgotten = Vec::new();
    let mut keychain_error = None;
    if forget_saved.unwrap_or(false) {
        let saved = state.keychain.index().map(|index| {
            let _ = index.reload();
            index.ids(session.name())
        });
        let revoked = outcomes
            .iter()
            .filter(|o| o.is_ok() && saved.as_ref().is_some_and(|s| s.contains(&o.id)));
        for outcome in revoked {
            match state
                .keychain
                .forget_key_secret(session.name(), &outcome.id)
                .await
            {
                Ok(_) => forgotten.push(outcome.id.clone()),
                Err(e) => {
                    keychain_error = Some(e);
                    break;
                }
            }
        }
    }
    let count = |status: RevokeStatus| outcomes.iter().filter(|o| o.status == status).count();
    Ok(RevokeResponse {
        revoked: count(RevokeStatus::Revoked),
        failed: count(RevokeStatus::Failed),
        untouched: count(RevokeStatus::Untouched),
        outcomes,
        forgotten,
        keychain_error,
        activity_error,
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
    state.clipboard.copy_text(selection::check_id(&id, "id")?)
}

#[tauri::command]
pub async fn verify_key(state: State<'_, AppState>, secret: String) -> Result<Verification> {
    // Move the typed secret into a SecretString at once and wipe the String IPC handed us.
    let mut typed = secret;
    let secret = SecretString::from(typed.trim());
    typed.zeroize();
    let session = state.session().await?;
    session.backend()?.verify(&secret).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use keyward_core::{ExpiryPreset, KeyStatus};

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
