//! Shared by the desktop app's end-to-end tests: start the real app binary through tauri-driver
//! (-> WebKitWebDriver) with its own data dir and config, drive it, and stop everything cleanly.

use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Failure = Box<dyn std::error::Error>;
pub type Outcome<T = ()> = Result<T, Failure>;

/// How long any one UI step may take; generous, since CI shares two cores with the build.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace's target dir (screenshots go under it).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The built app binary (`APP_BINARY`, or target/debug/keyward-app).
pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("APP_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/keyward-app"));
    assert!(
        path.exists(),
        "app binary {} not found: run `cargo build -p keyward-app` first",
        path.display()
    );
    path.canonicalize().expect("app binary path")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// tauri-driver, stopped with SIGTERM: only then does it stop its WebKitWebDriver (SIGKILL would
/// orphan it, and the app with it).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: signals our own child process by its pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

/// One running app window and the WebDriver session attached to it.
pub struct AppSession {
    pub client: Client,
    driver: Driver,
}

impl AppSession {
    /// Launches the app with `KEYWARD_DATA_DIR` and `KEYWARD_CONFIG` pointing at `data_dir` and
    /// `config_file` (the app inherits tauri-driver's environment). Panics if it cannot start:
    /// no session is open yet, so nothing is left behind.
    pub async fn launch(data_dir: &Path, config_file: &Path) -> AppSession {
        AppSession::launch_with(data_dir, config_file, &[]).await
    }

    /// [`AppSession::launch`] with more environment for the app, e.g. a profile's
    /// `KEYWARD_CREDENTIAL_<PROFILE>` or `KEYWARD_CLEAR_AFTER_SECS`.
    pub async fn launch_with(
        data_dir: &Path,
        config_file: &Path,
        env: &[(&str, &str)],
    ) -> AppSession {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run under xvfb-run -a"
        );
        let app = app_binary();
        let port = free_port();
        let native_port = free_port();
        let bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(&bin)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("KEYWARD_DATA_DIR", data_dir)
            .env("KEYWARD_CONFIG", config_file)
            .envs(env.iter().copied())
            // Not WEBKIT_DISABLE_COMPOSITING_MODE=1: with it, WebKitWebDriver's screenshot never
            // answers (WebKitGTK 2.50 under Xvfb), and the stuck session orphans the app.
            .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} (cargo install tauri-driver): {e}"));
        let driver = Driver(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session (is the app binary built and DISPLAY set?)");
        AppSession { client, driver }
    }

    /// tauri-driver's pid: the app runs below it (tauri-driver -> WebKitWebDriver -> app).
    pub fn driver_pid(&self) -> u32 {
        self.driver.0.id()
    }

    /// Ends the WebDriver session (which closes the app), then stops tauri-driver. Whatever
    /// still runs below it a moment later (the app, its WebKit processes) is stopped by pid, so
    /// a failed run leaves nothing behind.
    pub async fn close(self) {
        let AppSession { client, driver } = self;
        // Noted now: once tauri-driver exits, its orphans are reparented and out of our sight.
        let below = descendants(driver.0.id());
        client.close().await.ok();
        drop(driver);
        // A zombie (exited, not yet reaped by whoever adopted it) holds nothing: it counts as gone.
        let running = |pid: &&u32| {
            stat_fields(**pid).is_some_and(|f| f.first().is_some_and(|state| state != "Z"))
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        while below.iter().any(|pid| running(&pid)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for pid in below.iter().filter(running) {
            // SAFETY: signals a process this session started, by its pid.
            unsafe { libc::kill(*pid as i32, libc::SIGTERM) };
        }
        // Gone before this returns: the app holds its data dir's lock while it runs, so a next
        // launch on the same data dir would otherwise find it taken and exit.
        let deadline = Instant::now() + Duration::from_secs(5);
        while below.iter().any(|pid| running(&pid)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for pid in below.iter().filter(running) {
            // SAFETY: as above; one that ignored SIGTERM.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
    }
}

/// The fields of /proc/<pid>/stat after the command name (field 3 is at index 0).
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may itself hold spaces or parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The process's name as the kernel keeps it (/proc/<pid>/comm: its first 15 bytes).
pub fn process_name(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_owned())
}

/// When `pid` started, in epoch ms: boot time (/proc/stat btime) + start time in clock ticks
/// since boot (/proc/<pid>/stat field 22). Resolution is one tick (10 ms).
pub fn process_start_epoch_ms(pid: u32) -> Outcome<f64> {
    let ticks: f64 = stat_fields(pid)
        .and_then(|f| f.get(22 - 3)?.parse().ok())
        .ok_or("no start time in /proc/<pid>/stat")?;
    let boot_secs: f64 = std::fs::read_to_string("/proc/stat")?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or("no btime in /proc/stat")?;
    // SAFETY: sysconf only reads a system constant.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(boot_secs * 1000.0 + ticks * 1000.0 / ticks_per_sec)
}

/// The median of `samples` (the upper one of an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Every process below `root`, found through the parent pid (field 4) of each /proc/*/stat.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1)?.parse().ok()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

pub fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

/// The `value` of the form field at `selector` (e.g. the show-once panel's `#secret-value`).
pub async fn field_value(client: &Client, selector: &str) -> Outcome<String> {
    Ok(client
        .find(css(selector))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// The id of the key named `name` in the key table, if that row is on the page.
pub async fn listed_key_id(client: &Client, name: &str) -> Outcome<Option<String>> {
    let id = client
        .execute(
            "const row = [...document.querySelectorAll('#keys-table tbody tr')]
                 .find((r) => r.querySelector('.key-name')?.textContent === arguments[0]);
             return row ? row.dataset.id : null;",
            vec![serde_json::json!(name)],
        )
        .await?;
    Ok(id.as_str().map(str::to_owned))
}

/// Waits until `selector` exists and is displayed, then returns its text.
pub async fn wait_visible(client: &Client, selector: &str) -> Outcome<String> {
    wait_text(client, selector, |_| true).await
}

/// Waits until `selector` is displayed with text that satisfies `want`; returns that text.
pub async fn wait_text(
    client: &Client,
    selector: &str,
    want: impl Fn(&str) -> bool,
) -> Outcome<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut last = String::from("(not found)");
    loop {
        // Any WebDriver error (not there yet, hidden, replaced by a re-render) means "try again".
        if let Ok(element) = client.find(css(selector)).await {
            match (element.is_displayed().await, element.text().await) {
                (Ok(true), Ok(text)) if want(&text) => return Ok(text),
                (Ok(true), Ok(text)) => last = text,
                (Ok(false), _) => last = String::from("(hidden)"),
                _ => {}
            }
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {selector}; last text: {last:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the JavaScript `script` (a function body) returns JSON `true`.
pub async fn wait_js(
    client: &Client,
    what: &str,
    script: &str,
    args: Vec<serde_json::Value>,
) -> Outcome {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if client.execute(script, args.clone()).await? == serde_json::Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a WebDriver screenshot of the window as target/e2e-screenshots/<name>.png.
pub async fn screenshot(client: &Client, name: &str) -> Outcome<PathBuf> {
    // Let the last DOM change reach the screen: the capture is of the last painted frame.
    client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![],
        )
        .await?;
    // The app paints without accelerated compositing (src-tauri/src/main.rs `tune_webview`), and
    // there WebKitWebDriver's capture waits for the next paint: on a page with nothing to
    // repaint it never answers. One corner pixel, all but transparent, is repainted each frame
    // while the capture runs.
    client
        .execute(
            "const tick = document.createElement('div');
             tick.id = '__e2e-screenshot-tick';
             tick.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
             document.documentElement.append(tick);
             let on = false;
             const step = () => {
               if (!tick.isConnected) return;
               on = !on;
               tick.style.background = on ? 'rgba(0,0,0,0.004)' : 'transparent';
               requestAnimationFrame(step);
             };
             requestAnimationFrame(step);",
            vec![],
        )
        .await?;
    let png = client.screenshot().await;
    client
        .execute(
            "document.getElementById('__e2e-screenshot-tick')?.remove();",
            vec![],
        )
        .await?;
    let png = png?;
    let dir = target_dir().join("e2e-screenshots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}

pub fn ensure(condition: bool, message: impl Into<String>) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

/// Clicks the element at `selector`.
pub async fn click(client: &Client, selector: &str) -> Outcome {
    client.find(css(selector)).await?.click().await?;
    Ok(())
}

/// Replaces the text of the input at `selector` with `text`.
pub async fn fill(client: &Client, selector: &str, text: &str) -> Outcome {
    let input = client.find(css(selector)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// Waits until the element at `selector` is gone or hidden.
pub async fn wait_hidden(client: &Client, selector: &str) -> Outcome {
    let script =
        "const e = document.querySelector(arguments[0]); return !e || e.offsetParent === null;";
    wait_js(
        client,
        &format!("{selector} to be hidden"),
        script,
        vec![serde_json::json!(selector)],
    )
    .await
}

/// What `xclip -o -selection clipboard` reads from the X clipboard, or `None` when it holds no
/// text. Run with `timeout`, so a clipboard owner that never answers cannot hang the test.
pub fn read_clipboard() -> Option<String> {
    let output = Command::new("timeout")
        .args(["10", "xclip", "-o", "-selection", "clipboard"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("xclip runs (apt-get install xclip)");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Waits (up to [`STEP_TIMEOUT`]) until the X clipboard's text satisfies `want`.
pub async fn wait_clipboard(what: &str, want: impl Fn(Option<&str>) -> bool) -> Outcome {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let text = tokio::task::spawn_blocking(read_clipboard).await?;
        if want(text.as_deref()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            // The text is not printed: it may be a secret.
            return Err(format!(
                "timed out waiting for the clipboard to hold {what} ({} chars there)",
                text.map_or(0, |t| t.len())
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The number in `#match-count` ("10,000 keys", "1 key"), or `None` while it shows none.
pub async fn match_count(client: &Client) -> Outcome<Option<u64>> {
    let text = client
        .execute(
            "const e = document.querySelector('#match-count'); return e ? e.textContent : '';",
            vec![],
        )
        .await?;
    Ok(number_in(text.as_str().unwrap_or_default()))
}

/// The digits of `text` as one number ("10,000 keys" -> 10000), if it has any.
pub fn number_in(text: &str) -> Option<u64> {
    let digits: String = text
        .split_whitespace()
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Waits until `#match-count` says `want` keys match.
pub async fn wait_match_count(client: &Client, want: u64) -> Outcome {
    wait_match_count_within(client, want..=want).await?;
    Ok(())
}

/// Waits until `#match-count` is within `range`; returns the count.
pub async fn wait_match_count_within(
    client: &Client,
    range: std::ops::RangeInclusive<u64>,
) -> Outcome<u64> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let count = match_count(client).await?;
        if let Some(n) = count.filter(|n| range.contains(n)) {
            return Ok(n);
        }
        if Instant::now() > deadline {
            return Err(format!("#match-count is {count:?}, not within {range:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rendered rows of the key table as `(data-id, data-index)`, in DOM order.
pub async fn rendered_rows(client: &Client) -> Outcome<Vec<(String, u64)>> {
    let rows = client
        .execute(
            "return [...document.querySelectorAll('#keys-table tbody tr[data-id]')]
                 .map((r) => [r.dataset.id, Number(r.dataset.index)]);",
            vec![],
        )
        .await?;
    Ok(rows
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            Some((
                row.get(0)?.as_str()?.to_owned(),
                row.get(1)?.as_f64()? as u64,
            ))
        })
        .collect())
}

/// Confirms the open revoke dialog: types `typed` (the key's name, or the count) into
/// `#revoke-typed`, checks that `#revoke-confirm` was disabled before and is enabled after, and
/// clicks it.
pub async fn type_and_confirm_revoke(client: &Client, typed: &str) -> Outcome {
    wait_visible(client, "#revoke-typed").await?;
    ensure(
        !client
            .find(css("#revoke-confirm"))
            .await?
            .is_enabled()
            .await?,
        "#revoke-confirm is enabled before the confirmation is typed",
    )?;
    fill(client, "#revoke-typed", typed).await?;
    wait_js(
        client,
        "#revoke-confirm to be enabled",
        "return !document.querySelector('#revoke-confirm').disabled;",
        vec![],
    )
    .await?;
    click(client, "#revoke-confirm").await
}

/// After a confirmed revoke: waits until the dialog is closed or shows its results, and closes it.
pub async fn finish_revoke(client: &Client) -> Outcome {
    wait_js(
        client,
        "the revoke to finish",
        "const d = document.querySelector('#revoke-dialog');
         const r = document.querySelector('#revoke-results');
         return !d || !d.open || (!!r && r.offsetParent !== null
             && document.querySelector('#revoke-close')?.offsetParent != null);",
        vec![],
    )
    .await?;
    let open = client
        .execute(
            "const d = document.querySelector('#revoke-dialog'); return !!d && d.open;",
            vec![],
        )
        .await?;
    if open == serde_json::Value::Bool(true) {
        click(client, "#revoke-close").await?;
        wait_js(
            client,
            "the revoke dialog to close",
            "return !document.querySelector('#revoke-dialog').open;",
            vec![],
        )
        .await?;
    }
    Ok(())
}

/// Revokes the one key of `row` through its Revoke button: types its `name`, optionally a
/// `reason`, confirms and closes the dialog.
pub async fn revoke_row(client: &Client, row: &str, name: &str, reason: Option<&str>) -> Outcome {
    click(client, &format!("{row} .revoke")).await?;
    wait_visible(client, "#revoke-heading").await?;
    if let Some(reason) = reason {
        fill(client, "#revoke-reason", reason).await?;
    }
    type_and_confirm_revoke(client, name).await?;
    finish_revoke(client).await
}

/// Presses and releases each of `keys` in turn (WebDriver key actions, delivered to whatever has
/// the focus: no element is targeted, as with a real keyboard).
pub async fn press(client: &Client, keys: &str) -> Outcome {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client.perform_actions(actions).await?;
    Ok(())
}

/// [`press`] for one named key (e.g. `Key::Enter`).
pub async fn press_key(client: &Client, key: fantoccini::key::Key) -> Outcome {
    press(client, &char::from(key).to_string()).await
}

/// Types `text` with `modifier` held down (e.g. Shift-clicking is [`shift_click`]).
pub async fn press_with(client: &Client, modifier: fantoccini::key::Key, text: &str) -> Outcome {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let modifier = char::from(modifier);
    let mut actions = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: modifier });
    for key in text.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client
        .perform_actions(actions.then(KeyAction::Up { value: modifier }))
        .await?;
    Ok(())
}

/// Clicks `selector` with Shift held, through WebDriver actions (a real shift-click).
pub async fn shift_click(client: &Client, selector: &str) -> Outcome {
    use fantoccini::actions::{
        InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
    };
    use fantoccini::key::Key;
    let element = client.find(css(selector)).await?;
    let pause = Duration::from_millis(0);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down {
            value: char::from(Key::Shift),
        })
        .then(KeyAction::Pause { duration: pause })
        .then(KeyAction::Pause { duration: pause })
        .then(KeyAction::Up {
            value: char::from(Key::Shift),
        });
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Pause { duration: pause });
    client
        .perform_actions(fantoccini::actions::Actions::from(keys).and(mouse))
        .await?;
    client.release_actions().await?;
    Ok(())
}

/// The id of the focused element, or of the row (`tr[data-id]`) holding the focus as
/// `row:<id>`, or the focused element's tag.
pub async fn focused(client: &Client) -> Outcome<String> {
    let what = client
        .execute(
            "const e = document.activeElement;
             if (!e || e === document.body) return 'body';
             if (e.matches('tr[data-id]')) return 'row:' + e.dataset.id;
             if (e.id) return e.id;
             const row = e.closest('tr[data-id]');
             return row ? 'in-row:' + row.dataset.id + ':' + e.tagName.toLowerCase()
                        : e.tagName.toLowerCase();",
            vec![],
        )
        .await?;
    Ok(what.as_str().unwrap_or_default().to_owned())
}

/// Presses Tab until `want` (see [`focused`]) holds, at most `max` times; returns the focus.
pub async fn tab_until(
    client: &Client,
    max: usize,
    want: impl Fn(&str) -> bool,
) -> Outcome<String> {
    let mut seen = Vec::new();
    for _ in 0..=max {
        let now = focused(client).await?;
        if want(&now) {
            return Ok(now);
        }
        seen.push(now);
        press_key(client, fantoccini::key::Key::Tab).await?;
    }
    Err(format!("Tab never reached the wanted element; focus went {seen:?}").into())
}

/// Waits for a second WebDriver window beside `main` (the sign-in window).
pub async fn other_window(client: &Client, main: &WindowHandle) -> Outcome<WindowHandle> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(other) = client.windows().await?.into_iter().find(|h| h != main) {
            return Ok(other);
        }
        if Instant::now() > deadline {
            return Err("the sign-in window did not appear to WebDriver".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// In the sign-in window: fills the page's email and password as a user would, saves screenshot
/// `shot`, submits; then, back in `main`, waits until the session is stored in the keychain and
/// the sign-in window is gone.
pub async fn submit_sign_in(
    client: &Client,
    main: WindowHandle,
    email: &str,
    password: &str,
    shot: &str,
) -> Outcome {
    fill(client, "#email", email).await?;
    fill(client, "#password", password).await?;
    screenshot(client, shot).await?;
    // Keyward closes the window as soon as the session works, possibly under this click.
    let _ = click(client, "button[type=\"submit\"]").await;
    client.switch_to_window(main).await?;
    wait_text(client, "#pf-credential-status", |t| {
        t == "Stored in the OS keychain."
    })
    .await?;
    wait_text(client, "#profile-notice", |t| t.starts_with("Signed in")).await?;
    let windows = client.windows().await?;
    ensure(
        windows.len() == 1,
        format!("{} windows after sign-in", windows.len()),
    )
}
