//! Writing results: plain text for people, JSON for scripts, and how errors and exit codes look.
//!
//! Backend data is data: every string that came from a backend goes through [`clean`] before it
//! reaches a terminal, so a key name cannot move the cursor, clear the screen or reorder text.

use chrono::{DateTime, Utc};
use keyward_core::{Error, ErrorCode, Result};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// How the process ends. The numbers are documented in the README and `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// `keys verify`: the secret is revoked, expired or unknown.
    SecretNotValid,
    Failed(ErrorCode),
    /// Stopped by Ctrl-C before everything was done (`keys revoke`), without another failure.
    Interrupted,
}

impl Exit {
    pub const SECRET_NOT_VALID: u8 = 10;
    /// 128 + SIGINT, as shells report a process stopped by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::SecretNotValid => ExitCode::from(Exit::SECRET_NOT_VALID),
            Exit::Interrupted => ExitCode::from(Exit::INTERRUPTED),
            Exit::Failed(code) => ExitCode::from(u8::try_from(code.exit_code()).unwrap_or(1)),
        }
    }
}

/// Writes `text` to stdout and flushes, so a closed pipe is an error rather than a panic.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(write_failed)
}

/// One compact JSON document on one line of stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut line = serde_json::to_string(value)
        .map_err(|e| Error::Unexpected(format!("cannot encode JSON output: {e}")))?;
    line.push('\n');
    print(&line)
}

pub fn write_failed(e: std::io::Error) -> Error {
    Error::Unexpected(format!("cannot write output: {e}"))
}

/// A line for people on stderr (never a secret). A closed stderr is no reason to fail.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Reports a failed command on stderr: `error: field: message`, or `{"error":{...}}` with `--json`.
pub fn report_error(error: &Error, json: bool) {
    let text = if json {
        serde_json::json!({ "error": error.to_body() }).to_string()
    } else {
        format!("error: {}", clean(&error.to_string()))
    };
    // Nothing sensible is left to do if stderr itself is gone.
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Makes text safe for a terminal: control characters and bidirectional overrides are shown
/// escaped (`\u{1b}`) instead of being interpreted.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Cleans and shortens text for a table cell.
pub fn cell(text: &str, max_chars: usize) -> String {
    let text = clean(text);
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

pub fn expiry(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "never".to_owned(), time)
}

/// Left-aligned columns separated by two spaces, without trailing blanks.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (value, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(value);
            let pad = width - value.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(clean("ok name"), "ok name");
        assert_eq!(clean("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(clean("line\nbreak\ttab"), "line\\nbreak\\ttab");
        assert_eq!(clean("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(clean("café ✓"), "café ✓");
    }

    #[test]
    fn cells_are_shortened_by_characters() {
        assert_eq!(cell("abcdef", 4), "abc…");
        assert_eq!(cell("éééé", 4), "éééé");
    }

    #[test]
    fn tables_align_and_have_no_trailing_blanks() {
        let text = table(
            &["ID", "NAME", "X"],
            &[
                vec!["1".into(), "laptop".into(), String::new()],
                vec!["22".into(), "é".into(), "y".into()],
            ],
        );
        assert_eq!(text, "ID  NAME    X\n1   laptop\n22  é       y\n");
    }

    #[test]
    fn exit_codes_follow_the_error_codes() {
        assert_eq!(ExitCode::from(Exit::Ok), ExitCode::SUCCESS);
        assert_eq!(ExitCode::from(Exit::SecretNotValid), ExitCode::from(10));
        for code in ErrorCode::ALL {
            assert_eq!(
                ExitCode::from(Exit::Failed(code)),
                ExitCode::from(code.exit_code() as u8)
            );
        }
    }
}
