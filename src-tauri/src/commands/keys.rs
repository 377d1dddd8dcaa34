//! One thin command per operation: parse what the webview sent, call the active backend, return
//! its answer. Errors cross IPC as keyward-core's `{code, message, field?, retry_after?}`, so the
//! UI can place each message next to the field it names.

use crate::state::AppState;
use keyward_core::model::validate_name;
use keyward_core::{
    revoke_many, ApiKey, Capabilities, CreatedKey, Expiration, ExpiryPreset, ListQuery, NewKey,
    Page, Result, RevokeOutcome, Subject, Verification,
};
use keyward_profiles::ProfileSummary;
use secrecy::{ExposeSecret, SecretString};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use tauri::State;
use zeroize::{Zeroize, Zeroizing};

/// Revocations in flight at once during a bulk revoke.
const REVOKE_CONCURRENCY: usize = 8;

/// What the window needs to draw itself for the active profile.
#[derive(Serialize)]
pub struct AppInfo {
    version: &'static str,
    profile: ProfileSummary,
    /// The UI adapts to these (owner and description fields, expiry presets, revoke wording).
    capabilities: Capabilities,
    /// The preset the create dialog starts on, when the backend offers it.
    default_expiry: Option<ExpiryPreset>,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo> {
    let session = state.session().await?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        profile: session.profile.clone(),
        capabilities: session.backend.capabilities(),
        default_expiry: Expiration::default().preset(),
    })
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<Vec<ProfileSummary>> {
    let session = state.session().await?;
    Ok(session.config.summaries(&session.paths))
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>, query: ListQuery) -> Result<Page<ApiKey>> {
    let session = state.session().await?;
    session.backend.list(&query.validated()?).await
}

#[tauri::command]
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<ApiKey> {
    let session = state.session().await?;
    session.backend.get(&id).await
}

/// The create form as typed: `expires` is a preset name or custom text (`90d`, `12h`, a date);
/// blank optional fields mean "not given".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    expires: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    description: Option<String>,
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
        Ok(NewKey {
            owner,
            description: non_blank(self.description),
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
}

impl From<CreatedKey> for CreatedKeyResponse {
    fn from(created: CreatedKey) -> Self {
        // The backend's SecretString is wiped as `created` drops at the end of this call.
        CreatedKeyResponse {
            secret: Zeroizing::new(created.secret.expose_secret().to_owned()),
            key: created.key,
        }
    }
}

impl Serialize for CreatedKeyResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut created = serializer.serialize_struct("CreatedKey", 2)?;
        created.serialize_field("key", &self.key)?;
        created.serialize_field("secret", self.secret.as_str())?;
        created.end()
    }
}

#[tauri::command]
pub async fn create_key(
    state: State<'_, AppState>,
    request: CreateKeyRequest,
) -> Result<CreatedKeyResponse> {
    let new_key = request.into_new_key()?;
    let session = state.session().await?;
    Ok(session.backend.create(new_key).await?.into())
}

#[tauri::command]
pub async fn revoke_keys(
    state: State<'_, AppState>,
    ids: Vec<String>,
    reason: Option<String>,
) -> Result<Vec<RevokeOutcome>> {
    let session = state.session().await?;
    let reason = non_blank(reason);
    Ok(revoke_many(
        session.backend.as_ref(),
        &ids,
        reason.as_deref(),
        REVOKE_CONCURRENCY,
    )
    .await)
}

#[tauri::command]
pub async fn verify_key(state: State<'_, AppState>, secret: String) -> Result<Verification> {
    // Move the typed secret into a SecretString at once and wipe the String IPC handed us.
    let mut typed = secret;
    let secret = SecretString::from(typed.trim());
    typed.zeroize();
    let session = state.session().await?;
    session.backend.verify(&secret).await
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
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
        let json = serde_json::to_value(CreatedKeyResponse::from(created)).unwrap();
        assert_eq!(json["secret"], "kw_secret");
        assert_eq!(json["key"]["id"], "key_1");
    }
}
