//! Bulk seeding: many keys at once, straight into the store, for demos and paging tests.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// Who owns seeded keys. FreeSewing has no organisations: there, both mean the seeded user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedOwner {
    /// The seeded user (PropelAuth personal keys, Clerk `user_…` subject).
    #[default]
    User,
    /// The seeded organisation (PropelAuth org keys, Clerk `org_…` subject).
    Org,
}

/// What to seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSpec {
    pub count: usize,
    pub owner: SeedOwner,
    /// Names are this prefix plus a number that is unique within the emulator.
    pub name_prefix: String,
    /// `None`: keys never expire (FreeSewing, which has no such keys: in 365 days).
    /// `Some(d)`: a deterministic mix by index: every 4th key never expires, the next one expired
    /// up to `d` days ago, and the other two expire within the next `d` days.
    pub expiring_within_days: Option<u32>,
}

impl SeedSpec {
    pub fn new(count: usize, owner: SeedOwner) -> Self {
        Self {
            count,
            owner,
            name_prefix: "seeded-key-".to_owned(),
            expiring_within_days: None,
        }
    }

    /// The name of the `index`-th key of this batch, `first` being the number of keys seeded before.
    pub(crate) fn name(&self, first: usize, index: usize) -> String {
        format!("{}{}", self.name_prefix, first + index + 1)
    }

    /// The expiry of the `index`-th key of this batch; `None` means never.
    pub(crate) fn expiry(&self, index: usize, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = i64::from(self.expiring_within_days?);
        // Spread evenly over (0, days] so the keys don't all expire at once.
        let fraction = (index + 1) as f64 / (self.count + 1) as f64;
        let offset = Duration::seconds((fraction * (days * 86_400) as f64).ceil() as i64);
        match index % 4 {
            0 => None,
            1 => Some(now - offset),
            _ => Some(now + offset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_has_never_expired_and_future_keys() {
        let spec = SeedSpec {
            expiring_within_days: Some(30),
            ..SeedSpec::new(8, SeedOwner::User)
        };
        let now = Utc::now();
        let expiries: Vec<_> = (0..8).map(|i| spec.expiry(i, now)).collect();
        assert!(expiries.iter().any(Option::is_none));
        assert!(expiries.iter().flatten().any(|e| *e < now));
        assert!(expiries
            .iter()
            .flatten()
            .any(|e| *e > now && *e <= now + Duration::days(30)));
        assert_eq!(SeedSpec::new(1, SeedOwner::Org).expiry(0, now), None);
    }
}
