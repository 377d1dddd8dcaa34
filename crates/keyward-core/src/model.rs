//! The key model shared by every backend and front end.

use crate::error::{Error, Result};
use crate::expiration::{printable, Expiration};
use crate::free_text::{self, TextField, TextLimits};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Who owns a key. Written `user:ID` or `org:ID` in the CLI and the config.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "id",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Subject {
    User(String),
    Org(String),
}

impl Subject {
    pub const FIELD: &'static str = "owner";

    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                Self::FIELD,
                format!(
                    "'{}' is not an owner: write user:ID or org:ID",
                    printable(text)
                ),
            )
        };
        let (kind, id) = text.trim().split_once(':').ok_or_else(bad)?;
        let valid_id = !id.is_empty()
            && id.len() <= 200
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c));
        if !valid_id {
            return Err(bad());
        }
        match kind {
            "user" => Ok(Subject::User(id.to_owned())),
            "org" => Ok(Subject::Org(id.to_owned())),
            _ => Err(bad()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Subject::User(_) => "user",
            Subject::Org(_) => "org",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Subject::User(id) | Subject::Org(id) => id,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    /// Revocation wins over expiry: a revoked key stays "revoked" after its expiry date.
    pub fn derive(
        revoked: bool,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> KeyStatus {
        if revoked {
            KeyStatus::Revoked
        } else if expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

/// A key as every backend describes it. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub owner: Option<Subject>,
    pub created_at: DateTime<Utc>,
    /// `None` = never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub status: KeyStatus,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// FreeSewing's privilege level (0–8), where the backend has levels.
    pub level: Option<u8>,
    pub scopes: Vec<String>,
    pub description: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// A non-secret hint of the secret, e.g. `kw_…9fQz`, where the backend can tell.
    pub stub: Option<String>,
}

/// What the user asks for when creating a key.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    pub name: String,
    pub expiration: Expiration,
    pub owner: Option<Subject>,
    pub level: Option<u8>,
    pub scopes: Vec<String>,
    pub description: Option<String>,
}

impl NewKey {
    pub const NAME_MAX_CHARS: usize = 100;
    pub const DESCRIPTION_MAX_CHARS: usize = 255;

    pub fn named(name: impl Into<String>, expiration: Expiration) -> Self {
        NewKey {
            name: name.into(),
            expiration,
            owner: None,
            level: None,
            scopes: Vec::new(),
            description: None,
        }
    }

    /// Checks what every backend requires; backends add their own rules on top.
    /// The name is trimmed here so that what is stored is what is shown.
    pub fn validated(self) -> Result<Self> {
        self.validated_for(&TextLimits::GENERIC, &[])
    }

    /// [`NewKey::validated`] with a backend's own limits on names and descriptions (its
    /// [`crate::Capabilities::text_limits`]), and nothing in them that looks like a secret or holds
    /// one of `known_secrets` (the profile's credential): see [`crate::free_text::check`]. Each
    /// backend calls it before it sends or writes anything.
    pub fn validated_for(
        mut self,
        limits: &TextLimits,
        known_secrets: &[&SecretString],
    ) -> Result<Self> {
        self.name = validate_name(&self.name)?;
        limits.check(TextField::Name, &self.name, known_secrets)?;
        if let Some(description) = &self.description {
            // Within every backend's cap first, then this backend's.
            free_text::check(
                TextField::Description,
                description,
                Self::DESCRIPTION_MAX_CHARS,
                &[],
            )?;
            limits.check(TextField::Description, description, known_secrets)?;
        }
        check_scopes(&self.scopes)?;
        Ok(self)
    }
}

/// Each scope is one non-empty word: no whitespace or control characters. Shared by new keys and
/// updates ([`crate::KeyUpdate`]).
pub(crate) fn check_scopes(scopes: &[String]) -> Result<()> {
    for scope in scopes {
        if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid(
                "scopes",
                format!("'{}' is not a valid scope", printable(scope)),
            ));
        }
    }
    Ok(())
}

/// A key id's length, at most (every backend's ids are far shorter).
pub const KEY_ID_MAX_CHARS: usize = 200;

/// A key id as typed or sent, trimmed, if it is 1 to [`KEY_ID_MAX_CHARS`] printable characters;
/// else an error naming `field`. The one id check of both front ends, before any call.
pub fn check_key_id<'a>(id: &'a str, field: &str) -> Result<&'a str> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > KEY_ID_MAX_CHARS || id.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("an id must be 1 to {KEY_ID_MAX_CHARS} printable characters"),
        ));
    }
    Ok(id)
}

/// Trims and checks a key name: not empty, at most 100 characters, no control characters, and
/// nothing that looks like a secret ([`crate::free_text::check`]).
pub fn validate_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    free_text::check(TextField::Name, trimmed, NewKey::NAME_MAX_CHARS, &[])?;
    Ok(trimmed.to_owned())
}

/// The only value that carries a secret out of a backend. The secret is redacted in `Debug`, is
/// not `Serialize`, and is wiped from memory when dropped.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// The outcome of checking a secret. A wrong secret is an answer, not an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", content = "key", rename_all = "snake_case")]
pub enum Verification {
    Valid(ApiKey),
    Revoked(ApiKey),
    Expired(ApiKey),
    Unknown,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verification::Valid(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    All,
    Active,
    Expired,
    Revoked,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(StatusFilter::All),
            "active" => Ok(StatusFilter::Active),
            "expired" => Ok(StatusFilter::Expired),
            "revoked" => Ok(StatusFilter::Revoked),
            _ => Err(Error::invalid(
                "status",
                format!(
                    "'{}' is not a status: use active, expired, revoked or all",
                    printable(text)
                ),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    #[default]
    Created,
    Expires,
    Name,
    LastUsed,
    /// By owner (`org:…` before `user:…`, then by id); keys without an owner last.
    Owner,
    /// Active, expired, revoked.
    Status,
}

impl SortField {
    pub const ALL: [SortField; 6] = [
        SortField::Created,
        SortField::Expires,
        SortField::Name,
        SortField::LastUsed,
        SortField::Owner,
        SortField::Status,
    ];

    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "created" => Ok(SortField::Created),
            "expires" => Ok(SortField::Expires),
            "name" => Ok(SortField::Name),
            "last-used" => Ok(SortField::LastUsed),
            "owner" => Ok(SortField::Owner),
            "status" => Ok(SortField::Status),
            _ => Err(Error::invalid(
                "sort",
                format!(
                    "'{}' is not a sort order: use created, expires, name, last-used, owner or status",
                    printable(text)
                ),
            )),
        }
    }
}

/// One page of a listing. `page` is 0-based; front ends show it 1-based. An unknown field is
/// refused, not ignored: a misspelled filter must not widen a revoke by query to every key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListQuery {
    pub search: Option<String>,
    pub status: StatusFilter,
    pub owner: Option<Subject>,
    pub sort: SortField,
    pub descending: bool,
    pub page: u32,
    pub limit: u32,
    /// Only active keys that expire within this many days from now (never-expiring keys never
    /// match).
    pub expires_within_days: Option<u32>,
    /// Only keys that were never used.
    pub never_used: bool,
    /// Only keys not used in this many days (never-used keys included).
    pub unused_for_days: Option<u32>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            search: None,
            status: StatusFilter::All,
            owner: None,
            sort: SortField::Created,
            descending: true,
            page: 0,
            limit: 50,
            expires_within_days: None,
            never_used: false,
            unused_for_days: None,
        }
    }
}

impl ListQuery {
    pub const MAX_LIMIT: u32 = 1000;
    pub const SEARCH_MAX_CHARS: usize = 200;
    /// The most keys one walk over every page of a listing reads ([`crate::list_all`], a remote
    /// adapter's snapshot, an owner list). A server that claims more, or never runs out of pages,
    /// ends the walk with an error naming this cap, before more is held in memory.
    pub const MAX_WALK_KEYS: usize = 100_000;
    /// The longest one walk over every page of a listing may take, however the server paces it.
    pub const MAX_WALK_TIME: std::time::Duration = std::time::Duration::from_secs(120);

    pub fn validated(mut self) -> Result<Self> {
        if self.limit == 0 || self.limit > Self::MAX_LIMIT {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        if self.page > 10_000_000 {
            return Err(Error::invalid("page", "is too large"));
        }
        self.search = self
            .search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(search) = &self.search {
            if search.chars().count() > Self::SEARCH_MAX_CHARS {
                return Err(Error::invalid(
                    "search",
                    format!("is longer than {} characters", Self::SEARCH_MAX_CHARS),
                ));
            }
            if search.chars().any(char::is_control) {
                return Err(Error::invalid("search", "contains control characters"));
            }
        }
        for (field, days) in [
            ("expires_within_days", self.expires_within_days),
            ("unused_for_days", self.unused_for_days),
        ] {
            if let Some(days) = days {
                Self::check_days(field, days)?;
            }
        }
        Ok(self)
    }

    /// Days in a day-count filter: up to ten years.
    pub const MAX_FILTER_DAYS: u32 = 3650;

    /// A day count for a filter (1 to [`Self::MAX_FILTER_DAYS`]), or an error naming `field`: the
    /// one day-count rule of every front end (filter flags, the expiring scan, the UI's filters).
    pub fn check_days(field: &str, days: u32) -> Result<u32> {
        if (1..=Self::MAX_FILTER_DAYS).contains(&days) {
            Ok(days)
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "must be a number of days from 1 to {}",
                    Self::MAX_FILTER_DAYS
                ),
            ))
        }
    }

    /// [`Self::check_days`] of a day count as typed.
    pub fn parse_days(field: &str, text: &str) -> Result<u32> {
        let days = text.trim().parse::<u32>().unwrap_or(0);
        Self::check_days(field, days)
    }

    pub fn offset(&self) -> u64 {
        self.page as u64 * self.limit as u64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub limit: u32,
    /// Total matching items, where the backend reports it.
    pub total: Option<u64>,
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiration::ExpiryPreset;
    use chrono::TimeZone;

    #[test]
    fn subjects_parse_and_print() {
        assert_eq!(
            Subject::parse("user:u_123").unwrap(),
            Subject::User("u_123".into())
        );
        assert_eq!(
            Subject::parse("org:acme-inc").unwrap().to_string(),
            "org:acme-inc"
        );
        for bad in [
            "",
            "user",
            "user:",
            "team:x",
            "org:has space",
            "user:a\u{7}b",
        ] {
            assert_eq!(
                Subject::parse(bad).unwrap_err().field(),
                Some("owner"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_are_checked_and_trimmed() {
        let ok = NewKey::named("  laptop  ", Expiration::Preset(ExpiryPreset::Never))
            .validated()
            .unwrap();
        assert_eq!(ok.name, "laptop");
        for (bad, needle) in [
            ("", "empty"),
            ("   ", "empty"),
            (&"x".repeat(101)[..], "limit is 100"),
            ("tab\there", "control"),
            ("esc\u{1b}[2J", "control"),
        ] {
            let err = NewKey::named(bad, Expiration::default())
                .validated()
                .unwrap_err();
            assert_eq!(err.field(), Some("name"));
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert!(
            NewKey::named("é".repeat(100), Expiration::default())
                .validated()
                .is_ok(),
            "100 characters, not bytes"
        );
    }

    #[test]
    fn status_is_derived() {
        let now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let past = Some(now - chrono::Duration::seconds(1));
        let future = Some(now + chrono::Duration::days(1));
        assert_eq!(KeyStatus::derive(false, None, now), KeyStatus::Active);
        assert_eq!(KeyStatus::derive(false, future, now), KeyStatus::Active);
        assert_eq!(KeyStatus::derive(false, past, now), KeyStatus::Expired);
        assert_eq!(KeyStatus::derive(true, past, now), KeyStatus::Revoked);
    }

    #[test]
    fn list_query_limits() {
        assert!(ListQuery::default().validated().is_ok());
        let err = ListQuery {
            limit: 0,
            ..Default::default()
        }
        .validated()
        .unwrap_err();
        assert_eq!(err.field(), Some("limit"));
        let q = ListQuery {
            search: Some("  ci ".into()),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(q.search.as_deref(), Some("ci"));
        assert_eq!(SortField::parse("last_used").unwrap(), SortField::LastUsed);
        for (days, ok) in [(0, false), (1, true), (3650, true), (3651, false)] {
            let expiring = ListQuery {
                expires_within_days: Some(days),
                ..Default::default()
            };
            let unused = ListQuery {
                unused_for_days: Some(days),
                ..Default::default()
            };
            assert_eq!(expiring.validated().is_ok(), ok, "{days}");
            let err = unused.validated().err();
            assert_eq!(err.is_none(), ok, "{days}");
            if let Some(err) = err {
                assert_eq!(err.field(), Some("unused_for_days"));
            }
        }
        assert_eq!(
            StatusFilter::parse("bogus").unwrap_err().field(),
            Some("status")
        );
    }

    #[test]
    fn created_key_debug_redacts_the_secret() {
        let created = CreatedKey {
            key: ApiKey {
                id: "key_1".into(),
                name: "n".into(),
                owner: None,
                created_at: Utc::now(),
                expires_at: None,
                status: KeyStatus::Active,
                revoked_at: None,
                revocation_reason: None,
                last_used_at: None,
                level: None,
                scopes: vec![],
                description: None,
                metadata: None,
                stub: None,
            },
            secret: SecretString::from("kw_supersecretvalue"),
        };
        let debug = format!("{created:?}");
        assert!(!debug.contains("supersecret"));
        assert!(debug.contains("REDACTED"));
    }
}
