//! Arguments a front end hands over as data (the app's IPC arguments, JSON read by a script)
//! are strict: every struct that crosses IPC refuses unknown fields, so a misspelled filter is an
//! error instead of no filter. This turns serde's refusal into `invalid_input` naming the field
//! to fix, without echoing the value that was sent (it may be a pasted secret).

use keyward_core::Error;
use std::fmt::Display;

/// Longest field name repeated back in a message.
const NAME_MAX_CHARS: usize = 64;

/// The `invalid_input` for `argument` that serde could not read (`error` is serde's message,
/// e.g. ``unknown field `serch`, expected one of `search`, ...``). An unknown or missing field
/// is named as the error's field, and so is a field whose own parser refused its value
/// (``invalid field `expires`: <message>``, as `KeyUpdate`'s expiry reports it); anything else
/// names `argument`.
pub fn refused(argument: &str, error: &dyn Display) -> Error {
    let text = error.to_string();
    if let Some((name, message)) = keyward_core::error::read_field_refusal(&text) {
        return Error::invalid(name, without_position(message));
    }
    if let Some(name) = quoted_after(&text, "unknown field `") {
        return Error::invalid(
            name,
            format!("is not a field of {argument}: check its spelling (nothing was done)"),
        );
    }
    if let Some(name) = quoted_after(&text, "missing field `") {
        return Error::invalid(name, format!("is required in {argument}"));
    }
    if let Some(name) = quoted_after(&text, "duplicate field `") {
        return Error::invalid(name, format!("is given twice in {argument}"));
    }
    if let Some(name) = quoted_after(&text, "unknown variant `") {
        let expected = text
            .split_once(", expected ")
            .map(|(_, rest)| format!(": expected {}", without_position(rest)))
            .unwrap_or_default();
        return Error::invalid(argument, format!("'{name}' is not known{expected}"));
    }
    let text = without_position(&text);
    let message = match text.split_once(", expected ") {
        Some((sent, expected)) => format!("{}, expected {expected}", without_values(sent)),
        None => without_values(text),
    };
    Error::invalid(argument, message)
}

/// The name between `prefix` and the next backtick, if printable and short enough to repeat.
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let rest = text.split_once(prefix)?.1;
    let name = rest.split_once('`')?.0;
    let clean = !name.is_empty()
        && name.chars().count() <= NAME_MAX_CHARS
        && !name.chars().any(char::is_control);
    Some(match clean {
        true => name.to_owned(),
        false => "(unreadable field name)".to_owned(),
    })
}

/// serde_json adds `at line L column C` when reading text: meaningless for IPC arguments.
fn without_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// `invalid type: string "…", expected u32`: the value sent is left out (it may be a secret typed
/// into the wrong field), what was expected is kept.
fn without_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push('…');
            }
            ('"', true) => quoted = false,
            (_, true) => {}
            (c, false) if c.is_control() => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::Selection;
    use keyward_core::{ErrorCode, Expiration, KeyUpdate, ListQuery};

    fn parse<T: serde::de::DeserializeOwned>(argument: &str, json: &str) -> Result<T, Error> {
        serde_json::from_str(json).map_err(|e| refused(argument, &e))
    }

    #[test]
    fn an_unknown_field_is_named() {
        let error =
            parse::<Selection>("selection", r#"{"query": {"serch": "laptop"}}"#).unwrap_err();
        assert_eq!(error.field(), Some("serch"));
        assert!(error.message().contains("selection"), "{error}");
        let error = parse::<ListQuery>("query", r#"{"search": "a", "ownr": null}"#).unwrap_err();
        assert_eq!(error.field(), Some("ownr"));
        // An owner is `{kind, id}`, read by serde's tagged-enum code, which words it otherwise.
        let error = parse::<ListQuery>(
            "query",
            r#"{"owner": {"kind": "org", "id": "x", "admin": true}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("query"), "{error}");
        assert!(
            error.message().contains(r#"expected "kind" or "id""#),
            "{error}"
        );
    }

    #[test]
    fn other_refusals_name_the_argument_without_the_value_sent() {
        let error = parse::<ListQuery>("query", r#"{"limit": "sk_live_abc"}"#).unwrap_err();
        assert_eq!(error.field(), Some("query"));
        assert!(!error.message().contains("sk_live_abc"), "{error}");
        assert!(error.message().contains("expected u32"), "{error}");
        assert!(!error.message().contains("line 1"), "{error}");
        let error = parse::<Selection>("selection", r#"{"everything": true}"#).unwrap_err();
        assert_eq!(error.field(), Some("selection"));
        assert!(
            error.message().contains("'everything' is not known"),
            "{error}"
        );
        let weird = format!(r#"{{"query": {{"{}": 1}}}}"#, "x".repeat(200));
        let error = parse::<Selection>("selection", &weird).unwrap_err();
        assert_eq!(error.field(), Some("(unreadable field name)"));
    }

    /// The edit dialog places a mistyped expiry under its `expires` field, with the message
    /// `Expiration::parse` gives (the CLI's `--expires` gives the same one).
    #[test]
    fn a_bad_expiry_in_an_update_names_expires_with_the_parsers_message() {
        let expected = Expiration::parse("soon").unwrap_err();
        let sent = serde_json::json!({"expires": "soon", "description": ""});
        let from_ipc = serde_json::from_value::<KeyUpdate>(sent)
            .map_err(|e| refused("change", &e))
            .unwrap_err();
        let from_text = parse::<KeyUpdate>("change", r#"{"expires": "soon"}"#).unwrap_err();
        for error in [from_ipc, from_text] {
            assert_eq!(error.code(), ErrorCode::InvalidInput);
            assert_eq!(error.field(), Some("expires"), "{error}");
            assert_eq!(error.message(), expected.message());
        }
        assert!(
            expected.message().contains("is not an expiry"),
            "{expected}"
        );
        let empty = parse::<KeyUpdate>("change", r#"{"expires": " "}"#).unwrap_err();
        assert_eq!(empty.field(), Some("expires"));
        assert!(empty.message().starts_with("is empty"), "{empty}");
        let wrong_type = parse::<KeyUpdate>("change", r#"{"expires": 90}"#).unwrap_err();
        assert_eq!(wrong_type.field(), Some("change"), "{wrong_type}");
    }
}
