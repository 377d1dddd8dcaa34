//! Changing a key after it was made: its name, description, expiry or scopes.
//!
//! A [`KeyUpdate`] says what to change (a field left `None` stays as it is). It is checked once,
//! here, by the rules a new key meets ([`crate::NewKey::validated_for`]): the same name rule, the
//! backend's text limits, no secrets in free text, the same expiry range and scope shape. Each
//! backend declares, field by field, what it can change ([`UpdateFields`], in
//! [`crate::Capabilities::updates`]); [`KeyUpdate::check_against`] is the one place that refuses
//! a field a backend cannot change, before anything is sent or written.

use crate::error::{Error, Result};
use crate::expiration::{Expiration, ExpiryPreset};
use crate::free_text::{self, TextField, TextLimits};
use crate::model::{check_scopes, validate_name, NewKey};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

/// Which fields of an existing key a backend can change. Front ends offer only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UpdateFields {
    pub name: bool,
    pub description: bool,
    /// Extend, shorten, or make the key never expire (where the backend has never-expiring keys:
    /// see [`crate::Capabilities::never_expires`]).
    pub expiry: bool,
    pub scopes: bool,
}

impl UpdateFields {
    /// A backend that cannot change its keys.
    pub const NONE: UpdateFields = UpdateFields {
        name: false,
        description: false,
        expiry: false,
        scopes: false,
    };

    /// Whether any field can be changed (whether to offer *Edit* at all).
    pub fn any(&self) -> bool {
        self.name || self.description || self.expiry || self.scopes
    }
}

/// What to change on a key. Crosses the app's IPC as JSON, e.g.
/// `{"expires": "90d", "description": ""}`: an unknown field is refused, not ignored, so a typo
/// never turns into an update that silently changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyUpdate {
    /// A new name (trimmed; must not be empty).
    pub name: Option<String>,
    /// A new description; `Some("")` (or blank) clears it.
    pub description: Option<String>,
    /// A new expiry. `Preset(Never)` = the key never expires; a duration or preset counts from
    /// now (so it can extend or shorten); a date is that instant. On the wire it is `expires`
    /// (the field errors name), written as the CLI takes it: `90d`, `OneYear`, `2027-01-31`.
    #[serde(
        rename = "expires",
        alias = "expiration",
        deserialize_with = "expiration_from_text"
    )]
    pub expiration: Option<Expiration>,
    /// The key's new scopes, replacing the old ones (an empty list removes them all).
    pub scopes: Option<Vec<String>>,
}

/// The new expiry an update resolves to, at the moment it is sent or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewExpiry {
    Never,
    At(DateTime<Utc>),
}

impl KeyUpdate {
    /// The field name of the update as a whole, for an update that changes nothing.
    pub const FIELD: &'static str = "update";

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.expiration.is_none()
            && self.scopes.is_none()
    }

    /// The wire names of the fields this update sets, in a fixed order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.name.is_some() {
            fields.push(TextField::Name.as_str());
        }
        if self.description.is_some() {
            fields.push(TextField::Description.as_str());
        }
        if self.expiration.is_some() {
            fields.push(Expiration::FIELD);
        }
        if self.scopes.is_some() {
            fields.push("scopes");
        }
        fields
    }

    /// Refuses, as `invalid_input` naming the field, the first field this update sets that a
    /// backend with `can` cannot change. Every backend's `update` calls it first, so nothing is
    /// sent for an update the backend would drop or misread.
    pub fn check_against(&self, can: &UpdateFields) -> Result<()> {
        let refused = [
            (
                self.name.is_some() && !can.name,
                TextField::Name.as_str(),
                "name",
            ),
            (
                self.description.is_some() && !can.description,
                TextField::Description.as_str(),
                "description",
            ),
            (
                self.expiration.is_some() && !can.expiry,
                Expiration::FIELD,
                "expiry",
            ),
            (self.scopes.is_some() && !can.scopes, "scopes", "scopes"),
        ];
        match refused.into_iter().find(|(refuse, _, _)| *refuse) {
            Some((_, field, what)) => Err(Error::invalid(
                field,
                format!("this backend cannot change a key's {what}"),
            )),
            None => Ok(()),
        }
    }

    /// Checks and normalises the update by the rules a new key meets, with a backend's text
    /// limits and its profile's `known_secrets`: the name trimmed and not empty, free text within
    /// limits and free of secrets, a blank description made `Some("")` (clear), the expiry in the
    /// future and within ten years, scopes well formed. An update that changes nothing is refused
    /// naming `update`. Errors never quote a value.
    pub fn validated_for(
        mut self,
        limits: &TextLimits,
        known_secrets: &[&SecretString],
    ) -> Result<Self> {
        if self.is_empty() {
            return Err(Error::invalid(
                Self::FIELD,
                "changes nothing: give a name, description, expiry or scopes",
            ));
        }
        if let Some(name) = &self.name {
            let name = validate_name(name)?;
            limits.check(TextField::Name, &name, known_secrets)?;
            self.name = Some(name);
        }
        if let Some(description) = &self.description {
            let description = description.trim().to_owned();
            free_text::check(
                TextField::Description,
                &description,
                NewKey::DESCRIPTION_MAX_CHARS,
                &[],
            )?;
            limits.check(TextField::Description, &description, known_secrets)?;
            self.description = Some(description);
        }
        if let Some(expiration) = self.expiration {
            expiration.resolve(Utc::now())?;
        }
        if let Some(scopes) = &self.scopes {
            check_scopes(scopes)?;
        }
        Ok(self)
    }

    /// The new description, or `None` when this update clears it (or does not touch it).
    pub fn description_text(&self) -> Option<&str> {
        self.description.as_deref().filter(|d| !d.is_empty())
    }

    /// Whether this update clears the description.
    pub fn clears_description(&self) -> bool {
        self.description.as_deref() == Some("")
    }

    /// The expiry this update sets, resolved at `now` (`None` when it leaves the expiry alone).
    pub fn new_expiry(&self, now: DateTime<Utc>) -> Result<Option<NewExpiry>> {
        let Some(expiration) = self.expiration else {
            return Ok(None);
        };
        Ok(Some(match expiration.resolve(now)? {
            Some(at) => NewExpiry::At(at),
            None => NewExpiry::Never,
        }))
    }

    /// Whether this update makes the key never expire.
    pub fn sets_never(&self) -> bool {
        self.expiration == Some(Expiration::Preset(ExpiryPreset::Never))
    }

    /// What changed, for the activity log: `name → "CI deploy"; description cleared; expiry →
    /// never; scopes → read, write`. Free text in it has passed [`KeyUpdate::validated_for`] (no
    /// secrets); a description's text is not repeated, only that it changed.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(name) = &self.name {
            parts.push(format!("name → \"{name}\""));
        }
        match self.description.as_deref() {
            Some("") => parts.push("description cleared".to_owned()),
            Some(_) => parts.push("description changed".to_owned()),
            None => {}
        }
        if let Some(expiration) = self.expiration {
            parts.push(match expiration {
                Expiration::Preset(ExpiryPreset::Never) => "expiry → never".to_owned(),
                Expiration::Preset(preset) => format!("expiry → {} from now", preset.as_str()),
                Expiration::After(duration) => {
                    format!("expiry → {} from now", human_duration(duration))
                }
                Expiration::At(at) => format!(
                    "expiry → {}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            });
        }
        if let Some(scopes) = &self.scopes {
            if scopes.is_empty() {
                parts.push("scopes removed".to_owned());
            } else {
                parts.push(format!("scopes → {}", scopes.join(", ")));
            }
        }
        if parts.is_empty() {
            "nothing changed".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

fn human_duration(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= size && seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// `expires` arrives as the text a user typed; it is parsed by [`Expiration::parse`], whose
/// error becomes the deserialisation error as a [`field_refusal`](crate::error::field_refusal),
/// which `keyward_ops::args::refused` reads back as `invalid_input` naming `expires` (serde's
/// own errors would name the whole argument).
fn expiration_from_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Expiration>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|text| Expiration::parse(&text))
        .transpose()
        .map_err(|error| {
            let field = error.field().unwrap_or(Expiration::FIELD);
            serde::de::Error::custom(crate::error::field_refusal(field, &error.message()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use chrono::Duration;

    fn refused(update: KeyUpdate) -> Error {
        let error = update
            .validated_for(&TextLimits::GENERIC, &[])
            .expect_err("refused");
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        error
    }

    #[test]
    fn deserialises_strictly_from_ipc_json() {
        let update: KeyUpdate =
            serde_json::from_str(r#"{"expires":"90d","description":"","scopes":["read"]}"#)
                .unwrap();
        assert_eq!(
            update.expiration,
            Some(Expiration::After(Duration::days(90)))
        );
        assert_eq!(update.description.as_deref(), Some(""));
        assert_eq!(update.scopes, Some(vec!["read".to_owned()]));
        assert_eq!(update.name, None);
        let never: KeyUpdate = serde_json::from_str(r#"{"expiration":"never"}"#).unwrap();
        assert!(never.sets_never());
        let typo = serde_json::from_str::<KeyUpdate>(r#"{"expries":"90d"}"#).unwrap_err();
        assert!(typo.to_string().contains("expries"), "{typo}");
        let bad = serde_json::from_str::<KeyUpdate>(r#"{"expires":"soon"}"#).unwrap_err();
        assert!(bad.to_string().contains("not an expiry"), "{bad}");
    }

    #[test]
    fn an_update_that_changes_nothing_is_refused() {
        assert!(KeyUpdate::default().is_empty());
        assert_eq!(refused(KeyUpdate::default()).field(), Some("update"));
    }

    #[test]
    fn names_are_trimmed_and_checked_like_a_new_keys() {
        let update = KeyUpdate {
            name: Some("  CI deploy ".into()),
            ..KeyUpdate::default()
        };
        let update = update.validated_for(&TextLimits::GENERIC, &[]).unwrap();
        assert_eq!(update.name.as_deref(), Some("CI deploy"));
        for bad in [
            "   ",
            "a\u{1b}b",
            &"x".repeat(101),
            &format!("t {}", "ab".repeat(30)),
        ] {
            let error = refused(KeyUpdate {
                name: Some(bad.to_owned()),
                ..KeyUpdate::default()
            });
            assert_eq!(error.field(), Some("name"), "{bad}");
        }
        let short = TextLimits {
            name: 5,
            ..TextLimits::GENERIC
        };
        let error = KeyUpdate {
            name: Some("too long".into()),
            ..KeyUpdate::default()
        }
        .validated_for(&short, &[])
        .unwrap_err();
        assert_eq!(error.field(), Some("name"));
    }

    #[test]
    fn a_blank_description_clears_it_and_a_secret_in_one_is_refused() {
        let update = KeyUpdate {
            description: Some("  ".into()),
            ..KeyUpdate::default()
        }
        .validated_for(&TextLimits::GENERIC, &[])
        .unwrap();
        assert!(update.clears_description());
        assert_eq!(update.description_text(), None);
        let credential = SecretString::from("My-Session-Cookie.value/42");
        let error = KeyUpdate {
            description: Some("see My-Session-Cookie.value/42".into()),
            ..KeyUpdate::default()
        }
        .validated_for(&TextLimits::GENERIC, &[&credential])
        .unwrap_err();
        assert_eq!(error.field(), Some("description"));
        assert!(!error.to_string().contains("Cookie"));
    }

    #[test]
    fn expiry_must_be_in_the_future_and_within_ten_years() {
        for bad in [
            Expiration::At(Utc::now() - Duration::days(1)),
            Expiration::After(Duration::days(5000)),
        ] {
            let error = refused(KeyUpdate {
                expiration: Some(bad),
                ..KeyUpdate::default()
            });
            assert_eq!(error.field(), Some("expires"));
        }
        let now = Utc::now();
        let update = KeyUpdate {
            expiration: Some(Expiration::After(Duration::days(3))),
            ..KeyUpdate::default()
        };
        assert_eq!(
            update.new_expiry(now).unwrap(),
            Some(NewExpiry::At(now + Duration::days(3)))
        );
        let never = KeyUpdate {
            expiration: Some(Expiration::Preset(ExpiryPreset::Never)),
            ..KeyUpdate::default()
        };
        assert_eq!(never.new_expiry(now).unwrap(), Some(NewExpiry::Never));
    }

    #[test]
    fn malformed_scopes_are_refused_naming_scopes() {
        let error = refused(KeyUpdate {
            scopes: Some(vec!["read".into(), "has space".into()]),
            ..KeyUpdate::default()
        });
        assert_eq!(error.field(), Some("scopes"));
    }

    #[test]
    fn check_against_names_the_first_field_the_backend_cannot_change() {
        let update = KeyUpdate {
            description: Some("d".into()),
            expiration: Some(Expiration::Preset(ExpiryPreset::Never)),
            ..KeyUpdate::default()
        };
        let only_description = UpdateFields {
            description: true,
            ..UpdateFields::NONE
        };
        let error = update.check_against(&only_description).unwrap_err();
        assert_eq!(error.field(), Some("expires"));
        assert!(error.to_string().contains("cannot change a key's expiry"));
        let error = update.check_against(&UpdateFields::NONE).unwrap_err();
        assert_eq!(error.field(), Some("description"));
        let all = UpdateFields {
            name: true,
            description: true,
            expiry: true,
            scopes: true,
        };
        assert!(update.check_against(&all).is_ok());
        assert!(all.any() && !UpdateFields::NONE.any());
    }

    #[test]
    fn the_summary_says_what_changed_without_the_description_text() {
        let update = KeyUpdate {
            name: Some("CI".into()),
            description: Some("private note".into()),
            expiration: Some(Expiration::After(Duration::days(90))),
            scopes: Some(vec!["read".into(), "write".into()]),
        };
        let summary = update.summary();
        assert_eq!(
            summary,
            "name → \"CI\"; description changed; expiry → 90d from now; scopes → read, write"
        );
        let clear = KeyUpdate {
            description: Some(String::new()),
            expiration: Some(Expiration::Preset(ExpiryPreset::Never)),
            scopes: Some(vec![]),
            ..KeyUpdate::default()
        };
        assert_eq!(
            clear.summary(),
            "description cleared; expiry → never; scopes removed"
        );
    }
}
