//! Creating a key: the form checked field by field, the fit against what the backend can keep,
//! the keychain policy, the activity entry. The secret is never lost: once the key exists, every
//! later failure is reported beside it.

use crate::host::Host;
use crate::records;
use chrono::Utc;
use keyward_core::model::validate_name;
use keyward_core::{
    Capabilities, CreatedKey, Error, Expiration, KeyBackend, NewKey, Result, Subject,
};

/// A create form as either front end collected it; blank optional fields mean "not given".
#[derive(Debug, Clone, Default)]
pub struct CreateForm {
    pub name: String,
    /// A preset name, a duration (`90d`, `12h`) or a date; `None` or blank: the default.
    pub expires: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub level: Option<u8>,
    pub scopes: Vec<String>,
}

/// The form as a [`NewKey`]: each error names its field (`name`, `expires`, `owner`, `scopes`,
/// `description`), the name first so an empty form points at the first field.
pub fn new_key(form: CreateForm) -> Result<NewKey> {
    let name = validate_name(&form.name)?;
    let expiration = match non_blank(form.expires) {
        Some(text) => Expiration::parse(&text)?,
        None => Expiration::default(),
    };
    // The backend checks this again at creation; checking now refuses a date in the past before
    // any request is sent.
    expiration.resolve(Utc::now())?;
    let owner = non_blank(form.owner)
        .map(|owner| Subject::parse(&owner))
        .transpose()?;
    NewKey {
        owner,
        level: form.level,
        scopes: form
            .scopes
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        description: non_blank(form.description),
        ..NewKey::named(name, expiration)
    }
    .validated()
}

/// Refuses what the backend cannot keep, naming the field and the backend, before any request is
/// sent. `capabilities` are the ones learned when the backend was opened
/// ([`crate::capabilities::learn`]).
pub fn fits(kind: &str, capabilities: &Capabilities, new: &NewKey) -> Result<()> {
    // The backend's own length limits (`keyward_core::free_text`), before the keychain is probed
    // or anything sent; the adapter checks again with the profile's credential as a known secret.
    let limits = &capabilities.text_limits;
    limits.check(keyward_core::TextField::Name, &new.name, &[])?;
    if let Some(description) = &new.description {
        limits.check(keyward_core::TextField::Description, description, &[])?;
    }
    if let Some(level) = new.level {
        match capabilities.levels {
            None => {
                return Err(Error::invalid(
                    "level",
                    format!("the {kind} backend has no levels"),
                ))
            }
            Some((low, high)) if !(low..=high).contains(&level) => {
                return Err(Error::invalid(
                    "level",
                    format!("the {kind} backend takes levels {low} to {high}"),
                ))
            }
            Some(_) => {}
        }
    }
    if !new.scopes.is_empty() && !capabilities.scopes {
        return Err(Error::invalid(
            "scopes",
            format!("the {kind} backend has no scopes"),
        ));
    }
    if new.description.is_some() && !capabilities.descriptions {
        return Err(Error::invalid(
            "description",
            format!("the {kind} backend keeps no description with a key"),
        ));
    }
    match &new.owner {
        Some(Subject::User(_)) if !capabilities.user_keys => Err(Error::invalid(
            Subject::FIELD,
            format!("the {kind} backend has no user-owned keys"),
        )),
        Some(Subject::Org(_)) if !capabilities.org_keys => Err(Error::invalid(
            Subject::FIELD,
            format!("the {kind} backend has no organization keys"),
        )),
        _ => Ok(()),
    }
}

/// A key just created, with what became of the extra steps.
pub struct Created {
    /// The key and its secret: show it, whatever else failed.
    pub created: CreatedKey,
    /// `Some` when saving to the keychain was asked: whether it worked.
    pub saved_to_keychain: Option<Result<()>>,
    /// Why the activity log did not record the create (the key exists either way).
    pub activity_error: Option<Error>,
}

/// Creates `new` on `backend` for `host`'s profile.
///
/// With `save_to_keychain`, the keychain is asked first: when it is unavailable nothing is created
/// and the error names the keychain. If saving still fails after the create, the key and its
/// secret are returned with the failure in [`Created::saved_to_keychain`].
pub async fn create(
    backend: &dyn KeyBackend,
    capabilities: &Capabilities,
    host: &dyn Host,
    new: NewKey,
    save_to_keychain: bool,
) -> Result<Created> {
    fits(backend.kind(), capabilities, &new)?;
    if save_to_keychain {
        host.secrets().probe().await.map_err(|error| match error {
            Error::KeychainUnavailable(why) => Error::KeychainUnavailable(format!(
                "the key was not created: it was to be saved in the OS keychain, which is unavailable: {why}"
            )),
            other => other,
        })?;
    }
    let created = backend.create(new).await?;
    let activity_error = host
        .record(vec![records::created(
            host.profile(),
            backend.kind(),
            &created.key,
        )])
        .await
        .err();
    let saved_to_keychain = match save_to_keychain {
        true => Some(
            host.secrets()
                .save_key_secret(host.profile(), &created.key.id, &created.secret)
                .await,
        ),
        false => None,
    };
    Ok(Created {
        created,
        saved_to_keychain,
        activity_error,
    })
}

pub(crate) fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capabilities() -> Capabilities {
        Capabilities {
            server_search: false,
            server_paging: false,
            sorts: Vec::new(),
            user_keys: true,
            org_keys: false,
            owner_is_label: false,
            levels: Some((1, 8)),
            scopes: false,
            descriptions: false,
            revoke_reason: false,
            revoke_kind: keyward_core::RevokeKind::Delete,
            last_used: false,
            verify: true,
            verify_counts_as_use: false,
            expiry_presets: Vec::new(),
            custom_expiry: true,
            never_expires: false,
            names_kept_locally: false,
            text_limits: keyward_core::TextLimits::GENERIC,
            updates: keyward_core::UpdateFields::NONE,
        }
    }

    #[test]
    fn text_longer_than_the_backend_keeps_is_refused_naming_it() {
        let caps = Capabilities {
            descriptions: true,
            text_limits: keyward_core::TextLimits {
                name: 10,
                description: 20,
                reason: 30,
            },
            ..capabilities()
        };
        let long_name = NewKey::named("eleven-char", Expiration::default());
        let error = fits("clerk", &caps, &long_name).unwrap_err();
        assert_eq!(error.field(), Some("name"), "{error}");
        let long_description = NewKey {
            description: Some("d".repeat(21)),
            ..NewKey::named("short", Expiration::default())
        };
        let error = fits("clerk", &caps, &long_description).unwrap_err();
        assert_eq!(error.field(), Some("description"), "{error}");
        assert!(fits(
            "clerk",
            &caps,
            &NewKey::named("short", Expiration::default())
        )
        .is_ok());
    }

    #[test]
    fn flags_the_backend_cannot_keep_are_refused_naming_it() {
        let field = |new: NewKey, caps: &Capabilities| {
            let error = fits("freesewing", caps, &new).unwrap_err();
            (error.field().unwrap().to_owned(), error.message())
        };
        let caps = capabilities();
        let base = || NewKey::named("k", Expiration::default());
        assert!(fits(
            "freesewing",
            &caps,
            &NewKey {
                level: Some(8),
                ..base()
            }
        )
        .is_ok());
        assert_eq!(
            field(
                NewKey {
                    level: Some(9),
                    ..base()
                },
                &caps
            ),
            (
                "level".into(),
                "the freesewing backend takes levels 1 to 8".into()
            )
        );
        let no_levels = Capabilities {
            levels: None,
            ..capabilities()
        };
        assert_eq!(
            field(
                NewKey {
                    level: Some(1),
                    ..base()
                },
                &no_levels
            ),
            (
                "level".into(),
                "the freesewing backend has no levels".into()
            )
        );
        assert_eq!(
            field(
                NewKey {
                    scopes: vec!["read".into()],
                    ..base()
                },
                &caps
            )
            .0,
            "scopes"
        );
        assert_eq!(
            field(
                NewKey {
                    description: Some("d".into()),
                    ..base()
                },
                &caps
            )
            .0,
            "description"
        );
        assert_eq!(
            field(
                NewKey {
                    owner: Some(Subject::Org("acme".into())),
                    ..base()
                },
                &caps
            )
            .0,
            "owner"
        );
    }
}
