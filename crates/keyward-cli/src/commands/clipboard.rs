//! Putting a secret on the clipboard, and staying alive until it is cleared (on X11 and Wayland the
//! copying process serves the clipboard, so a CLI that exited at once would take the secret with
//! it, and nothing would be left to clear it either).

use super::runtime;
use keyward_core::{Error, Result};
use keyward_vault::{ClearResult, SafeClipboard, DEFAULT_CLEAR_AFTER};
use secrecy::SecretString;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// The default countdown for scripts and shells that want another one than 20 s.
pub const CLEAR_AFTER_ENV: &str = "KEYWARD_CLEAR_AFTER";
/// The longest countdown: the command waits that long.
const MAX_CLEAR_AFTER_SECS: u64 = 3600;
/// With `--clear-after 0` nothing clears the copy; the timer still needs a deadline.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--clear-after SECS` as typed, else `KEYWARD_CLEAR_AFTER`, else the config file's
/// `clipboard_clear_seconds` (`configured`), else 20 s. Zero leaves the copy.
pub fn clear_after(flag: Option<&str>, configured: Option<Duration>) -> Result<Duration> {
    choose_clear_after(flag, std::env::var(CLEAR_AFTER_ENV).ok(), configured)
}

/// [`clear_after`] with the environment variable's value passed in.
fn choose_clear_after(
    flag: Option<&str>,
    env: Option<String>,
    configured: Option<Duration>,
) -> Result<Duration> {
    let (text, field) = match flag {
        Some(text) => (text.to_owned(), "clear-after"),
        None => match env {
            Some(text) if !text.trim().is_empty() => (text, CLEAR_AFTER_ENV),
            _ => return Ok(configured.unwrap_or(DEFAULT_CLEAR_AFTER)),
        },
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|secs| *secs <= MAX_CLEAR_AFTER_SECS)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "must be a whole number of seconds from 0 (do not clear) to {MAX_CLEAR_AFTER_SECS}"
                ),
            )
        })
}

/// The system clipboard, opened before anything secret exists.
pub struct Copier {
    clipboard: SafeClipboard,
    clear_after: Duration,
}

impl Copier {
    /// Opens the clipboard now, so that a missing display is an error before a key is created.
    pub fn open(clear_after: Duration) -> Result<Copier> {
        let clipboard = SafeClipboard::new();
        clipboard.connect()?;
        Ok(Copier {
            clipboard,
            clear_after,
        })
    }

    pub fn clear_after(&self) -> Duration {
        self.clear_after
    }

    /// Copies `secret`, marked so clipboard managers and history skip it, and starts the countdown.
    pub fn copy(&self, secret: &SecretString) -> Result<()> {
        let countdown = match self.clear_after {
            Duration::ZERO => NEVER,
            other => other,
        };
        self.clipboard
            .copy_secret(secret, Some(countdown))
            .map(drop)
    }

    /// Waits for the countdown (showing it on stderr unless `quiet`), or Ctrl-C, which clears at
    /// once; then reports how it ended. With `--clear-after 0` it returns at once and leaves the
    /// copy alone.
    pub fn finish(self, quiet: bool) -> Result<()> {
        let say = |text: &str| {
            if !quiet {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        };
        if self.clear_after.is_zero() {
            say("Copied to the clipboard; it will not be cleared (--clear-after 0).");
            // Dropping the clipboard would clear it (that is quitting); leaving is what was asked.
            std::mem::forget(self.clipboard);
            return Ok(());
        }
        say("Copied to the clipboard (marked so clipboard history skips it).");
        self.countdown(quiet)?;
        match self.clipboard.wait_until_cleared() {
            Some(ClearResult::Cleared) | None => say("clipboard cleared"),
            Some(ClearResult::NotOurs) => {
                say("clipboard left alone: something else was copied since")
            }
            Some(ClearResult::Failed { message }) => {
                return Err(Error::Unexpected(format!(
                    "could not clear the clipboard: {message}"
                )))
            }
        }
        Ok(())
    }

    /// Shows the seconds left (updating one line at a terminal, once otherwise) until the
    /// countdown ends, or clears at once on Ctrl-C.
    fn countdown(&self, quiet: bool) -> Result<()> {
        let tty = std::io::stderr().is_terminal();
        runtime()?.block_on(async {
            // If Ctrl-C cannot be caught, the countdown simply runs to its end.
            let interrupted = async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let mut interrupted = std::pin::pin!(interrupted);
            let mut shown: Option<u64> = None;
            while let Some(left) = self.clipboard.countdown() {
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                if !quiet && (shown.is_none() || (tty && shown != Some(secs))) {
                    let line = format!("Clearing the clipboard in {secs} s (Ctrl-C clears it now)");
                    let mut err = std::io::stderr().lock();
                    let _ = if tty {
                        write!(err, "\r{line} ")
                    } else {
                        writeln!(err, "{line}")
                    };
                    let _ = err.flush();
                    shown = Some(secs);
                }
                let nap = match left.subsec_nanos() {
                    0 => left.min(Duration::from_secs(1)),
                    nanos => Duration::from_nanos(u64::from(nanos)),
                }
                .max(Duration::from_millis(10));
                tokio::select! {
                    () = &mut interrupted => {
                        // The result is reported by `finish`, from `wait_until_cleared`.
                        let _ = self.clipboard.clear_now();
                        break;
                    }
                    () = tokio::time::sleep(nap) => {}
                }
            }
            if tty && shown.is_some() && !quiet {
                let _ = writeln!(std::io::stderr());
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_after_takes_whole_seconds_up_to_an_hour() {
        let flag = |text: &str| choose_clear_after(Some(text), None, None);
        assert_eq!(flag("0").unwrap(), Duration::ZERO);
        assert_eq!(flag(" 15 ").unwrap(), Duration::from_secs(15));
        assert_eq!(flag("3600").unwrap(), Duration::from_secs(3600));
        for bad in ["-1", "1.5", "3601", "soon", ""] {
            assert_eq!(
                flag(bad).unwrap_err().field(),
                Some("clear-after"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn flag_beats_env_beats_config_beats_the_default() {
        let secs = Duration::from_secs;
        let env = || Some("7".to_owned());
        let config = Some(secs(9));
        assert_eq!(
            choose_clear_after(Some("5"), env(), config).unwrap(),
            secs(5)
        );
        assert_eq!(choose_clear_after(None, env(), config).unwrap(), secs(7));
        assert_eq!(choose_clear_after(None, None, config).unwrap(), secs(9));
        assert_eq!(
            choose_clear_after(None, Some("  ".into()), config).unwrap(),
            secs(9)
        );
        assert_eq!(
            choose_clear_after(None, None, None).unwrap(),
            DEFAULT_CLEAR_AFTER
        );
        assert_eq!(
            choose_clear_after(None, Some("soon".into()), config)
                .unwrap_err()
                .field(),
            Some(CLEAR_AFTER_ENV)
        );
    }
}
