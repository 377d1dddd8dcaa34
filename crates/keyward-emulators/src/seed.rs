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

/// One account that can own keys: a user or an organisation, with the backend's own id
/// (e.g. Clerk's `org_2keyward…`, PropelAuth's UUID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedAccount {
    pub kind: SeedOwner,
    pub id: String,
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
    /// How many accounts the keys are spread over, round robin by index: `owner`'s account first,
    /// then the flavor's other accounts in the order of `Emulator::seed_accounts` (wrapping around
    /// when there are fewer). 0 and 1: every key is `owner`'s. FreeSewing lists only the caller's
    /// own keys, so it ignores this.
    pub owners: usize,
    /// A deterministic mix of last-used times, for the flavors that report them (Clerk and
    /// FreeSewing; PropelAuth has no last-used time, so it ignores this). Per key, from a hash of
    /// its index: 30% never used, 30% used within the last day, 20% 8 to 60 days ago and 20% 120
    /// to 400 days ago. Those keys are also created 401 to 1,130 days ago (before any last use),
    /// instead of now.
    pub usage_mix: bool,
}

/// Where [`SeedSpec::usage_mix`] puts a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Usage {
    Never,
    Recent,
    Weeks,
    LongAgo,
}

impl SeedSpec {
    pub fn new(count: usize, owner: SeedOwner) -> Self {
        Self {
            count,
            owner,
            name_prefix: "seeded-key-".to_owned(),
            expiring_within_days: None,
            owners: 0,
            usage_mix: false,
        }
    }

    /// What an organisation admin sees: keys spread over 4 owners (users and orgs), the
    /// last-used mix, and expiries mixed over 60 days (about 6% of keys expire within 7 days,
    /// a quarter never expire, a quarter have expired).
    pub fn admin_mix(count: usize, owner: SeedOwner) -> Self {
        Self {
            expiring_within_days: Some(60),
            owners: 4,
            usage_mix: true,
            ..Self::new(count, owner)
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

    /// The account that owns the `index`-th key, out of the flavor's `accounts` (the first one of
    /// `owner`'s kind leads the round robin).
    pub(crate) fn owner_of<'a>(
        &self,
        index: usize,
        accounts: &'a [SeedAccount],
    ) -> &'a SeedAccount {
        let lead = accounts
            .iter()
            .position(|a| a.kind == self.owner)
            .unwrap_or(0);
        let spread = self.owners.max(1);
        let step = index % spread % accounts.len();
        // `owner`'s account, then the others in their order.
        let order: Vec<usize> = std::iter::once(lead)
            .chain((0..accounts.len()).filter(|&i| i != lead))
            .collect();
        &accounts[order[step]]
    }

    fn usage(&self, index: usize) -> Option<(Usage, u64)> {
        if !self.usage_mix {
            return None;
        }
        let hash = mix(index as u64);
        let usage = match hash % 100 {
            0..30 => Usage::Never,
            30..60 => Usage::Recent,
            60..80 => Usage::Weeks,
            _ => Usage::LongAgo,
        };
        Some((usage, hash >> 8))
    }

    /// When the `index`-th key was last used, under [`SeedSpec::usage_mix`]; `None`: never (or
    /// no mix).
    pub(crate) fn last_used(&self, index: usize, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (usage, spread) = self.usage(index)?;
        let ago = match usage {
            Usage::Never => return None,
            // Up to 24 hours ago, at least a minute.
            Usage::Recent => Duration::seconds(60 + (spread % (86_400 - 60)) as i64),
            Usage::Weeks => Duration::days(8) + Duration::seconds((spread % (52 * 86_400)) as i64),
            Usage::LongAgo => {
                Duration::days(120) + Duration::seconds((spread % (280 * 86_400)) as i64)
            }
        };
        Some(now - ago)
    }

    /// The batch's indexes oldest first: the order to insert in, so that the emulators' newest-first
    /// listings (insertion order, as the servers list by creation) agree with `created_at`.
    pub(crate) fn insertion_order(&self, now: DateTime<Utc>) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.count).collect();
        order.sort_by_key(|&index| self.created(index, now));
        order
    }

    /// When the `index`-th key was created: now, or under [`SeedSpec::usage_mix`] 401 to 1,130
    /// days ago, so before any last use.
    pub(crate) fn created(&self, index: usize, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.usage(index) {
            None => now,
            Some((_, spread)) => {
                now - Duration::days(401)
                    - Duration::seconds(((spread >> 20) % (730 * 86_400)) as i64)
            }
        }
    }
}

/// SplitMix64's finalizer: a well-spread, deterministic hash of a key's index, so the usage mix
/// does not line up with the expiry mix (by index % 4) or the owner round robin.
fn mix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_inserted_oldest_first_so_newest_first_listings_agree_with_created_at() {
        let spec = SeedSpec::admin_mix(500, SeedOwner::User);
        let now = Utc::now();
        let order = spec.insertion_order(now);
        assert_eq!(order.len(), 500);
        let created: Vec<_> = order.iter().map(|&i| spec.created(i, now)).collect();
        assert!(created.windows(2).all(|w| w[0] <= w[1]));
        let mut seen = order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..500).collect::<Vec<_>>(), "every index once");
    }

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

    fn accounts() -> Vec<SeedAccount> {
        let account = |kind, id: &str| SeedAccount {
            kind,
            id: id.to_owned(),
        };
        vec![
            account(SeedOwner::User, "ada"),
            account(SeedOwner::Org, "acme"),
            account(SeedOwner::User, "grace"),
            account(SeedOwner::Org, "globex"),
        ]
    }

    #[test]
    fn by_default_every_key_has_the_one_owner() {
        let accounts = accounts();
        for owner in [SeedOwner::User, SeedOwner::Org] {
            let spec = SeedSpec::new(10, owner);
            for index in 0..10 {
                assert_eq!(spec.owner_of(index, &accounts).kind, owner);
            }
            assert_eq!(spec.last_used(3, Utc::now()), None);
        }
        let spec = SeedSpec::new(10, SeedOwner::Org);
        assert_eq!(spec.owner_of(7, &accounts).id, "acme");
    }

    #[test]
    fn owners_are_spread_round_robin_starting_with_the_owner() {
        let accounts = accounts();
        let spec = SeedSpec {
            owners: 3,
            ..SeedSpec::new(9, SeedOwner::Org)
        };
        let ids: Vec<_> = (0..6)
            .map(|i| spec.owner_of(i, &accounts).id.as_str())
            .collect();
        assert_eq!(ids, ["acme", "ada", "grace", "acme", "ada", "grace"]);
        // More owners than accounts wraps around.
        let spec = SeedSpec {
            owners: 9,
            ..SeedSpec::new(9, SeedOwner::User)
        };
        let ids: Vec<_> = (0..5)
            .map(|i| spec.owner_of(i, &accounts).id.as_str())
            .collect();
        assert_eq!(ids, ["ada", "acme", "grace", "globex", "ada"]);
    }

    #[test]
    fn the_admin_mix_has_every_kind_of_key_in_realistic_shares() {
        let count = 10_000;
        let spec = SeedSpec::admin_mix(count, SeedOwner::Org);
        let now = Utc::now();
        let accounts = accounts();

        let mut per_owner = std::collections::HashMap::new();
        let (mut never, mut recent, mut weeks, mut long_ago) = (0, 0, 0, 0);
        let (mut soon, mut expired, mut no_expiry) = (0, 0, 0);
        for index in 0..count {
            *per_owner
                .entry(spec.owner_of(index, &accounts).id.clone())
                .or_insert(0) += 1;
            let created = spec.created(index, now);
            assert!(created < now - Duration::days(400));
            match spec.last_used(index, now) {
                None => never += 1,
                Some(at) => {
                    assert!(
                        at > created && at < now,
                        "used before created or in the future"
                    );
                    match now - at {
                        ago if ago <= Duration::days(1) => recent += 1,
                        ago if ago <= Duration::days(60) => {
                            assert!(ago >= Duration::days(8));
                            weeks += 1
                        }
                        ago => {
                            assert!(ago >= Duration::days(120) && ago <= Duration::days(400));
                            long_ago += 1
                        }
                    }
                }
            }
            match spec.expiry(index, now) {
                None => no_expiry += 1,
                Some(at) if at <= now => expired += 1,
                Some(at) if at <= now + Duration::days(7) => soon += 1,
                Some(_) => {}
            }
        }
        // Four owners, evenly.
        assert_eq!(per_owner.len(), 4);
        assert!(per_owner.values().all(|&n| n == count / 4));
        // Each usage bucket near its share (hash-spread, so within a couple of percent).
        let near = |n: usize, share: f64| (n as f64 / count as f64 - share).abs() < 0.02;
        assert!(near(never, 0.3), "never used: {never}");
        assert!(near(recent, 0.3), "used within a day: {recent}");
        assert!(near(weeks, 0.2), "used weeks ago: {weeks}");
        assert!(near(long_ago, 0.2), "used long ago: {long_ago}");
        // Expiries: a quarter never, a quarter expired, some within 7 days (half of 7/60).
        assert_eq!(no_expiry, count / 4);
        assert_eq!(expired, count / 4);
        assert!(
            (500..=650).contains(&soon),
            "expiring within 7 days: {soon}"
        );
        // The usage mix does not line up with the expiry mix: never-used keys in every bucket.
        for bucket in 0..4 {
            assert!((0..count)
                .filter(|i| i % 4 == bucket)
                .any(|i| spec.last_used(i, now).is_none()));
            assert!((0..count)
                .filter(|i| i % 4 == bucket)
                .any(|i| spec.last_used(i, now).is_some()));
        }
        // Deterministic.
        assert_eq!(spec.last_used(1234, now), spec.last_used(1234, now));
    }
}
