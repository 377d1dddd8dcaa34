//! One app per data dir: a second launch on the same data dir asks the first to show its window
//! and exits, before it opens anything; a launch on another data dir runs beside it.
//!
//! Why not `tauri-plugin-single-instance`: it keys on the app's identifier (on Linux the D-Bus
//! name `org.<identifier>.SingleInstance`, so one instance per user session), not on the data
//! dir, and it needs a session bus. Here the guard is the OS lock on `<data dir>/app.lock`
//! (released by the OS when the process dies, so a crash leaves no stale guard), and the way to
//! reach the first instance is a Unix socket beside it, `<data dir>/app.sock` (owner-only, in the
//! owner-only data dir), on which a connection means "show your window". On other platforms the
//! second launch still exits; it just cannot raise the first window.

use keyward_core::private_fs;
use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;
use std::sync::OnceLock;

const LOCK_FILE: &str = "app.lock";
#[cfg(unix)]
const SOCKET_FILE: &str = "app.sock";

/// Held for the life of the first instance: its lock, and what to run when another launch asks
/// for the window.
pub struct Guard {
    _lock: File,
    on_second_launch: std::sync::Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
}

impl Guard {
    /// Sets what a second launch on this data dir does in this process (show the main window).
    pub fn on_second_launch(&self, run: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_second_launch.set(Box::new(run));
    }
}

pub enum Claim {
    /// This process is the data dir's app.
    First(Guard),
    /// Another app holds the data dir; it has been asked to show its window (if it could be).
    Second { shown: bool },
}

/// Takes the data dir's app lock, or reports that another process holds it (and asks that one
/// to show its window).
pub fn claim(data_dir: &Path) -> io::Result<Claim> {
    private_fs::ensure_private_dir(data_dir)?;
    let path = data_dir.join(LOCK_FILE);
    let lock = private_fs::private_open_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    private_fs::tighten_file(&path)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Ok(Claim::Second {
                shown: ask_first_to_show(data_dir),
            })
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let on_second_launch = std::sync::Arc::new(OnceLock::new());
    listen_for_second_launches(data_dir, on_second_launch.clone());
    Ok(Claim::First(Guard {
        _lock: lock,
        on_second_launch,
    }))
}

#[cfg(unix)]
fn ask_first_to_show(data_dir: &Path) -> bool {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    UnixStream::connect(data_dir.join(SOCKET_FILE))
        .and_then(|mut first| first.write_all(b"show\n"))
        .is_ok()
}

#[cfg(not(unix))]
fn ask_first_to_show(_data_dir: &Path) -> bool {
    false
}

/// Serves the data dir's socket on a thread of its own. Only the lock's holder gets here, so a
/// socket file left by a crashed app is replaced. Failing to listen leaves the guard in place:
/// later launches still exit, they just cannot raise this window.
#[cfg(unix)]
fn listen_for_second_launches(
    data_dir: &Path,
    on_second_launch: std::sync::Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
) {
    use std::io::Read;
    use std::os::unix::net::UnixListener;
    let path = data_dir.join(SOCKET_FILE);
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "keyward: cannot listen on {}: {e}; a second launch will exit without showing this window",
                path.display()
            );
            return;
        }
    };
    let _ = private_fs::tighten_file(&path);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // Whatever is said, a connection means "show the window"; read a little, never wait.
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = (&stream).take(16).read(&mut [0; 16]);
            if let Some(show) = on_second_launch.get() {
                show();
            }
        }
    });
}

#[cfg(not(unix))]
fn listen_for_second_launches(
    _data_dir: &Path,
    _on_second_launch: std::sync::Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
) {
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_second_claim_on_one_data_dir_is_refused_and_raises_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let Claim::First(first) = claim(&data).unwrap() else {
            panic!("the first claim was refused");
        };
        let shown = Arc::new(AtomicUsize::new(0));
        let counter = shown.clone();
        first.on_second_launch(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });

        let second = claim(&data).unwrap();
        assert!(matches!(second, Claim::Second { shown: true }));
        let deadline = Instant::now() + Duration::from_secs(5);
        while shown.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the first was never asked");
            std::thread::sleep(Duration::from_millis(20));
        }

        // Another data dir is another app.
        assert!(matches!(
            claim(&dir.path().join("other")).unwrap(),
            Claim::First(_)
        ));

        // Once the first is gone, the data dir is free again.
        drop(first);
        assert!(matches!(claim(&data).unwrap(), Claim::First(_)));
    }
}
