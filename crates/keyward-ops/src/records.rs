//! What both front ends write to the activity log (the app's "Audit log" view, `keyward audit`)
//! for a create and a revoke.

use crate::revoke::KeyRevoked;
use crate::selection::Resolved;
use keyward_core::{ApiKey, RevokeStatus};
use keyward_local::activity::{ActivityAction, NewActivity};

/// The entry of a key just created on `profile`.
pub fn created(profile: &str, backend: &str, key: &ApiKey) -> NewActivity {
    NewActivity {
        profile: profile.to_owned(),
        backend: backend.to_owned(),
        action: ActivityAction::Created,
        key_id: key.id.clone(),
        key_name: Some(key.name.clone()),
        reason: None,
        error: None,
    }
}

/// One entry per key that was revoked or failed, in order. Keys left untouched by a cancel were
/// not acted on, and keys that were already revoked were not revoked by this run: neither is
/// recorded. The name comes from the backend's answer, else from the listing the selection was
/// resolved from, else from what the front end showed.
pub fn revoked(
    profile: &str,
    backend: &str,
    reason: Option<&str>,
    results: &[KeyRevoked],
    resolved: &Resolved,
) -> Vec<NewActivity> {
    results
        .iter()
        .filter(|result| !result.already_revoked)
        .map(|result| &result.outcome)
        .filter_map(|outcome| {
            let action = match outcome.status {
                RevokeStatus::Revoked => ActivityAction::Revoked,
                RevokeStatus::Failed => ActivityAction::RevokeFailed,
                RevokeStatus::Untouched => return None,
            };
            let key_name = outcome
                .key
                .as_ref()
                .map(|k| k.name.clone())
                .or_else(|| resolved.name_of(&outcome.id).map(str::to_owned));
            Some(NewActivity {
                profile: profile.to_owned(),
                backend: backend.to_owned(),
                action,
                key_id: outcome.id.clone(),
                key_name,
                reason: reason.map(str::to_owned),
                error: outcome.error.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::key;
    use keyward_core::{Error, ErrorCode, RevokeOutcome};
    use std::collections::HashMap;

    fn outcome(id: &str, status: RevokeStatus, key: Option<ApiKey>) -> KeyRevoked {
        KeyRevoked {
            outcome: plain(id, status, key),
            already_revoked: false,
            forgotten: None,
            forget_error: None,
        }
    }

    fn plain(id: &str, status: RevokeStatus, key: Option<ApiKey>) -> RevokeOutcome {
        RevokeOutcome {
            id: id.into(),
            status,
            key,
            error: (status == RevokeStatus::Failed)
                .then(|| Error::Network("timed out".into()).to_body()),
            attempts: u32::from(status != RevokeStatus::Untouched),
        }
    }

    #[test]
    fn a_failed_ticked_key_is_named_as_the_table_showed_it() {
        let resolved = Resolved {
            ids: vec!["key_a".into(), "key_b".into()],
            keys: HashMap::new(),
            shown_names: HashMap::new(),
        }
        .with_shown_names(HashMap::from([
            ("key_a".to_owned(), "deploy bot".to_owned()),
            ("key_b".to_owned(), "bad\u{7}name".to_owned()),
            ("key_z".to_owned(), "not selected".to_owned()),
        ]));
        let outcomes = [
            outcome("key_a", RevokeStatus::Failed, None),
            outcome("key_b", RevokeStatus::Failed, None),
        ];
        let entries = revoked("work", "clerk", None, &outcomes, &resolved);
        assert_eq!(entries[0].key_name.as_deref(), Some("deploy bot"));
        assert_eq!(
            entries[1].key_name, None,
            "a name with a control character is dropped"
        );
        assert!(!resolved.shown_names.contains_key("key_z"));
    }

    #[test]
    fn revokes_are_recorded_except_untouched_keys() {
        let listed = key("listed", None);
        let resolved = Resolved {
            ids: vec!["key_a".into(), listed.id.clone(), "key_c".into()],
            keys: HashMap::from([(listed.id.clone(), listed.clone())]),
            shown_names: HashMap::new(),
        };
        let outcomes = [
            outcome("key_a", RevokeStatus::Revoked, Some(key("a", None))),
            outcome(&listed.id, RevokeStatus::Failed, None),
            outcome("key_c", RevokeStatus::Untouched, None),
        ];
        let entries = revoked("work", "clerk", Some("left the team"), &outcomes, &resolved);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].action, ActivityAction::Revoked);
        assert_eq!(entries[0].key_name.as_deref(), Some("a"));
        assert_eq!(entries[0].reason.as_deref(), Some("left the team"));
        assert_eq!(
            (entries[0].profile.as_str(), entries[0].backend.as_str()),
            ("work", "clerk")
        );
        assert_eq!(entries[1].action, ActivityAction::RevokeFailed);
        assert_eq!(
            entries[1].key_name.as_deref(),
            Some("listed"),
            "named from the listing"
        );
        assert_eq!(entries[1].error.as_ref().unwrap().code, ErrorCode::Network);
    }

    #[test]
    fn an_already_revoked_key_is_not_recorded() {
        let resolved = Resolved {
            ids: vec!["key_a".into()],
            keys: HashMap::new(),
            shown_names: HashMap::new(),
        };
        let mut already = outcome("key_a", RevokeStatus::Revoked, Some(key("a", None)));
        already.already_revoked = true;
        assert!(revoked("work", "local", Some("again"), &[already], &resolved).is_empty());
    }

    #[test]
    fn a_create_is_recorded_with_its_name() {
        let entry = created("work", "local", &key("laptop", None));
        assert_eq!(entry.action, ActivityAction::Created);
        assert_eq!(entry.key_id, "key_laptop");
        assert_eq!(entry.key_name.as_deref(), Some("laptop"));
        assert!(entry.error.is_none() && entry.reason.is_none());
    }
}
