//! The safe clipboard (docs/ARCHITECTURE.md, "Secrets": copying happens in Rust only, with a
//! visible countdown, 20 s or `KEYWARD_CLEAR_AFTER`): copy in Rust, tell clipboard managers not to
//! keep the secret in their history, clear it when the countdown ends, on demand and on quit, and
//! clear it only while the clipboard still holds our secret, so whatever the user copied since is
//! never wiped.
//!
//! Only a SHA-256 hash of the copied value is remembered, never the value. The countdown runs on
//! one std thread per [`SafeClipboard`], so it works the same in the app (tokio) and in the CLI
//! (no runtime); the UI follows it through [`SafeClipboard::subscribe`].
//!
//! Keep one `SafeClipboard` for the life of the process: on X11 the clipboard's content is served
//! by the process that copied it, and dropping the last handle empties the clipboard. In a CLI that
//! means staying alive until the countdown ends ([`SafeClipboard::wait_until_cleared`]).

use arboard::Clipboard;
use keyward_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use zeroize::Zeroizing;

pub const DEFAULT_CLEAR_AFTER: Duration = Duration::from_secs(20);

/// What a copy started: its id (as in [`ClipboardState::copy_id`]) and its countdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyTicket {
    pub copy_id: u64,
    pub clear_after: Duration,
}

/// The clipboard as the UI shows it: a countdown while one runs, then how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClipboardState {
    /// The copy this is about; `None` before the first copy.
    pub copy_id: Option<u64>,
    /// Time left before the clipboard is cleared; `None` when no countdown runs. Updated about
    /// once a second.
    pub remaining_ms: Option<u64>,
    /// How the last countdown (or clear now, or quit) ended; `None` while a countdown runs.
    pub last_result: Option<ClearResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClearResult {
    /// The clipboard still held our secret and was cleared.
    Cleared,
    /// Something else had been copied since (or the clipboard was empty): left alone.
    NotOurs,
    /// The clipboard could not be read or cleared.
    Failed { message: String },
}

/// Copies secrets to the system clipboard and clears them safely. See the module docs.
pub struct SafeClipboard {
    shared: Arc<Shared>,
    timer: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    default_clear_after: Duration,
    /// Created on first copy and kept: see the module docs for why it must live on.
    /// Lock order: `clipboard` before `copy`.
    clipboard: Mutex<Option<Clipboard>>,
    copy: Mutex<CopyState>,
    /// Wakes the timer on a new copy or on shutdown, and `wait_until_cleared` when a countdown ends.
    changed: Condvar,
    events: watch::Sender<ClipboardState>,
}

#[derive(Default)]
struct CopyState {
    /// SHA-256 of what we copied, while it may still be on the clipboard.
    ours: Option<[u8; 32]>,
    copy_id: u64,
    deadline: Option<Instant>,
    shutdown: bool,
}

impl Default for SafeClipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl SafeClipboard {
    /// A clipboard whose copies are cleared after [`DEFAULT_CLEAR_AFTER`] unless told otherwise.
    /// Does not touch the system clipboard yet.
    pub fn new() -> Self {
        Self::with_clear_after(DEFAULT_CLEAR_AFTER)
    }

    pub fn with_clear_after(default_clear_after: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                default_clear_after,
                clipboard: Mutex::new(None),
                copy: Mutex::new(CopyState::default()),
                changed: Condvar::new(),
                events: watch::channel(ClipboardState::default()).0,
            }),
            timer: Mutex::new(None),
        }
    }

    /// Puts `secret` on the clipboard, marked so clipboard managers and history skip it
    /// (`x-kde-passwordManagerHint` on Linux, the concealed type on macOS, no history or cloud on
    /// Windows), and (re)starts the countdown: `clear_after`, or this clipboard's default.
    pub fn copy_secret(
        &self,
        secret: &SecretString,
        clear_after: Option<Duration>,
    ) -> Result<CopyTicket> {
        let clear_after = clear_after.unwrap_or(self.shared.default_clear_after);
        // Before copying: a secret must never be left on the clipboard without a countdown.
        self.ensure_timer()?;
        let mut clipboard = lock(&self.shared.clipboard);
        let clipboard = match clipboard.as_mut() {
            Some(clipboard) => clipboard,
            None => clipboard.insert(Clipboard::new().map_err(unavailable)?),
        };
        set_secret_text(clipboard, secret.expose_secret()).map_err(unavailable)?;
        let copy_id = {
            let mut copy = lock(&self.shared.copy);
            copy.copy_id += 1;
            copy.ours = Some(sha256(secret.expose_secret().as_bytes()));
            copy.deadline = Some(Instant::now() + clear_after);
            // Published under the lock, so states reach subscribers in the order they happened.
            self.shared.events.send_replace(ClipboardState {
                copy_id: Some(copy.copy_id),
                remaining_ms: Some(millis(clear_after)),
                last_result: None,
            });
            copy.copy_id
        };
        self.shared.changed.notify_all();
        Ok(CopyTicket {
            copy_id,
            clear_after,
        })
    }

    /// Puts `text` that is not a secret (e.g. a key id) on the clipboard as is: no countdown, no
    /// history hint. A countdown of an earlier secret still runs, and finds the clipboard no
    /// longer ours when it ends, so it leaves this text alone.
    pub fn copy_text(&self, text: &str) -> Result<()> {
        let mut clipboard = lock(&self.shared.clipboard);
        let clipboard = match clipboard.as_mut() {
            Some(clipboard) => clipboard,
            None => clipboard.insert(Clipboard::new().map_err(unavailable)?),
        };
        clipboard.set_text(text).map_err(unavailable)
    }

    /// Opens the system clipboard without copying anything, so that a missing display (or any
    /// other reason the clipboard cannot be used) is reported before a secret is created. The
    /// handle is kept for later copies.
    pub fn connect(&self) -> Result<()> {
        let mut clipboard = lock(&self.shared.clipboard);
        if clipboard.is_none() {
            *clipboard = Some(Clipboard::new().map_err(unavailable)?);
        }
        Ok(())
    }

    /// Clears the clipboard if it still holds what we copied, and ends the countdown either way.
    /// `Ok(true)` when it cleared, `Ok(false)` when there was nothing of ours to clear.
    pub fn clear_if_ours(&self) -> Result<bool> {
        self.shared.clear_if_ours(None)
    }

    /// The "clear now" button.
    pub fn clear_now(&self) -> Result<bool> {
        self.clear_if_ours()
    }

    /// Call when the app quits: `std::process::exit` (and so Tauri's `exit`) skips destructors.
    pub fn on_quit(&self) -> Result<bool> {
        self.clear_if_ours()
    }

    /// Time left before the clipboard is cleared, while a countdown runs.
    pub fn countdown(&self) -> Option<Duration> {
        let deadline = lock(&self.shared.copy).deadline?;
        Some(deadline.saturating_duration_since(Instant::now()))
    }

    /// Follows the countdown and how it ended, for the UI.
    pub fn subscribe(&self) -> watch::Receiver<ClipboardState> {
        self.shared.events.subscribe()
    }

    /// Blocks until no countdown runs, then returns how the last one ended. For the CLI, which
    /// must stay alive while its copy is on the clipboard.
    pub fn wait_until_cleared(&self) -> Option<ClearResult> {
        let mut copy = lock(&self.shared.copy);
        while copy.deadline.is_some() {
            copy = self
                .shared
                .changed
                .wait(copy)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        // Read under the lock: the result is published under it too, as the deadline is cleared.
        self.shared.events.borrow().last_result.clone()
    }

    fn ensure_timer(&self) -> Result<()> {
        let mut timer = lock(&self.timer);
        if timer.is_none() {
            let shared = Arc::clone(&self.shared);
            let handle = thread::Builder::new()
                .name("keyward-clipboard-timer".into())
                .spawn(move || shared.run_timer())
                .map_err(|e| {
                    Error::Unexpected(format!("cannot start the clipboard timer thread: {e}"))
                })?;
            *timer = Some(handle);
        }
        Ok(())
    }
}

impl Drop for SafeClipboard {
    fn drop(&mut self) {
        // Dropping is quitting: clear what is ours, then stop the timer.
        let _ = self.clear_if_ours();
        lock(&self.shared.copy).shutdown = true;
        self.shared.changed.notify_all();
        if let Some(timer) = lock(&self.timer).take() {
            let _ = timer.join();
        }
    }
}

impl Shared {
    /// The timer thread: publishes the countdown about once a second and clears at the deadline.
    fn run_timer(&self) {
        let mut copy = lock(&self.copy);
        loop {
            if copy.shutdown {
                return;
            }
            let Some(deadline) = copy.deadline else {
                copy = self
                    .changed
                    .wait(copy)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let copy_id = copy.copy_id;
                drop(copy);
                // A failure is published to subscribers; nothing else can be done from here.
                let _ = self.clear_if_ours(Some(copy_id));
                copy = lock(&self.copy);
                continue;
            }
            let copy_id = copy.copy_id;
            self.events.send_modify(|state| {
                if state.copy_id == Some(copy_id) {
                    state.remaining_ms = Some(millis(remaining));
                }
            });
            copy = self
                .changed
                .wait_timeout(copy, until_next_whole_second(remaining))
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// `only_copy`: the timer's copy id, so a countdown that expires just as a new copy starts
    /// does not clear the new copy early.
    fn clear_if_ours(&self, only_copy: Option<u64>) -> Result<bool> {
        let mut clipboard = lock(&self.clipboard);
        let (ours, copy_id) = {
            let copy = lock(&self.copy);
            (copy.ours, copy.copy_id)
        };
        let (Some(ours), Some(clipboard)) = (ours, clipboard.as_mut()) else {
            return Ok(false);
        };
        if only_copy.is_some_and(|id| id != copy_id) {
            return Ok(false);
        }
        let outcome = clear_if_hash_matches(clipboard, &ours);
        let result = match &outcome {
            Ok(true) => ClearResult::Cleared,
            Ok(false) => ClearResult::NotOurs,
            Err(e) => ClearResult::Failed {
                message: e.to_string(),
            },
        };
        {
            let mut copy = lock(&self.copy);
            copy.deadline = None;
            // After a failure, keep the hash so that "clear now" or quitting can try again.
            if outcome.is_ok() {
                copy.ours = None;
            }
            // Under the lock: `wait_until_cleared` must see this result once the deadline is gone.
            self.events.send_replace(ClipboardState {
                copy_id: Some(copy_id),
                remaining_ms: None,
                last_result: Some(result),
            });
        }
        self.changed.notify_all();
        outcome
    }
}

fn clear_if_hash_matches(clipboard: &mut Clipboard, ours: &[u8; 32]) -> Result<bool> {
    let current = match clipboard.get_text() {
        Ok(text) => Zeroizing::new(text),
        Err(arboard::Error::ContentNotAvailable) => return Ok(false),
        Err(e) => return Err(unavailable(e)),
    };
    if !bool::from(sha256(current.as_bytes()).ct_eq(ours)) {
        return Ok(false);
    }
    clipboard.clear().map_err(unavailable)?;
    Ok(true)
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))
))]
fn set_secret_text(clipboard: &mut Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::{LinuxClipboardKind, SetExtLinux};
    clipboard
        .set()
        .clipboard(LinuxClipboardKind::Clipboard)
        .exclude_from_history()
        .text(text)
}

#[cfg(target_os = "macos")]
fn set_secret_text(clipboard: &mut Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtApple;
    clipboard.set().exclude_from_history().text(text)
}

#[cfg(windows)]
fn set_secret_text(clipboard: &mut Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtWindows;
    clipboard
        .set()
        .exclude_from_history()
        .exclude_from_cloud()
        .text(text)
}

fn unavailable(error: arboard::Error) -> Error {
    Error::Unexpected(format!("the clipboard is not available: {error}"))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How long until the remaining time next crosses a whole second, so the published countdown
/// ticks 20, 19, 18... rather than drifting.
fn until_next_whole_second(remaining: Duration) -> Duration {
    match remaining.subsec_nanos() {
        0 => remaining.min(Duration::from_secs(1)),
        nanos => Duration::from_nanos(u64::from(nanos)),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent, so a panic elsewhere must not stop
    // the clipboard from being cleared.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_ticks_on_whole_seconds() {
        assert_eq!(
            until_next_whole_second(Duration::from_millis(19_250)),
            Duration::from_millis(250)
        );
        assert_eq!(
            until_next_whole_second(Duration::from_secs(3)),
            Duration::from_secs(1)
        );
        assert_eq!(
            until_next_whole_second(Duration::from_millis(400)),
            Duration::from_millis(400)
        );
    }

    #[test]
    fn nothing_copied_means_nothing_to_clear_and_no_clipboard_needed() {
        let clipboard = SafeClipboard::new();
        assert_eq!(clipboard.countdown(), None);
        assert!(!clipboard.clear_now().unwrap());
        assert_eq!(*clipboard.subscribe().borrow(), ClipboardState::default());
    }

    #[test]
    fn states_serialize_for_the_ui() {
        let state = ClipboardState {
            copy_id: Some(3),
            remaining_ms: None,
            last_result: Some(ClearResult::NotOurs),
        };
        assert_eq!(
            serde_json::to_value(state).unwrap(),
            serde_json::json!({"copy_id": 3, "remaining_ms": null, "last_result": {"kind": "not_ours"}})
        );
    }
}
