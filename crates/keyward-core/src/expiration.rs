//! Expiry choices and the rules that turn them into a date.
//!
//! Users pick a preset (the six every backend understands), a duration (`90d`, `12h`, `2w`) or a
//! date (`2027-01-31`, RFC 3339). Each backend maps an [`Expiration`] onto its own field and refuses
//! what it cannot express before any request is sent.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The presets shared by the product and PropelAuth's `expiration_option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExpiryPreset {
    TwoWeeks,
    OneMonth,
    ThreeMonths,
    SixMonths,
    OneYear,
    Never,
}

impl ExpiryPreset {
    pub const ALL: [ExpiryPreset; 6] = [
        ExpiryPreset::TwoWeeks,
        ExpiryPreset::OneMonth,
        ExpiryPreset::ThreeMonths,
        ExpiryPreset::SixMonths,
        ExpiryPreset::OneYear,
        ExpiryPreset::Never,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryPreset::TwoWeeks => "TwoWeeks",
            ExpiryPreset::OneMonth => "OneMonth",
            ExpiryPreset::ThreeMonths => "ThreeMonths",
            ExpiryPreset::SixMonths => "SixMonths",
            ExpiryPreset::OneYear => "OneYear",
            ExpiryPreset::Never => "Never",
        }
    }

    /// Accepts `TwoWeeks`, `two-weeks`, `two_weeks` in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let folded: String = text
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        ExpiryPreset::ALL
            .into_iter()
            .find(|p| p.as_str().to_lowercase() == folded)
    }

    /// Calendar arithmetic: "one month" from Jan 31 is Feb 28/29, as people expect.
    pub fn expires_at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = |n| now.checked_add_months(Months::new(n));
        match self {
            ExpiryPreset::TwoWeeks => Some(now + Duration::days(14)),
            ExpiryPreset::OneMonth => months(1),
            ExpiryPreset::ThreeMonths => months(3),
            ExpiryPreset::SixMonths => months(6),
            ExpiryPreset::OneYear => months(12),
            ExpiryPreset::Never => None,
        }
    }
}

/// When a new key stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    Preset(ExpiryPreset),
    /// A custom duration from the moment of creation.
    After(Duration),
    /// A fixed instant.
    At(DateTime<Utc>),
}

impl Default for Expiration {
    fn default() -> Self {
        Expiration::Preset(ExpiryPreset::OneMonth)
    }
}

/// The longest expiry we accept (ten years): anything longer is almost certainly a typo
/// (`3650000d`), and "never" exists for keys that should not expire.
const MAX_EXPIRY: Duration = Duration::days(3653);

impl Expiration {
    pub const FIELD: &'static str = "expires";

    /// Parses what a user types: a preset name, a duration (`30m`, `12h`, `90d`, `2w`) or a date
    /// (`2027-01-31` meaning midnight UTC, or RFC 3339 with a time and offset).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid(Self::FIELD, "is empty; choose a preset (TwoWeeks, OneMonth, ThreeMonths, SixMonths, OneYear, Never), a duration like 90d or 12h, or a date like 2027-01-31"));
        }
        if let Some(preset) = ExpiryPreset::parse(text) {
            return Ok(Expiration::Preset(preset));
        }
        if let Some(duration) = parse_duration(text)? {
            return Ok(Expiration::After(duration));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Expiration::At(at.with_timezone(&Utc)));
        }
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let at = date
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc();
            return Ok(Expiration::At(at));
        }
        Err(Error::invalid(
            Self::FIELD,
            format!("'{}' is not an expiry: use a preset (TwoWeeks, OneMonth, ThreeMonths, SixMonths, OneYear, Never), a duration like 90d, 12h or 2w, or a date like 2027-01-31", printable(text)),
        ))
    }

    /// The instant the key expires (`None` = never), checked against `now`: it must lie in the
    /// future and within ten years.
    pub fn resolve(self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let at = match self {
            Expiration::Preset(p) => return Ok(p.expires_at(now)),
            Expiration::After(d) => {
                if d <= Duration::zero() {
                    return Err(Error::invalid(Self::FIELD, "duration must be positive"));
                }
                if d > MAX_EXPIRY {
                    return Err(Error::invalid(
                        Self::FIELD,
                        "is more than ten years away; use Never for a key that should not expire",
                    ));
                }
                now + d
            }
            Expiration::At(at) => {
                if at <= now {
                    return Err(Error::invalid(
                        Self::FIELD,
                        format!(
                            "{} is in the past",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ),
                    ));
                }
                if at - now > MAX_EXPIRY {
                    return Err(Error::invalid(
                        Self::FIELD,
                        "is more than ten years away; use Never for a key that should not expire",
                    ));
                }
                at
            }
        };
        Ok(Some(at))
    }

    /// Seconds from `now` until expiry (`None` = never), for backends that take a duration.
    pub fn seconds_from(self, now: DateTime<Utc>) -> Result<Option<i64>> {
        Ok(self.resolve(now)?.map(|at| (at - now).num_seconds().max(1)))
    }

    pub fn preset(self) -> Option<ExpiryPreset> {
        match self {
            Expiration::Preset(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for Expiration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expiration::Preset(p) => f.write_str(p.as_str()),
            Expiration::After(d) => write!(f, "{}s", d.num_seconds()),
            Expiration::At(at) => {
                f.write_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            }
        }
    }
}

/// `Ok(None)` when `text` is not shaped like a duration at all; an error when it is one but bad.
fn parse_duration(text: &str) -> Result<Option<Duration>> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() || !matches!(unit, "m" | "min" | "h" | "d" | "w" | "y") {
        return Ok(None);
    }
    let amount: i64 = digits
        .parse()
        .ok()
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| Error::invalid(Expiration::FIELD, "duration is too large"))?;
    if amount == 0 {
        return Err(Error::invalid(
            Expiration::FIELD,
            "duration must be positive (use Never for a key that should not expire)",
        ));
    }
    let duration = match unit {
        "m" | "min" => Duration::minutes(amount),
        "h" => Duration::hours(amount),
        "d" => Duration::days(amount),
        "w" => Duration::weeks(amount),
        _ => Duration::days(365 * amount),
    };
    Ok(Some(duration))
}

/// Echo user text back safely: no control characters, bounded length.
pub(crate) fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(40)
        .collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn jan31() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0).unwrap()
    }

    #[test]
    fn presets_parse_in_several_spellings() {
        for (text, want) in [
            ("TwoWeeks", ExpiryPreset::TwoWeeks),
            ("two-weeks", ExpiryPreset::TwoWeeks),
            ("ONE_MONTH", ExpiryPreset::OneMonth),
            ("threemonths", ExpiryPreset::ThreeMonths),
            ("SixMonths", ExpiryPreset::SixMonths),
            ("one-year", ExpiryPreset::OneYear),
            ("never", ExpiryPreset::Never),
        ] {
            assert_eq!(
                Expiration::parse(text).unwrap(),
                Expiration::Preset(want),
                "{text}"
            );
        }
    }

    #[test]
    fn presets_use_calendar_months() {
        let now = jan31();
        let at = |p: ExpiryPreset| p.expires_at(now).map(|d| d.date_naive().to_string());
        assert_eq!(at(ExpiryPreset::TwoWeeks).unwrap(), "2027-02-14");
        assert_eq!(at(ExpiryPreset::OneMonth).unwrap(), "2027-02-28");
        assert_eq!(at(ExpiryPreset::ThreeMonths).unwrap(), "2027-04-30");
        assert_eq!(at(ExpiryPreset::SixMonths).unwrap(), "2027-07-31");
        assert_eq!(at(ExpiryPreset::OneYear).unwrap(), "2028-01-31");
        assert_eq!(at(ExpiryPreset::Never), None);
    }

    #[test]
    fn durations_parse() {
        let cases = [
            ("30m", Duration::minutes(30)),
            ("12h", Duration::hours(12)),
            ("90d", Duration::days(90)),
            ("2w", Duration::weeks(2)),
            ("1y", Duration::days(365)),
        ];
        for (text, want) in cases {
            assert_eq!(
                Expiration::parse(text).unwrap(),
                Expiration::After(want),
                "{text}"
            );
        }
    }

    #[test]
    fn dates_parse_as_utc() {
        assert_eq!(
            Expiration::parse("2027-03-01").unwrap(),
            Expiration::At(Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(
            Expiration::parse("2027-03-01T10:00:00+02:00").unwrap(),
            Expiration::At(Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0).unwrap())
        );
    }

    #[test]
    fn bad_expiries_name_the_field() {
        for text in ["", "soon", "0d", "-5d", "99999999999d", "2027-13-45", "12x"] {
            let err = Expiration::parse(text).unwrap_err();
            assert_eq!(err.field(), Some("expires"), "{text}: {err}");
        }
    }

    #[test]
    fn past_and_far_future_dates_are_refused() {
        let now = jan31();
        let past = Expiration::parse("2020-01-01").unwrap().resolve(now);
        assert!(past.unwrap_err().to_string().contains("in the past"));
        let far = Expiration::parse("2100-01-01").unwrap().resolve(now);
        assert_eq!(far.unwrap_err().field(), Some("expires"));
        let too_long = Expiration::parse("5000d").unwrap().resolve(now);
        assert!(too_long.is_err());
    }

    #[test]
    fn seconds_from_now() {
        let now = jan31();
        assert_eq!(
            Expiration::parse("12h").unwrap().seconds_from(now).unwrap(),
            Some(43_200)
        );
        assert_eq!(
            Expiration::Preset(ExpiryPreset::Never)
                .seconds_from(now)
                .unwrap(),
            None
        );
    }

    #[test]
    fn error_text_does_not_echo_control_characters() {
        let err = Expiration::parse("bad\u{1b}[31m").unwrap_err();
        assert!(!err.to_string().contains('\u{1b}'));
    }
}
