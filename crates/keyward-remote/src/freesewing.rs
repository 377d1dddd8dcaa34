//! FreeSewing's backend (`sites/backend`), with either credential it accepts: an API key
//! (HTTP Basic `key:secret`, on the `/…/key` routes) or a sign-in JWT (Bearer, `/…/jwt` routes).
//!
//! FreeSewing keys carry a privilege level capped by the account's role, must expire, and are
//! deleted for good. Listings are the whole set with no paging or search, so those happen here.
//! Dates are ISO-8601 strings. What the real server does, warts included, and what this adapter
//! does about each behaviour: `docs/backends/freesewing.md`.

use crate::create_answer;
use crate::endpoint::key_id;
use crate::errors::{parse, rate_limited, server_failed, unexpected_status};
use crate::http::{sensitive_header, Client, HttpOptions, Request, Response};
use crate::listing::{page_of_snapshot, AfterRevoke, Snapshots};
use crate::time::from_iso;
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use keyward_core::{
    ApiKey, Capabilities, CreatedKey, Error, Expiration, ExpiryPreset, KeyBackend, KeyStatus,
    ListQuery, NewKey, Page, Result, RevokeKind, SortField, Subject, TextLimits, Verification,
};
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Mutex;

const SERVICE: &str = "FreeSewing";
/// Levels a key can be made with: `0` is refused as missing (the server tests `!body.level`),
/// `9` is the top of `apikeys.levels`. The account's role caps it further ([`role_level`]).
const LEVELS: (u8, u8) = (1, 9);
/// The cap of the `user` role, which most accounts have: above it, the cap is learnt first.
const USER_ROLE_LEVEL: u8 = 4;
/// The intended maximum lifetime of a key. The real server does not enforce it (it reads a
/// misspelled config key); Keyward keeps to it so that keys stay within FreeSewing's intent.
const MAX_EXPIRY: Duration = Duration::days(365);
/// What FreeSewing keeps of free text (docs/backends/freesewing.md, Limits): the server checks
/// only that a name is there (`models/apikey.mjs` `create`) and keeps no description or reason,
/// so Keyward's own caps apply (a reason is checked, never sent).
const TEXT_LIMITS: TextLimits = TextLimits::GENERIC;
/// Said when the server drops the connection on the one check verify sends as the key itself.
const VERIFY_CLOSED: &str = "FreeSewing may have crashed while checking the key; Keyward did not \
                             retry, so check that the server is up before trying again";

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
    /// The highest level the account's role may give a key, once learnt from the server.
    role_cap: Mutex<Option<u8>>,
}

/// The level each role may give a key (`roles.levels` in freesewing/freesewing
/// packages/config/src/roles.mjs, which the v3 backend's config uses).
fn role_level(role: &str) -> Option<u8> {
    Some(match role {
        "readNone" => 0,
        "readSome" => 1,
        "readOnly" => 2,
        "writeSome" => 3,
        "user" | "tester" => 4,
        "curator" => 5,
        "bughunter" => 6,
        "support" => 8,
        "admin" => 9,
        _ => return None,
    })
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
            role_cap: Mutex::new(None),
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

    fn known_cap(&self) -> Option<u8> {
        *self
            .role_cap
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the account's role: `GET /whoami/jwt` with a JWT, `GET /account/key` with a key
    /// (both answer `{account: {role, …}}`; `/whoami/key` only has the key's own level). `None`
    /// when the server will not say (a level-0 key may not read the account) or the role is one
    /// Keyward does not know.
    async fn learn_role_cap(&self) -> Result<Option<u8>> {
        #[derive(Deserialize)]
        struct WireAccount {
            role: Option<String>,
        }
        #[derive(Deserialize)]
        struct WireWhoami {
            account: WireAccount,
        }
        let path = match self.suffix {
            "jwt" => ["whoami", "jwt"],
            _ => ["account", "key"],
        };
        let request = Request::get(self.client.url(&path));
        let cap = self
            .client
            .call(request, |response| match response.status {
                StatusCode::OK => Ok(parse::<WireWhoami>(SERVICE, &response)?
                    .account
                    .role
                    .as_deref()
                    .and_then(role_level)),
                StatusCode::FORBIDDEN => Ok(None),
                _ => Err(error_from(&response, "account")),
            })
            .await?;
        if cap.is_some() {
            *self
                .role_cap
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = cap;
        }
        Ok(cap)
    }

    /// Whether key `id` exists, asked with the profile's own credential, so that an unknown id
    /// never goes into Basic auth (the real server crashes on one). The read answers the key
    /// with its creation date; an empty 404 means there is no such key.
    async fn look_up(&self, id: &str) -> Result<Option<ApiKey>> {
        // Part of a verify, so sent once too: a verify is never retried.
        let request = Request::get(self.client.url(&["apikeys", id, self.suffix]))
            .once("Keyward did not retry the check; try again once the server answers");
        self.client
            .call(request, |response| match response.status {
                StatusCode::OK => parse::<WireOne>(SERVICE, &response)?
                    .apikey
                    .into_api_key()
                    .map(Some),
                StatusCode::NOT_FOUND => Ok(None),
                StatusCode::FORBIDDEN => Err(Error::PermissionDenied(format!(
                    "this profile may not read key {id} (its level is below 1, or the key belongs \
                     to another account), so Keyward cannot check that the key exists; it does not \
                     send an unchecked key id, because FreeSewing's server crashes on an unknown one"
                ))),
                _ => Err(error_from(&response, &format!("API key {id}"))),
            })
            .await
    }

    /// The id of the newest key named `name`, for a create answer that carried a secret but no
    /// id (the secret is useless without it).
    async fn id_of_newest(&self, name: &str) -> Option<String> {
        self.snapshots.created();
        let keys = self.snapshot().await.ok()?;
        keys.iter()
            .filter(|key| key.name == name)
            .max_by_key(|key| key.created_at)
            .map(|key| key.id.clone())
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

/// The level rule, worded for people. `cap` is the account's role cap, when known.
fn check_level(level: Option<u8>, cap: Option<u8>) -> Result<u8> {
    let (low, top) = LEVELS;
    let high = cap.map_or(top, |cap| cap.clamp(low, top));
    match level {
        Some(level) if (low..=high).contains(&level) => Ok(level),
        Some(0) => Err(Error::invalid(
            "level",
            format!("FreeSewing cannot create level-0 keys; choose a level from {low} to {high}"),
        )),
        Some(level) if level <= top => Err(Error::invalid(
            "level",
            format!(
                "{level} is above what your FreeSewing account's role allows (up to level \
                 {high}); choose a level from {low} to {high}"
            ),
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

fn error_code(response: &Response) -> String {
    serde_json::from_slice::<WireError>(&response.body)
        .ok()
        .and_then(|body| body.error)
        .unwrap_or_default()
}

/// Maps an error answer. `target` names what a 404 did not find.
fn error_from(response: &Response, target: &str) -> Error {
    error_with_cap(response, target, None)
}

/// [`error_from`], with the account's role cap for a `keyLevelExceedsRoleLevel`.
fn error_with_cap(response: &Response, target: &str, cap: Option<u8>) -> Error {
    let code = error_code(response);
    match response.status.as_u16() {
        400 => invalid_input(&code, cap),
        // The auth layer's 401 is the plain text `Unauthorized`.
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
fn invalid_input(code: &str, cap: Option<u8>) -> Error {
    let (low, high) = LEVELS;
    match code {
        "nameMissing" => Error::invalid("name", "FreeSewing needs a name"),
        "levelMissing" | "levelNotNumeric" | "invalidLevel" => Error::invalid(
            "level",
            format!("FreeSewing refused the level ({code}); choose one from {low} to {high}"),
        ),
        "keyLevelExceedsRoleLevel" => Error::invalid(
            "level",
            match cap {
                Some(cap) => format!(
                    "is higher than your FreeSewing account's role allows (up to level {cap}); \
                     choose a level from {low} to {cap}"
                ),
                None => format!(
                    "is higher than your FreeSewing account's role allows (an ordinary user \
                     account allows up to level {USER_ROLE_LEVEL}); choose a lower level"
                ),
            },
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

fn owner_of(user_id: &Value) -> Option<Subject> {
    match user_id {
        Value::Number(n) => Some(Subject::User(n.to_string())),
        Value::String(s) if !s.is_empty() => Some(Subject::User(s.clone())),
        _ => None,
    }
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
        Ok(ApiKey {
            id: self.key,
            name: self.name,
            owner: owner_of(&self.user_id),
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    name: &'a str,
    level: u8,
    expires_in: i64,
}

/// A 200 with one key, as read answers.
fn one_key(response: &Response, id: &str) -> Result<ApiKey> {
    if response.status != StatusCode::OK {
        return Err(error_from(response, &format!("API key {id}")));
    }
    parse::<WireOne>(SERVICE, response)?.apikey.into_api_key()
}

/// What a successful create answer held. The server answers `201 {"result":"created", apikey}`;
/// the seed document shows `200 {"result":"success", apikey}` without `createdAt`. Either way
/// (and in any other shape) an answer that carries a secret has made a key, so everything but the
/// secret is read leniently and filled from the request where it is missing.
struct CreateAnswer {
    secret: SecretString,
    key: ApiKey,
}

/// A create answer without a secret in it, with the key's id when the answer had one.
#[derive(Debug)]
struct Unreadable {
    id: Option<String>,
}

fn read_create_answer(
    response: &mut Response,
    sent: &CreateBody<'_>,
) -> std::result::Result<CreateAnswer, Unreadable> {
    let mut body = create_answer::parse(&response.body).or_else(|| {
        // Not JSON even leniently (cut short, say): the key and secret if they are whole in it.
        let apikey: serde_json::Map<String, Value> = ["key", "secret"]
            .into_iter()
            .filter_map(|name| {
                create_answer::string_field(&response.body, name)
                    .map(|text| (name.to_owned(), Value::String(text)))
            })
            .collect();
        (!apikey.is_empty()).then(|| serde_json::json!({ "apikey": apikey }))
    });
    response.wipe();
    let apikey = body
        .as_mut()
        .and_then(|body| body.get_mut("apikey"))
        .and_then(Value::as_object_mut);
    let Some(apikey) = apikey else {
        return Err(Unreadable { id: None });
    };
    let id = ["key", "id"]
        .iter()
        .find_map(|field| apikey.get(*field).and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    // Moved, not copied: the only copy of the secret becomes the SecretString. An empty one is
    // no secret at all: the key may exist, and the user is told so.
    let Some(Value::String(secret)) = apikey.remove("secret") else {
        return Err(Unreadable { id });
    };
    if secret.is_empty() {
        return Err(Unreadable { id });
    }
    let now = Utc::now();
    let date = |field: &str| {
        apikey
            .get(field)
            .and_then(Value::as_str)
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc))
    };
    let created_at = date("createdAt").unwrap_or(now);
    let expires_at = date("expiresAt").unwrap_or(now + Duration::seconds(sent.expires_in));
    let key = ApiKey {
        id: id.unwrap_or_default(),
        name: apikey
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(sent.name)
            .to_owned(),
        owner: apikey.get("userId").and_then(owner_of),
        created_at,
        expires_at: Some(expires_at),
        status: KeyStatus::derive(false, Some(expires_at), now),
        revoked_at: None,
        revocation_reason: None,
        last_used_at: None,
        level: Some(
            apikey
                .get("level")
                .and_then(Value::as_u64)
                .and_then(|level| u8::try_from(level).ok())
                .unwrap_or(sent.level),
        ),
        scopes: Vec::new(),
        description: None,
        metadata: None,
        stub: None,
    };
    Ok(CreateAnswer {
        secret: SecretString::from(secret),
        key,
    })
}

/// A create answer with no secret in it, after the server may have made a key: say so, with what
/// to do.
fn key_may_exist(status: StatusCode, id: Option<&str>, name: &str) -> Error {
    let which = match id {
        Some(id) => format!("key {}", create_answer::id_for_message(id)),
        None => format!("a key named \"{name}\""),
    };
    Error::Backend(format!(
        "FreeSewing answered the create (HTTP {}) in a way Keyward cannot read, and no secret \
         came with it; {which} may exist on the server without its secret: list your keys and \
         delete it (keyward keys revoke ID) before creating another",
        status.as_u16()
    ))
}

#[async_trait]
impl KeyBackend for FreeSewingBackend {
    fn kind(&self) -> &'static str {
        "freesewing"
    }

    fn capabilities(&self) -> Capabilities {
        let (low, top) = LEVELS;
        let high = self.known_cap().map_or(top, |cap| cap.clamp(low, top));
        Capabilities {
            server_search: false,
            server_paging: false,
            // Every order is exact: the whole listing is sorted here.
            sorts: SortField::ALL.to_vec(),
            user_keys: true,
            org_keys: false,
            owner_is_label: false,
            levels: Some((low, high)),
            scopes: false,
            descriptions: false,
            revoke_reason: false,
            revoke_kind: RevokeKind::Delete,
            last_used: true,
            verify: true,
            verify_counts_as_use: true, // every authenticated call sets lastSeen (docs/backends/freesewing.md)
            expiry_presets: ExpiryPreset::ALL
                .into_iter()
                .filter(|preset| *preset != ExpiryPreset::Never)
                .collect(),
            custom_expiry: true,
            never_expires: false,
            names_kept_locally: false,
            text_limits: TEXT_LIMITS,
            updates: keyward_core::UpdateFields::NONE,
        }
    }

    /// Learns the role's level cap (one request), so that `levels` offers only what the server
    /// will accept.
    async fn refresh_capabilities(&self) -> Result<Capabilities> {
        self.learn_role_cap().await?;
        Ok(self.capabilities())
    }

    async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        let new = new.validated_for(&TEXT_LIMITS, &self.client.credentials())?;
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
        let mut cap = self.known_cap();
        // Above the user role's cap, learn the account's cap first (once) and refuse here rather
        // than have the server refuse; if the server will not say, it judges.
        if cap.is_none() && new.level.is_some_and(|level| level > USER_ROLE_LEVEL) {
            check_level(new.level, None)?;
            cap = self.learn_role_cap().await.ok().flatten();
        }
        let body = CreateBody {
            name: &new.name,
            level: check_level(new.level, cap)?,
            expires_in: expires_in(new.expiration)?,
        };
        let request = Request::create(self.client.url(&["apikeys", self.suffix]), &body);
        let (status, answer) = self
            .client
            .call(request, |mut response| {
                if !matches!(response.status.as_u16(), 200 | 201) {
                    return Err(error_with_cap(&response, "account", cap));
                }
                Ok((response.status, read_create_answer(&mut response, &body)))
            })
            .await?;
        self.snapshots.created();
        match answer {
            Ok(CreateAnswer { secret, mut key }) => {
                if key.id.is_empty() {
                    key.id = self.id_of_newest(&key.name).await.unwrap_or_default();
                }
                Ok(CreatedKey { key, secret })
            }
            Err(Unreadable { id }) => Err(key_may_exist(status, id.as_deref(), &new.name)),
        }
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

    fn forget_cached(&self) {
        self.snapshots.created();
    }

    /// The owners in the account's listing (the account itself, where it has keys).
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
    async fn revoke(&self, id: &str, reason: Option<&str>) -> Result<ApiKey> {
        let id = key_id(id)?;
        // Not sent, but checked like every reason: a front end may keep it.
        TEXT_LIMITS.checked_reason(reason, &self.client.credentials())?;
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

    /// Checks `KEY_ID:SECRET` in two steps, each sent once (a verify is never retried). First the
    /// id is looked up with the profile's own credential: an unknown id is `Unknown` at once, and
    /// is never sent in Basic auth, where it would crash the real server. Then `GET /whoami/key`
    /// as the key checks the secret (200: valid, or expired by its date, as the server lets
    /// expired keys in; 401: wrong secret).
    async fn verify(&self, secret: &SecretString) -> Result<Verification> {
        let (id, key_secret) = split_secret(secret.expose_secret())?;
        let Ok(id) = key_id(id) else {
            return Ok(Verification::Unknown);
        };
        let Some(key) = self.look_up(id).await? else {
            return Ok(Verification::Unknown);
        };
        let request = Request::get(self.client.url(&["whoami", "key"]))
            .headers(authorization_header(&basic_auth(id, key_secret))?)
            .redact(key_secret)
            .once(VERIFY_CLOSED);
        let known = self
            .client
            .call(request, |response| match response.status {
                StatusCode::OK => Ok(true),
                StatusCode::UNAUTHORIZED => Ok(false),
                _ => Err(error_from(&response, "API key")),
            })
            .await?;
        if !known {
            return Ok(Verification::Unknown);
        }
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
    fn levels_are_one_to_nine_capped_by_the_role_and_required() {
        assert_eq!(check_level(Some(1), None).unwrap(), 1);
        assert_eq!(check_level(Some(9), None).unwrap(), 9);
        assert_eq!(check_level(Some(9), Some(9)).unwrap(), 9);
        for bad in [None, Some(0), Some(10)] {
            let error = check_level(bad, None).unwrap_err();
            assert_eq!(error.field(), Some("level"));
            assert!(error.to_string().contains("1 to 9"), "{error}");
        }
        let capped = check_level(Some(5), Some(4)).unwrap_err();
        assert_eq!(capped.field(), Some("level"));
        assert!(capped.to_string().contains("up to level 4"), "{capped}");
        assert_eq!(role_level("user"), Some(4));
        assert_eq!(role_level("support"), Some(8));
        assert_eq!(role_level("admin"), Some(9));
        assert_eq!(role_level("emperor"), None);
        let refused = invalid_input("keyLevelExceedsRoleLevel", Some(8));
        assert!(refused.to_string().contains("up to level 8"), "{refused}");
    }

    fn sent() -> CreateBody<'static> {
        CreateBody {
            name: "CI",
            level: 3,
            expires_in: 3600,
        }
    }

    #[test]
    fn both_create_answer_shapes_yield_the_secret() {
        let created = r#"{"result":"created","apikey":{"key":"k-1","secret":"s3cr3t-one",
            "level":3,"createdAt":"2026-01-10T12:00:00.000Z","expiresAt":"2026-02-09T12:00:00.000Z",
            "name":"CI","userId":61}}"#;
        let Ok(answer) = read_create_answer(&mut response(201, created), &sent()) else {
            panic!("not read")
        };
        assert_eq!(answer.secret.expose_secret(), "s3cr3t-one");
        assert_eq!(answer.key.id, "k-1");
        assert_eq!(
            answer.key.created_at.to_rfc3339(),
            "2026-01-10T12:00:00+00:00"
        );
        assert_eq!(answer.key.owner, Some(Subject::User("61".into())));

        // The seed document's shape: "success" and no createdAt. Created is now.
        let seed = r#"{"result":"success","apikey":{"key":"k-2","secret":"s3cr3t-two",
            "level":3,"expiresAt":"2099-02-09T12:00:00.000Z","name":"CI","userId":61}}"#;
        let before = Utc::now();
        let Ok(answer) = read_create_answer(&mut response(200, seed), &sent()) else {
            panic!("not read")
        };
        assert_eq!(answer.secret.expose_secret(), "s3cr3t-two");
        assert!(answer.key.created_at >= before);
        assert_eq!(answer.key.status, KeyStatus::Active);

        // Only the secret and the id: everything else comes from what was sent.
        let bare =
            r#"{"apikey":{"key":"k-3","secret":"s3cr3t-3","expiresAt":"not a date","level":"x"}}"#;
        let Ok(answer) = read_create_answer(&mut response(201, bare), &sent()) else {
            panic!("not read")
        };
        assert_eq!(
            (answer.key.name.as_str(), answer.key.level),
            ("CI", Some(3))
        );
        assert!(answer.key.expires_at.unwrap() > Utc::now());

        // A number beyond f64 anywhere, bytes after the object, a body cut short: the secret and
        // the id are still read.
        for body in [
            r#"{"result":"created","apikey":{"key":"k-4","secret":"s3cr3t-4","level":1e400}}"#,
            r#"{"result":"created","apikey":{"key":"k-4","secret":"s3cr3t-4"},"n":-1e999}.."#,
            r#"{"result":"created","apikey":{"key":"k-4","secret":"s3cr3t-4","name":"C"#,
        ] {
            let Ok(answer) = read_create_answer(&mut response(201, body), &sent()) else {
                panic!("{body}")
            };
            assert_eq!(answer.secret.expose_secret(), "s3cr3t-4", "{body}");
            assert_eq!(
                (answer.key.id.as_str(), answer.key.level),
                ("k-4", Some(3)),
                "{body}"
            );
        }
    }

    #[test]
    fn create_answers_without_a_secret_say_a_key_may_exist() {
        for (body, id) in [
            ("<html>oops</html>", None),
            (r#"{"result":"created"}"#, None),
            (
                r#"{"result":"created","apikey":{"key":"k-9"}}"#,
                Some("k-9"),
            ),
        ] {
            let Err(Unreadable { id: read }) =
                read_create_answer(&mut response(201, body), &sent())
            else {
                panic!("{body}")
            };
            assert_eq!(read.as_deref(), id);
            let error = key_may_exist(StatusCode::CREATED, read.as_deref(), "CI");
            let text = error.to_string();
            assert!(
                text.contains("may exist") && text.contains("delete"),
                "{text}"
            );
            if let Some(id) = id {
                assert!(text.contains(id), "{text}");
            }
        }
        // The id is the server's text: a terminal escape in it is not passed on.
        let escape = key_may_exist(StatusCode::CREATED, Some("\u{1b}[2J"), "CI").to_string();
        assert!(
            !escape.chars().any(char::is_control) && escape.contains("?[2J"),
            "{escape}"
        );
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
