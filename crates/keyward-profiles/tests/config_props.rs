//! Property tests of the config file parser (`Config::parse`).
//!
//! Whatever a config file holds (random text, TOML-ish text, a value of the wrong type in any
//! known field, huge numbers, unknown fields), reading it never panics, and a refusal is
//! `invalid_input` whose message names the file, the line and the field (the field is also the
//! error's own `field`), without quoting a value pasted there. Valid files read back as written.

use keyward_core::{Error, ErrorCode, Subject};
use keyward_profiles::{
    BackendSettings, ClerkApiPath, Config, FreeSewingAuthKind, PropelAuthApiKind,
    CLIPBOARD_CLEAR_SECONDS,
};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::path::{Path, PathBuf};

const PATH: &str = "/home/me/.config/keyward/config.toml";

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn parse(text: &str) -> Result<Config, Error> {
    Config::parse(text, Path::new(PATH))
}

/// The refusal names the file, a line that exists, and a field; it is one printable line.
fn assert_located(error: &Error, text: &str) {
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    let field = error.field().expect("a field is named");
    assert!(!field.is_empty(), "{error}");
    let message = error.to_string();
    assert!(message.contains(PATH), "no file in {message}");
    assert!(
        !message.chars().any(char::is_control),
        "control characters in {message:?}"
    );
    // Every message but the "several profiles and no default" one points at a line.
    if let Some(rest) = message.split(", line ").nth(1) {
        let line: usize = rest
            .split(',')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no line number in {message}"));
        let lines = text.split('\n').count();
        assert!(
            (1..=lines).contains(&line),
            "line {line} of {lines}: {message}"
        );
        assert!(
            message.contains(&format!("field {field}:")),
            "field {field} not in {message}"
        );
    } else {
        assert_eq!(field, "default_profile", "{message}");
    }
}

/// The line (1-based) on which `needle` first appears in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("needle in text");
    text[..at].matches('\n').count() + 1
}

/// Random text shaped a little like TOML: headers, keys, values, comments, broken quoting.
fn tomlish_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[profiles.local]".to_owned()),
        Just("[profiles]".to_owned()),
        Just("[[profiles]]".to_owned()),
        "\\[profiles\\.[a-z\"\\. -]{0,8}\\]?",
        Just("backend = \"local\"".to_owned()),
        Just("backend = \"clerk\"".to_owned()),
        Just("url = \"https://api.clerk.com\"".to_owned()),
        Just("default_profile = \"local\"".to_owned()),
        // Quoted keys and values holding a terminal escape.
        Just("\"\\u001b[2J\" = 1".to_owned()),
        Just("backend = \"\\u001b[2J\"".to_owned()),
        "(backend|url|subject|api|auth|api_path|auth_url|data_dir|default_profile|clipboard_clear_seconds|[a-z_]{1,8}) ?=? ?(\"[^\"\n]{0,12}\"?|-?[0-9_]{1,25}|[0-9.eE+-]{1,10}|true|false|\\[[^\n]{0,10}\\]?|\\{[^\n]{0,10}\\}?|'[^\n]{0,8}'?|\"\"\"|1979-05-27T07:32:00Z|nan|inf)",
        "#[^\n]{0,20}",
        Just(String::new()),
        "\\PC{0,15}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn random_text_is_read_or_refused_with_a_location(text in prop_oneof![any::<String>(), tomlish_text()]) {
        if let Err(error) = parse(&text) {
            assert_located(&error, &text);
        }
    }
}

/// A TOML value that is not a string, in one line.
fn non_string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        Just("inf".to_owned()),
        Just("-nan".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[]".to_owned()),
        Just("[\"local\", \"clerk\"]".to_owned()),
        Just("[1, 2, 3]".to_owned()),
        Just("{}".to_owned()),
        Just("{ url = \"https://a.b\" }".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("1979-05-27".to_owned()),
        Just("07:32:00".to_owned()),
        Just("0x7fffffff".to_owned()),
    ]
}

/// A string value that is no valid choice anywhere, carrying something a user might paste.
fn pasted_string() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{6,16}".prop_map(|s| format!("sk_live_{s}"))
}

/// `(header, base lines)` of a profile that takes `key`, so only `key`'s value can be wrong.
fn profile_taking(key: &str) -> (&'static str, &'static str) {
    match key {
        "data_dir" => ("[profiles.mine]", "backend = \"local\""),
        "api_path" => (
            "[profiles.mine]",
            "backend = \"clerk\"\nurl = \"https://api.clerk.com\"",
        ),
        "auth" => (
            "[profiles.mine]",
            "backend = \"freesewing\"\nurl = \"https://backend.freesewing.org\"",
        ),
        _ => (
            "[profiles.mine]",
            "backend = \"propelauth\"\nurl = \"https://auth.example.com\"",
        ),
    }
}

const PROFILE_KEYS: [&str; 8] = [
    "backend", "data_dir", "url", "subject", "api", "auth", "api_path", "auth_url",
];

proptest! {
    #![proptest_config(config(600))]

    /// A value of the wrong type in any known field, anywhere in the file, is refused naming that
    /// field and its line.
    #[test]
    fn a_wrongly_typed_value_names_its_field_and_line(
        key in proptest::sample::select(PROFILE_KEYS.to_vec()),
        value in non_string_value(),
        blank_before in 0usize..4,
        at_end in any::<bool>(),
    ) {
        let (header, base) = profile_taking(key);
        let base = base.lines().filter(|l| !l.starts_with(&format!("{key} ="))).collect::<Vec<_>>().join("\n");
        let wrong = format!("{key} = {value}");
        let gap = "\n# a comment\n".repeat(blank_before);
        let body = if at_end { format!("{base}\n{gap}{wrong}") } else { format!("{gap}{wrong}\n{base}") };
        let text = format!("[profiles.other]\nbackend = \"local\"\n\n{header}\n{body}\n");
        let error = parse(&text).unwrap_err();
        assert_located(&error, &text);
        let want = format!("profiles.mine.{key}");
        prop_assert_eq!(error.field(), Some(want.as_str()), "{}", error);
        let line = line_of(&text, &wrong);
        prop_assert!(error.to_string().contains(&format!("line {line},")), "want line {line}: {error}\n{text}");
    }

    #[test]
    fn a_wrongly_typed_top_level_value_names_its_field_and_line(
        key in proptest::sample::select(vec!["default_profile", "clipboard_clear_seconds"]),
        value in prop_oneof![non_string_value(), pasted_string().prop_map(|s| format!("\"{s}\""))],
        comments in 0usize..4,
    ) {
        let wrong = format!("{key} = {value}");
        let text = format!("{}{wrong}\n[profiles.local]\nbackend = \"local\"\n", "# note\n".repeat(comments));
        let result = parse(&text);
        // An integer from 1 to 3600 is a valid clipboard countdown.
        if key == "clipboard_clear_seconds" {
            if let Ok(n) = value.parse::<u64>() {
                if CLIPBOARD_CLEAR_SECONDS.contains(&n) {
                    prop_assert_eq!(result.unwrap().clipboard_clear_seconds, Some(n));
                    return Ok(());
                }
            }
        }
        let error = result.unwrap_err();
        assert_located(&error, &text);
        prop_assert_eq!(error.field(), Some(key), "{}", error);
        prop_assert!(error.to_string().contains(&format!("line {},", comments + 1)), "{}", error);
    }

    /// A token pasted into a field that takes something else is refused without being quoted
    /// back: it must not end up in a log or a dialog. The choice fields (`api`, `auth`,
    /// `api_path`) and `subject` show a typo back, by design, but only its first 40 printable
    /// characters, so a long token is never shown whole. Control characters never reach the
    /// message.
    #[test]
    fn a_pasted_token_is_not_quoted_back(
        key in proptest::sample::select(vec!["backend", "api", "auth", "api_path", "url", "subject", "auth_url"]),
        token in prop_oneof![pasted_string(), "[A-Za-z0-9]{41,80}".prop_map(|s| format!("sk_live_{s}"))],
        escape in any::<bool>(),
    ) {
        let (header, base) = profile_taking(key);
        let base = base.lines().filter(|l| !l.starts_with(&format!("{key} ="))).collect::<Vec<_>>().join("\n");
        // A terminal escape inside the value must not reach a terminal through the message.
        let written = if escape { format!("\\u001b[2J{token}") } else { token.clone() };
        let text = format!("{header}\n{base}\n{key} = \"{written}\"\n");
        let error = parse(&text).unwrap_err();
        assert_located(&error, &text);
        let want = format!("profiles.mine.{key}");
        prop_assert_eq!(error.field(), Some(want.as_str()), "{}", error);
        let shows_typos = ["api", "auth", "api_path", "subject"].contains(&key);
        if !shows_typos || token.chars().count() > 40 {
            prop_assert!(!error.to_string().contains(&token), "the token was quoted: {}", error);
        }
    }

    /// Any integer literal, however large (past `i64` too), for the clipboard countdown: read
    /// exactly when it is from 1 to 3600, else refused naming the field.
    #[test]
    fn clipboard_seconds_of_any_size(
        digits in prop_oneof!["[0-9]{1,40}", "-[0-9]{1,40}", "[1-9][0-9_]{0,30}", "0x[0-9a-f]{1,20}", "0o[0-7]{1,25}", "0b[01]{1,70}", "\\+[0-9]{1,25}"],
    ) {
        let text = format!("clipboard_clear_seconds = {digits}\n");
        match parse(&text) {
            Ok(config) => {
                let n = config.clipboard_clear_seconds.expect("a countdown");
                prop_assert!(CLIPBOARD_CLEAR_SECONDS.contains(&n), "{digits} gave {n}");
                let plain = digits.replace('_', "").trim_start_matches('+').to_owned();
                let want = if let Some(hex) = plain.strip_prefix("0x") { u64::from_str_radix(hex, 16).ok() }
                    else if let Some(oct) = plain.strip_prefix("0o") { u64::from_str_radix(oct, 8).ok() }
                    else if let Some(bin) = plain.strip_prefix("0b") { u64::from_str_radix(bin, 2).ok() }
                    else { plain.parse().ok() };
                prop_assert_eq!(Some(n), want, "{}", digits);
            }
            Err(error) => {
                assert_located(&error, &text);
                prop_assert_eq!(error.field(), Some("clipboard_clear_seconds"), "{}", error);
                prop_assert!(error.to_string().contains("line 1,"), "{}", error);
            }
        }
    }

    /// An unknown key, at the top or in a profile, is refused naming it and its line, and the
    /// value written there stays out of the message.
    #[test]
    fn unknown_fields_are_named_with_their_line(
        key in "[a-z][a-z0-9_-]{0,15}".prop_filter("not a known key", |k| !PROFILE_KEYS.contains(&k.as_str()) && !["default_profile", "clipboard_clear_seconds", "profiles"].contains(&k.as_str())),
        token in pasted_string(),
        in_profile in any::<bool>(),
        comments in 0usize..3,
    ) {
        let notes = "# note\n".repeat(comments);
        let (text, field, line) = if in_profile {
            (format!("[profiles.local]\n{notes}backend = \"local\"\n{key} = \"{token}\"\n"), format!("profiles.local.{key}"), comments + 3)
        } else {
            (format!("{notes}{key} = \"{token}\"\n[profiles.local]\nbackend = \"local\"\n"), key.clone(), comments + 1)
        };
        let error = parse(&text).unwrap_err();
        assert_located(&error, &text);
        prop_assert_eq!(error.field(), Some(field.as_str()), "{}", error);
        prop_assert!(error.to_string().contains(&format!("line {line},")), "{}", error);
        prop_assert!(!error.to_string().contains(&token), "{}", error);
    }
}

/// One valid profile as written in a file, and the settings it must read as.
fn valid_profile() -> impl Strategy<Value = (String, BackendSettings)> {
    let host = "[a-z]{1,10}\\.(com|org|dev)";
    let id = "[A-Za-z0-9]{4,20}";
    prop_oneof![
        proptest::option::of("/[a-z0-9/_-]{1,30}").prop_map(|dir| {
            let line = dir.as_ref().map(|d| format!("data_dir = \"{d}\"\n")).unwrap_or_default();
            (format!("backend = \"local\"\n{line}"), BackendSettings::Local { data_dir: dir.map(PathBuf::from) })
        }),
        (host, any::<bool>(), proptest::option::of((any::<bool>(), id))).prop_map(|(host, v1, subject)| {
            let (subject_line, subject) = match subject {
                Some((true, id)) => (format!("subject = \"user:{id}\"\n"), Some(Subject::User(id))),
                Some((false, id)) => (format!("subject = \"org:{id}\"\n"), Some(Subject::Org(id))),
                None => (String::new(), None),
            };
            let path = if v1 { "/v1/api_keys" } else { "/api_keys" };
            (
                format!("backend = \"clerk\"\nurl = \"https://{host}/\"\napi_path = \"{path}\"\n{subject_line}"),
                BackendSettings::Clerk { url: format!("https://{host}"), api_path: if v1 { ClerkApiPath::V1 } else { ClerkApiPath::Root }, subject },
            )
        }),
        (host, any::<bool>(), proptest::option::of(host)).prop_map(|(host, frontend, auth_url)| {
            let auth_line = auth_url.as_ref().map(|a| format!("auth_url = \"https://{a}\"\n")).unwrap_or_default();
            (
                format!("backend = \"propelauth\"\nurl = \"https://{host}\"\napi = \"{}\"\n{auth_line}", if frontend { "frontend" } else { "backend" }),
                BackendSettings::PropelAuth {
                    url: format!("https://{host}"),
                    api: if frontend { PropelAuthApiKind::Frontend } else { PropelAuthApiKind::Backend },
                    auth_url: auth_url.map(|a| format!("https://{a}")),
                    subject: None,
                },
            )
        }),
        (1u16..65535, any::<bool>()).prop_map(|(port, jwt)| {
            (
                format!("backend = \"freesewing\"\nurl = \"http://127.0.0.1:{port}\"\nauth = \"{}\"\n", if jwt { "jwt" } else { "key" }),
                BackendSettings::FreeSewing { url: format!("http://127.0.0.1:{port}"), auth: if jwt { FreeSewingAuthKind::Jwt } else { FreeSewingAuthKind::Key } },
            )
        }),
    ]
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn valid_files_read_back_as_written(
        profiles in proptest::collection::btree_map("[A-Za-z0-9_-]{1,20}", valid_profile(), 1..5),
        seconds in proptest::option::of(CLIPBOARD_CLEAR_SECONDS),
        default_index in any::<proptest::sample::Index>(),
    ) {
        let names: Vec<&String> = profiles.keys().collect();
        let default = names[default_index.index(names.len())].clone();
        let mut text = format!("default_profile = \"{default}\"\n");
        if let Some(n) = seconds {
            text.push_str(&format!("clipboard_clear_seconds = {n}\n"));
        }
        for (name, (body, _)) in &profiles {
            text.push_str(&format!("\n[profiles.{name}]\n{body}"));
        }
        let config = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(&config.default_profile, &default);
        prop_assert_eq!(config.clipboard_clear_seconds, seconds);
        prop_assert_eq!(config.profiles.len(), profiles.len());
        for (name, (_, settings)) in &profiles {
            prop_assert_eq!(&config.profile(Some(name)).unwrap().settings, settings, "{}", text);
        }
    }
}

/// The inputs these properties first failed on, kept as plain examples.
#[test]
fn found_by_the_properties() {
    // A control character in a comment: the field was taken from the line ("#\0").
    let error = parse("#\0=").unwrap_err();
    assert_eq!(error.field(), Some("config"), "{error}");
    assert_located(&error, "#\0=");
    // A token pasted as the backend: serde's "unknown variant `…`" quoted it.
    let text = "[profiles.p]\nbackend = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n";
    let error = parse(text).unwrap_err();
    assert_eq!(error.field(), Some("profiles.p.backend"), "{error}");
    assert!(!error.to_string().contains("sk_live_"), "{error}");
    assert!(error.to_string().contains("`clerk`"), "{error}");
    // A string where a number belongs: "invalid type: string \"…\"" quoted it.
    let error =
        parse("clipboard_clear_seconds = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n").unwrap_err();
    assert_eq!(error.field(), Some("clipboard_clear_seconds"), "{error}");
    assert!(!error.to_string().contains("sk_live_"), "{error}");
    // A quoted key holding a terminal escape reached the message as is.
    let text = "\"\\u001b[2J\" = 1\n";
    let error = parse(text).unwrap_err();
    assert_located(&error, text);
}
