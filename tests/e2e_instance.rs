//! One app per data dir: a second launch of the real app binary on the data dir of a running app
//! exits by itself (after asking the first to show its window) and the first keeps running; a
//! launch on another data dir runs beside it. Ignored by default; it needs a display:
//!
//!     cargo build -p keyward-app && xvfb-run -a \
//!       cargo test -p keyward-tests --test e2e_instance -- --ignored --test-threads=1

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{app_binary, ensure, screenshot, wait_visible, AppSession, Outcome};
use std::fs::{File, TryLockError};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: the app starts while other builds share the two cores.
const EXIT_WITHIN: Duration = Duration::from_secs(15);

/// An app started straight from its binary (no WebDriver), stopped by pid when dropped.
struct Launched(Child);

impl Drop for Launched {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            // SAFETY: signals our own child process by its pid.
            unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
}

fn launch_binary(data_dir: &Path, config_file: &Path) -> Launched {
    Launched(
        Command::new(app_binary())
            .env("KEYWARD_DATA_DIR", data_dir)
            .env("KEYWARD_CONFIG", config_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the app binary starts"),
    )
}

/// Whether some process holds the app lock of `data_dir` (`<data dir>/app.lock`).
fn app_lock_held(data_dir: &Path) -> Outcome<bool> {
    let Ok(file) = File::open(data_dir.join("app.lock")) else {
        return Ok(false);
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(false),
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), tauri-driver and WebKitWebDriver; run with --ignored"]
async fn a_second_launch_on_one_data_dir_exits_and_another_data_dir_runs_beside() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config.toml");
    let data_dir = dir.path().join("data");
    let app = AppSession::launch(&data_dir, &config_file).await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = second_launches(&app, &data_dir, &config_file, dir.path()).await;
    app.close().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

async fn second_launches(
    app: &AppSession,
    data_dir: &Path,
    config_file: &Path,
    root: &Path,
) -> Outcome {
    let client = &app.client;
    wait_visible(client, "#empty-state").await?;
    ensure(
        app_lock_held(data_dir)?,
        "the running app holds no lock on its data dir",
    )?;

    // The same data dir: the second launch exits by itself, successfully, saying why.
    let started = Instant::now();
    let mut second = launch_binary(data_dir, config_file);
    let status = loop {
        if let Some(status) = second.0.try_wait()? {
            break status;
        }
        if started.elapsed() > EXIT_WITHIN {
            return Err(format!("a second launch still runs after {EXIT_WITHIN:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut said = String::new();
    std::io::Read::read_to_string(&mut second.0.stderr.take().unwrap(), &mut said)?;
    println!(
        "second launch on the same data dir exited ({status}) after {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        said.trim()
    );
    ensure(status.success(), format!("second launch: {status}"))?;
    ensure(
        said.contains("already running") && said.contains("brought forward"),
        format!("second launch said: {said:?}"),
    )?;

    // The first still runs, answers and holds its data dir.
    wait_visible(client, "#empty-state").await?;
    ensure(
        client.windows().await?.len() == 1,
        "the first app's window count changed",
    )?;
    ensure(
        app_lock_held(data_dir)?,
        "the first app no longer holds its data dir",
    )?;
    screenshot(client, "90-first-instance-still-running").await?;

    // Another data dir: a separate app, which takes its own lock and keeps running.
    let other_dir = root.join("other-data");
    let mut other = launch_binary(&other_dir, config_file);
    let deadline = Instant::now() + EXIT_WITHIN;
    // Its socket appears once it holds the lock; probing the lock itself before that could race
    // with its own claim.
    while !other_dir.join("app.sock").exists() {
        if let Some(status) = other.0.try_wait()? {
            return Err(format!("the app on another data dir exited: {status}").into());
        }
        if Instant::now() > deadline {
            return Err("the app on another data dir never took its lock".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure(
        other.0.try_wait()?.is_none(),
        "the app on another data dir stopped by itself",
    )?;
    ensure(
        app_lock_held(&other_dir)?,
        "the app on another data dir holds no lock",
    )?;
    ensure(
        app_lock_held(data_dir)?,
        "the first app stopped when another data dir's app started",
    )?;
    wait_visible(client, "#empty-state").await?;
    drop(other);
    Ok(())
}
