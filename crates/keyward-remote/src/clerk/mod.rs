//! Clerk API keys, over either of Clerk's two APIs:
//!
//! - the **Backend API** (BAPI, [`ClerkBackend`]) with the instance secret key: any owner,
//!   scopes, verify, get one key and read a secret again;
//! - the **Frontend API** (FAPI, [`ClerkFrontendBackend`]) as a signed-in end user: the user's own
//!   keys and those of their organizations, no scopes, no verify, no get route, no `/secret`.
//!
//! Both speak the same `APIKey` object, list answer and error body ([`wire`]) and follow the same
//! rules for names, owners, listings and create answers (here). Where the two APIs differ, [`Api`]
//! says how, naming the vendor source. The contracts are in docs/backends/clerk.md and
//! docs/backends/clerk-frontend.md.

mod backend_api;
mod frontend_api;
mod wire;

pub use backend_api::{ClerkBackend, ClerkConfig, ClerkPath};
pub use frontend_api::{ClerkFrontendBackend, ClerkFrontendConfig};

use crate::listing::{fetch_everything, fetch_window, is_server_order, Chunk};
use chrono::{DateTime, Utc};
use keyward_core::{
    ApiKey, Capabilities, Error, ExpiryPreset, KeyUpdate, ListQuery, NewKey, Page, Result,
    RevokeKind, SortField, StatusFilter, Subject, TextLimits, UpdateFields,
};
use secrecy::SecretString;
use std::future::Future;

const SERVICE: &str = "Clerk";
/// Clerk's largest `limit` for `GET /api_keys` on both APIs (clerk/openapi-specs
/// `bapi/2026-05-12.yml` and `fapi/2026-05-12.yml`: `maximum: 100`; the SDK's generic pagination
/// docstring says "less than 501", which this route does not promise).
const MAX_PAGE: u32 = 100;
/// Clerk refuses shorter names (both specs, `minLength: 3`).
const NAME_MIN_CHARS: usize = 3;
/// What Clerk keeps of free text (docs/backends/clerk.md, Limits): a description of at most 255
/// characters (`createApiKey`, `maxLength: 255`, in both specs); no maximum is stated for a name
/// or a `revocation_reason`, so Keyward's own caps apply.
const TEXT_LIMITS: TextLimits = TextLimits {
    name: TextLimits::GENERIC.name,
    description: 255,
    reason: TextLimits::GENERIC.reason,
};

/// Which of Clerk's APIs a rule is applied for: where the two genuinely differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Backend,
    Frontend,
}

impl Api {
    /// The owner kinds a subject may name. BAPI: `^(user|org|mch|scim)_\w{27}$` (bapi spec
    /// `createApiKey`); FAPI: `^(user|org)_\w{27}$` (fapi spec), a user acts for people only.
    fn subject_prefixes(self) -> &'static [&'static str] {
        match self {
            Api::Backend => &["user_", "org_", "mch_", "scim_"],
            Api::Frontend => &["user_", "org_"],
        }
    }

    /// What a 401 means: a wrong instance key (BAPI), or a session Clerk refused even after the
    /// one refresh [`frontend_api`] tries (FAPI).
    fn credential_refused(self) -> Error {
        match self {
            Api::Backend => Error::Unauthorized(
                "Clerk rejected the secret key: check the profile's credential (sk_live_… or sk_test_…)".into(),
            ),
            Api::Frontend => Error::Unauthorized(format!(
                "Clerk refused this session's token even after a refresh: {}",
                frontend_api::SIGN_IN_AGAIN
            )),
        }
    }

    /// A 403 without Clerk's own words: who may not act on `target`.
    fn may_not(self, target: &str) -> String {
        match self {
            Api::Backend => "this secret key may not do that".into(),
            Api::Frontend => format!("this user may not manage the keys of {target}"),
        }
    }

    /// The FAPI's create takes no scopes (fapi spec `createApiKey`, `additionalProperties:
    /// false`), so a user-mode profile shows none.
    fn shows_scopes(self) -> bool {
        self == Api::Backend
    }

    /// What `PATCH /api_keys/{id}` can change. BAPI (bapi spec `updateApiKey`): `description`,
    /// `scopes`, `seconds_until_expiration`, plus `subject` and `claims`, which Keyward does not
    /// edit; no `name`, so a key cannot be renamed. FAPI (fapi spec `updateApiKey`):
    /// `description` only (`additionalProperties: false`).
    fn updates(self) -> UpdateFields {
        match self {
            Api::Backend => UpdateFields {
                name: false,
                description: true,
                expiry: true,
                scopes: true,
            },
            Api::Frontend => UpdateFields {
                description: true,
                ..UpdateFields::NONE
            },
        }
    }

    /// Why a key whose secret was lost must be revoked: the BAPI could read it again
    /// (`GET /api_keys/{id}/secret`, bapi spec `getApiKeySecret`) but that failed; the FAPI has
    /// no such route (fapi spec).
    fn why_revoke(self) -> &'static str {
        match self {
            Api::Backend => "",
            Api::Frontend => "the Frontend API never shows a secret again, so ",
        }
    }
}

/// What an adapter over `api` can do. Both: server search and paging, user and org keys,
/// descriptions, revoke with a reason (the key is kept, `revoked`), last used, any lifetime or
/// never. Only the BAPI takes scopes on create and verifies a secret; the FAPI's key routes have
/// neither (fapi spec `createApiKey`, no verify route).
fn capabilities(api: Api) -> Capabilities {
    Capabilities {
        server_search: true,
        server_paging: true,
        // Clerk lists newest first; every other order sorts a snapshot of the owner's keys.
        sorts: SortField::ALL.to_vec(),
        user_keys: true,
        org_keys: true,
        owner_is_label: false,
        levels: None,
        scopes: api == Api::Backend,
        descriptions: true,
        revoke_reason: true,
        revoke_kind: RevokeKind::Revoke,
        last_used: true,
        verify: api == Api::Backend,
        verify_counts_as_use: api == Api::Backend, // verify records last_used_at (docs/backends/clerk.md)
        expiry_presets: ExpiryPreset::ALL.to_vec(),
        custom_expiry: true,
        never_expires: true,
        names_kept_locally: false,
        text_limits: TEXT_LIMITS,
        updates: api.updates(),
    }
}

/// Checks an update before anything is sent: fields `api` cannot change are refused naming the
/// field ([`KeyUpdate::check_against`]), then values by the rules of a new key, with Clerk's
/// text limits and the profile's credential as a known secret.
fn checked_update(
    change: &KeyUpdate,
    api: Api,
    known_secrets: &[&SecretString],
) -> Result<KeyUpdate> {
    change.check_against(&api.updates())?;
    change.clone().validated_for(&TEXT_LIMITS, known_secrets)
}

/// The body of `PATCH /api_keys/{id}` on either API (only the fields [`Api::updates`] allows
/// reach here): `description` (`null` clears it), `scopes` (replacing them), and
/// `seconds_until_expiration` counted from `now` (`null`: never expires, as on create [inferred:
/// the spec makes it nullable and says no more]).
fn update_body(change: &KeyUpdate, now: DateTime<Utc>) -> Result<serde_json::Value> {
    let mut body = serde_json::Map::new();
    if change.description.is_some() {
        body.insert("description".into(), change.description_text().into());
    }
    if let Some(scopes) = &change.scopes {
        body.insert("scopes".into(), scopes.clone().into());
    }
    if let Some(expiration) = change.expiration {
        body.insert(
            "seconds_until_expiration".into(),
            expiration.seconds_from(now)?.into(),
        );
    }
    Ok(serde_json::Value::Object(body))
}

/// Clerk ids carry their kind (`user_…`, `org_…`); `user:2abc` is accepted as `user_2abc`.
fn clerk_subject(subject: &Subject, api: Api) -> String {
    let id = subject.id();
    if api
        .subject_prefixes()
        .iter()
        .any(|prefix| id.starts_with(prefix))
    {
        id.to_owned()
    } else {
        format!("{}_{id}", subject.kind())
    }
}

/// Machine (`mch_`) and SCIM subjects have no [`Subject`] kind, so they show no owner.
fn owner_of(subject: &str) -> Option<Subject> {
    if subject.starts_with("org_") {
        Some(Subject::Org(subject.to_owned()))
    } else if subject.starts_with("user_") {
        Some(Subject::User(subject.to_owned()))
    } else {
        None
    }
}

/// Refuses, before sending, what Clerk would refuse in a new key: a short name, a level, and
/// scopes on the FAPI.
fn check_new_key(new: &NewKey, api: Api) -> Result<()> {
    if new.name.chars().count() < NAME_MIN_CHARS {
        return Err(Error::invalid(
            "name",
            format!("Clerk needs a name of at least {NAME_MIN_CHARS} characters"),
        ));
    }
    if new.level.is_some() {
        return Err(Error::invalid(
            "level",
            match api {
                Api::Backend => "Clerk keys have no level; use scopes instead",
                Api::Frontend => "Clerk keys have no level",
            },
        ));
    }
    if api == Api::Frontend && !new.scopes.is_empty() {
        return Err(Error::invalid(
            "scopes",
            "Clerk's Frontend API takes no scopes; a backend (instance key) profile can set them",
        ));
    }
    Ok(())
}

/// What Clerk can answer itself: valid or all keys, newest first, searched by name.
fn server_can_answer(query: &ListQuery) -> bool {
    matches!(query.status, StatusFilter::All | StatusFilter::Active)
        && is_server_order(query)
        && !query.has_usage_or_expiry_filter()
}

/// One page of `GET /api_keys`: the same query on both APIs, which each send their own way.
struct Window<'a> {
    subject: &'a str,
    /// With revoked and expired keys.
    include_invalid: bool,
    /// Names containing this.
    search: Option<&'a str>,
    offset: u64,
    limit: u32,
}

impl Window<'_> {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("subject", self.subject.to_owned()),
            ("include_invalid", self.include_invalid.to_string()),
            ("limit", self.limit.to_string()),
            ("offset", self.offset.to_string()),
        ];
        if let Some(search) = self.search {
            params.push(("query", search.to_owned()));
        }
        params
    }
}

/// Every key of `subject`, revoked and expired ones included, `max_page` at a time.
async fn read_everything<'a, F, Fut>(
    subject: &'a str,
    max_page: u32,
    fetch_page: F,
) -> Result<Vec<ApiKey>>
where
    F: Fn(Window<'a>) -> Fut,
    Fut: Future<Output = Result<Chunk<ApiKey>>>,
{
    fetch_everything(max_page, |page, size| {
        fetch_page(Window {
            subject,
            include_invalid: true,
            search: None,
            offset: page * u64::from(size),
            limit: size,
        })
    })
    .await
}

/// The page a query asks for, read from Clerk in pages of at most `max_page` (for the queries
/// Clerk can answer itself, [`server_can_answer`]).
async fn read_page<'a, F, Fut>(
    query: &'a ListQuery,
    subject: &'a str,
    max_page: u32,
    fetch_page: F,
) -> Result<Page<ApiKey>>
where
    F: Fn(Window<'a>) -> Fut,
    Fut: Future<Output = Result<Chunk<ApiKey>>>,
{
    let include_invalid = query.status != StatusFilter::Active;
    let chunk = fetch_window(
        query.offset(),
        query.limit.into(),
        max_page,
        |page, size| {
            fetch_page(Window {
                subject,
                include_invalid,
                search: query.search.as_deref(),
                offset: page * u64::from(size),
                limit: size,
            })
        },
    )
    .await?;
    Ok(Page {
        items: chunk.items,
        page: query.page,
        limit: query.limit,
        total: Some(chunk.total),
        has_more: query.offset() + u64::from(query.limit) < chunk.total,
    })
}
