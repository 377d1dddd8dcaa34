//! Putting a secret on the clipboard, and staying alive until it is cleared (on X11 and Wayland the
//! copying process serves the clipboard, so a CLI that exited at once would take the secret with
//! it, and nothing would be left to clear it either).

use super::runtime;
use keyward_core::{Error, Result};
use keyward_vault::{ClearResult, SafeClipboard};
use secrecy::SecretString;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// With `--clear-after 0` nothing clears the copy; the timer still needs a deadline.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--clear-after SECS` as typed, else `KEYWARD_CLEAR_AFTER`, else the config file's
/// `clipboard_clear_seconds` (`configured`), else 20 s. Zero leaves the copy. One parser for
/// both front ends: `keyward_ops::settings`.
pub fn clear_after(flag: Option<&str>, configured: Option<Duration>) -> Result<Duration> {
    let env = std::env::var(keyward_ops::settings::CLEAR_AFTER_ENV).ok();
    keyward_ops::settings::choose_clear_after(flag, env.as_deref(), configured)
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
