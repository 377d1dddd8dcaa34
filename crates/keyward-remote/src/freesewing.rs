//! FreeSewing's backend (`sites/backend`), with either credential it accepts: an API key
//! (HTTP Basic `key:secret`, on the `/…/key` routes) or a sign-in JWT (Bearer, `/…/jwt` routes).
//!
//! FreeSewing keys carry a privilege level, must expire, and are deleted for good. Listings are
//! the whole set with no paging or search, so those happen here. Dates are ISO-8601 strings.

use crate::endpoint::key_id;
use crate::errors::{parse, rate_limited, server_failed, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{page_of_snapshot, AfterRevoke, Snapshots};
use crate::time::from_iso;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{Duration, Utc};
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, Expiration, ExpiryPreset, KeyBackend, KeyStatus,
    ListQuery, NewKey, Page, Result, RevokeKind, SortField, Subject, Verification,
};
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const SERVICE: &str = "FreeSewing";
/// Level 0 cannot be created (FreeSewing reads a falsy level as missing); 8 is the top.
const LEVELS: (u8, u8) = (1, 8);
/// FreeSewing's configured maximum lifetime of a key (`apikeys.expiryMaxSeconds`).
const MAX_EXPIRY: Duration = Duration::days(365);

/// How Keyward signs in to FreeSewing.
#[derive(Debug)]
pub enum FreeSewingAuth {
    /// An API key: its id (a UUID) and its secret. The key's level caps what Keyward can do:
    /// reading needs 1, deleting needs 4.
    Key { key: String, secret: SecretString },
    /// A JWT from signing in; acts with the account's role.
    Jwt { token: SecretString },
}

#[derive(Debug)]
pub struct FreeSewingConfig {
    /// `https://backend.freesewing.org`, or an emulator on loopback.
    pub base_url: String,
    pub auth: FreeSewingAuth,
    pub http: HttpOptions,
}

#[derive(Debug)]
pub struct FreeSewingBackend {
    client: Client,
    /// Which route family the credential unlocks: `key` or `jwt`.
    suffix: &'static str,
    /// The account's keys, as the last listing returned them.
    snapshots: Snapshots,
}

impl FreeSewingBackend {
    pub fn new(config: FreeSewingConfig) -> Result<Self> {
        let (suffix, header, credential) = match config.auth {
            FreeSewingAuth::Key { key, secret } => {
                ("key", basic_auth(&key, secret.expose_secret()), secret)
            }
            FreeSewingAuth::Jwt { token } => {
                ("jwt", format!("Bearer {}", token.expose_secret()), token)
            }
        };
        let mut auth = HeaderMap::new();
        auth.insert(AUTHORIZATION, sensitive_header(&header)?);
        Ok(FreeSewingBackend {
            client: Client::new(&config.base_url, config.http, auth, vec![credential])?,
            suffix,
            snapshots: Snapshots::default(),
        })
    }

    /// How long the account's listing answers queries before it is read again (default
    /// [`crate::SNAPSHOT_TTL`]; zero reads it for every query).
    pub fn with_snapshot_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.snapshots = Snapshots::new(ttl);
        self
    }

    /// The account's keys: one request, then nothing until the snapshot is older than its TTL.
    async fn snapshot(&self) -> Result<std::sync::Arc<Vec<ApiKey>>> {
        self.snapshots
            .get_or_read("account", || async {
                let request = Request::get(self.client.url(&["apikeys", self.suffix]));
                self.client
                    .call(request, |response| {
                        if response.status != StatusCode::OK {
                            return Err(error_from(&response, "account"));
                        }
                        parse::<WireList>(SERVICE, &response)?
                            .apikeys
                            .into_iter()
                            .map(WireKey::into_api_key)
                            .collect::<Result<Vec<_>>>()
                    })
                    .await
            })
            .await
    }

    /// HTTP requests this backend has sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    /// Whoami has no creation date, so a valid key is read once more, as itself, to get one.
    async fn read_as(&self, id: &str, authorization: &str, secret: &str) -> Result<ApiKey> {
        let request = Request::get(self.client.url(&["apikeys", id, "key"]))
            .headers(authorization_header(authorization)?)
            .redact(secret);
        self.client
            .call(request, |response| one_key(&response, id))
            .await
    }
}

fn basic_auth(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn authorization_header(value: &str) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, sensitive_header(value)?);
    Ok(headers)
}

/// The level rule, worded for people.
fn check_level(level: Option<u8>) -> Result<u8> {
    let (low, high) = LEVELS;
    match level {
        Some(level) if (low..=high).contains(&level) => Ok(level),
        Some(0) => Err(Error::invalid(
            "level",
            format!("FreeSewing cannot create level-0 keys; choose a level from {low} to {high}"),
        )),
        Some(level) => Err(Error::invalid(
            "level",
            format!("{level} is not a FreeSewing level; choose one from {low} to {high}"),
        )),
        None => Err(Error::invalid(
            "level",
            format!(
                "FreeSewing keys need a level from {low} to {high} (1 reads your patterns and \
                 measurements sets, 4 can change everything in your account)"
            ),
        )),
    }
}

/// `expiresIn` in seconds: FreeSewing keys must expire, within 365 days. "One year" means the
/// 365-day maximum here, so that the preset works in leap years too.
fn expires_in(expiration: Expiration) -> Result<i64> {
    let refuse = |message: &str| Err(Error::invalid(Expiration::FIELD, message));
    let seconds = match expiration {
        Expiration::Preset(ExpiryPreset::Never) => {
            return refuse("FreeSewing keys must expire: choose at most 365 days (TwoWeeks to OneYear, a duration or a date)")
        }
        Expiration::Preset(ExpiryPreset::OneYear) => MAX_EXPIRY.num_seconds(),
        other => other
            .seconds_from(Utc::now())?
            .expect("only Never has no expiry"),
    };
    if seconds > MAX_EXPIRY.num_seconds() {
        return refuse("FreeSewing keys last at most 365 days");
    }
    Ok(seconds)
}

/// A FreeSewing "secret" has two parts: the key id and the secret proper, as `KEY_ID:SECRET`
/// (what `curl -u` takes).
fn split_secret(secret: &str) -> Result<(&str, &str)> {
    secret
        .trim()
        .split_once(':')
        .filter(|(key, secret)| !key.is_empty() && !secret.is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "secret",
                "a FreeSewing secret is written KEY_ID:SECRET: the key's id, a colon, then its secret",
            )
        })
}

#[derive(Deserialize)]
struct WireError {
    error: Option<String>,
}

/// Maps an error answer. `target` names what a 404 did not find.
fn error_from(response: &Response, target: &str) -> Error {
    let code = serde_json::from_slice::<WireError>(&response.body)
        .ok()
        .and_then(|body| body.error)
        .unwrap_or_default();
    match response.status.as_u16() {
        400 => invalid_input(&code),
        401 => Error::Unauthorized(
            "FreeSewing rejected the credential: check the API key and secret, or sign in again for a fresh token".into(),
        ),
        403 if code == "insufficientAccessLevel" => Error::PermissionDenied(
            "this credential's level is too low for that (reading keys needs level 1, deleting needs 4)".into(),
        ),
        403 => Error::PermissionDenied(format!("FreeSewing refused the request ({code})")),
        // FreeSewing's 404s have an empty body.
        404 => Error::NotFound(format!("FreeSewing has no {target}")),
        429 => rate_limited(SERVICE, response),
        500..=599 => server_failed(SERVICE, response),
        _ => unexpected_status(SERVICE, response),
    }
}

/// FreeSewing's validation codes (`{result:"error", error:"<code>"}`), as our fields.
fn invalid_input(code: &str) -> Error {
    let (low, high) = LEVELS;
    match code {
        "nameMissing" => Error::invalid("name", "FreeSewing needs a name"),
        "levelMissing" | "levelNotNumeric" | "invalidLevel" => Error::invalid(
            "level",
            format!("FreeSewing refused the level ({code}); choose one from {low} to {high}"),
        ),
        "keyLevelExceedsRoleLevel" => Error::invalid(
            "level",
            "is higher than your account's role allows; choose a lower level",
        ),
        "expiresInMissing"
        | "expiresIsNotNumeric"
        | "expiresInNotNumeric"
        | "expiresIsHigherThanMaximum"
        | "expiresInHigherThanMaximum" => Error::invalid(
            Expiration::FIELD,
            format!("FreeSewing refused the expiry ({code}); keys must expire within 365 days"),
        ),
        "" => Error::invalid("request", "FreeSewing refused the request"),
        other => Error::invalid(
            "request",
            format!(
                "FreeSewing refused the request ({})",
                crate::errors::server_text(other)
            ),
        ),
    }
}

/// A key as FreeSewing sends it. The listing calls the id `id`; everything else calls it `key`.
/// Whoami has no `createdAt`; only the listing has `calls` and `lastSeen`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireKey {
    #[serde(alias = "id")]
    key: String,
    name: String,
    level: u8,
    created_at: Option<String>,
    expires_at: String,
    last_seen: Option<String>,
    calls: Option<u64>,
    user_id: serde_json::Value,
}

impl WireKey {
    fn into_api_key(self) -> Result<ApiKey> {
        let created_at = self
            .created_at
            .as_deref()
            .map(|at| from_iso(SERVICE, at))
            .transpose()?
            .ok_or_else(|| {
                Error::Backend("FreeSewing sent a key without its creation date".into())
            })?;
        let expires_at = from_iso(SERVICE, &self.expires_at)?;
        let owner = match self.user_id {
            serde_json::Value::Number(n) => Some(Subject::User(n.to_string())),
            serde_json::Value::String(s) if !s.is_empty() => Some(Subject::User(s)),
            _ => None,
        };
        Ok(ApiKey {
            id: self.key,
            name: self.name,
            owner,
            created_at,
            expires_at: Some(expires_at),
            status: KeyStatus::derive(false, Some(expires_at), Utc::now()),
            revoked_at: None,
            revocation_reason: None,
            last_used_at: self
                .last_seen
                .as_deref()
                .map(|at| from_iso(SERVICE, at))
                .transpose()?,
            level: Some(self.level),
            scopes: Vec::new(),
            description: None,
            metadata: self
                .calls
                .map(|calls| serde_json::json!({ "calls": calls })),
            stub: None,
        })
    }
}

#[derive(Deserialize)]
struct WireOne {
    apikey: WireKey,
}

#[derive(Deserialize)]
struct WireList {
    apikeys: Vec<WireKey>,
}

#[derive(Deserialize)]
struct WireCreated {
    apikey: WireCreatedKey,
}

#[derive(Deserialize)]
struct WireCreatedKey {
    #[serde(flatten)]
    key: WireKey,
    secret: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    name: &'a str,
    level: u8,
    expires_in: i64,
}

/// A 200 with one key, as read and whoami answer.
fn one_key(response: &Response, id: &str) -> Result<ApiKey> {
    if response.status != StatusCode::OK {
        return Err(error_from(response, &format!("API key {id}")));
    }
    parse::<WireOne>(SERVICE, response)?.apikey.into_api_key()
}

#[async_trait]
impl KeyBackend for FreeSewingBackend {
    fn kind(&self) -> &'static str {
        "freesewing"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_search: false,
            server_paging: false,
            // Every order is exact: the whole listing is sorted here.
            sorts: SortField::ALL.to_vec(),
            user_keys: true,
            org_keys: false,
            owner_is_label: false,
            levels: Some(LEVELS),
            scopes: false,
            descriptions: false,
            revoke_reason: false,
            revoke_kind: RevokeKind::Delete,
            last_used: true,
            verify: true,
            expiry_presets: ExpiryPreset::ALL
                .into_iter()
                .filter(|preset| *preset != ExpiryPreset::Never)
                .collect(),
            custom_expiry: true,
            never_expires: false,
            names_kept_locally: false,
        }
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated()?;
        if new.owner.is_some() {
            return Err(Error::invalid(
                Subject::FIELD,
                "FreeSewing keys always belong to the signed-in account; leave the owner empty",
            ));
        }
        if !new.scopes.is_empty() {
            return Err(Error::invalid(
                "scopes",
                "FreeSewing keys have a level, not scopes",
            ));
        }
        if new.description.is_some() {
            return Err(Error::invalid(
                "description",
                "FreeSewing keys have no description",
            ));
        }
        let body = CreateBody {
            name: &new.name,
            level: check_level(new.level)?,
            expires_in: expires_in(new.expiration)?,
        };
        let request = Request::create(self.client.url(&["apikeys", self.suffix]), &body);
        self.client
            .call(request, |mut response| {
                // The code answers 201 "created"; the docs show 200 "success". Both carry the key.
                if !matches!(response.status.as_u16(), 200 | 201) {
                    return Err(error_from(&response, "account"));
                }
                let created: Result<WireCreated> = parse(SERVICE, &response);
                response.wipe();
                let created = created?.apikey;
                Ok(CreatedKey {
                    key: created.key.into_api_key()?,
                    secret: SecretString::from(created.secret),
                })
            })
            .await
            .inspect(|_| self.snapshots.created())
    }

    /// FreeSewing returns every key at once; filters, search, sort and paging happen here, on
    /// that listing kept for the snapshot's TTL: totals are exact, and the first query costs one
    /// request, the next ones within the TTL none.
    async fn list(&self, query: &ListQuery) -> Result<Page<ApiKey>> {
        let query = query.clone().validated()?;
        if query.owner.is_some() {
            return Err(Error::invalid(
                Subject::FIELD,
                "FreeSewing lists the signed-in account's keys only; leave the owner empty",
            ));
        }
        Ok(page_of_snapshot(&self.snapshot().await?, &query))
    }

    /// The owners in the account's listing (the account itself, where it has keys).
    fn forget_cached(&self) {
        self.snapshots.created();
    }

    async fn owners(&self) -> Result<Vec<Subject>> {
        Ok(Snapshots::owners_of(&self.snapshot().await?))
    }

    async fn get(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id)?;
        let request = Request::get(self.client.url(&["apikeys", id, self.suffix]));
        self.client
            .call(request, |response| one_key(&response, id))
            .await
    }

    /// Deletes the key for good and returns it as it was last seen, marked revoked. FreeSewing
    /// takes no reason; a key that is already gone is `not_found`, like one that never existed.
    async fn revoke(&self, id: &str, _reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        let mut key = self.get(id).await?;
        let request = Request::delete(self.client.url(&["apikeys", id, self.suffix]));
        self.client
            .call(request, |response| match response.status.as_u16() {
                // 404: gone between our read and the delete (or a retried delete that had
                // already worked), which is what was asked.
                200..=299 | 404 => Ok(()),
                _ => Err(error_from(&response, &format!("API key {id}"))),
            })
            .await?;
        key.status = KeyStatus::Revoked;
        key.revoked_at = Some(Utc::now());
        self.snapshots.revoked(&key, AfterRevoke::Remove);
        Ok(key)
    }

    /// Checks `KEY_ID:SECRET` with `GET /whoami/key`: 200 is valid (or expired, by its date), 401
    /// is unknown.
    async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        let (key_id, key_secret) = split_secret(secret.expose_secret())?;
        let authorization = basic_auth(key_id, key_secret);
        let request = Request::get(self.client.url(&["whoami", "key"]))
            .headers(authorization_header(&authorization)?)
            .redact(key_secret);
        let whoami = self
            .client
            .call(request, |response| match response.status {
                StatusCode::OK => Ok(Some(parse::<WireOne>(SERVICE, &response)?.apikey)),
                StatusCode::UNAUTHORIZED => Ok(None),
                _ => Err(error_from(&response, "API key")),
            })
            .await?;
        let Some(whoami) = whoami else {
            return Ok(Verification::Unknown);
        };
        let key = if whoami.created_at.is_some() {
            whoami.into_api_key()?
        } else {
            self.read_as(&whoami.key, &authorization, key_secret)
                .await?
        };
        // The real server does not check expiry when authenticating, so an expired key can
        // still answer 200.
        Ok(match key.status {
            KeyStatus::Expired => Verification::Expired(key),
            _ => Verification::Valid(key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::ErrorCode;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn code(code: &str) -> String {
        format!(r#"{{"result":"error","error":"{code}"}}"#)
    }

    #[test]
    fn validation_codes_name_our_fields() {
        for (wire, field) in [
            ("nameMissing", "name"),
            ("levelMissing", "level"),
            ("levelNotNumeric", "level"),
            ("invalidLevel", "level"),
            ("keyLevelExceedsRoleLevel", "level"),
            ("expiresInMissing", "expires"),
            ("expiresIsNotNumeric", "expires"),
            ("expiresInNotNumeric", "expires"),
            ("expiresIsHigherThanMaximum", "expires"),
            ("postBodyMissing", "request"),
        ] {
            let error = error_from(&response(400, &code(wire)), "x");
            assert_eq!(error.field(), Some(field), "{wire}");
        }
        let role = error_from(&response(400, &code("keyLevelExceedsRoleLevel")), "x");
        assert!(role.to_string().contains("role"), "{role}");
    }

    #[test]
    fn statuses_map_to_codes() {
        for (status, body, want) in [
            (401, "Unauthorized".to_owned(), ErrorCode::Unauthorized),
            (
                403,
                code("insufficientAccessLevel"),
                ErrorCode::PermissionDenied,
            ),
            (404, String::new(), ErrorCode::NotFound),
            (429, code("tooManyRequests"), ErrorCode::RateLimited),
            (500, code("createApikeyFailed"), ErrorCode::Backend),
        ] {
            assert_eq!(
                error_from(&response(status, &body), "API key k").code(),
                want,
                "{status}"
            );
        }
    }

    #[test]
    fn levels_are_one_to_eight_and_required() {
        assert_eq!(check_level(Some(1)).unwrap(), 1);
        assert_eq!(check_level(Some(8)).unwrap(), 8);
        for bad in [None, Some(0), Some(9)] {
            let error = check_level(bad).unwrap_err();
            assert_eq!(error.field(), Some("level"));
            assert!(error.to_string().contains("1 to 8"), "{error}");
        }
    }

    #[test]
    fn expiry_must_be_within_a_year() {
        let never = expires_in(Expiration::Preset(ExpiryPreset::Never)).unwrap_err();
        assert_eq!(never.field(), Some("expires"));
        assert_eq!(
            expires_in(Expiration::Preset(ExpiryPreset::OneYear)).unwrap(),
            365 * 86_400
        );
        assert_eq!(
            expires_in(Expiration::After(Duration::hours(2))).unwrap(),
            7200
        );
        let long = expires_in(Expiration::After(Duration::days(366))).unwrap_err();
        assert!(long.to_string().contains("365 days"), "{long}");
    }

    #[test]
    fn secrets_are_key_colon_secret() {
        assert_eq!(split_secret("k-1:abc").unwrap(), ("k-1", "abc"));
        assert_eq!(split_secret("k:a:b").unwrap(), ("k", "a:b"));
        for bad in ["", "abc", ":abc", "k:"] {
            assert_eq!(
                split_secret(bad).unwrap_err().field(),
                Some("secret"),
                "{bad}"
            );
        }
    }

    #[test]
    fn list_items_and_reads_map_alike() {
        let listed: WireKey = serde_json::from_value(serde_json::json!({
            "id": "7ea12968-7758-40b6-8c73-75cc99be762b", "calls": 12,
            "createdAt": "2026-01-10T12:00:00.000Z", "expiresAt": "2099-02-09T12:00:00.000Z",
            "lastSeen": "2026-01-11T12:00:00.000Z", "level": 3, "name": "CI", "userId": 61
        }))
        .unwrap();
        let key = listed.into_api_key().unwrap();
        assert_eq!(key.id, "7ea12968-7758-40b6-8c73-75cc99be762b");
        assert_eq!(key.owner, Some(Subject::User("61".into())));
        assert_eq!(key.level, Some(3));
        assert_eq!(key.status, KeyStatus::Active);
        assert!(key.last_used_at.is_some());
        assert_eq!(key.metadata, Some(serde_json::json!({"calls": 12})));
        let expired: WireKey = serde_json::from_value(serde_json::json!({
            "key": "k", "createdAt": "2020-01-10T12:00:00.000Z",
            "expiresAt": "2020-02-09T12:00:00.000Z", "level": 1, "name": "old", "userId": 1
        }))
        .unwrap();
        assert_eq!(expired.into_api_key().unwrap().status, KeyStatus::Expired);
    }

    #[test]
    fn basic_auth_is_standard_base64() {
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
