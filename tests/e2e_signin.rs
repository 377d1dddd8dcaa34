//! PropelAuth's sign-in window, as an attacker would try it: the window shows a remote page, so
//! it must get no IPC at all, stay on the profile's origin (no navigation elsewhere, no new
//! window), and say in its title which origin the password goes to. Then a real sign-in still
//! works. Against the PropelAuth emulator (in-process) and a second loopback server standing in
//! for "elsewhere". Ignored by default; it needs a display and a Secret Service:
//!
//!     cargo build -p keyward-app && scripts/with-secret-service xvfb-run -a \
//!       cargo test -p keyward-tests --test e2e_signin -- --ignored --test-threads=1

#[allow(dead_code)]
mod e2e_support;

use e2e_support::{
    click, ensure, fill, other_window, screenshot, wait_text, wait_visible, AppSession, Outcome,
};
use fantoccini::Client;
use keyward_emulators::{Emulator, Flavor};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback web server that counts the HTTP requests it gets and answers each with a page.
/// Requests, not connections: on a link click WebKit may open a connection to the target before
/// the navigation is decided (a preconnect), and sends nothing over it when it is refused.
struct Elsewhere {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl Elsewhere {
    async fn start() -> Elsewhere {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    if !matches!(stream.read(&mut request).await, Ok(n) if n > 0) {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body =
                        "<!doctype html><title>elsewhere</title><h1 id=elsewhere>elsewhere</h1>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        Elsewhere { url, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The emulator runs on this test's runtime: it needs worker threads of its own to serve it
/// while the test waits on WebDriver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display (xvfb-run), a Secret Service, tauri-driver and WebKitWebDriver; run with --ignored"]
async fn the_sign_in_window_gets_no_ipc_and_stays_on_the_profile_origin() {
    let propel = Emulator::start(Flavor::PropelAuth)
        .await
        .expect("propelauth emulator");
    let elsewhere = Elsewhere::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config.toml");
    std::fs::write(
        &config_file,
        format!(
            "default_profile = \"propel-web\"\n\n[profiles.propel-web]\nbackend = \"propelauth\"\nurl = \"{}\"\napi = \"frontend\"\n",
            propel.base_url()
        ),
    )
    .unwrap();
    let app = AppSession::launch(&dir.path().join("data"), &config_file).await;
    // No panics while the session is open: a panic would skip close() and orphan the app.
    let result = sign_in_window(&app.client, &propel, &elsewhere).await;
    app.close().await;
    propel.shutdown().await;
    if let Err(e) = result {
        panic!("e2e failed: {e:?}");
    }
}

/// Calls `command` through Tauri's IPC from the current window, if it has any; answers what
/// happened: `{data}`, `{refused}`, `{no_ipc}` or `{pending}` (no answer within 5 s).
async fn try_invoke(
    client: &Client,
    command: &str,
    args: serde_json::Value,
) -> Outcome<serde_json::Value> {
    Ok(client
        .execute_async(
            "const [command, args, done] = arguments;
             const ipc = window.__TAURI_INTERNALS__;
             if (!ipc || typeof ipc.invoke !== 'function') { done({ no_ipc: true }); return; }
             setTimeout(() => done({ pending: true }), 5000);
             try {
               ipc.invoke(command, args).then(
                 (data) => done({ data: data ?? null }),
                 (e) => done({ refused: String(e && e.message ? e.message : e) }));
             } catch (e) { done({ refused: 'threw: ' + String(e) }); }",
            vec![serde_json::json!(command), args],
        )
        .await?)
}

async fn sign_in_window(client: &Client, propel: &Emulator, elsewhere: &Elsewhere) -> Outcome {
    let site = propel.base_url();
    let account = propel.credentials().propelauth().unwrap();
    let list_keys = serde_json::json!({ "query": { "status": "all", "sort": "created",
        "descending": true, "page": 0, "limit": 5 } });

    // The control: from the main window the same probe gets data.
    let control = try_invoke(client, "list_profiles", serde_json::json!({})).await?;
    ensure(
        control.get("data").is_some(),
        format!("the probe gets no data even in the main window: {control}"),
    )?;

    // Open the sign-in window from the profile editor.
    wait_visible(client, "#backend-error-edit").await?;
    click(client, "#backend-error-edit").await?;
    wait_visible(client, "#pf-sign-in").await?;
    let main = client.window().await?;
    click(client, "#pf-sign-in").await?;
    let sign_in = other_window(client, &main).await?;
    client.switch_to_window(sign_in.clone()).await?;
    wait_visible(client, "#email").await?;

    // No IPC from it: neither a command nor data comes back.
    for (command, args) in [
        ("list_profiles", serde_json::json!({})),
        ("list_keys", list_keys.clone()),
        ("app_info", serde_json::json!({})),
    ] {
        let answer = try_invoke(client, command, args).await?;
        println!("invoke('{command}') from the sign-in window: {answer}");
        ensure(
            answer.get("data").is_none() && answer.get("pending").is_none(),
            format!("invoke('{command}') from the sign-in window answered {answer}"),
        )?;
    }

    // Its title names the origin the password goes to.
    let title = format!("Sign in — {site}");
    let windows = x_window_names()?;
    ensure(
        windows.contains(&title),
        format!("no window titled {title:?}; X windows: {windows:?}"),
    )?;
    screenshot(client, "60-sign-in-window-origin").await?;

    // Navigating elsewhere is refused: by script, by a link, by a form, and by window.open.
    let on_site = |client: &Client| {
        let site = site.clone();
        let client = client.clone();
        async move {
            let here = client
                .execute(
                    "return [location.origin, !!document.querySelector('#email')];",
                    vec![],
                )
                .await?;
            Ok::<_, e2e_support::Failure>(here == serde_json::json!([site, true]))
        }
    };
    let attempts = [
        ("location.href", "location.href = arguments[0];"),
        (
            "a link",
            "const a = document.createElement('a'); a.href = arguments[0];
             document.body.append(a); a.click();",
        ),
        (
            "a form",
            "const f = document.createElement('form'); f.method = 'get'; f.action = arguments[0];
             document.body.append(f); f.submit();",
        ),
        ("window.open", "window.open(arguments[0], '_blank');"),
    ];
    for (how, script) in attempts {
        client
            .execute(script, vec![serde_json::json!(elsewhere.url)])
            .await?;
        // Give a navigation time to happen, were it allowed.
        tokio::time::sleep(Duration::from_secs(2)).await;
        ensure(
            on_site(client).await?,
            format!("after {how}, the sign-in window left {site}"),
        )?;
        ensure(
            elsewhere.hits() == 0,
            format!("after {how}, a page of the other origin was requested"),
        )?;
        ensure(
            client.windows().await?.len() == 2,
            format!("after {how}, another window opened"),
        )?;
    }

    // The login itself (a POST to its own origin) still works, and saves the session.
    fill(client, "#email", &account.user_email).await?;
    fill(client, "#password", &account.user_password).await?;
    // Keyward closes the window as soon as the session works, possibly under this click.
    let _ = click(client, "button[type=\"submit\"]").await;
    client.switch_to_window(main).await?;
    wait_text(client, "#pf-credential-status", |t| {
        t == "Stored in the OS keychain."
    })
    .await?;
    ensure(
        elsewhere.hits() == 0,
        "the other origin was requested during sign-in",
    )?;
    Ok(())
}

/// The names (titles) of the X server's windows, as `xprop` reads `_NET_WM_NAME` (UTF-8).
fn x_window_names() -> Outcome<Vec<String>> {
    let tree = Command::new("timeout")
        .args(["10", "xwininfo", "-root", "-tree"])
        .output()?;
    let mut names = Vec::new();
    for line in String::from_utf8_lossy(&tree.stdout).lines() {
        let Some(id) = line
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with("0x"))
        else {
            continue;
        };
        let prop = Command::new("timeout")
            .args(["10", "xprop", "-id", id, "_NET_WM_NAME"])
            .output()?;
        let text = String::from_utf8_lossy(&prop.stdout);
        // _NET_WM_NAME(UTF8_STRING) = "Sign in — http://127.0.0.1:1234"
        if let Some((_, value)) = text.trim().split_once(" = \"") {
            // Outside a UTF-8 locale xprop writes non-ASCII bytes as octal escapes.
            let value = value.trim_end_matches('"').replace("\\342\\200\\224", "—");
            names.push(value);
        }
    }
    Ok(names)
}
