//! What every adapter's create-answer reader shares. A create answer that carries a secret has
//! made a key, so it is read as leniently as it can be: a broken neighbour (a number beyond `f64`,
//! bytes after the object, a body cut short) must never lose the secret. And a key id the answer
//! gives is the server's text: it reaches a message only through [`id_for_message`].

use serde::Deserialize;
use serde_json::Value;

/// The answer as JSON: strictly if it is valid JSON; else with every number beyond `f64` (which
/// serde_json refuses as "number out of range", though RFC 8259 sets no range) read as `null` and
/// anything after the first value ignored. `None` when even that is not JSON (a body cut short:
/// see [`string_field`]).
pub(crate) fn parse(body: &[u8]) -> Option<Value> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Some(value);
    }
    let text = std::str::from_utf8(body).ok()?;
    let tamed = huge_numbers_as_null(text);
    // No `end()`: bytes after the first value are not the answer's business.
    Value::deserialize(&mut serde_json::Deserializer::from_str(&tamed)).ok()
}

/// `text` with each number outside a string literal that `f64` cannot hold replaced by `null`.
fn huge_numbers_as_null(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        if c == '-' || c.is_ascii_digit() {
            let mut end = at + c.len_utf8();
            while let Some(&(next_at, next)) = chars.peek() {
                if !(next.is_ascii_digit() || "+-.eE".contains(next)) {
                    break;
                }
                end = next_at + next.len_utf8();
                chars.next();
            }
            let number = &text[at..end];
            match number.parse::<f64>() {
                Ok(value) if value.is_infinite() => out.push_str("null"),
                _ => out.push_str(number),
            }
            continue;
        }
        in_string = c == '"';
        out.push(c);
    }
    out
}

/// A string field of an answer that is not JSON even to [`parse`] (cut short, say): the first
/// `"name": "…"` in it whose string literal is complete.
pub(crate) fn string_field(body: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let needle = format!("\"{name}\"");
    let mut rest = text.as_ref();
    while let Some(at) = rest.find(&needle) {
        rest = &rest[at + needle.len()..];
        let Some(value) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        if !value.starts_with('"') {
            continue;
        }
        // The string literal ends at the first quote not escaped by a backslash.
        let mut escaped = false;
        for (index, c) in value.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return serde_json::from_str(&value[..=index]).ok(),
                _ => escaped = false,
            }
        }
        return None;
    }
    None
}

/// The longest key id a message quotes; every backend's real ids are far shorter.
const ID_MAX_CHARS: usize = 80;

/// A key id from a server's answer, fit to quote in a message: each control character (a
/// terminal escape, a newline) shown as `?`, and at most [`ID_MAX_CHARS`] characters, then `…`.
pub(crate) fn id_for_message(id: &str) -> String {
    let mut out: String = id
        .chars()
        .take(ID_MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if id.chars().count() > ID_MAX_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_beyond_f64_is_read_as_null_and_the_rest_kept() {
        let body = br#"{"id":"ak_1","secret":"S","last_used_at":1e400,"n":[-1e999,2.5,"1e400"]}"#;
        let value = parse(body).unwrap();
        assert_eq!(value["secret"], "S");
        assert_eq!(value["last_used_at"], Value::Null);
        assert_eq!(value["n"], serde_json::json!([null, 2.5, "1e400"]));
    }

    #[test]
    fn a_quote_or_a_digit_inside_a_string_is_left_alone() {
        let body = br#"{"note":"a \"1e400\" \\","secret":"f00d","x":1e400} trailing"#;
        let value = parse(body).unwrap();
        assert_eq!(value["note"], r#"a "1e400" \"#);
        assert_eq!(value["secret"], "f00d");
    }

    #[test]
    fn a_body_cut_short_still_gives_its_complete_fields() {
        let body = br#"{"api_key_id":"abc","api_key_token" : "f\u0030\u0030d","x":[1,"#;
        assert_eq!(parse(body), None);
        assert_eq!(string_field(body, "api_key_token").as_deref(), Some("f00d"));
        assert_eq!(string_field(body, "api_key_id").as_deref(), Some("abc"));
        assert_eq!(string_field(br#"{"token":5,"token":"#, "token"), None);
    }

    #[test]
    fn an_id_for_a_message_is_printable_and_bounded() {
        assert_eq!(id_for_message("ak_123"), "ak_123");
        assert_eq!(id_for_message("\u{1b}[2J\n"), "?[2J?");
        let long = "x".repeat(5000);
        let shown = id_for_message(&long);
        assert_eq!(shown.chars().count(), ID_MAX_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
