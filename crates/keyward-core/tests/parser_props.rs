//! Property tests of the two parsers in keyward-core that read what a person types or pastes:
//! the Keyward key format (`kw_…`, `key_format::check`) and expiry text (`Expiration::parse`).
//!
//! Whatever the text, neither panics; a refusal is `invalid_input` naming its field (`secret`,
//! `expires`) with a short, printable message that does not echo a pasted secret; and what is
//! valid reads back as what was meant.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use keyward_core::key_format::{self, CHECKSUM_LEN, PREFIX, SECRET_LEN};
use keyward_core::{Error, ErrorCode, Expiration, ExpiryPreset};
use proptest::prelude::*;
use proptest::test_runner::Config;
use secrecy::{ExposeSecret, SecretString};

/// Pure parsers are cheap: many cases, and no regression files written into the tree.
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A refusal a person can act on: the right code and field, one short printable line.
fn assert_clean_refusal(error: &Error, field: &str) {
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert_eq!(error.field(), Some(field), "{error}");
    let message = error.to_string();
    assert!(
        message.len() > field.len() + 2,
        "empty message: {message:?}"
    );
    assert!(
        message.chars().count() <= 400,
        "unbounded message: {message}"
    );
    assert!(
        !message.chars().any(char::is_control),
        "control characters in {message:?}"
    );
}

/// A freshly generated, valid key.
fn valid_key() -> String {
    key_format::generate().unwrap().expose_secret().to_owned()
}

/// Any character, weighted towards the ones that matter here: base62, other ASCII, non-ASCII
/// (multi-byte, so byte and character lengths differ), control characters.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::sample::select(BASE62.chars().collect::<Vec<_>>()),
        2 => proptest::char::range(' ', '~'),
        2 => any::<char>(),
        1 => proptest::sample::select(vec!['é', '€', '😀', '\u{0}', '\n', '\u{1b}', '\u{200b}', 'ß', 'İ']),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn any_text_is_checked_without_panic_or_echo(text in prop_oneof![
        any::<String>(),
        "kw_\\PC{0,60}",
        "kw_[0-9A-Za-z]{30,40}",
    ]) {
        if let Err(error) = key_format::check(&text) {
            assert_clean_refusal(&error, "secret");
            if text.chars().count() >= 12 {
                prop_assert!(!error.to_string().contains(&text), "echoed {text:?}: {error}");
                if let Some(rest) = text.strip_prefix(PREFIX) {
                    prop_assert!(!error.to_string().contains(rest), "echoed {text:?}: {error}");
                }
            }
        } else {
            // Only a correctly shaped key with a matching checksum passes.
            prop_assert_eq!(text.len(), SECRET_LEN);
            prop_assert!(text.starts_with(PREFIX));
        }
    }

    #[test]
    fn random_character_strings_never_panic(chars in proptest::collection::vec(any_char(), 0..80)) {
        let text: String = chars.into_iter().collect();
        for candidate in [text.clone(), format!("{PREFIX}{text}")] {
            if let Err(error) = key_format::check(&candidate) {
                assert_clean_refusal(&error, "secret");
            }
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// A key of the right length with one non-ASCII character (more bytes than characters) is
    /// refused for what it holds, not told it "should be 41 characters long, not 41".
    #[test]
    fn a_length_refusal_states_a_different_length(at in PREFIX.len()..SECRET_LEN, wide in proptest::sample::select(vec!['é', '€', '😀', 'ß', '\u{200b}'])) {
        let key = valid_key();
        let odd: String = key.chars().enumerate().map(|(i, c)| if i == at { wide } else { c }).collect();
        let error = key_format::check(&odd).unwrap_err();
        assert_clean_refusal(&error, "secret");
        prop_assert!(!error.to_string().contains(&format!("long, not {SECRET_LEN}")), "{error}");
    }


    #[test]
    fn generated_keys_pass_and_keep_their_shape(_round in 0u8..1) {
        let key = valid_key();
        prop_assert!(key_format::check(&key).is_ok(), "{key}");
        let secret = SecretString::from(key.clone());
        let stub = key_format::stub(&secret);
        prop_assert_eq!(stub, format!("{PREFIX}…{}", &key[SECRET_LEN - 4..]));
        prop_assert!(key_format::hashes_match(&key_format::hash(&secret), &key_format::hash(&SecretString::from(key.clone()))));
    }

    /// Every single-character change anywhere in a key (to base62, other ASCII or non-ASCII) is
    /// refused: in the prefix by its shape, in the body or checksum by the CRC.
    #[test]
    fn one_changed_character_is_refused(at in 0..SECRET_LEN, replacement in any_char()) {
        let key = valid_key();
        let original = key.as_bytes()[at] as char;
        prop_assume!(replacement != original);
        let mut typo: String = key.chars().take(at).collect();
        typo.push(replacement);
        typo.extend(key.chars().skip(at + 1));
        let error = key_format::check(&typo).unwrap_err();
        assert_clean_refusal(&error, "secret");
        prop_assert!(!error.to_string().contains(&key[PREFIX.len()..PREFIX.len() + 8]), "echoed the key: {error}");
    }

    #[test]
    fn swapped_neighbours_are_refused(at in PREFIX.len()..SECRET_LEN - 1) {
        let key = valid_key();
        let mut bytes = key.clone().into_bytes();
        prop_assume!(bytes[at] != bytes[at + 1]);
        bytes.swap(at, at + 1);
        let error = key_format::check(std::str::from_utf8(&bytes).unwrap()).unwrap_err();
        assert_clean_refusal(&error, "secret");
        prop_assert!(error.to_string().contains("checksum"), "{error}");
    }

    #[test]
    fn truncated_or_extended_keys_are_refused(len in 0..SECRET_LEN, extra in proptest::collection::vec(any_char(), 1..8)) {
        let key = valid_key();
        let error = key_format::check(&key[..len]).unwrap_err();
        assert_clean_refusal(&error, "secret");
        let longer: String = key.chars().chain(extra).collect();
        let error = key_format::check(&longer).unwrap_err();
        assert_clean_refusal(&error, "secret");
        prop_assert!(!error.to_string().contains(&key[PREFIX.len()..]), "echoed the key: {error}");
    }

    /// A body with a checksum from anywhere else (another key's, or random base62) is refused.
    #[test]
    fn a_wrong_checksum_is_refused(sum in proptest::collection::vec(proptest::sample::select(BASE62.chars().collect::<Vec<_>>()), CHECKSUM_LEN)) {
        let key = valid_key();
        let body = &key[..SECRET_LEN - CHECKSUM_LEN];
        let sum: String = sum.into_iter().collect();
        prop_assume!(sum != key[SECRET_LEN - CHECKSUM_LEN..]);
        let error = key_format::check(&format!("{body}{sum}")).unwrap_err();
        assert_clean_refusal(&error, "secret");
        prop_assert!(error.to_string().contains("checksum"), "{error}");
        let other = valid_key();
        let spliced = format!("{body}{}", &other[SECRET_LEN - CHECKSUM_LEN..]);
        prop_assume!(spliced != key);
        prop_assert!(key_format::check(&spliced).is_err());
    }
}

/// A fixed "now" plus an offset, inside the range a clock can realistically show.
fn realistic_now() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 to about 2200.
    (0i64..7_258_118_400).prop_map(|secs| Utc.timestamp_opt(secs, 0).unwrap())
}

/// Resolving whatever was parsed never panics, and any refusal names `expires`.
fn resolves_cleanly(expiration: Expiration, now: DateTime<Utc>) {
    match expiration.resolve(now) {
        Ok(Some(at)) => {
            assert!(at > now, "{expiration:?} resolved into the past: {at}");
            assert!(
                at - now <= Duration::days(3653) || expiration.preset().is_some(),
                "{expiration:?} more than ten years away"
            );
            let seconds = expiration.seconds_from(now).unwrap().unwrap();
            assert!(seconds >= 1, "{expiration:?}: {seconds}");
        }
        Ok(None) => assert_eq!(expiration, Expiration::Preset(ExpiryPreset::Never)),
        Err(error) => assert_clean_refusal(&error, Expiration::FIELD),
    }
}

/// A preset name spelt as people do: any case, with `-` or `_` between the words or not.
fn preset_spelling() -> impl Strategy<Value = (ExpiryPreset, String)> {
    let words: Vec<(ExpiryPreset, &'static [&'static str])> = vec![
        (ExpiryPreset::TwoWeeks, &["two", "weeks"]),
        (ExpiryPreset::OneMonth, &["one", "month"]),
        (ExpiryPreset::ThreeMonths, &["three", "months"]),
        (ExpiryPreset::SixMonths, &["six", "months"]),
        (ExpiryPreset::OneYear, &["one", "year"]),
        (ExpiryPreset::Never, &["never"]),
    ];
    (
        proptest::sample::select(words),
        proptest::sample::select(vec!["", "-", "_"]),
        proptest::collection::vec(any::<bool>(), 12),
        proptest::sample::select(vec!["", " ", "\t"]),
    )
        .prop_map(|((preset, words), joint, upper, pad)| {
            let joined = words.join(joint);
            let cased: String = joined
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            (preset, format!("{pad}{cased}{pad}"))
        })
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn any_expiry_text_parses_or_is_refused_cleanly(
        text in prop_oneof![
            any::<String>(),
            "\\PC{0,40}",
            "[0-9]{1,40}[a-z]{0,4}",
            "[0-9+-]{1,12}-[0-9]{1,4}-[0-9]{1,4}[T0-9:.Z+-]{0,20}",
        ],
        now in realistic_now(),
    ) {
        match Expiration::parse(&text) {
            Ok(expiration) => resolves_cleanly(expiration, now),
            Err(error) => assert_clean_refusal(&error, Expiration::FIELD),
        }
    }

    /// Huge amounts (past `i64`, past `u128`) are refused, never overflowed; amounts within the
    /// limit read as exactly that many units.
    #[test]
    fn durations_of_any_size_parse_exactly_or_are_refused(
        digits in "[0-9]{1,60}",
        unit in proptest::sample::select(vec!["m", "min", "h", "d", "w", "y"]),
        now in realistic_now(),
    ) {
        let text = format!("{digits}{unit}");
        let amount: Option<u128> = digits.parse().ok();
        match Expiration::parse(&text) {
            Ok(expiration) => {
                let amount = amount.expect("fits") as i64;
                prop_assert!((1..=1_000_000).contains(&amount), "{text} accepted");
                let want = match unit {
                    "m" | "min" => Duration::minutes(amount),
                    "h" => Duration::hours(amount),
                    "d" => Duration::days(amount),
                    "w" => Duration::weeks(amount),
                    _ => Duration::days(365 * amount),
                };
                prop_assert_eq!(expiration, Expiration::After(want));
                resolves_cleanly(expiration, now);
            }
            Err(error) => {
                assert_clean_refusal(&error, Expiration::FIELD);
                prop_assert!(amount.is_none_or(|n| n == 0 || n > 1_000_000), "{text}: {error}");
            }
        }
    }

    #[test]
    fn preset_spellings_read_back_as_the_preset((preset, text) in preset_spelling(), now in realistic_now()) {
        prop_assert_eq!(Expiration::parse(&text).unwrap(), Expiration::Preset(preset));
        // The canonical name is itself a valid input.
        prop_assert_eq!(Expiration::parse(preset.as_str()).unwrap(), Expiration::Preset(preset));
        prop_assert_eq!(Expiration::parse(&Expiration::Preset(preset).to_string()).unwrap(), Expiration::Preset(preset));
        resolves_cleanly(Expiration::Preset(preset), now);
    }

    /// `YYYY-MM-DD` is midnight UTC of that day, for every day of years 1 to 9999.
    #[test]
    fn dates_read_back_as_midnight_utc(days in 0i64..3_652_059, now in realistic_now()) {
        let date = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + Duration::days(days);
        let text = date.format("%Y-%m-%d").to_string();
        let midnight = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
        prop_assert_eq!(Expiration::parse(&text).unwrap(), Expiration::At(midnight));
        resolves_cleanly(Expiration::At(midnight), now);
    }

    /// An instant written as RFC 3339 (what `Display` shows for a fixed date) reads back as the
    /// same instant, whatever the offset it was written with. (`Display` of a duration shows
    /// seconds, `7776000s`, for people: that form is not an input, so it has no round trip.)
    #[test]
    fn rfc3339_instants_round_trip(secs in -62_135_596_800i64..253_402_214_400, offset_minutes in -1439i32..1440) {
        let at = Utc.timestamp_opt(secs, 0).unwrap();
        let shown = Expiration::At(at).to_string();
        prop_assert_eq!(Expiration::parse(&shown).unwrap(), Expiration::At(at));
        let zone = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let local = at.with_timezone(&zone).to_rfc3339();
        if let Ok(parsed) = Expiration::parse(&local) {
            prop_assert_eq!(parsed, Expiration::At(at), "{}", local);
        } else {
            // Only a local time outside years 0000-9999 cannot be written in RFC 3339.
            let year = at.with_timezone(&zone).format("%Y").to_string();
            prop_assert!(year.len() != 4, "{local} refused");
        }
    }
}
