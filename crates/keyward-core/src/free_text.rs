//! The one check of the free text a user types into a key: its name, its description and a revoke
//! reason. Each backend declares how long each may be ([`TextLimits`], in its capabilities), and
//! the check runs before anything is sent or written: a length in characters, no control
//! characters, and nothing that looks like a secret or credential, because free text is shown in
//! listings, sent to servers and written to the local activity log in the clear.
//!
//! Errors name the field and say why; they never echo the value (it may be a secret).

use crate::error::{Error, Result};
use crate::key_format;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// The free-text fields of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Name,
    Description,
    Reason,
}

impl TextField {
    /// The field name errors carry (what front ends highlight).
    pub fn as_str(self) -> &'static str {
        match self {
            TextField::Name => "name",
            TextField::Description => "description",
            TextField::Reason => "reason",
        }
    }

    /// A description may span lines; a name or a reason is one line.
    fn allows(self, c: char) -> bool {
        self == TextField::Description && (c == '\n' || c == '\t')
    }
}

/// The most characters a backend keeps of each free-text field. Declared in
/// [`crate::Capabilities::text_limits`], so front ends can show them (e.g. as `maxlength`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TextLimits {
    pub name: usize,
    pub description: usize,
    pub reason: usize,
}

impl TextLimits {
    /// What every backend accepts at most; a backend may declare less. The name and description
    /// caps are [`crate::NewKey`]'s own.
    pub const GENERIC: TextLimits = TextLimits {
        name: crate::NewKey::NAME_MAX_CHARS,
        description: crate::NewKey::DESCRIPTION_MAX_CHARS,
        reason: 500,
    };

    pub fn of(&self, field: TextField) -> usize {
        match field {
            TextField::Name => self.name,
            TextField::Description => self.description,
            TextField::Reason => self.reason,
        }
    }

    /// Checks `value` as `field` against this backend's limit; see [`check`].
    pub fn check(
        &self,
        field: TextField,
        value: &str,
        known_secrets: &[&SecretString],
    ) -> Result<()> {
        check(field, value, self.of(field), known_secrets)
    }

    /// A revoke reason, trimmed, checked before any revoke is sent; `None` when there is none
    /// (an empty or blank reason is no reason).
    pub fn checked_reason(
        &self,
        reason: Option<&str>,
        known_secrets: &[&SecretString],
    ) -> Result<Option<String>> {
        let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        self.check(TextField::Reason, reason, known_secrets)?;
        Ok(Some(reason.to_owned()))
    }
}

/// A known secret shorter than this is not looked for in free text: it would match ordinary
/// words. Every real credential is far longer.
pub const KNOWN_SECRET_MIN_CHARS: usize = 8;

/// Checks one free-text value: at most `limit` characters (counted as characters, not bytes), no
/// control characters (a description may hold newlines and tabs), and nothing that looks like a
/// secret: a Keyward `kw_` key, a Clerk secret key (`sk_live_…`, `sk_test_…`) or API-key secret
/// (`ak_` and 40 or more letters and digits; a 32-hex-digit `ak_` id is fine), a long run of hex
/// digits (PropelAuth API key tokens and FreeSewing key secrets are hex), or any of
/// `known_secrets` (the profile's own credential), whole or embedded. The error is
/// `invalid_input` naming the field; it never quotes the value.
pub fn check(
    field: TextField,
    value: &str,
    limit: usize,
    known_secrets: &[&SecretString],
) -> Result<()> {
    let name = field.as_str();
    let chars = value.chars().count();
    if chars > limit {
        return Err(Error::invalid(
            name,
            format!("is {chars} characters long; the limit is {limit}"),
        ));
    }
    if value.chars().any(|c| c.is_control() && !field.allows(c)) {
        return Err(Error::invalid(
            name,
            if field == TextField::Description {
                "contains control characters (escapes; only newlines and tabs are allowed)"
            } else {
                "contains control characters (tabs, newlines or escapes)"
            },
        ));
    }
    if let Some(what) = secret_in(value, known_secrets) {
        return Err(Error::invalid(
            name,
            format!("looks like it holds {what}; never paste a secret or credential here"),
        ));
    }
    Ok(())
}

/// What kind of secret `text` holds, if it holds one.
fn secret_in(text: &str, known_secrets: &[&SecretString]) -> Option<&'static str> {
    let holds_known = known_secrets.iter().any(|secret| {
        let secret = secret.expose_secret().trim();
        secret.chars().count() >= KNOWN_SECRET_MIN_CHARS && text.contains(secret)
    });
    if holds_known {
        return Some("this profile's credential");
    }
    if holds_keyward_key(text) {
        return Some("a Keyward key (kw_…)");
    }
    for word in words(text) {
        if let Some(what) = secret_word(word) {
            return Some(what);
        }
    }
    None
}

/// Whether a valid `kw_` key (checksum included) is anywhere in `text`.
fn holds_keyward_key(text: &str) -> bool {
    text.match_indices(key_format::PREFIX).any(|(start, _)| {
        text.get(start..start + key_format::SECRET_LEN)
            .is_some_and(|candidate| key_format::check(candidate).is_ok())
    })
}

/// The runs of letters, digits and `_` in `text` (a secret is one such run).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
}

/// Letters and digits after a Clerk secret key's prefix, at least (Clerk's keys carry far more).
const CLERK_SECRET_KEY_MIN_TAIL: usize = 16;
/// Letters and digits after `ak_`, at least, for a Clerk API-key secret: its ids are `ak_` and 32
/// hex digits, its secrets longer.
const CLERK_API_KEY_SECRET_MIN_TAIL: usize = 40;
/// Hex digits in a row, at least, for a bare hex token: above a SHA-1 or a 32-digit id, at or
/// below the 64 digits of a PropelAuth API key token or a FreeSewing key secret.
const HEX_TOKEN_MIN_DIGITS: usize = 48;

fn secret_word(word: &str) -> Option<&'static str> {
    let alnum_tail = |tail: &str, at_least: usize| {
        tail.len() >= at_least && tail.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    for prefix in ["sk_live_", "sk_test_"] {
        if let Some(at) = word.find(prefix) {
            let tail: String = word[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if alnum_tail(&tail, CLERK_SECRET_KEY_MIN_TAIL) {
                return Some("a Clerk secret key (sk_live_… or sk_test_…)");
            }
        }
    }
    if let Some(at) = word.find("ak_") {
        let tail: String = word[at + 3..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if alnum_tail(&tail, CLERK_API_KEY_SECRET_MIN_TAIL) {
            return Some("a Clerk API key secret (ak_…)");
        }
    }
    let longest_hex_run = word
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest_hex_run >= HEX_TOKEN_MIN_DIGITS {
        return Some("an API key token or secret (a long run of hex digits)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn refused(field: TextField, value: &str, limit: usize, known: &[&SecretString]) -> Error {
        let error = check(field, value, limit, known).expect_err(value);
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert_eq!(error.field(), Some(field.as_str()));
        error
    }

    /// The message never quotes the value (nor a long piece of it).
    fn assert_no_echo(error: &Error, value: &str) {
        let everything = format!("{error} {error:?}");
        let piece: String = value.chars().take(12).collect();
        assert!(!everything.contains(&piece), "{everything}");
    }

    #[test]
    fn length_is_counted_in_characters_and_the_limit_is_named() {
        assert!(check(TextField::Name, &"é".repeat(100), 100, &[]).is_ok());
        assert!(check(TextField::Name, &"🔑".repeat(100), 100, &[]).is_ok());
        let error = refused(TextField::Name, &"é".repeat(101), 100, &[]);
        assert!(error
            .to_string()
            .contains("101 characters long; the limit is 100"));
        let long = "x".repeat(10_000);
        let error = refused(TextField::Reason, &long, 500, &[]);
        assert!(error.to_string().contains("10000 characters"), "{error}");
        assert_no_echo(&error, &long);
    }

    #[test]
    fn control_characters_are_refused_but_a_description_may_span_lines() {
        for value in ["a\u{1b}[2J", "line\nbreak", "tab\there", "nul\0"] {
            refused(TextField::Name, value, 100, &[]);
            refused(TextField::Reason, value, 100, &[]);
        }
        assert!(check(TextField::Description, "two\nlines\tand a tab", 100, &[]).is_ok());
        refused(TextField::Description, "bell\u{7}", 100, &[]);
        refused(TextField::Description, "escape\u{1b}[2J", 100, &[]);
    }

    #[test]
    fn a_keyward_key_is_refused_whole_or_embedded() {
        let key = key_format::generate().unwrap();
        let key = key.expose_secret();
        for value in [key.to_owned(), format!("CI key {key} (old)")] {
            for field in [TextField::Name, TextField::Description, TextField::Reason] {
                let error = refused(field, &value, 1000, &[]);
                assert!(error.to_string().contains("Keyward key"), "{error}");
                assert_no_echo(&error, key);
            }
        }
        // A kw_ word that is not a key (wrong checksum, too short) is ordinary text.
        assert!(check(TextField::Name, "kw_staging rotation", 100, &[]).is_ok());
        let mut typo = key.to_owned();
        typo.replace_range(5..6, if &key[5..6] == "A" { "B" } else { "A" });
        assert!(check(TextField::Name, &typo, 100, &[]).is_ok());
    }

    #[test]
    fn clerk_secret_keys_and_api_key_secrets_are_refused() {
        let live = "sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh";
        let test = "sk_test_Zq8WpD1x0oBv7nM2kL5jH3gF";
        let api_secret = format!("ak_{}", "9f".repeat(24));
        for value in [
            live.to_owned(),
            format!("leaked:{test}."),
            format!("old secret {api_secret}"),
        ] {
            let error = refused(TextField::Reason, &value, 500, &[]);
            assert!(error.to_string().contains("Clerk"), "{error}");
            assert_no_echo(&error, value.split_whitespace().last().unwrap());
        }
        // The prefixes alone, a Clerk key id, a short word: ordinary text.
        for value in [
            "rotated the sk_live_ key",
            "replaced by ak_0123456789abcdef0123456789abcdef",
            "sk_test_short",
        ] {
            assert!(check(TextField::Reason, value, 500, &[]).is_ok(), "{value}");
        }
    }

    #[test]
    fn long_hex_tokens_are_refused_but_ids_and_hashes_are_not() {
        let token = "a1".repeat(32);
        let error = refused(TextField::Name, &format!("token {token}"), 100, &[]);
        assert_no_echo(&error, &token);
        for value in [
            "0123456789abcdef0123456789abcdef",         // a PropelAuth key id
            "da39a3ee5e6b4b0d3255bfef95601890afd80709", // a SHA-1
            "5f0e6c5e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",     // a FreeSewing key id (UUID)
        ] {
            assert!(check(TextField::Name, value, 100, &[]).is_ok(), "{value}");
        }
    }

    #[test]
    fn a_known_secret_is_refused_whole_or_embedded_and_not_quoted() {
        let credential = SecretString::from("My-Session-Cookie.value/42");
        let known = [&credential];
        for value in [
            "My-Session-Cookie.value/42",
            "ci (My-Session-Cookie.value/42)",
        ] {
            let error = refused(TextField::Description, value, 255, &known);
            assert!(error.to_string().contains("credential"), "{error}");
            assert_no_echo(&error, "My-Session-Cookie.value/42");
        }
        assert!(check(TextField::Description, "my session", 255, &known).is_ok());
        // A known secret too short to tell from a word is not looked for.
        let short = SecretString::from("abc");
        assert!(check(TextField::Name, "abcdef", 100, &[&short]).is_ok());
    }

    #[test]
    fn a_reason_is_trimmed_and_a_blank_one_is_none() {
        let limits = TextLimits::GENERIC;
        assert_eq!(limits.checked_reason(None, &[]).unwrap(), None);
        assert_eq!(limits.checked_reason(Some("  "), &[]).unwrap(), None);
        assert_eq!(
            limits.checked_reason(Some(" rotated "), &[]).unwrap(),
            Some("rotated".to_owned())
        );
        let error = limits
            .checked_reason(Some(&"y".repeat(501)), &[])
            .unwrap_err();
        assert_eq!(error.field(), Some("reason"));
    }
}
